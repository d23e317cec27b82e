"""Benchmark the site build (a script, not a test): prints timings and snippet executions.

    python tests/benchmarks/build_times.py [--repeat 3]

Builds a copy of the project in a temporary directory, starting with an empty figure cache:
cold build, warm builds, warm builds with the figure machinery off (SITEBUILD_GALLERY=false),
then prints snippet executions per build, each snippet's compute time (measured inside the
runner: running the snippet plus saving its SVGs, imports excluded), the cost of one warm-up import, and the ratios the project targets.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from support import build, copy_project  # noqa: E402

RAN = re.compile(r"gallery: ran (\d+) snippet")


def timed_build(project: Path, site: Path, **env: str) -> tuple[float, int]:
    started = time.perf_counter()
    proc = build(project, site, strict=False, env=env)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"build failed:\n{proc.stderr[-4000:]}")
    return seconds, sum(int(n) for n in RAN.findall(proc.stderr))


def import_seconds() -> float:
    """What the snippet runner imports once per build (matplotlib, NumPy, PyTorch, torch._dynamo)."""
    code = "import time; t = time.perf_counter(); import sitebuild.runner; print(time.perf_counter() - t)"
    root = Path(__file__).resolve().parents[2]
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="warm builds to take the median of")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = copy_project(Path(tmp) / "project", with_cache=False)
        site = Path(tmp) / "site"
        cold, cold_runs = timed_build(project, site)
        warm_runs_all, warm_times, off_times = [], [], []
        for _ in range(args.repeat):
            seconds, runs = timed_build(project, site)
            warm_times.append(seconds)
            warm_runs_all.append(runs)
            off_times.append(timed_build(project, site, SITEBUILD_GALLERY="false")[0])
        metas = {m.parent.parent.name: json.loads(m.read_text()) for m in sorted((project / ".cache" / "figures").glob("*/*/meta.json"))}
        compute = {stem: m["seconds"] for stem, m in metas.items()}
    warm, off, imp = statistics.median(warm_times), statistics.median(off_times), import_seconds()
    bound = 1.3 * (sum(compute.values()) / 2 + imp + warm)
    print(f"snippets: {len(compute)}")
    print(f"cold build: {cold:.2f} s, snippet executions: {cold_runs}")
    print(f"warm build (median of {args.repeat}): {warm:.2f} s, snippet executions: {max(warm_runs_all)}")
    print(f"warm build, figure machinery off (median): {off:.2f} s")
    print(f"one import (the runner: matplotlib, numpy, torch, torch._dynamo): {imp:.2f} s")
    for stem in metas:
        print(f"  {stem}: {compute[stem]:.3f} s (run, cell by cell, and render its SVGs)")
    print(f"sum of snippet compute (run + save): {sum(compute.values()):.3f} s")
    print(f"warm / machinery-off: {warm / off:.3f} (target <= 1.15)")
    print(f"cold: {cold:.2f} s vs 1.3 x (compute/2 + import + warm) = {bound:.2f} s (target cold <= bound)")


if __name__ == "__main__":
    main()
