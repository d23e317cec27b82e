"""Benchmark the pipeline at today's size and at a multiple of it (a script, not a test).

    python tests/benchmarks/build_times.py [--scales 1 3 | --pages 40 45] [--repeat 3] [--skip serve weight tests]

For each scale (a multiple of today's concept pages) or page count (concept pages per language,
at least today's), a fresh copy of the repository (what a clone holds) in a temporary directory,
with concept pages, their snippets and their formula tests replicated under new paths up to that
size (``support.replicate``; the real tree is never touched), is measured:

* cold build (empty caches), warm build (nothing changed) and the same with the figure machinery
  off (``SITEBUILD_GALLERY=false``), medians of ``--repeat``; the ratio warm / machinery off;
* ``mkdocs serve --dirty`` (what ``make serve`` runs): seconds from saving a prose edit, and from
  saving a snippet edit, until the served page shows it; which snippets the edit re-ran;
* first-view weight of every concept page in both languages (Chromium through Playwright; the
  site served with gzip as GitHub Pages serves it), and a search typed on the heaviest page;
* the README's test command (``make test``) in another fresh copy, installs included.

Targets (2 cores, at 3x of the 14 pages issue #12 measured, i.e. the finished book's 45 pages):
full test command <= 10 min (<= 5 min at 14 pages); warm / off <= 1.15; cold build <= 3 min; prose
edit visible <= 3 s; snippet edit visible <= its run time + 3 s, only that snippet re-run; every
concept page <= 400 KB on first view.

The book has grown past 14 pages, and a copy can only grow, so with the test command measured at
two or more sizes the script also fits seconds = fixed + per page x pages and prints the fit's
value at 14 and 45 pages (a projection, labeled as such).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from support import LANGUAGES, ROOT, build, clone_project, pages, replicate, serve  # noqa: E402

RAN = re.compile(r"gallery: ran (\d+) snippet\(s\) in [\d.]+ s: (.*)")
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
NOT_CONCEPTS = {"index.md", "glossary.md", "references.md"}
ISSUE_PAGES, BOOK_PAGES = 14, 45  # concept pages per language when issue #12 was filed, and when the book is finished


def timed_build(project: Path, site: Path, **env: str) -> tuple[float, list[str]]:
    started = time.perf_counter()
    proc = build(project, site, strict=False, env=env)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"build failed:\n{proc.stderr[-4000:]}")
    return seconds, [s for m in RAN.finditer(proc.stderr) for s in m[2].split(", ")]


def concept_pages(project: Path) -> list[tuple[str, Path]]:
    docs = project / "docs"
    return [
        (lang, p.relative_to(docs / lang))
        for lang in LANGUAGES
        for p in sorted((docs / lang).rglob("*.md"))
        if p.name not in NOT_CONCEPTS
    ]


def page_path(lang: str, page: Path) -> str:
    return ("" if lang == "ko" else f"{lang}/") + page.with_suffix("").as_posix() + "/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, marker: bytes | None, timeout: float = 300) -> float:
    """Seconds until ``url`` answers (and contains ``marker``), polling every 50 ms."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            body = urllib.request.urlopen(url, timeout=10).read()
            if marker is None or marker in body:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not show {marker!r} within {timeout} s")


