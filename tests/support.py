"""What the tests know about the project: its pages, snippets, and how to build it."""

from __future__ import annotations

import functools
import gzip
import os
import re
import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import markdown

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SNIPPETS = ROOT / "snippets"
LANGUAGES = ("ko", "en")


def regression_data(n: int, d: int, seed: int):
    """Synthetic linear-regression data in float64: X (n, d), y = X w* + 0.3 noise (formula tests)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=gen, dtype=torch.float64)
    y = X @ torch.randn(d, generator=gen, dtype=torch.float64) + 0.3 * torch.randn(n, generator=gen, dtype=torch.float64)
    return X, y


def pages(lang: str) -> list[Path]:
    """Markdown pages of one language, relative to ``docs/<lang>``."""
    return sorted(p.relative_to(DOCS / lang) for p in (DOCS / lang).rglob("*.md"))


def snippets() -> list[Path]:
    return sorted(SNIPPETS.glob("*.py"))


@cache
def mkdocs_config():
    from mkdocs.config import load_config

    return load_config(str(ROOT / "mkdocs.yml"))


COLAB = "https://colab.research.google.com/"


def is_runnable_link(href: str) -> bool:
    """A link to a snippet, its notebook page or .ipynb, or its Colab notebook."""
    return href.endswith((".py", ".ipynb")) or href.startswith(COLAB)


@dataclass
class PageFacts:
    """The language-neutral parts of a rendered page."""

    formulas: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    snippet_links: list[str] = field(default_factory=list)
    headings: Counter = field(default_factory=Counter)


class _FactParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.facts = PageFacts()
        self._stack: list[tuple[str, str]] = []  # (kind, text) being collected

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.facts.headings[tag] += 1
        elif tag == "img":
            self.facts.images.append(a.get("src") or "")
        elif tag == "a" and is_runnable_link(a.get("href") or ""):
            self.facts.snippet_links.append(a["href"] or "")
        elif tag in {"span", "div"} and "arithmatex" in (a.get("class") or "").split():
            self._stack.append(("formula", ""))
        elif tag == "pre":
            self._stack.append(("code", ""))

    def handle_endtag(self, tag: str) -> None:
        if not self._stack:
            return
        kind, text = self._stack[-1]
        if kind == "formula":  # arithmatex output holds only text: any end tag closes it
            self._stack.pop()
            self.facts.formulas.append(text.strip())
        elif tag == "pre":
            self._stack.pop()
            self.facts.code.append(text)

    def handle_data(self, data: str) -> None:
        if self._stack:
            kind, text = self._stack[-1]
            self._stack[-1] = (kind, text + data)


def render(page: Path) -> str:
    """HTML of a page rendered with the site's own Markdown extensions (snippets included)."""
    config = mkdocs_config()
    md = markdown.Markdown(extensions=config.markdown_extensions, extension_configs=config.mdx_configs)
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.DOTALL)  # front matter
    return md.convert(text)


@cache
def facts(page: Path) -> PageFacts:
    parser = _FactParser()
    parser.feed(render(page))
    return parser.facts


