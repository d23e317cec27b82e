"""Headless Chromium on the built site, served from 127.0.0.1 as a reader's browser sees it.

Needs the Python package `playwright` and a Chromium binary (Debian: `apt-get install chromium`;
set CHROMIUM to use another path). Without them these tests skip and say so; `.ci/run` installs both.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import serve

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
HOW_TO_ENABLE = "install Chromium (`apt-get install chromium`) and `pip install playwright`, or run `.ci/run`"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def server(site: Path) -> Iterator[str]:
    with serve(site, compress=True) as url:  # gzip, as GitHub Pages serves it
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(f"browser tests need Playwright: {HOW_TO_ENABLE}")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}: {HOW_TO_ENABLE}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()