def measure_serve(project: Path) -> dict[str, object]:
    """Edit a page, then a snippet, under `mkdocs serve --dirty`; time until the browser could see it."""
    port = free_port()
    log = project / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "--dirty", "-a", f"127.0.0.1:{port}"],
            cwd=project, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        )
    try:
        root = f"http://127.0.0.1:{port}/dl-textbook/"
        page = Path("optimization/optimizers.md")
        wait_for(root + page_path("en", page), None)
        time.sleep(2)  # let the watcher settle after the first build
        doc = project / "docs" / "en" / page
        doc.write_text(doc.read_text(encoding="utf-8") + "\n\nProse edit marker P1.\n", encoding="utf-8")
        prose = wait_for(root + page_path("en", page), b"Prose edit marker P1")
        time.sleep(2)
        stem = "optimizers"
        before = log.read_text(encoding="utf-8")
        snippet = project / "snippets" / f"{stem}.py"
        snippet.write_text(snippet.read_text(encoding="utf-8").replace("import torch", "import torch  # edit S1", 1), encoding="utf-8")
        edit = wait_for(root + page_path("en", page), b"# edit S1")
        time.sleep(1)
        ran = [s for m in RAN.finditer(log.read_text(encoding="utf-8")[len(before):]) for s in m[2].split(", ")]
        metas = [json.loads(m.read_text()) for m in (project / ".cache" / "figures" / stem).glob("*/meta.json")]
        return {"prose": prose, "snippet": edit, "snippet_run": metas[0]["seconds"] if metas else float("nan"), "ran": ran}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def measure_weight(project: Path, site: Path) -> dict[str, object]:
    """Bytes each concept page transfers on first view (gzip), and a search on the heaviest page."""
    from playwright.sync_api import sync_playwright

    weights: dict[str, int] = {}
    index_loaded: list[str] = []
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
    with serve(site, compress=True) as root, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        for lang, page in concept_pages(project):
            context = browser.new_context()
            tab = context.new_page()
            responses = []
            tab.on("requestfinished", lambda r: responses.append(r))
            tab.goto(root + page_path(lang, page), wait_until="networkidle")
            total = 0
            for r in responses:
                sizes = r.sizes()
                total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
                if "search_index.json" in r.url:
                    index_loaded.append(f"{lang}/{page}")
            weights[f"{lang}/{page.as_posix()}"] = total
            context.close()
        heaviest = max(weights, key=weights.__getitem__)
        lang, _, rest = heaviest.partition("/")
        tab = browser.new_page()
        tab.goto(root + page_path(lang, Path(rest)), wait_until="networkidle")
        tab.locator(".md-search__input").click()
        tab.locator(".md-search__input").fill("gradient" if lang == "en" else "경사")
        tab.locator(".md-search__input").press("End")
        tab.wait_for_selector(".md-search-result__item", timeout=30_000)
        hits = tab.locator(".md-search-result__item").count()
        browser.close()
    kb = sorted(w / 1024 for w in weights.values())
    return {"median_kb": statistics.median(kb), "max_kb": kb[-1], "heaviest": heaviest, "pages": len(kb),
            "index_on_load": index_loaded, "search_hits": hits}