def front_matter(page: Path) -> dict[str, str]:
    m = re.match(r"\A---\n(.*?)\n---\n", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    if not m:
        return {}
    return dict(line.split(":", 1) for line in m.group(1).splitlines() if ":" in line)


def copy_project(dest: Path, *, with_cache: bool = True) -> Path:
    """Copy what a build needs into ``dest`` (node_modules and the figure cache by link/copy)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("mkdocs.yml", "glossary.toml", "references.bib", "docs", "snippets"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, dest / name)
    (dest / "node_modules").symlink_to(ROOT / "node_modules")
    (dest / "sitebuild").symlink_to(ROOT / "sitebuild")
    (dest / "overrides").symlink_to(ROOT / "overrides")
    if with_cache and (ROOT / ".cache").is_dir():
        shutil.copytree(ROOT / ".cache", dest / ".cache")
    return dest


def project_files() -> list[Path]:
    """What a clone of the repository holds (tracked and new, not ignored files), relative to ROOT."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [Path(name) for name in out.split("\0") if name and (ROOT / name).is_file()]


def clone_project(dest: Path) -> Path:
    """A copy of the repository as a fresh clone has it: no .venv, node_modules or caches."""
    for rel in project_files():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    return dest


NAV_SECTION = re.compile(r"^  - (?P<title>[^\n:]+):\n(?P<pages>(?:      - [^\n]+\.md\n)+)", re.MULTILINE)
GALLERY_LINK = r"(?<=/){stem}(?=\.py\b|\.ipynb\b|/index\.ipynb|-\d+\.svg)"
SIBLING_LINK = re.compile(r"\]\((?![a-z]+:|/|\.\./|#)(?P<target>[^)#\s/]+\.md)")


def original_sections(config: str) -> list[tuple[str, list[str]]]:
    """The nav sections of an mkdocs.yml's text as (title, pages), without the copies replicate() added."""
    return [
        (m["title"], [p for p in re.findall(r"      - ([^\n]+\.md)", m["pages"]) if not re.match(r"[^/]+-\d+/", p)])
        for m in NAV_SECTION.finditer(config)
        if not re.search(r" \(\d+\)$", m["title"])
    ]


def concept_count(project: Path) -> int:
    """Concept pages per language in ``project`` (index, glossary and references aside)."""
    return len(list((project / "docs" / LANGUAGES[0]).rglob("*.md"))) - 3


def replicate(project: Path, pages: int, *, snippets: bool = True) -> int:
    """Grow ``project`` (a copy, never ROOT) to ``pages`` concept pages per language, both languages.

    Copy k of section ``<s>`` is ``<s>-k/`` with its own nav section; its pages show and link
    copy k of each snippet (``snippets/<stem>_k.py``: new figures, notebooks and runs), and each
    formula test gets a copy too; with ``snippets=False`` only the pages are copied (they show the
    original snippets, so a warm cache stays warm). Returns the concept pages per language afterwards.
    """
    assert project.resolve() != ROOT, "replicate a copy, never the project itself"
    config = (project / "mkdocs.yml").read_text(encoding="utf-8")
    end = list(NAV_SECTION.finditer(config))[-1].end()
    stems = {p.stem for p in (project / "snippets").glob("*.py")}
    tests = {t.stem.removeprefix("test_"): t for t in (project / "tests" / "formulas").glob("test_*.py")}
    # Copies already there (a grown project grown again) keep their numbers; new ones follow them.
    k = max((int(n) for n in re.findall(r"^      - [^/\n]+-(\d+)/", config, flags=re.MULTILINE)), default=1)
    sections = original_sections(config)
    count, added = concept_count(project), []
    while count < pages:
        k += 1
        for title, section in sections:
            copied = []
            for page in section[: pages - count]:
                for lang in LANGUAGES:
                    text = (project / "docs" / lang / page).read_text(encoding="utf-8")
                    # A link to a page of the same folder goes to the original (the copy of a section may
                    # stop before the page it names).
                    text = SIBLING_LINK.sub(rf"](../{Path(page).parent.as_posix()}/\g<target>", text)
                    for stem in sorted(set(re.findall(r'--8<-- "snippets/(\w+)\.py', text)) & stems) if snippets else []:
                        shutil.copy2(project / "snippets" / f"{stem}.py", project / "snippets" / f"{stem}_{k}.py")
                        if stem in tests:
                            shutil.copy2(tests[stem], tests[stem].with_name(f"test_{stem}_{k}.py"))
                        text = re.sub(GALLERY_LINK.format(stem=re.escape(stem)), f"{stem}_{k}", text)
                    dest = project / "docs" / lang / f"{Path(page).parent}-{k}" / Path(page).name
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_text(text, encoding="utf-8")
                copied.append(f"      - {Path(page).parent}-{k}/{Path(page).name}\n")
            count += len(copied)
            if copied:
                added.append(f"  - {title} ({k}):\n" + "".join(copied))
    (project / "mkdocs.yml").write_text(config[:end] + "".join(added) + config[end:], encoding="utf-8")
    return count


def build(project: Path, site_dir: Path, *, strict: bool = True, env: dict[str, str] | None = None):
    """Run ``mkdocs build`` in a fresh process; returns the CompletedProcess (never raises)."""
    cmd = [sys.executable, "-m", "mkdocs", "build", "-f", str(project / "mkdocs.yml"), "-d", str(site_dir)]
    if strict:
        cmd.append("--strict")
    return subprocess.run(
        cmd,
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})},
    )


@functools.lru_cache(maxsize=4096)
def _gzipped(path: Path, mtime_ns: int) -> bytes:
    """A file's bytes gzip-compressed, once per version of the file (every visit fetches the same
    theme files; compressing them again each time was CPU the browser tests need)."""
    return gzip.compress(path.read_bytes(), compresslevel=6)


class SiteHandler(SimpleHTTPRequestHandler):
    """Serves the built site as GitHub Pages does: under site_url's path (/dl-textbook/), with the
    site's own 404 page, and (``gzip = True``) text files gzip-compressed for clients that accept it."""

    prefix = "/"
    gzip = False
    COMPRESSED = (".html", ".css", ".js", ".json", ".svg", ".xml", ".ipynb", ".py", ".map")

    def translate_path(self, path: str) -> str:
        if not path.startswith(self.prefix):
            return str(Path(self.directory) / "__missing__")
        return super().translate_path("/" + path[len(self.prefix) :])

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code == 404 and page.is_file():  # the site's own 404 page, as GitHub Pages does
            self._send(404, page.read_bytes(), "text/html; charset=utf-8")
            return
        super().send_error(code, message, explain)

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path.split("?", 1)[0].split("#", 1)[0]))
        if path.is_dir():
            path = path / "index.html"
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if self.gzip and accepts and path.suffix in self.COMPRESSED and path.is_file():
            self._send(200, _gzipped(path, path.stat().st_mtime_ns), self.guess_type(str(path)), gzipped=True)
            return
        super().do_GET()

    def _send(self, code: int, body: bytes, content_type: str, *, gzipped: bool = False) -> None:
        """Send ``body`` (already gzip-compressed if ``gzipped``)."""
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serve(site: Path, *, compress: bool = False) -> Iterator[str]:
    """Serve ``site`` on a free port of 127.0.0.1; yields the site's URL (ending in its path)."""
    prefix = urlparse(mkdocs_config().site_url).path or "/"
    handler = functools.partial(type("Handler", (SiteHandler,), {"prefix": prefix, "gzip": compress}), directory=str(site))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}{prefix}"
    finally:
        httpd.shutdown()
