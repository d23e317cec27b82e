"""Run snippets in forked children of one warm process and capture their figures as SVG.

Invoked by the gallery plugin as ``python -m sitebuild.runner`` with a JSON request on stdin
(or, under ``mkdocs serve``, once as ``python -m sitebuild.runner --serve``, kept warm, one request
per line)::

    {"jobs": [{"snippet": "/abs/snippets/x.py", "out": "/abs/tmp/dir"}, ...],
     "workers": 2, "timeout": 120}

The parent imports matplotlib, NumPy and PyTorch once, then forks one child per snippet
(at most ``workers`` at a time). A forked child starts from the parent's pristine state, so
snippets cannot leak rcParams, RNG state, open figures or imported modules into each other.
A child runs its snippet cell by cell (``# %%``, jupytext's percent format) as a notebook kernel
would (``__name__`` is ``"__main__"``, there is no ``__file__``, the working directory is an empty
scratch folder the snippet must leave empty), capturing each cell's output and the figures it
drew (as Jupyter's inline backend does).
Each child writes into its ``out`` directory: ``1.svg``, ``2.svg``, ... (every figure in its final
state), ``notebook.ipynb`` (the executed notebook) and ``meta.json`` on
success (figure count, seconds spent running the snippet and rendering its figures), or ``error.txt`` (the snippet's traceback) on failure; its stdout and stderr go to
``output.txt``. This module only uses the standard library and the three plotting/compute
libraries, so it can run from any working directory.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import re
import signal
import sys
import shutil
import time
import traceback
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

# One thread per child (the parent runs one child per core), fixed here rather than inherited: the
# thread count can change the last bits of a sum, and figures must not depend on who started the build.
for _threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_threads] = "1"
# MKL (torch's BLAS and LAPACK here) may pick a different code path for differently aligned
# memory, so one snippet's last bits could differ from run to run (seen: a torch.linalg.solve
# in learning_rate_schedules.py). Conditional Numerical Reproducibility fixes the path.
os.environ["MKL_CBWR"] = "COMPATIBLE"

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402,F401  (imported once here so children start warm)

try:  # PyTorch is optional for the runner itself; snippets that need it import it anyway.
    import torch
except ImportError:  # pragma: no cover
    torch = None

SVG_METADATA = {"Date": None}
CELL_MARKER = re.compile(r"^# %%(?P<rest>.*)$")


@dataclass(frozen=True)
class Cell:
    """A cell of a jupytext percent-format script; ``line`` is where its source starts (1-based)."""

    kind: str  # "code" or "markdown"
    source: str
    line: int


def split_cells(text: str) -> list[Cell]:
    """Split a script at its ``# %%`` lines (``# %% [markdown]`` starts a Markdown cell)."""
    lines = text.splitlines(keepends=True)
    cells: list[Cell] = []

    def flush(begin: int, end: int, kind: str) -> None:
        while begin < end and not lines[begin].strip():
            begin += 1
        while end > begin and not lines[end - 1].strip():
            end -= 1
        if begin == end:
            return
        body = lines[begin:end]
        if kind == "markdown":
            body = [re.sub(r"^# ?", "", line) for line in body]
        cells.append(Cell(kind, "".join(body).rstrip("\n"), begin + 1))

    start, kind = 0, "code"
    for index, line in enumerate(lines):
        marker = CELL_MARKER.match(line)
        if marker:
            flush(start, index, kind)
            start, kind = index + 1, ("markdown" if "[markdown]" in marker["rest"] else "code")
    flush(start, len(lines), kind)
    return cells


class Figures:
    """SVGs of the figures a snippet draws, captured as Jupyter's inline backend would show them.

    After each cell, every figure drawn or changed in that cell (matplotlib marks it ``stale``)
    is rendered once; the same SVG is the cell's notebook output and, unless a later cell
    changes the figure again, the site's figure.
    """

    def __init__(self, salt: str) -> None:
        self.salt = salt
        self.latest: dict[object, str] = {}  # figure -> its latest SVG, in first-capture order

    def capture(self) -> list[str]:
        shown = []
        for number in plt.get_fignums():
            fig = plt.figure(number)
            if fig.stale or fig not in self.latest:
                if clash := curves_told_apart_by_color_only(fig):
                    raise FigureStyleError(f"figure {len(self.latest) + 1}: {clash}")
                buffer = io.StringIO()
                with plt.rc_context({"svg.hashsalt": self.salt}):
                    fig.savefig(buffer, format="svg", metadata=SVG_METADATA)
                fig.stale = False  # savefig restores the face colour, which marks the figure stale again
                self.latest[fig] = buffer.getvalue()
                shown.append(self.latest[fig])
        return shown


class WroteFilesError(RuntimeError):
    """A snippet left files in the directory it ran in."""


class FigureStyleError(ValueError):
    """Two curves of one plot differ by color alone (a reader who cannot tell colors apart is lost)."""


def curves_told_apart_by_color_only(fig) -> str:
    """The first pair of labeled curves in one Axes with the same line style and marker, or ``""``."""
    for ax in fig.get_axes():
        seen: dict[tuple[str, str], str] = {}
        for line in ax.get_lines():
            label = line.get_label()
            if label.startswith("_") or len(line.get_xdata()) < 2:
                continue  # unlabeled lines (guides, many-curve fans) and single points are not compared
            style = (str(line.get_linestyle()), str(line.get_marker()))
            if style in seen:
                return (
                    f"{seen[style]!r} and {label!r} in the axes {ax.get_title()!r} differ only by color; "
                    "give them different line styles or markers"
                )
            seen[style] = label
    return ""