def measure_test_command(tmp: Path, pages_wanted: int) -> tuple[float, str]:
    """`make test` in a fresh copy (installs included), as CI runs it on a clean clone."""
    project = clone_project(tmp / "fresh")
    replicate(project, pages_wanted)
    started = time.perf_counter()
    proc = subprocess.run(["make", "test"], cwd=project, capture_output=True, text=True, env={**os.environ, "CI": "true"})
    seconds = time.perf_counter() - started
    lines = proc.stdout.strip().splitlines()
    summary = next((line for line in reversed(lines) if " passed" in line or " failed" in line), lines[-1] if lines else "")
    if proc.returncode != 0:  # say why, before the copy is deleted
        failures = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
        summary += "\n" + "\n".join(failures[:30] or lines[-40:] + proc.stderr.strip().splitlines()[-20:])
    return seconds, f"exit {proc.returncode}: {summary}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--scales", type=float, nargs="+", default=[1, 3], help="multiples of today's concept pages")
    sizes.add_argument("--pages", type=int, nargs="+", help="concept pages per language (at least today's)")
    parser.add_argument("--repeat", type=int, default=3, help="warm builds to take the median of")
    parser.add_argument("--skip", nargs="*", default=[], choices=["serve", "weight", "tests"], help="measurements to leave out")
    args = parser.parse_args()
    base = len([p for p in pages("ko") if p.name not in NOT_CONCEPTS])
    rows = []
    wanted_sizes = args.pages or [round(base * scale) for scale in args.scales]
    if min(wanted_sizes) < base:
        sys.exit(f"a copy can only grow: today has {base} concept pages per language")
    for wanted in wanted_sizes:
        scale = wanted / base
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp_name:
            tmp = Path(tmp_name)
            project = clone_project(tmp / "project")
            count = replicate(project, wanted) if wanted > base else base
            (project / "node_modules").symlink_to(ROOT / "node_modules")
            site = tmp / "site"
            print(f"\n== {scale:.2f}x: {count} concept pages per language, {len(list((project / 'snippets').glob('*.py')))} snippets ==", flush=True)
            cold, cold_ran = timed_build(project, site)
            print(f"cold build: {cold:.1f} s ({len(cold_ran)} snippets run)", flush=True)
            warm, off, warm_ran = [], [], []
            for _ in range(args.repeat):
                seconds, ran = timed_build(project, site)
                warm.append(seconds)
                warm_ran += ran
                off.append(timed_build(project, tmp / "site-off", SITEBUILD_GALLERY="false")[0])
            w, o = statistics.median(warm), statistics.median(off)
            print(f"warm build: {w:.2f} s (median of {args.repeat}; snippets run: {len(warm_ran)}); "
                  f"figure machinery off: {o:.2f} s; ratio {w / o:.3f} (target <= 1.15)", flush=True)
            metas = [json.loads(m.read_text()) for m in (project / ".cache" / "figures").glob("*/*/meta.json")]
            slowest = max(m["seconds"] for m in metas)
            print(f"snippet compute: sum {sum(m['seconds'] for m in metas):.1f} s, slowest {slowest:.2f} s (target <= 10 s)")
            row = {"scale": scale, "pages": count, "cold": cold, "warm": w, "off": o, "ratio": w / o}
            if "serve" not in args.skip:
                s = measure_serve(project)
                print(f"mkdocs serve --dirty: prose edit visible after {s['prose']:.2f} s (target <= 3 s); snippet edit "
                      f"after {s['snippet']:.2f} s, its run {s['snippet_run']:.2f} s, re-ran {s['ran']} "
                      f"(target <= run + 3 s = {s['snippet_run'] + 3:.2f} s)", flush=True)
                row |= {"serve": s}
            if "weight" not in args.skip:
                timed_build(project, site)  # the serve run edited files
                wt = measure_weight(project, site)
                print(f"first view: median {wt['median_kb']:.0f} KB, max {wt['max_kb']:.0f} KB ({wt['heaviest']}) over "
                      f"{wt['pages']} pages (target <= 400 KB); search index loaded on first view by "
                      f"{len(wt['index_on_load'])} pages; a search on the heaviest page: {wt['search_hits']} hits", flush=True)
                row |= {"weight": wt}
            if "tests" not in args.skip:
                seconds, summary = measure_test_command(tmp, wanted)
                print(f"full test command (make test, fresh copy, installs included): {seconds / 60:.1f} min, {summary} "
                      f"(target <= {5 if wanted <= ISSUE_PAGES else 10} min)", flush=True)
                row |= {"tests": seconds}
            rows.append(row)
    print("\nsummary:")
    for r in rows:
        print(f"  {r['scale']:.2f}x ({r['pages']} pages/lang): cold {r['cold']:.1f} s, warm {r['warm']:.2f} s, "
              f"warm/off {r['ratio']:.3f}" + (f", tests {r['tests'] / 60:.1f} min" if "tests" in r else ""))
    measured = [(r["pages"], r["tests"]) for r in rows if "tests" in r]
    if len({pages for pages, _ in measured}) >= 2:
        fixed, per_page = fit_line(measured)
        print(f"  test command ~ {fixed:.0f} s + {per_page:.1f} s per page (least squares over {len(measured)} sizes); "
              + ", ".join(f"projected at {n} pages: {(fixed + per_page * n) / 60:.1f} min" for n in (ISSUE_PAGES, BOOK_PAGES)))


def fit_line(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares intercept and slope of seconds against pages."""
    n = len(points)
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
    return my - slope * mx, slope


if __name__ == "__main__":
    main()
