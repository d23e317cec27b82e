"""The ``gallery`` plugin: run snippets at build time and publish their figures and sources.

For every ``snippets/<stem>.py`` the site gets

* ``figures/<stem>-<n>.svg``: the n-th figure the snippet left open (as sphinx-gallery's scraper);
* ``snippets/<stem>.py``: the script itself, for the download link on the concept page;
* ``notebooks/<stem>.ipynb`` and the page ``notebooks/<stem>/``: the snippet as an executed
  notebook, from the same single run (see ``sitebuild.notebooks``).

Snippets run once per build for all languages, and not at all when neither the snippet nor the
versions of Python, PyTorch, NumPy and Matplotlib (nor the runner) changed: results live in a
content-addressed cache on disk (``cache_dir/<stem>/<key>/``). Stale snippets run together in one
warm process (``sitebuild.runner``) that forks a child per snippet, one per core. A snippet that
raises fails the build with its path, line and traceback, before the site directory is touched.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from collections.abc import Callable
from pathlib import Path

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from sitebuild import notebooks
from sitebuild.site_files import AFTER_I18N, add_file, language_prefix, package_versions

log = logging.getLogger("mkdocs.plugins.sitebuild.gallery")

STYLESHEET = "assets/gallery.css"
INCLUDE = re.compile(r'--8<-- "snippets/(\w+)\.py')
FIGURE = re.compile(r'<img (?=[^>]*\bsrc="([^"]*figures/([^"/]+\.svg))")[^>]*>')
SVG_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="([\d.]+)pt"[^>]*?\bheight="([\d.]+)pt"')


def svg_size(path: Path) -> tuple[int, int] | None:
    """A matplotlib SVG's size in CSS pixels (it is written in points), or None if not given."""
    with path.open(encoding="utf-8") as svg:
        m = SVG_SIZE.search(svg.read(2000))  # the root element comes first
    return (round(float(m[1]) * 4 / 3), round(float(m[2]) * 4 / 3)) if m else None


def modified_with_snippets(file: File, snippets: list[Path]) -> Callable[[], bool]:
    """``file.is_modified`` that also counts the snippets the page includes (``mkdocs serve --dirty``
    rebuilds a page whose snippet changed, so its code and figure sizes are never stale)."""
    own = file.is_modified

    def is_modified() -> bool:
        if own():
            return True
        built = Path(file.abs_dest_path)
        return not built.is_file() or any(s.stat().st_mtime > built.stat().st_mtime for s in snippets if s.is_file())

    return is_modified


def sized_figure(match: re.Match[str], sizes: dict[str, tuple[int, int]]) -> str:
    """The figure's <img> with width and height (the browser reserves its box: no layout shift),
    wrapped in a link to the SVG, so a reader can open it full size."""
    img, size = match[0], sizes.get(match[2])
    if size and " width=" not in img:
        img = img.replace("<img ", f'<img width="{size[0]}" height="{size[1]}" ', 1)
    return f'<a class="figure-zoom" href="{match[1]}">{img}</a>'

RUNNER = Path(__file__).with_name("runner.py")


