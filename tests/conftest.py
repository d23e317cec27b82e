"""Shared pytest set-up: headless plotting, and each distinct Markdown code block run once."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from support import ROOT, build

os.environ.setdefault("MPLBACKEND", "Agg")
# One compute thread per process: pytest-xdist already runs one worker per core, and the kernels,
# builds and runners they start inherit this (oversubscribed cores made every test slower).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")


@pytest.fixture
def float64():
    """Compute in float64 for tight tolerances (formula tests), restoring the default afterwards."""
    import torch

    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


@pytest.fixture(autouse=True)
def _no_global_torch_state_leaks():
    """Tests and page code blocks run in one process: none may leave torch's default dtype changed."""
    yield
    import torch

    if torch.get_default_dtype() != torch.float32:
        torch.set_default_dtype(torch.float32)
        pytest.fail("the test changed torch's default dtype; set it in a fixture that restores it")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop code-block items whose code was already collected (e.g. the same block in ko and en)."""
    seen: set[tuple[str | None, str]] = set()
    keep, dropped = [], []
    for item in items:
        block = getattr(item, "obj", None)
        code = getattr(block, "code", None)
        if code is None or type(item).__name__ != "TestBlock":
            keep.append(item)
            continue
        key = (block.syntax, code)
        (dropped if key in seen else keep).append(item)
        seen.add(key)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(scope="session")
def _site_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Build once per test run: under pytest-xdist the first worker builds, the others wait and reuse.

    TEST_SITE_DIR names where to build it (CI publishes the very site the tests checked)."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the directory all workers' base temps live in
    out, log = Path(os.environ.get("TEST_SITE_DIR") or shared / "site"), shared / "site.log"
    with open(shared / "site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not log.is_file():
            proc = build(ROOT, out)
            assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
            log.write_text(proc.stderr, encoding="utf-8")
    return out, log.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def site(_site_build: tuple[Path, str]) -> Path:
    """The real site, built once per test session with --strict (reusing the figure cache)."""
    return _site_build[0]


@pytest.fixture(scope="session")
def site_log(_site_build: tuple[Path, str]) -> str:
    """What that build logged."""
    return _site_build[1]
