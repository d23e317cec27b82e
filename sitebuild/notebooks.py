"""Notebook pages: each snippet's executed notebook, published under every language.

The gallery's runner already executed each snippet cell by cell and wrote ``notebook.ipynb`` with
the outputs, so nothing runs again here. For every snippet the site gets

* ``notebooks/<stem>.ipynb``: the download (also what the Open-in-Colab link points at);
* ``notebooks/<stem>/``: a page rendered by mkdocs-jupyter, in the site's theme.

mkdocs-static-i18n rebuilds the file list and drops mkdocs-jupyter's notebook pages
(ultrabug/mkdocs-static-i18n#198), so the pages are added after it, wrapped in mkdocs-jupyter's
``NotebookFile`` by us, with the i18n alternates the language switcher needs. mkdocs-jupyter's
HTML inlines ~0.6 MB of JupyterLab CSS and loads MathJax and Mermaid from CDNs; the page keeps
only the notebook markup and is styled by the small ``gallery.css`` instead.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs_jupyter.plugin import NotebookFile

from sitebuild.site_files import add_file, language_prefix, put

NOTEBOOK_NAME = "notebook.ipynb"  # the runner's file name; mkdocs-jupyter's `include` matches it
FOREIGN_MARKUP = re.compile(
    r"<(script|style)\b[^>]*>.*?</\1>|<link\b[^>]*>"  # CSS and scripts, some from CDNs
    r'|<div class="zeroclipboard-container">.*?</clipboard-copy>\s*</div>'  # a copy button needing their JS
    r'|<div class="clipboard-copy-txt"[^>]*>.*?</div>',  # the plain-text copy of each cell, for that button
    re.DOTALL,
)
CODE = re.compile(r'<div class="highlight-ipynb hl-python"><pre>(.*?)</pre></div>', re.DOTALL)


def add_notebook(files: Files, config: MkDocsConfig, stem: str, notebook: Path, header: str) -> None:
    """Publish the download and the rendered page of one snippet's notebook."""
    add_file(files, config, f"notebooks/{stem}.ipynb", abs_src_path=str(notebook))
    src_uri = f"notebooks/{stem}/index.ipynb"
    page = NotebookFile(
        File.generated(config, src_uri, abs_src_path=str(notebook), inclusion=InclusionLevel.NOT_IN_NAV),
        use_directory_urls=config.use_directory_urls,
        site_dir=config.site_dir,
    )
    page.abs_src_path = str(notebook)  # a cached property the wrapper would otherwise compute as None
    page.inclusion = InclusionLevel.NOT_IN_NAV  # reached from the concept pages, not the nav
    prefix = language_prefix(config)
    page.dest_path = prefix + page.dest_path
    page.abs_dest_path = str(Path(config.site_dir) / page.dest_path)
    page.url = prefix + page.url
    # What mkdocs-static-i18n sets on its own files, for the language switcher.
    i18n = config.plugins.get("i18n")
    if i18n is not None:
        page.locale = page.locale_alternate_of = i18n.current_language
        page.localization = None
        page.alternates = {
            lang.locale: page
            if lang.locale == i18n.current_language
            else SimpleNamespace(url=("" if lang.default else f"{lang.locale}/") + page.url.removeprefix(prefix))
            for lang in i18n.config.languages
        }
    page.notebook_header = header
    put(files, page)


def is_notebook_page(page: Page) -> bool:
    return hasattr(page.file, "notebook_header")


def clean_notebook_html(html: str) -> str:
    """Drop mkdocs-jupyter's CSS and scripts; mark code cells up as Material code blocks.

    Material then highlights them and adds its own copy button, as on every other page.
    """
    html = FOREIGN_MARKUP.sub("", html)
    return CODE.sub(r'<div class="highlight"><pre><code>\1</code></pre></div>', html)
