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

The figures a notebook shows are published as files (``notebooks/<stem>/<hash>.svg``, extracted
once per cache entry) instead of the base64 ``data:`` URIs nbconvert inlines: the page shrinks
from ~1 MB to its code, for the reader and for every plugin that reads the page.

Rendering is a pure function of the notebook, the versions of the packages that render it and
this module, so the finished page content is cached next to the notebook
(``page-<key>.json``) and rendered once for all languages and all later builds.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import TableOfContents, get_toc
from mkdocs_jupyter.plugin import NotebookFile

from sitebuild.site_files import add_file, language_prefix, package_versions, put

NOTEBOOK_NAME = "notebook.ipynb"  # the runner's file name; mkdocs-jupyter's `include` matches it
FOREIGN_MARKUP = re.compile(
    r"<(script|style)\b[^>]*>.*?</\1>|<link\b[^>]*>"  # CSS and scripts, some from CDNs
    r'|<div class="zeroclipboard-container">.*?</clipboard-copy>\s*</div>'  # a copy button needing their JS
    r'|<div class="clipboard-copy-txt"[^>]*>.*?</div>',  # the plain-text copy of each cell, for that button
    re.DOTALL,
)
CODE = re.compile(r'<div class="highlight-ipynb hl-python"><pre>(.*?)</pre></div>', re.DOTALL)
SVG_DATA_URI = re.compile(r'<img alt="[^"]*" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"\s*/?>')
OUTPUTS = "outputs"  # directory of a cache entry holding the notebook's figure outputs
# What decides a notebook page's HTML besides the notebook: the packages that render it, this module.
RENDERERS = ("mkdocs-jupyter", "nbconvert", "pygments", "mistune", "jupytext")


def output_name(svg: str) -> str:
    """File name of a figure output: its content hash (the same figure drawn twice is one file)."""
    return hashlib.sha256(svg.encode("utf-8")).hexdigest()[:16] + ".svg"


def figure_outputs(notebook: Path) -> list[Path]:
    """The notebook's SVG outputs as files in ``<entry>/outputs/`` (written once per cache entry)."""
    folder = notebook.parent / OUTPUTS
    done = folder / ".complete"
    if not done.is_file():
        folder.mkdir(exist_ok=True)
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        for output in (o for cell in cells for o in cell.get("outputs", [])):
            svg = output.get("data", {}).get("image/svg+xml")
            if svg is not None:
                svg = "".join(svg) if isinstance(svg, list) else svg
                (folder / output_name(svg)).write_text(svg, encoding="utf-8")
        done.touch()
    return sorted(folder.glob("*.svg"))


def add_notebook(files: Files, config: MkDocsConfig, stem: str, notebook: Path, header: str) -> None:
    """Publish the download, the figure outputs and the rendered page of one snippet's notebook."""
    add_file(files, config, f"notebooks/{stem}.ipynb", abs_src_path=str(notebook))
    for output in figure_outputs(notebook):
        add_file(files, config, f"notebooks/{stem}/{output.name}", abs_src_path=str(output))
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


def link_figure_output(match: re.Match[str]) -> str:
    """An inlined SVG output as an <img> of its published file (next to the page)."""
    svg = base64.b64decode(match[1]).decode("utf-8")
    return f'<img alt="" loading="lazy" src="{output_name(svg)}">'


def clean_notebook_html(html: str) -> str:
    """Drop mkdocs-jupyter's CSS and scripts; mark code cells up as Material code blocks; link
    figure outputs to their files.

    Material then highlights code cells and adds its own copy button, as on every other page.
    The figure outputs are decorative copies of what the code above them draws (the concept
    page gives each figure its caption and alt text), so they carry an empty ``alt``.
    """
    html = FOREIGN_MARKUP.sub("", html)
    html = SVG_DATA_URI.sub(link_figure_output, html)
    return CODE.sub(r'<div class="highlight"><pre><code>\1</code></pre></div>', html)


def render_fingerprint(jupyter_config: dict[str, object]) -> str:
    """What decides a notebook page's HTML besides the notebook itself."""
    versions = package_versions(RENDERERS)
    options = json.dumps(jupyter_config, sort_keys=True, default=repr)
    module = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    return "\n".join([*versions, options, module])


def toc_tokens(toc: TableOfContents | list) -> list[dict[str, object]]:
    return [{"level": a.level, "id": a.id, "name": a.title, "children": toc_tokens(a.children)} for a in toc]


class PageCache:
    """Finished notebook-page content, on disk next to each notebook and in memory for the build."""

    def __init__(self, fingerprint: str) -> None:
        self.fingerprint = fingerprint
        self.memory: dict[Path, dict] = {}

    def path(self, notebook: Path) -> Path:
        """The notebook lives in a content-addressed entry (its snippet and run environment): one
        page file per renderer fingerprint in that entry."""
        return notebook.parent / f"page-{hashlib.sha256(self.fingerprint.encode()).hexdigest()[:20]}.json"

    def wrap(self, page: Page, render: Callable[..., None]) -> Callable[..., None]:
        """A ``page.render`` that serves the cached content or renders it once and caches it."""
        notebook = Path(page.file.abs_src_path)

        def cached_render(config: MkDocsConfig, files: Files) -> None:
            path = self.path(notebook)
            entry = self.memory.get(path)
            if entry is None and path.is_file():
                entry = json.loads(path.read_text(encoding="utf-8"))
            if entry is None:
                render(config, files)
                entry = {"content": clean_notebook_html(page.content), "toc": toc_tokens(page.toc)}
                for old in notebook.parent.glob("page-*.json"):
                    old.unlink()
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(entry), encoding="utf-8")
                tmp.replace(path)
            self.memory[path] = entry
            page.content = entry["content"]
            page.toc = get_toc(entry["toc"])  # type: ignore[arg-type]

        return cached_render
