"""Shared pytest set-up: headless plotting, and each distinct Markdown code block run once."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

import pytest

from support import ROOT, build

os.environ.setdefault("MPLBACKEND", "Agg")
# One compute thread per process: pytest-xdist already runs one worker per core, and the kernels,
# builds and runners they start inherit this (oversubscribed cores made every test slower).
for _threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")
# MKL (torch's BLAS here) may take another code path for differently aligned memory, so the last
# bits of a product could differ between runs; a chaotic experiment (a tanh network with large
# weights, 50 layers deep) amplifies them into a different stated number. Fix the code path.
os.environ.setdefault("MKL_CBWR", "COMPATIBLE")
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
    items.sort(key=run_order)


def run_order(item: pytest.Item) -> tuple[bool, ...]:
    """The order in which pytest-xdist hands out the tests (`--no-loadscope-reorder` keeps it): those
    that need no site first (the site builds meanwhile: a cold build is a minute and a half), then
    the grouped ones (the longest units: each group of second runs, the search queries), then the
    other builds and checks of the site, the many short browser visits last (they even out the end)."""
    if "_site_build" not in getattr(item, "fixturenames", ()):
        return (False,)
    grouped = item.get_closest_marker("xdist_group") is not None
    return (True, not grouped, "browser" in item.path.parts)


BUILD_THREAD = pytest.StashKey[threading.Thread]()


def _shared_dir(base: Path) -> Path:
    """The directory the controller and every pytest-xdist worker share (the workers' base temps live in it)."""
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _site_dir(shared: Path) -> Path:
    return Path(os.environ.get("TEST_SITE_DIR") or shared / "site")


def _build_into(shared: Path) -> None:
    """Build the site once (the caller holds the lock) and record the log, or the failure."""
    proc = build(ROOT, _site_dir(shared))
    (shared / "site.log").write_text(proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        (shared / "site.failed").write_text(f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}", encoding="utf-8")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under pytest-xdist, the controller starts the build at once and holds the lock until it is
    done: the workers run the tests that need no site meanwhile, instead of waiting together."""
    config = session.config
    full_suite = config.args_source == pytest.Config.ArgsSource.TESTPATHS  # `make test`, not a chosen file
    if not (full_suite and getattr(config.option, "numprocesses", None) and not os.environ.get("PYTEST_XDIST_WORKER")):
        return
    shared = config._tmp_path_factory.getbasetemp()  # the controller's base temp: the workers' parent
    lock = open(shared / "site.lock", "w")  # noqa: SIM115 - released by the thread below
    fcntl.flock(lock, fcntl.LOCK_EX)

    def run() -> None:
        try:
            _build_into(shared)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()

    thread = threading.Thread(target=run, name="site-build", daemon=True)
    thread.start()
    config.stash[BUILD_THREAD] = thread


def pytest_sessionfinish(session: pytest.Session) -> None:
    thread = session.config.stash.get(BUILD_THREAD, None)
    if thread is not None:
        thread.join()  # never leave a build running behind the session


@pytest.fixture(scope="session")
def _site_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The site, built once per test run: by the xdist controller in the background (the workers wait
    for its lock, a state), or here when running without xdist."""
    shared = _shared_dir(tmp_path_factory.getbasetemp())
    with open(shared / "site.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "site.log").is_file():
            _build_into(shared)
    failed = shared / "site.failed"
    assert not failed.is_file(), f"mkdocs build --strict failed:\n{failed.read_text(encoding='utf-8')}"
    return _site_dir(shared), (shared / "site.log").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def site(_site_build: tuple[Path, str]) -> Path:
    """The real site, built once per test session with --strict (reusing the figure cache)."""
    return _site_build[0]


@pytest.fixture(scope="session")
def site_log(_site_build: tuple[Path, str]) -> str:
    """What that build logged."""
    return _site_build[1]
