"""The ``search`` plugin: one search index per language, holding prose, not code blocks.

mkdocs-static-i18n merges every language into one index (``search/search_index.json``) that
all pages load, so a Korean reader gets English hits and the reverse. After the last language is
built this plugin splits it: entries under ``<lang>/`` go to ``<lang>/search/search_index.json``
with that prefix removed, each index configured for its own language only. Every page of a
non-default language gets its language root as the ``base`` in Material's page config, which is
where Material's search loads the index from and resolves hits against.

Code blocks are left out of the index (``data-search-exclude``, which Material's search honours):
each concept page carries its whole snippet, so code was 44% of the index text, and the index is
the largest download of a first page view. Inline code in the prose stays searchable.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from sitebuild.site_files import language_prefix

log = logging.getLogger("mkdocs.plugins.sitebuild.search")

MATERIAL_CONFIG = re.compile(r'(<script id="__config" type="application/json">)(.*?)(</script>)', re.S)
CODE_BLOCK = re.compile(r'<div class="highlight">')
# Material's own search defaults per language (partials/languages/<lang>.html): Korean runs no
# lunr pipeline step (prefix matching only); English drops stop words.
PIPELINE = {"ko": [" "], "en": ["stopWordFilter"]}


def split_index(site: Path, default: str, others: list[str]) -> dict[str, int]:
    """Split ``site/search/search_index.json`` into one index per language; return entries per language."""
    path = site / "search" / "search_index.json"
    index = json.loads(path.read_text(encoding="utf-8"))
    docs: dict[str, list[dict]] = {lang: [] for lang in [default, *others]}
    for doc in index["docs"]:
        lang = next((o for o in others if doc["location"].startswith(f"{o}/")), default)
        if lang != default:
            doc = {**doc, "location": doc["location"][len(lang) + 1 :]}
        docs[lang].append(doc)
    for lang, entries in docs.items():
        config = {**index["config"], "lang": [lang], "pipeline": PIPELINE.get(lang, index["config"]["pipeline"])}
        out = site / ("" if lang == default else lang) / "search" / "search_index.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"config": config, "docs": entries}, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return {lang: len(entries) for lang, entries in docs.items()}


def set_material_base(html: str, base: str) -> str:
    """Set ``base`` in Material's ``__config`` JSON (the search index and its hits resolve against it)."""

    def replace(match: re.Match[str]) -> str:
        config = json.loads(match[2])
        config["base"] = base
        return match[1] + json.dumps(config).replace("<", "\\u003c") + match[3]

    return MATERIAL_CONFIG.sub(replace, html, count=1)


class SearchPlugin(BasePlugin):
    def on_page_content(self, html: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        return CODE_BLOCK.sub('<div class="highlight" data-search-exclude>', html)

    def on_post_page(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str:
        prefix = language_prefix(config)
        if prefix and page.url.startswith(prefix):
            output = set_material_base(output, get_relative_url(prefix, page.url))
        return output

    @event_priority(-200)  # after mkdocs-static-i18n (-100) has built every language and merged the index
    def on_post_build(self, config: MkDocsConfig) -> None:
        i18n = config.plugins.get("i18n")
        site = Path(config.site_dir)
        if i18n is None or getattr(i18n, "building", False) or not (site / "search" / "search_index.json").is_file():
            return  # no languages, or one of i18n's nested per-language builds: wait for the last
        default = next(lang.locale for lang in i18n.config.languages if lang.default)
        others = [lang.locale for lang in i18n.config.languages if not lang.default and lang.build]
        counts = split_index(site, default, others)
        log.info("search: one index per language (%s entries)", ", ".join(f"{lang} {n}" for lang, n in counts.items()))
