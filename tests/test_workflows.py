"""The GitHub Actions workflows and Dependabot settings pass zizmor's audits (offline)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from support import ROOT


def test_zizmor_finds_nothing() -> None:
    zizmor = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or shutil.which("zizmor")
    assert zizmor, "zizmor is a test dependency: `pip install -e .[test]`"
    proc = subprocess.run(
        [zizmor, "--offline", "--no-progress", ".github"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, f"zizmor findings:\n{proc.stdout}\n{proc.stderr[-2000:]}"
    assert "No findings" in proc.stdout + proc.stderr
