"""Each snippet is self-contained: only torch, NumPy, matplotlib, scikit-learn and the standard library.

That it runs as a reader runs it, alone in an empty folder in a fresh process, is tested on its
notebook (tests/test_notebooks.py: the same cells, run top to bottom in a fresh Jupyter kernel),
which must also draw the build's figures byte for byte (tests/test_determinism.py).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from support import snippets

ALLOWED_IMPORTS = {"torch", "numpy", "matplotlib", "sklearn"} | set(sys.stdlib_module_names)
SNIPPETS = snippets()
IDS = [p.name for p in SNIPPETS]


def test_there_are_snippets() -> None:
    assert SNIPPETS


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
    assert "fetch_" not in snippet.read_text(encoding="utf-8"), "no downloads: scikit-learn's bundled load_* data sets only"