class WarmRunner:
    """Under ``mkdocs serve``: one runner process kept alive between rebuilds (imports paid once).

    Module-level, because mkdocs creates the plugins anew for every rebuild.
    """

    proc: subprocess.Popen[str] | None = None
    code = b""  # the runner source the process was started from

    @classmethod
    def start(cls) -> None:
        """Start (or restart, if the runner's code changed) the warm process; it imports in the background."""
        code = RUNNER.read_bytes()
        if cls.proc is None or cls.proc.poll() is not None or cls.code != code:
            cls.stop()
            cls.proc = subprocess.Popen(
                [sys.executable, "-m", "sitebuild.runner", "--serve"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=RUNNER.parent.parent,
                env={**os.environ, "MPLBACKEND": "Agg"},
            )
            cls.code = code

    @classmethod
    def run(cls, request: dict) -> bool:
        """Run ``request`` in the warm process; False if it is not available (use a fresh one)."""
        cls.start()
        assert cls.proc is not None and cls.proc.stdin is not None and cls.proc.stdout is not None
        try:
            cls.proc.stdin.write(json.dumps(request) + "\n")
            cls.proc.stdin.flush()
            return cls.proc.stdout.readline().strip() == "done"
        except OSError:
            cls.stop()
            return False

    @classmethod
    def stop(cls) -> None:
        if cls.proc is not None:
            cls.proc.kill()
            cls.proc.wait()
            cls.proc = None


SERVING = False  # set by on_serve: later rebuilds are `mkdocs serve` rebuilds
VERSIONED = ("torch", "numpy", "matplotlib", "scikit-learn")


class GalleryConfig(base.Config):
    enabled = c.Type(bool, default=True)
    snippets_dir = c.Type(str, default="snippets")
    cache_dir = c.Type(str, default=".cache/figures")
    workers = c.Type(int, default=0)  # 0: one per CPU core
    timeout = c.Type(int, default=120)  # seconds per snippet
    # Where Colab opens a published notebook ({stem} is the snippet's name).
    colab_url = c.Type(str, default="")


@dataclass(frozen=True)
class Snippet:
    path: Path
    key: str
    entry: Path  # cache directory holding the results for this exact key

    @property
    def stem(self) -> str:
        return self.path.stem

    def figures(self) -> list[Path]:
        meta = json.loads((self.entry / "meta.json").read_text(encoding="utf-8"))
        return [self.entry / f"{n}.svg" for n in range(1, meta["figures"] + 1)]

    def last_seconds(self) -> float:
        """Run time of the latest cached run of this snippet (any key), or +inf if never run."""
        metas = [json.loads(m.read_text(encoding="utf-8")) for m in self.entry.parent.glob("*/meta.json")]
        return max((m.get("seconds", float("inf")) for m in metas), default=float("inf"))

    def is_cached(self) -> bool:
        files = [self.entry / "meta.json", self.notebook]
        return all(f.is_file() for f in files) and all(f.is_file() for f in self.figures())

    @property
    def notebook(self) -> Path:
        return self.entry / notebooks.NOTEBOOK_NAME


def environment_fingerprint() -> str:
    """What, besides a snippet's own bytes, decides its figures."""
    versions = package_versions(VERSIONED)
    runner = hashlib.sha256(RUNNER.read_bytes()).hexdigest()
    return "\n".join([platform.python_version(), *versions, runner])


def find_snippets(snippets_dir: Path, cache_dir: Path) -> list[Snippet]:
    """Every snippet with its cache key: its bytes and the environment that runs it."""
    fingerprint = environment_fingerprint()
    found = []
    for path in sorted(snippets_dir.glob("*.py")):
        digest = hashlib.sha256(fingerprint.encode() + b"\0" + path.read_bytes()).hexdigest()[:20]
        found.append(Snippet(path, digest, cache_dir / path.stem / digest))
    return found


class GalleryPlugin(BasePlugin[GalleryConfig]):
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        root = Path(config.config_file_path).parent
        self.snippets_dir = (root / self.config.snippets_dir).resolve()
        self.cache_dir = (root / self.config.cache_dir).resolve()
        self.figure_sizes: dict[str, tuple[int, int]] = {}  # "stem-n.svg": (width, height) in px
        if self.config.enabled and STYLESHEET not in config.extra_css:
            config.extra_css.append(STYLESHEET)
        jupyter = config.plugins.get("mkdocs-jupyter")
        options = {} if jupyter is None else {k: v for k, v in jupyter.config.items() if k not in {"cache", "cache_dir"}}
        self.page_cache = notebooks.PageCache(notebooks.render_fingerprint(options))
        return config

    def snippets(self) -> list[Snippet]:
        return find_snippets(self.snippets_dir, self.cache_dir)

    def on_serve(self, server: object, /, *, config: MkDocsConfig, builder: Callable[..., None]) -> object:
        global SERVING
        SERVING = True
        if self.config.enabled:
            WarmRunner.start()  # ready by the time a snippet is first edited
        return server

    def on_pre_build(self, config: MkDocsConfig) -> None:
        """Bring the cache up to date before mkdocs cleans the site directory."""
        if not self.config.enabled:
            return
        stale = [s for s in self.snippets() if not s.is_cached()]
        if stale:
            self.run(stale, Path(config.config_file_path).parent)

    def run(self, stale: list[Snippet], root: Path) -> None:
        staging = Path(tempfile.mkdtemp(prefix="gallery-", dir=self._ensure_cache_dir()))
        try:
            jobs = []
            for snippet in sorted(stale, key=Snippet.last_seconds, reverse=True):  # longest first
                out = staging / snippet.stem
                out.mkdir()
                jobs.append({"snippet": str(snippet.path), "out": str(out)})
            request = {"jobs": jobs, "workers": self.config.workers, "timeout": self.config.timeout}
            started = time.perf_counter()
            env = {**os.environ, "MPLBACKEND": "Agg"}
            if not (SERVING and WarmRunner.run(request)):
                proc = subprocess.run(
                    [sys.executable, "-m", "sitebuild.runner"],
                    input=json.dumps(request),
                    text=True,
                    capture_output=True,
                    cwd=RUNNER.parent.parent,
                    env=env,
                )
                if proc.returncode != 0:
                    raise PluginError(f"gallery: the snippet runner failed:\n{proc.stderr[-4000:]}")
            failures, executed = [], []
            for snippet in stale:
                out = staging / snippet.stem
                error = out / "error.txt"
                if error.exists():
                    rel = snippet.path.relative_to(root) if snippet.path.is_relative_to(root) else snippet.path
                    failures.append(f"Snippet {rel} failed:\n{error.read_text(encoding='utf-8')}")
                    continue
                self._store(snippet, out)
                executed.append(snippet.stem)
            log.info(
                "gallery: ran %d snippet(s) in %.1f s: %s",
                len(executed),
                time.perf_counter() - started,
                ", ".join(executed),
            )
            if failures:
                raise PluginError("\n\n".join(failures))
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _ensure_cache_dir(self) -> Path:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        return self.cache_dir

    def _store(self, snippet: Snippet, out: Path) -> None:
        """Move a finished run into the cache and drop older entries of the same snippet."""
        for old in snippet.entry.parent.glob("*"):
            if old != snippet.entry:
                shutil.rmtree(old, ignore_errors=True)
        snippet.entry.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(snippet.entry, ignore_errors=True)
        os.replace(out, snippet.entry)

    @event_priority(AFTER_I18N)
    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        if not self.config.enabled:
            return files
        for snippet in self.snippets():
            add_file(files, config, f"snippets/{snippet.path.name}", abs_src_path=str(snippet.path))
            if not snippet.is_cached():  # e.g. the cache was removed during `mkdocs serve`
                self.run([snippet], Path(config.config_file_path).parent)
            for n, figure in enumerate(snippet.figures(), start=1):
                add_file(files, config, f"figures/{snippet.stem}-{n}.svg", abs_src_path=str(figure))
                if size := svg_size(figure):
                    self.figure_sizes[f"{snippet.stem}-{n}.svg"] = size
            notebooks.add_notebook(files, config, snippet.stem, snippet.notebook, self.notebook_links(snippet.stem))
        if not language_prefix(config):  # extra_css is served from the root for every language
            add_file(files, config, STYLESHEET, abs_src_path=str(Path(__file__).with_name("gallery.css")))
        for page in files.documentation_pages():
            if page.abs_src_path and page.src_uri.endswith(".md"):
                stems = INCLUDE.findall(Path(page.abs_src_path).read_text(encoding="utf-8"))
                if stems:
                    page.is_modified = modified_with_snippets(page, [self.snippets_dir / f"{s}.py" for s in stems])  # type: ignore[method-assign]
        return files

    def notebook_links(self, stem: str) -> str:
        """Links above a notebook page (it lives at ``notebooks/<stem>/`` in every language)."""
        links = [
            f'<a href="../../snippets/{stem}.py">snippets/{stem}.py</a>',
            f'<a href="../{stem}.ipynb" download>{stem}.ipynb</a>',
        ]
        if self.config.colab_url:
            links.append(f'<a href="{self.config.colab_url.format(stem=stem)}">Colab</a>')
        return f'<p class="notebook-links">{" ".join(links)}</p>'

    @event_priority(-50)  # after mkdocs-jupyter has given the page its renderer
    def on_pre_page(self, page: Page, /, *, config: MkDocsConfig, files: Files) -> Page:
        if notebooks.is_notebook_page(page):
            page.render = self.page_cache.wrap(page, page.render)  # type: ignore[method-assign]
        return page

    @event_priority(100)  # before any plugin reads it: a notebook page's "Markdown" is its raw JSON
    def on_page_markdown(self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        return "" if notebooks.is_notebook_page(page) else markdown

    def on_page_content(self, html: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        if not notebooks.is_notebook_page(page):
            return FIGURE.sub(lambda m: sized_figure(m, self.figure_sizes), html)
        page.title = Path(page.file.src_uri).parent.name + ".ipynb"
        page.meta["search"] = {"exclude": True}  # the concept page is the search hit, not its code
        return page.file.notebook_header + html
