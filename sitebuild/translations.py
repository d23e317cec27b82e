"""The ``translations`` plugin: fail the build when a page lacks its translation.

mkdocs-static-i18n quietly builds a language with pages missing (or falls back to the default
language). This site promises every concept in every language, so a page that exists under one
language folder but not under another stops the build, naming the missing file. It also gives
each language its own copy of the sitemap (with the per-page hreflang alternates), which
Material's language selector looks for, and its own search index: mkdocs-static-i18n merges every
language into one index that all pages load, so a Korean reader would get English hits and the
reverse. After the last language is built the index is split by language (``en/search/...`` for
English, locations relative to the language root) and each page's Material config points its
``base`` at its language root, where the search loads the index from and resolves hits against.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from sitebuild.site_files import language_prefix

HEAD_ALTERNATE = re.compile(r'\s*<link rel="alternate" href="[^"]*" hreflang="[^"]*">')
MATERIAL_CONFIG = re.compile(r'(<script id="__config" type="application/json">)(.*?)(</script>)', re.S)
# Material's own per-language search defaults (partials/languages/<lang>.html): Korean runs no
# lunr pipeline step (prefix matching only); English drops stop words.
SEARCH_PIPELINE = {"ko": [" "], "en": ["stopWordFilter"]}


def split_search_index(site: Path, default: str, others: list[str]) -> dict[str, int]:
    """Split ``search/search_index.json`` into one index per language; return docs per language.

    Entries under ``<lang>/`` go to ``<lang>/search/search_index.json`` with that prefix removed
    (Material resolves locations against the page's ``base``, set to the language root); the rest
    stay in the root index. Each index is configured for its own language only.
    """
    path = site / "search" / "search_index.json"
    index = json.loads(path.read_text(encoding="utf-8"))
    docs: dict[str, list[dict]] = {lang: [] for lang in [default, *others]}
    for doc in index["docs"]:
        lang = next((o for o in others if doc["location"].startswith(f"{o}/")), default)
        if lang != default:
            doc = {**doc, "location": doc["location"][len(lang) + 1 :]}
        docs[lang].append(doc)
    for lang, entries in docs.items():
        config = {**index["config"], "lang": [lang], "pipeline": SEARCH_PIPELINE.get(lang, index["config"]["pipeline"])}
        out = site / ("" if lang == default else lang) / "search" / "search_index.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"config": config, "docs": entries}, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return {lang: len(entries) for lang, entries in docs.items()}


def set_material_base(html: str, base: str) -> str:
    """Set ``base`` in Material's ``__config`` JSON (search index and hit links resolve against it)."""

    def replace(match: re.Match[str]) -> str:
        config = json.loads(match[2])
        config["base"] = base
        return match[1] + json.dumps(config).replace("<", "\\u003c") + match[3]

    return MATERIAL_CONFIG.sub(replace, html, count=1)


def missing_translations(docs_dir: Path, languages: list[str]) -> list[str]:
    """``"docs/en/x.md (translation of docs/ko/x.md)"`` for every page missing in a language."""
    pages = {lang: {p.relative_to(docs_dir / lang) for p in (docs_dir / lang).rglob("*.md")} for lang in languages}
    everything = set().union(*pages.values())
    problems = []
    for page in sorted(everything):
        have = [lang for lang in languages if page in pages[lang]]
        for lang in languages:
            if page not in pages[lang]:
                problems.append(
                    f"{docs_dir.name}/{lang}/{page.as_posix()} is missing "
                    f"(translation of {docs_dir.name}/{have[0]}/{page.as_posix()})"
                )
    return problems


class TranslationsPlugin(BasePlugin):
    def on_post_page(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str:
        """Drop the per-page ``<link rel="alternate" hreflang>`` tags from the head.

        Material's JavaScript fetches ``sitemap.xml`` next to every such link; with
        mkdocs-static-i18n's per-page alternates that is ``<page>/sitemap.xml``, a 404 on every
        page view. The same per-page hreflang alternates are published in ``sitemap.xml``
        (a form search engines read), and the language selector links each page to its twin.
        """
        output = HEAD_ALTERNATE.sub("", output)
        prefix = language_prefix(config)
        if prefix and page.url.startswith(prefix):
            output = set_material_base(output, get_relative_url(prefix, page.url))
        return output

    @event_priority(-200)  # after mkdocs-static-i18n (-100) has built every language and merged the index
    def on_post_build(self, config: MkDocsConfig) -> None:
        """Give every language its sitemap and its own search index."""
        i18n = config.plugins.get("i18n")
        site = Path(config.site_dir)
        if i18n is None or getattr(i18n, "building", False):
            return  # no languages, or one of i18n's nested per-language builds: wait for the last
        others = [lang.locale for lang in i18n.config.languages if not lang.default and lang.build]
        default = next(lang.locale for lang in i18n.config.languages if lang.default)
        for locale in others:
            (site / locale).mkdir(parents=True, exist_ok=True)
            for name in ("sitemap.xml", "sitemap.xml.gz"):
                if (site / name).is_file():
                    shutil.copy2(site / name, site / locale / name)
        if (site / "search" / "search_index.json").is_file():
            split_search_index(site, default, others)

    def on_pre_build(self, config: MkDocsConfig) -> None:
        i18n = config.plugins.get("i18n")
        if i18n is None:
            return
        languages = [lang.locale for lang in i18n.config.languages]
        problems = missing_translations(Path(config.docs_dir), languages)
        if problems:
            raise PluginError("translations: pages without their translation:\n  " + "\n  ".join(problems))