def display(svg: str) -> dict:
    return {"output_type": "display_data", "data": {"image/svg+xml": svg.splitlines(keepends=True), "text/plain": ["<Figure>"]}, "metadata": {}}


def stream(name: str, text: str) -> list[dict]:
    return [{"output_type": "stream", "name": name, "text": text.splitlines(keepends=True)}] if text else []


def execute(snippet: Path, figures: Figures) -> dict:
    """Run a snippet cell by cell, as a notebook kernel would; return it as an executed notebook."""
    namespace = {"__name__": "__main__"}  # a kernel's namespace: no __file__ in a notebook
    cells, count = [], 0
    for index, cell in enumerate(split_cells(snippet.read_text(encoding="utf-8"))):
        entry = {"id": f"cell-{index}", "cell_type": cell.kind, "metadata": {}, "source": cell.source.splitlines(keepends=True)}
        if cell.kind == "code":
            count += 1
            code = compile("\n" * (cell.line - 1) + cell.source + "\n", str(snippet), "exec")
            out, err = io.StringIO(), io.StringIO()
            with redirect_stdout(out), redirect_stderr(err):
                exec(code, namespace)  # noqa: S102 - running the snippet is the point
            entry |= {"execution_count": count, "outputs": stream("stdout", out.getvalue()) + stream("stderr", err.getvalue()) + [display(svg) for svg in figures.capture()]}
        cells.append(entry)
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def snippet_traceback(snippet: Path, exc: BaseException) -> str:
    """Format ``exc`` starting at the snippet's own frame (runner frames dropped)."""
    frames = traceback.extract_tb(exc.__traceback__)
    start = next((i for i, f in enumerate(frames) if Path(f.filename) == snippet), 0)
    lines = ["Traceback (most recent call last):\n"]
    lines += traceback.format_list(frames[start:])
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)


def run_child(snippet: Path, out: Path, timeout: int) -> None:
    """Body of a forked child: run one snippet, save its figures, never return."""
    code = 1
    try:
        log = os.open(out / "output.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        signal.alarm(timeout)  # default SIGALRM action ends the child; the parent reports it
        if torch is not None:
            torch.set_num_threads(1)  # the parent runs one child per core
        work = out / "work"  # a scratch working directory, removed by the parent
        work.mkdir()
        os.chdir(work)
        sys.argv = [str(snippet)]
        sys.path.insert(0, str(snippet.parent))
        started = time.perf_counter()
        figures = Figures(salt=snippet.stem)
        try:
            notebook = execute(snippet, figures)
            figures.capture()  # figures changed after the cell that showed them
            if written := sorted(p.name for p in work.iterdir()):
                raise WroteFilesError(f"{snippet} wrote {written} into its working directory; a snippet must not "
                                      "write files (a reader runs it in their own project)")
        except BaseException as exc:  # noqa: BLE001 - report anything the snippet raises
            report = f"{exc}\n" if isinstance(exc, WroteFilesError) else snippet_traceback(snippet, exc)
            (out / "error.txt").write_text(report, encoding="utf-8")
        else:
            for index, svg in enumerate(figures.latest.values(), start=1):
                (out / f"{index}.svg").write_text(svg, encoding="utf-8")
            (out / "notebook.ipynb").write_text(json.dumps(notebook, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            meta = {"figures": len(figures.latest), "seconds": round(time.perf_counter() - started, 4)}
            (out / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
            code = 0
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        if signum == signal.SIGALRM:
            return "timed out"
        return f"was killed by signal {signal.Signals(signum).name}"
    return f"exited with status {os.WEXITSTATUS(status)}"


def run_jobs(jobs: list[dict[str, str]], workers: int, timeout: int) -> None:
    pending = [(Path(j["snippet"]), Path(j["out"])) for j in jobs]
    running: dict[int, tuple[Path, Path]] = {}
    while pending or running:
        while pending and len(running) < workers:
            snippet, out = pending.pop(0)
            pid = os.fork()
            if pid == 0:
                run_child(snippet, out, timeout)
            running[pid] = (snippet, out)
        pid, status = os.wait()
        snippet, out = running.pop(pid)
        shutil.rmtree(out / "work", ignore_errors=True)
        if not (out / "meta.json").exists() and not (out / "error.txt").exists():
            output = out / "output.txt"
            tail = output.read_text(encoding="utf-8", errors="replace")[-2000:] if output.exists() else ""
            message = f"The snippet process {describe_status(status)}.\n{tail}"
            (out / "error.txt").write_text(message, encoding="utf-8")


def handle(request: dict) -> None:
    workers = max(1, int(request.get("workers") or os.cpu_count() or 1))
    run_jobs(request["jobs"], workers, int(request.get("timeout", 120)))


def main() -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":
        # String hashes are salted per process, so set iteration order, and with it the order of
        # some float sums in matplotlib's layout, changed between runs: a tight_layout coordinate
        # that lands on a half of its 6th decimal then flipped in the SVG. Same salt, same bytes.
        os.execve(sys.executable, [sys.executable, "-m", "sitebuild.runner", *sys.argv[1:]], {**os.environ, "PYTHONHASHSEED": "0"})
    if torch is not None:  # loaded lazily by the first optimizer: ~1 s per child otherwise. Here, in the
        importlib.import_module("torch._dynamo")  # parent only: importing this module (tests' kernels) stays cheap.
    if "--serve" not in sys.argv:
        handle(json.load(sys.stdin))
        return
    # Warm mode for `mkdocs serve`: one request per stdin line, "done" on stdout after each, so an
    # edited snippet runs without paying for the imports again. Ends when stdin closes.
    for line in sys.stdin:
        handle(json.loads(line))
        print("done", flush=True)


if __name__ == "__main__":
    main()
