"""Figures are deterministic: a snippet run again in a fresh process draws byte-identical SVGs.

The build's run (its cache entry for the snippet's current bytes and environment) is compared,
snippet by snippet, with a second run in a new runner process started by this test (the snippets
are split into a few groups, one process each, so that the groups run on different workers).
Anything drawn from an unseeded random generator (NumPy's global or ``default_rng()``, Python's
``random``) differs between two processes. tests/test_notebooks.py adds a third run for a sample
of snippets: the reader's downloaded notebook in a fresh Jupyter kernel, compared the same way.
This module holds the comparison and proves it catches an unseeded snippet.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from sitebuild.gallery import Snippet, find_snippets
from support import ROOT, snippets


def run_fresh(paths: list[Path], out: Path, workers: int = 1) -> dict[str, Path]:
    """Run ``paths`` with the build's runner in one new process; each result lands in ``out/<stem>/``."""
    jobs = []
    for path in paths:
        (out / path.stem).mkdir(parents=True)
        jobs.append({"snippet": str(path), "out": str(out / path.stem)})
    request = {"jobs": jobs, "workers": workers, "timeout": 120}
    proc = subprocess.run(
        [sys.executable, "-m", "sitebuild.runner"], input=json.dumps(request), text=True, capture_output=True,
        cwd=ROOT, env={**os.environ, "MPLBACKEND": "Agg"}, timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {path.stem: out / path.stem for path in paths}


NUMBER = re.compile(rb"-?\d+\.\d+")
JITTER = 1e-3  # SVG user units (points): a thousandth of a point is invisible at any zoom


def same_drawing(x: bytes, y: bytes) -> bool:
    """The same SVG apart from coordinates that differ by less than JITTER.

    Byte-identical is the rule and almost always holds. Once in a few fresh processes one
    coordinate of learning_rate_schedules.py's figure 2 (an axes edge placed by tight_layout)
    came out 0.000001 pt apart (cause not found: not the hash seed, not MKL, not the data). An
    unseeded random generator moves the drawing by far more, and is still caught.
    """
    if NUMBER.sub(b"#", x) != NUMBER.sub(b"#", y):
        return False
    return all(abs(float(p) - float(q)) <= JITTER for p, q in zip(NUMBER.findall(x), NUMBER.findall(y)))


def differences(snippet: Path, first: Path, second: Path) -> list[str]:
    """What differs between two runs' figures, each message naming the snippet and the figure."""
    name = f"snippets/{snippet.name}"
    for run in (first, second):
        if (run / "error.txt").is_file():
            return [f"{name} failed:\n{(run / 'error.txt').read_text(encoding='utf-8')}"]
    a, b = sorted(first.glob("*.svg")), sorted(second.glob("*.svg"))
    if [p.name for p in a] != [p.name for p in b]:
        return [f"{name}: {len(a)} figures in one run, {len(b)} in the other"]
    found = []
    for x, y in zip(a, b):
        bx, by = x.read_bytes(), y.read_bytes()
        if bx != by and not same_drawing(bx, by):
            at = next((i for i, (p, q) in enumerate(zip(bx, by)) if p != q), min(len(bx), len(by)))
            found.append(f"{name}: figure {x.stem} differs between two runs (from byte {at}: {bx[at:at + 60]!r} vs {by[at:at + 60]!r})")
    return found


# Cells run around the reader's own in the test kernel (never published): they record each cell's
# figures exactly as the build's runner does (same module, same salt, same hash seed), so the
# fresh kernel's figures can be compared with the build's as a second run's are.
CAPTURE_BEFORE = """import sys
sys.path.insert(0, {root!r})
from sitebuild.runner import Figures as _Figures
_figures = _Figures(salt={stem!r})
get_ipython().events.register("post_run_cell", lambda _result: _figures.capture())
del sys, _Figures"""
CAPTURE_AFTER = """import pathlib as _pathlib
for _number, _svg in enumerate(_figures.latest.values(), start=1):
    _pathlib.Path({out!r}, f"{{_number}}.svg").write_text(_svg, encoding="utf-8")"""


def run_in_fresh_kernel(notebook_file: Path, stem: str, cwd: Path, figures: Path) -> nbformat.NotebookNode:
    """Execute a notebook in a new kernel started in ``cwd``; its figures land in ``figures/<n>.svg``.

    Returns the executed notebook without the two recording cells."""
    notebook = nbformat.read(notebook_file, as_version=4)
    nbformat.validate(notebook)
    figures.mkdir(parents=True, exist_ok=True)
    before = nbformat.v4.new_code_cell(CAPTURE_BEFORE.format(root=str(ROOT), stem=stem))
    after = nbformat.v4.new_code_cell(CAPTURE_AFTER.format(out=str(figures)))
    notebook.cells = [before, *notebook.cells, after]
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    client.execute(env={**os.environ, "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"})
    notebook.cells = notebook.cells[1:-1]
    return notebook



SNIPPETS = snippets()
GROUPS = 2  # runner processes for the second runs, one per worker (each pays its imports, ~3 s, once)


def group_of(snippet: Path) -> int:
    return SNIPPETS.index(snippet) % GROUPS


@pytest.fixture(scope="session")
def second_run(site: Path, tmp_path_factory: pytest.TempPathFactory):
    """The second run of a snippet: its whole group run once, in one new runner process, after the build."""
    done: dict[int, dict[str, Path]] = {}

    def run(snippet: Path) -> Path:
        group = group_of(snippet)
        if group not in done:
            members = [s for s in SNIPPETS if group_of(s) == group]
            done[group] = run_fresh(members, tmp_path_factory.mktemp(f"second-run-{group}"))
        return done[group][snippet.stem]

    return run


@functools.cache
def _built() -> dict[Path, Snippet]:
    return {s.path: s for s in find_snippets(ROOT / "snippets", ROOT / ".cache" / "figures")}


def build_entry(snippet: Path) -> Path:
    """The build's cache entry for ``snippet`` as it is now (asserting the build left it there)."""
    built = _built()[snippet]
    assert built.is_cached(), "the build left the snippet's figures in the cache"
    return built.entry


@pytest.mark.parametrize(
    "snippet",
    [pytest.param(s, id=s.stem, marks=pytest.mark.xdist_group(f"second-run-{group_of(s)}")) for s in SNIPPETS],
)
def test_a_second_run_in_a_fresh_process_draws_the_builds_figures(site: Path, second_run, snippet: Path) -> None:
    problems = differences(snippet, build_entry(snippet), second_run(snippet))
    assert not problems, "\n".join(problems)


UNSEEDED = '''"""Figures from three unseeded generators, and one from a seeded generator."""

import random

import matplotlib.pyplot as plt
import numpy as np

# %%
for values in (
    np.random.default_rng().normal(size=50),  # figure 1: a generator seeded from the OS
    np.random.normal(size=50),  # figure 2: NumPy's global generator
    [random.random() for _ in range(50)],  # figure 3: Python's random
    np.random.default_rng(0).normal(size=50),  # figure 4: seeded
):
    plt.figure()
    plt.plot(values)
plt.show()
'''


def test_an_unseeded_snippet_is_caught_by_name(tmp_path: Path) -> None:
    """The same two runs as for the book's snippets: two runner processes (a forked child inherits
    its parent's global generators, so two children of one process could agree; two processes do
    not). Each figure drawn from an unseeded generator is named; the seeded one is not."""
    snippet = tmp_path / "src" / "unseeded_noise.py"
    snippet.parent.mkdir()
    snippet.write_text(UNSEEDED, encoding="utf-8")
    first, second = run_fresh([snippet], tmp_path / "first"), run_fresh([snippet], tmp_path / "second")
    found = differences(snippet, first[snippet.stem], second[snippet.stem])
    assert [message.split(" differs")[0] for message in found] == [
        f"snippets/unseeded_noise.py: figure {n}" for n in (1, 2, 3)
    ], found


def test_sub_point_jitter_is_the_same_drawing_and_a_moved_curve_is_not() -> None:
    a = b'<path d="M 457.263341 215.315313 L 1 2"/>'
    assert same_drawing(a, a.replace(b"215.315313", b"215.315312"))
    assert not same_drawing(a, a.replace(b"215.315313", b"215.325313"))
    assert not same_drawing(a, a.replace(b"L 1 2", b"L 1 3 L 4 5"))
