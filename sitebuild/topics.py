"""The ``topics`` plugin: links to curriculum topics, including pages not written yet.

Each concept page names the curriculum topics it covers in its front matter
(``topics: ["3.2"]``). Prose links to a topic as ``[convolutional networks](topic:4.1)``:

- when a page covers the topic, the link points to that page (same language);
- when none does yet, the text stays, marked as a topic still to be written (a dotted underline
  and a tooltip, "curriculum topic 4.1, not written yet"), and the build log lists it.

So a forward reference becomes a real link the day its page lands, and none is forgotten.
A topic outside the curriculum (``parts`` in the plugin's configuration) stops the build.
"""

from __future__ import annotations

import html
import logging
import posixpath
import re
from pathlib import Path

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.utils.meta import get_data

from sitebuild.site_files import page_language

log = logging.getLogger("mkdocs.plugins.sitebuild.topics")

TOPIC_LINK = re.compile(r"\[([^\]]+)\]\(topic:(\d+)\.(\d+)\)")
PENDING = {
    "ko": "커리큘럼 {topic}: 아직 쓰지 않은 주제",
    "en": "Curriculum topic {topic}: not written yet",
}


def page_topics(docs: Path, lang: str) -> dict[str, list[str]]:
    """Page path (under ``docs/<lang>/``) → the topics its front matter names."""
    out = {}
    for path in sorted((docs / lang).rglob("*.md")):
        topics = get_data(path.read_text(encoding="utf-8"))[1].get("topics") or []
        if topics:
            out[path.relative_to(docs / lang).as_posix()] = [str(t) for t in topics]
    return out


def covered_topics(docs: Path, lang: str) -> dict[str, str]:
    """Topic number → the first page (in path order) that covers it."""
    out: dict[str, str] = {}
    for page, topics in page_topics(docs, lang).items():
        for topic in topics:
            out.setdefault(topic, page)
    return out


def resolve(markdown: str, page_path: str, covered: dict[str, str], parts: dict[int, int], lang: str) -> tuple[str, list[str]]:
    """The page with topic links resolved; and the topics it refers to that no page covers yet."""
    pending: list[str] = []

    def replace(m: re.Match[str]) -> str:
        text, part, number = m.group(1), int(m.group(2)), int(m.group(3))
        topic = f"{part}.{number}"
        if not 1 <= number <= parts.get(part, 0):
            raise PluginError(f"topics: {page_path} links to topic {topic}, which is not in the curriculum")
        if topic in covered:
            return f"[{text}]({posixpath.relpath(covered[topic], posixpath.dirname(page_path) or '.')})"
        pending.append(topic)
        title = html.escape(PENDING[lang].format(topic=topic))
        return f'<span class="topic-pending" title="{title}">{html.escape(text, quote=False)}</span>'

    return TOPIC_LINK.sub(replace, markdown), pending


class TopicsConfig(Config):
    parts = c.Type(dict, default={})  # part number -> number of topics in it


class TopicsPlugin(BasePlugin[TopicsConfig]):
    def __init__(self) -> None:
        self.covered: dict[str, dict[str, str]] = {}
        self.pending: dict[str, list[str]] = {}

    def on_page_markdown(self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        src = page.file.src_uri
        lang, path = page_language(src)
        if lang not in self.covered:
            self.covered[lang] = covered_topics(Path(config.docs_dir), lang)
        parts = {int(k): int(v) for k, v in self.config.parts.items()}
        out, pending = resolve(markdown, path, self.covered[lang], parts, lang)
        if pending:
            self.pending[src] = pending
        return out

    def on_post_build(self, config: MkDocsConfig) -> None:
        for src, topics in sorted(self.pending.items()):
            log.info("topics: docs/%s refers to topics not written yet: %s", src, ", ".join(topics))
        self.covered, self.pending = {}, {}
