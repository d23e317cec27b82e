"""Benchmark what a reader downloads (a script, not a test): Lighthouse on every page.

    python tests/benchmarks/page_weight.py [--site DIR] [--preset mobile|desktop] [PAGE_FILTER ...]

Builds the site (reusing the figure cache) unless --site names a built one, serves it on
127.0.0.1 as GitHub Pages does (under /dl-textbook/, gzip for text), and runs Lighthouse (npm,
pinned in package.json) against Debian's Chromium (CHROMIUM or /usr/bin/chromium) on the home and
concept pages of both languages. Prints per page: bytes transferred on first view, the
Lighthouse performance and accessibility scores, and the page's largest downloads; then the
pages that miss the goals (<= 400 KB per concept page, scores >= 95).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from support import LANGUAGES, ROOT, build, pages, serve  # noqa: E402

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run"
GOAL_KB, GOAL_SCORE = 400, 95


def url_of(root: str, lang: str, page: Path) -> str:
    path = page.with_suffix("").as_posix()
    path = "" if path == "index" else path + "/"
    return root + ("" if lang == "ko" else f"{lang}/") + path


def lighthouse(url: str, out: Path, preset: str) -> dict:
    cmd = [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
           "--only-categories=performance,accessibility", f"--chrome-flags={FLAGS}"]
    if preset == "desktop":
        cmd.append("--preset=desktop")
    subprocess.run(cmd, check=True, env={**os.environ, "CHROME_PATH": CHROMIUM}, timeout=180)
    report = json.loads(out.read_text(encoding="utf-8"))
    audits = report["audits"]
    requests = audits["network-requests"]["details"]["items"]
    return {
        "kb": audits["total-byte-weight"]["numericValue"] / 1024,
        "performance": round(100 * report["categories"]["performance"]["score"]),
        "accessibility": round(100 * report["categories"]["accessibility"]["score"]),
        "lcp": audits["largest-contentful-paint"]["numericValue"] / 1000,
        "tbt": audits["total-blocking-time"]["numericValue"],
        "largest": sorted(((r["transferSize"], r["url"].rsplit("/dl-textbook/", 1)[-1]) for r in requests), reverse=True)[:3],
        "failed_a11y": [ref["id"] for ref in report["categories"]["accessibility"]["auditRefs"]
                        if (audits[ref["id"]]["score"] is not None and audits[ref["id"]]["score"] < 1)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, help="an already built site (default: build one)")
    parser.add_argument("--preset", choices=["mobile", "desktop"], default="mobile", help="Lighthouse's device and throttling")
    parser.add_argument("filters", nargs="*", help="only pages whose path contains one of these")
    args = parser.parse_args()
    if not LIGHTHOUSE.is_file() or not Path(CHROMIUM).is_file():
        sys.exit("needs Lighthouse (`npm ci`) and Chromium (`apt-get install chromium`, or set CHROMIUM)")
    with tempfile.TemporaryDirectory() as tmp:
        site = args.site
        if site is None:
            site = Path(tmp) / "site"
            proc = build(ROOT, site, strict=False)
            if proc.returncode != 0:
                sys.exit(f"build failed:\n{proc.stderr[-4000:]}")
        todo = [(lang, p) for lang in LANGUAGES for p in pages(lang) if p.name not in {"glossary.md", "references.md"}]
        todo = [(lang, p) for lang, p in todo if not args.filters or any(f in f"{lang}/{p.as_posix()}" for f in args.filters)]
        rows = []
        with serve(site, compress=True) as root:
            print(f"Lighthouse {args.preset}, served with gzip from {root}\n")
            print(f"{'page':<44} {'KB':>6} {'perf':>5} {'a11y':>5} {'LCP s':>6} {'TBT ms':>7}  largest downloads (KB)")
            for lang, page in todo:
                r = lighthouse(url_of(root, lang, page), Path(tmp) / "report.json", args.preset)
                name = f"{lang}/{page.as_posix()}"
                largest = ", ".join(f"{path} {size / 1024:.0f}" for size, path in r["largest"])
                print(f"{name:<44} {r['kb']:6.0f} {r['performance']:5d} {r['accessibility']:5d} {r['lcp']:6.1f} {r['tbt']:7.0f}  {largest}", flush=True)
                rows.append((name, r))
    kb = sorted(r["kb"] for _, r in rows)
    print(f"\nKB per page: median {kb[len(kb) // 2]:.0f}, max {kb[-1]:.0f} (goal <= {GOAL_KB})")
    misses = [(n, r) for n, r in rows if r["kb"] > GOAL_KB or r["performance"] < GOAL_SCORE or r["accessibility"] < GOAL_SCORE]
    for name, r in misses:
        print(f"misses a goal: {name}: {r['kb']:.0f} KB, performance {r['performance']}, accessibility {r['accessibility']}"
              + (f" (accessibility audits failing: {', '.join(r['failed_a11y'])})" if r["failed_a11y"] else ""))
    if not misses:
        print(f"every page meets the goals (<= {GOAL_KB} KB, scores >= {GOAL_SCORE})")


if __name__ == "__main__":
    main()
