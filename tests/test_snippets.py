"""Each snippet is self-contained: only torch, NumPy, matplotlib, scikit-learn and the standard library.

That it runs as a reader runs it is tested by running it again in a fresh process with the build's
runner, which runs it as a kernel runs a notebook (cell by cell, no ``__file__``, in an empty folder
it must leave empty; checked below): it must draw the build's figures byte for byte
(tests/test_determinism.py). A sample also runs as a downloaded notebook in a fresh Jupyter
kernel (tests/test_notebooks.py).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from support import snippets
from test_determinism import run_fresh

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


def test_the_runner_runs_a_snippet_as_a_notebook_kernel_would(tmp_path: Path) -> None:
    """In a kernel there is no ``__file__``, and a reader's folder must stay clean: a snippet relying on
    the one or writing a file fails, naming itself and the reason; a well-behaved one passes."""
    src = tmp_path / "src"
    src.mkdir()
    cases = {
        "uses_file": ("print(__file__)", "NameError: name '__file__' is not defined"),
        "writes_file": ("open('table.csv', 'w').write('x')", "wrote ['table.csv']"),
        "well_behaved": ("print(__name__)", None),
    }
    for name, (line, _) in cases.items():
        (src / f"{name}.py").write_text(f'"""Case."""\n\n# %%\n{line}\n', encoding="utf-8")
    runs = run_fresh([src / f"{name}.py" for name in cases], tmp_path / "out")
    for name, (_, error) in cases.items():
        failed = runs[name] / "error.txt"
        if error is None:
            assert not failed.exists(), failed.read_text(encoding="utf-8")
            assert "__main__" in (runs[name] / "notebook.ipynb").read_text(encoding="utf-8"), "the cell printed __name__"
        else:
            text = failed.read_text(encoding="utf-8")
            assert error in text and f"{name}.py" in text, text
