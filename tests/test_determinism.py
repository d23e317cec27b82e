"""Figures are deterministic: a snippet run again in a fresh process draws byte-identical SVGs.

The build's run (its cache entry for the snippet's current bytes and environment) is compared
with a second run of the same runner in a new process. Anything drawn from an unseeded random
generator (NumPy's global or ``default_rng()``, Python's ``random``) differs between the two.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from sitebuild.gallery import find_snippets
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


def test_every_snippet_draws_the_same_bytes_twice(site: Path, tmp_path: Path) -> None:
    """`site` first: the build has run (or found cached) every snippet, so the cache holds run one."""
    assert site.is_dir()
    gallery = find_snippets(ROOT / "snippets", ROOT / ".cache" / "figures")
    assert [s.path for s in gallery] == snippets()
    assert all(s.is_cached() for s in gallery), "the build left every snippet's figures in the cache"
    fresh = run_fresh([s.path for s in gallery], tmp_path, workers=os.cpu_count() or 1)  # the longest test: finish it early
    problems = [d for s in gallery for d in differences(s.path, s.entry, fresh[s.stem])]
    assert not problems, "\n".join(problems)


UNSEEDED = '''"""A figure from an unseeded generator."""

import matplotlib.pyplot as plt
import numpy as np

# %%
plt.plot(np.random.default_rng().normal(size=50))
plt.show()
'''


def test_an_unseeded_snippet_is_caught_by_name(tmp_path: Path) -> None:
    unseeded = tmp_path / "src" / "unseeded_noise.py"
    seeded = tmp_path / "src" / "seeded_noise.py"
    unseeded.parent.mkdir()
    unseeded.write_text(UNSEEDED, encoding="utf-8")
    seeded.write_text(UNSEEDED.replace("default_rng()", "default_rng(0)"), encoding="utf-8")
    one, two = run_fresh([unseeded, seeded], tmp_path / "one"), run_fresh([unseeded, seeded], tmp_path / "two")
    caught = differences(unseeded, one["unseeded_noise"], two["unseeded_noise"])
    assert len(caught) == 1 and caught[0].startswith("snippets/unseeded_noise.py: figure 1 differs"), caught
    assert differences(seeded, one["seeded_noise"], two["seeded_noise"]) == [], "the same seed must give the same bytes"


def test_sub_point_jitter_is_the_same_drawing_and_a_moved_curve_is_not() -> None:
    a = b'<path d="M 457.263341 215.315313 L 1 2"/>'
    assert same_drawing(a, a.replace(b"215.315313", b"215.315312"))
    assert not same_drawing(a, a.replace(b"215.315313", b"215.325313"))
    assert not same_drawing(a, a.replace(b"L 1 2", b"L 1 3 L 4 5"))
