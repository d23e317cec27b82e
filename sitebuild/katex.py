"""The ``katex`` plugin: render arithmatex formulas to HTML at build time, serve KaTeX locally.

pymdownx.arithmatex (``generic: true``) leaves ``<span class="arithmatex">\\(...\\)</span>`` and
``<div class="arithmatex">\\[...\\]</div>`` in the page. In ``on_post_page`` (after the search
index has taken the page text, so formulas are indexed once, as TeX) each one is replaced by
KaTeX's HTML and MathML, rendered by one Node.js process per build. Readers download no math
JavaScript; KaTeX's stylesheet and WOFF2 fonts are published with the site. A TeX error fails the
build, naming the page and the formula.

A formula's HTML is a pure function of its TeX, display mode, the KaTeX version and the renderer
script, so rendered formulas are kept on disk (``.cache/katex/<key>.json``, one file per KaTeX
version and renderer): a warm build starts no Node.js process at all. Errors are never cached.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import logging
import re
import shutil
import subprocess
from pathlib import Path

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from sitebuild.site_files import AFTER_I18N, add_file, language_prefix

log = logging.getLogger("mkdocs.plugins.sitebuild.katex")

RENDERER = Path(__file__).with_name("katex_render.cjs")
STYLESHEET = "assets/katex/katex.min.css"
MATH = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">(?P<open>\\[(\[])(?P<tex>.*?)\\[)\]]</(?P=tag)>',
    re.DOTALL,
)
FONT_FALLBACKS = re.compile(r',url\(fonts/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)')


class KatexError(Exception):
    pass


def cache_file(cache_dir: Path, katex_dist: Path) -> Path:
    """The formula cache for this KaTeX version (its package.json) and this renderer script."""
    digest = hashlib.sha256((katex_dist.parent / "package.json").read_bytes() + b"\0" + RENDERER.read_bytes())
    return cache_dir / f"{digest.hexdigest()[:20]}.json"


class Renderer:
    """A ``node katex_render.cjs`` process, started on the first formula the cache lacks."""

    def __init__(self, node: str, store: Path | None = None) -> None:
        self.node = node
        self.proc: subprocess.Popen[str] | None = None
        self.cache: dict[tuple[str, bool], str | KatexError] = {}
        self.store = store
        self.stored = 0  # entries on disk
        if store is not None and store.is_file():
            for tex, display, rendered in json.loads(store.read_text(encoding="utf-8")):
                self.cache[(tex, display)] = rendered
            self.stored = len(self.cache)

    def save(self) -> None:
        """Write the rendered formulas (not the errors) to disk, if any are new."""
        good = [[tex, display, r] for (tex, display), r in self.cache.items() if isinstance(r, str)]
        if self.store is None or len(good) == self.stored:
            return
        self.store.parent.mkdir(parents=True, exist_ok=True)
        for old in self.store.parent.glob("*.json"):  # other KaTeX versions: never read again
            if old != self.store:
                old.unlink()
        tmp = self.store.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(good, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.store)
        self.stored = len(good)

    def render(self, items: list[tuple[str, bool]]) -> list[str | KatexError]:
        missing = list(dict.fromkeys(i for i in items if i not in self.cache))
        if missing:
            request = [{"tex": tex, "display": display} for tex, display in missing]
            for item, reply in zip(missing, self._ask(request), strict=True):
                self.cache[item] = reply["html"] if "html" in reply else KatexError(reply["error"])
        return [self.cache[i] for i in items]

    def _ask(self, request: list[dict[str, object]]) -> list[dict[str, str]]:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(
                [self.node, str(RENDERER)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                encoding="utf-8",
            )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise PluginError(f"katex: the renderer ({self.node} {RENDERER.name}) stopped; run `npm ci`?")
        return json.loads(line)

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()  # type: ignore[union-attr]
            self.proc.wait(timeout=10)
            self.proc = None


class KatexConfig(base.Config):
    node = c.Type(str, default="node")
    katex_dist = c.Type(str, default="node_modules/katex/dist")
    cache_dir = c.Type(str, default=".cache/katex")


class KatexPlugin(BasePlugin[KatexConfig]):
    renderer: Renderer | None = None

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        root = Path(config.config_file_path).parent
        self.dist = (root / self.config.katex_dist).resolve()
        if not (self.dist / "katex.min.css").is_file():
            raise PluginError(f"katex: KaTeX not found at {self.dist}; run `npm ci` in {root}")
        if shutil.which(self.config.node) is None:
            raise PluginError(f"katex: Node.js ({self.config.node!r}) not found on PATH")
        if STYLESHEET not in config.extra_css:
            config.extra_css.append(STYLESHEET)
        if self.renderer is None:
            self.renderer = Renderer(self.config.node, cache_file(root / self.config.cache_dir, self.dist))
        return config

    @event_priority(AFTER_I18N)
    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        if language_prefix(config):  # extra_css is served from the root for every language
            return files
        css = (self.dist / "katex.min.css").read_text(encoding="utf-8")
        add_file(files, config, STYLESHEET, content=FONT_FALLBACKS.sub("", css))
        for font in sorted((self.dist / "fonts").glob("*.woff2")):
            add_file(files, config, f"assets/katex/fonts/{font.name}", abs_src_path=str(font))
        return files

    def on_post_page(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str:
        matches = list(MATH.finditer(output))
        if not matches:
            return output
        assert self.renderer is not None
        items = [(html.unescape(m["tex"]).strip(), m["open"] == "[") for m in matches]
        rendered = self.renderer.render(items)
        errors = [f"  {tex!r}: {r}" for (tex, _), r in zip(items, rendered) if isinstance(r, KatexError)]
        if errors:
            raise PluginError(f"katex: cannot render formulas in {page.file.src_uri}:\n" + "\n".join(errors))
        parts, last = [], 0
        for m, result in zip(matches, rendered):
            parts += [output[last : m.start()], f'<{m["tag"]} class="arithmatex">{result}</{m["tag"]}>']
            last = m.end()
        parts.append(output[last:])
        return "".join(parts)

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if self.renderer is not None:
            self.renderer.save()

    def on_shutdown(self) -> None:
        if self.renderer is not None:
            self.renderer.save()
            self.renderer.close()
