"""Benchmark the search box (a script, not a test): recall@1 and recall@3 of the learner queries.

    python tests/benchmarks/search_recall.py [--site DIR] [--variants before,glossary,split,both,chosen]
                                             [--queries FILE] [--misses]

Builds the site (reusing the figure cache) unless --site names a built one, then for each variant
rebuilds the per-language search indexes from that site's index text (sitebuild/search.py with
one set of mechanisms), serves the site on 127.0.0.1 with gzip as GitHub Pages does, and types
every query of tests/browser/search_queries.toml (or --queries) into the real search box in
Debian's Chromium (CHROMIUM or /usr/bin/chromium). Prints per variant and language: recall@1,
recall@3, and the index size (bytes on the wire, gzip), with the projection to 45 concept pages
per language and a 500-entry glossary; --misses lists the queries that miss the top 3.

Variants (the mechanisms of sitebuild/search.py):
  before    the index as main builds it today (no hidden fields, mkdocs.yml's separator)
  glossary  glossary variants only: glossary.toml's variants, abbreviations, joined compounds
  split     Korean character splitting only: a zero-width separator between Hangul syllables
  both      glossary + split
  chosen    what the site builds: glossary + title/English-text forms + Korean particle splits
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(TESTS), str(TESTS / "browser"), str(TESTS.parent)]
from support import ROOT, build, serve  # noqa: E402

from sitebuild import search as site_search  # noqa: E402

VARIANTS = {
    "before": {"glossary_forms": False, "heading_forms": False, "korean_split": "none"},
    "glossary": {"glossary_forms": True, "heading_forms": False, "korean_split": "none"},
    "split": {"glossary_forms": False, "heading_forms": False, "korean_split": "syllables"},
    "both": {"glossary_forms": True, "heading_forms": False, "korean_split": "syllables"},
    "chosen": {},  # split_index's defaults: what the site builds
}
LANGS = {"ko": "", "en": "en/"}  # language -> directory of its site (ko is the default)
PAGES_NOW, PAGES_PROJECTED = 14, 45
GLOSSARY_ROWS_NOW, GLOSSARY_ROWS_PROJECTED = 292, 500


def merged_index(site: Path) -> dict:
    """The merged index mkdocs-static-i18n wrote, recovered from the per-language ones (hidden fields removed)."""
    config = json.loads((site / "en" / "search" / "search_index.json").read_text(encoding="utf-8"))["config"]
    config = {**config, "fields": {k: v for k, v in config["fields"].items() if k not in site_search.FIELD_BOOST}}
    docs = []
    for lang, prefix in LANGS.items():
        index = json.loads((site / prefix / "search" / "search_index.json").read_text(encoding="utf-8"))
        for doc in index["docs"]:
            doc = {k: v for k, v in doc.items() if k not in site_search.FIELD_BOOST}
            docs.append({**doc, "location": prefix + doc["location"]})
    return {"config": config, "docs": docs}


def sizes(site: Path, lang: str) -> tuple[int, int]:
    """(gzip bytes now, projected gzip bytes) of ``lang``'s index."""
    raw = (site / LANGS[lang] / "search" / "search_index.json").read_bytes()
    index = json.loads(raw)
    part = {"concept": 0, "glossary": 0, "fixed": 0}
    for doc in index["docs"]:
        n = len(json.dumps(doc, ensure_ascii=False).encode())
        loc = doc["location"]
        part["glossary" if loc.startswith("glossary/") else "fixed" if "/" not in loc.split("#")[0] else "concept"] += n
    # references/ grows with the pages that cite them
    refs = sum(len(json.dumps(d, ensure_ascii=False).encode()) for d in index["docs"] if d["location"].startswith("references/"))
    part["concept"] += refs
    part["fixed"] -= 0
    projected = (part["concept"] * PAGES_PROJECTED / PAGES_NOW + part["glossary"] * GLOSSARY_ROWS_PROJECTED / GLOSSARY_ROWS_NOW + part["fixed"])
    now = sum(part.values())
    zipped = len(gzip.compress(raw, 9))
    return zipped, round(zipped * projected / now)


def run_queries(browser, url: str, queries: list[dict]) -> dict[str, list[tuple[dict, list[str]]]]:
    from test_search import open_search, type_queries

    out = {}
    for lang in LANGS:
        context, tab, root = open_search(browser, url, lang)
        try:
            mine = [q for q in queries if q["lang"] == lang]
            found = type_queries(tab, root, [q["text"] for q in mine])
            out[lang] = [(q, [p.removeprefix(root) for p in pages]) for q, pages in zip(mine, found, strict=True)]
        finally:
            context.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, help="an already built site (default: build one)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated, of: " + ", ".join(VARIANTS))
    parser.add_argument("--queries", type=Path, default=TESTS / "browser" / "search_queries.toml")
    parser.add_argument("--misses", action="store_true", help="list the queries that miss the top 3 (and, with -v, the first place)")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--keys-boost", type=float, help=f"override the hidden keys field's boost ({site_search.FIELD_BOOST['keys']})")
    args = parser.parse_args()
    import importlib.util

    from playwright.sync_api import sync_playwright

    spec = importlib.util.spec_from_file_location("browser_conftest", TESTS / "browser" / "conftest.py")
    browser_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(browser_conftest)  # Chromium's path and flags, as the browser tests use them
    ARGS, CHROMIUM = browser_conftest.ARGS, browser_conftest.CHROMIUM

    if args.keys_boost is not None:
        site_search.FIELD_BOOST[site_search.KEYS] = args.keys_boost
    queries = tomllib.loads(args.queries.read_text(encoding="utf-8"))["query"]
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        if args.site is None:
            proc = build(ROOT, site, strict=False)
            if proc.returncode != 0:
                sys.exit(f"build failed:\n{proc.stderr[-4000:]}")
        else:
            shutil.copytree(args.site, site)
        merged = merged_index(site)
        glossary = ROOT / "glossary.toml"
        rows = []
        with sync_playwright() as p, serve(site, compress=True) as url:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for name in args.variants.split(","):
                (site / "search" / "search_index.json").write_text(json.dumps(merged, ensure_ascii=False), encoding="utf-8")
                site_search.split_index(site, "ko", ["en"], glossary, **VARIANTS[name])
                results = run_queries(browser, url, queries)
                for lang, found in results.items():
                    n = len(found)
                    at1 = sum(bool(pages) and pages[0] == q["page"] + "/" for q, pages in found)
                    at3 = sum(q["page"] + "/" in pages[:3] for q, pages in found)
                    now, projected = sizes(site, lang)
                    rows.append((name, lang, n, at1, at3, now, projected))
                    print(f"{name:<9} {lang}  n={n:<3} recall@1 {100 * at1 / n:5.1f} %  recall@3 {100 * at3 / n:5.1f} %  "
                          f"index {now / 1024:6.1f} KB gzip (45 pages: {projected / 1024:6.1f} KB)", flush=True)
                    if args.misses:
                        for q, pages in found:
                            if q["page"] + "/" not in pages[: 1 if args.verbose else 3]:
                                print(f"    miss {q['text']!r}: want {q['page']}, got {pages[:3]}")
            browser.close()


if __name__ == "__main__":
    main()
