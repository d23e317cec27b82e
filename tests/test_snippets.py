"""Each snippet runs as a reader would run it: copied alone into an empty folder, fresh Python."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import snippets

ALLOWED_IMPORTS = {"torch", "numpy", "matplotlib"} | set(sys.stdlib_module_names)
SNIPPETS = snippets()
IDS = [p.name for p in SNIPPETS]


def test_there_are_snippets() -> None:
    assert SNIPPETS


@pytest.mark.parametrize("snippet", SNIPPETS, ids=IDS)
def test_snippet_runs_alone_in_a_fresh_process(snippet: Path, tmp_path: Path) -> None:
    copy = tmp_path / snippet.name
    shutil.copy2(snippet, copy)
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH"}}
    proc = subprocess.run(
        [sys.executable, copy.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**env, "MPLBACKEND": "Agg"},
        timeout=120,
    )
    assert proc.returncode == 0, f"{snippet.name} failed:\n{proc.stderr[-3000:]}"
    assert sorted(p.name for p in tmp_path.iterdir()) == [snippet.name], "a snippet must not write files"


@pytest.mark.parametrize("snippet", SNIPPETS, ids=IDS)
def test_snippet_is_self_contained_and_shows_its_figures(snippet: Path) -> None:
    tree = ast.parse(snippet.read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= ALLOWED_IMPORTS, f"{snippet.name} imports {sorted(imported - ALLOWED_IMPORTS)}"
    last = tree.body[-1]
    assert isinstance(last, ast.Expr) and ast.unparse(last) == "plt.show()", f"{snippet.name} must end with plt.show()"
    assert ast.get_docstring(tree), f"{snippet.name} needs a module docstring saying what it shows"
    assert "savefig" not in snippet.read_text(encoding="utf-8"), "the build saves figures; snippets must not"
