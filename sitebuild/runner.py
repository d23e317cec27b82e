"""Run snippets in forked children of one warm process and capture their figures as SVG.

Invoked by the gallery plugin as ``python -m sitebuild.runner`` with a JSON request on stdin::

    {"jobs": [{"snippet": "/abs/snippets/x.py", "out": "/abs/tmp/dir"}, ...],
     "workers": 2, "timeout": 120}

The parent imports matplotlib, NumPy and PyTorch once, then forks one child per snippet
(at most ``workers`` at a time). A forked child starts from the parent's pristine state, so
snippets cannot leak rcParams, RNG state, open figures or imported modules into each other.
Each child writes into its ``out`` directory: ``1.svg``, ``2.svg``, ... and ``meta.json`` on
success (figure count, seconds spent running the snippet and saving its figures), or ``error.txt`` (the snippet's traceback) on failure; its stdout and stderr go to
``output.txt``. This module only uses the standard library and the three plotting/compute
libraries, so it can run from any working directory.
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import sys
import shutil
import time
import traceback
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402,F401  (imported once here so children start warm)

try:  # PyTorch is optional for the runner itself; snippets that need it import it anyway.
    import torch
    import torch._dynamo  # noqa: F401  (loaded lazily by the first optimiser: ~1 s per child otherwise)
except ImportError:  # pragma: no cover
    torch = None

SVG_METADATA = {"Date": None}


def snippet_traceback(snippet: Path, exc: BaseException) -> str:
    """Format ``exc`` starting at the snippet's own frame (runner and runpy frames dropped)."""
    frames = traceback.extract_tb(exc.__traceback__)
    start = next((i for i, f in enumerate(frames) if Path(f.filename) == snippet), 0)
    lines = ["Traceback (most recent call last):\n"]
    lines += traceback.format_list(frames[start:])
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)


def save_figures(out: Path, salt: str) -> int:
    """Write every open figure as ``<n>.svg`` with stable ids and no date; return the count."""
    numbers = plt.get_fignums()
    with plt.rc_context({"svg.hashsalt": salt}):
        for index, number in enumerate(numbers, start=1):
            plt.figure(number).savefig(out / f"{index}.svg", format="svg", metadata=SVG_METADATA)
    return len(numbers)


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
        try:
            runpy.run_path(str(snippet), run_name="__main__")
        except BaseException as exc:  # noqa: BLE001 - report anything the snippet raises
            (out / "error.txt").write_text(snippet_traceback(snippet, exc), encoding="utf-8")
        else:
            ran = time.perf_counter()
            count = save_figures(out, salt=snippet.stem)
            saved = time.perf_counter()
            meta = {"figures": count, "run_seconds": round(ran - started, 4), "save_seconds": round(saved - ran, 4)}
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


def main() -> None:
    request = json.load(sys.stdin)
    workers = max(1, int(request.get("workers") or os.cpu_count() or 1))
    run_jobs(request["jobs"], workers, int(request.get("timeout", 120)))


if __name__ == "__main__":
    main()
