"""Every snippet as a notebook: its cells, the published page and .ipynb, and the links to them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

from sitebuild.runner import split_cells
from support import COLAB, DOCS, LANGUAGES, ROOT, mkdocs_config, pages, snippets
from test_determinism import build_entry, differences, run_in_fresh_kernel

SNIPPETS = snippets()
IDS = [p.stem for p in SNIPPETS]


def colab_url(stem: str) -> str:
    gallery = mkdocs_config().plugins["sitebuild/gallery"]
    return gallery.config.colab_url.format(stem=stem)


def notebook_page(site: Path, lang: str, stem: str) -> Path:
    return site.joinpath(*([] if lang == "ko" else [lang]), "notebooks", stem, "index.html")


@pytest.mark.parametrize("snippet", SNIPPETS, ids=IDS)
def test_cells_are_the_ones_jupytext_reads(snippet: Path) -> None:
    ours = [c.source for c in split_cells(snippet.read_text(encoding="utf-8")) if c.kind == "code"]
    theirs = [c.source for c in jupytext.read(snippet, fmt="py:percent").cells if c.cell_type == "code"]
    assert ours == theirs
    assert len(ours) >= 2, f"{snippet.name}: split the script into cells with `# %%` lines"


def test_cell_split_keeps_line_numbers_and_markdown() -> None:
    cells = split_cells('"""Doc."""\n\n# %% One\nx = 1\n\n\n# %% [markdown]\n# Some *text*\n# %%\ny = 2\n')
    assert [(c.kind, c.source, c.line) for c in cells] == [
        ("code", '"""Doc."""', 1),
        ("code", "x = 1", 4),
        ("markdown", "Some *text*", 8),
        ("code", "y = 2", 10),
    ]


@pytest.mark.parametrize("snippet", SNIPPETS, ids=IDS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_notebook_page_shows_cells_and_outputs(site: Path, snippet: Path, lang: str) -> None:
    notebook = nbformat.read(site / "notebooks" / f"{snippet.stem}.ipynb", as_version=4)
    nbformat.validate(notebook)  # what Jupyter and Colab check when they open the download
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    figures = [o for c in code_cells for o in c.outputs if "image/svg+xml" in o.get("data", {})]
    html = notebook_page(site, lang, snippet.stem).read_text(encoding="utf-8")
    assert html.count("jp-CodeCell") >= len(code_cells) > 0, "code cells are not rendered"
    assert html.count("jp-RenderedSVG") == len(figures) > 0, "figure outputs are not rendered"
    # Each figure output is a published file holding exactly that output, in the notebook's order.
    shown = re.findall(r'<div class="jp-RenderedSVG[^>]*>\s*<img [^>]*src="([0-9a-f]{16}\.svg)"', html)
    assert len(shown) == len(figures), "every figure output links its SVG file"
    folder = notebook_page(site, lang, snippet.stem).parent
    for name, output in zip(shown, figures, strict=True):
        assert (folder / name).read_text(encoding="utf-8") == "".join(output["data"]["image/svg+xml"])
    assert "data:image/svg+xml;base64" not in html, "figure outputs are files, not inlined data"
    assert '"cell_type"' not in html and "# %%" not in html, "the raw notebook or script was published as text"
    assert not re.search(r"<script[^>]+src=\"(https?:)?//", html), "the page loads a script from another host"
    assert "<style" not in html, "mkdocs-jupyter's inline CSS should have been dropped"
    assert f'href="{colab_url(snippet.stem)}"' in html and f'href="../{snippet.stem}.ipynb"' in html


# The build's runner executes every snippet exactly as a kernel would (cell by cell, one namespace,
# no __file__, an empty working directory it must leave empty) and records that run as the
# notebook, and tests/test_determinism.py runs every snippet again in a fresh process. What a real
# Jupyter kernel adds (ipykernel, nbclient, the notebook file itself) is the same for every
# notebook, so a sample runs there: plain NumPy, scikit-learn, and PyTorch with several figures.
KERNEL_SAMPLE = ["linear_regression", "what_is_ml", "transformer"]


def test_the_kernel_sample_names_snippets() -> None:
    assert set(KERNEL_SAMPLE) <= set(IDS), f"KERNEL_SAMPLE names a snippet that does not exist: {sorted(set(KERNEL_SAMPLE) - set(IDS))}"


@pytest.mark.parametrize("stem", KERNEL_SAMPLE)
def test_downloaded_notebook_runs_in_a_fresh_kernel_and_draws_the_builds_figures(site: Path, stem: str, tmp_path: Path) -> None:
    """What a reader does with the download (or in Colab): a new kernel, an empty folder. Its
    figures must be the build's, byte for byte."""
    snippet = ROOT / "snippets" / f"{stem}.py"
    work, drawn = tmp_path / "work", tmp_path / "figures"
    work.mkdir()
    notebook = run_in_fresh_kernel(site / "notebooks" / f"{stem}.ipynb", stem, work, drawn)
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert not list(work.iterdir()), f"{snippet.name} wrote files: a snippet must not write any"
    problems = differences(snippet, build_entry(snippet), drawn)
    assert not problems, "\n".join(problems)


def test_the_build_ran_each_snippet_at_most_once(site: Path, site_log: str) -> None:
    ran = [stem for line in re.findall(r"gallery: ran \d+ snippet\(s\) in [\d.]+ s: (.*)", site_log) for stem in line.split(", ")]
    assert len(ran) == len(set(ran)), f"a snippet ran twice in one build: {ran}"
    assert set(ran) <= set(IDS), f"the build ran something that is not a snippet: {ran}"
    assert "execute=True" not in site_log, "mkdocs-jupyter must not execute notebooks again"


CONCEPTS = [(lang, page) for lang in LANGUAGES for page in pages(lang)]


@pytest.mark.parametrize(("lang", "page"), CONCEPTS, ids=[f"{lang}/{p.as_posix()}" for lang, p in CONCEPTS])
def test_concept_pages_link_notebook_download_and_colab(lang: str, page: Path) -> None:
    text = (DOCS / lang / page).read_text(encoding="utf-8")
    up = "../" * len(page.parts)  # from docs/<lang>/<section>/ up to docs/
    for stem in sorted(set(re.findall(r'--8<-- "snippets/(\w+)\.py', text))):
        for target in (f"({up}notebooks/{stem}/index.ipynb)", f"({up}notebooks/{stem}.ipynb)", f"({colab_url(stem)})", f"({up}snippets/{stem}.py)"):
            assert target in text, f"{lang}/{page} should link {target}"
    assert all(url.startswith(COLAB + "github/") for url in re.findall(r"\((https://colab[^)]+)\)", text))
