"""The ``translations`` plugin: fail the build when a page lacks its translation.

mkdocs-static-i18n quietly builds a language with pages missing (or falls back to the default
language). This site promises every concept in every language, so a page that exists under one
language folder but not under another stops the build, naming the missing file. It also gives
each language its own copy of the sitemap (with the per-page hreflang alternates), which
Material's language selector looks for.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.pages import Page

HEAD_ALTERNATE = re.compile(r'\s*<link rel="alternate" href="[^"]*" hreflang="[^"]*">')


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
        return HEAD_ALTERNATE.sub("", output)

    def on_post_build(self, config: MkDocsConfig) -> None:
        """Give every language its sitemap: Material's language selector fetches <lang>/sitemap.xml."""
        i18n = config.plugins.get("i18n")
        site = Path(config.site_dir)
        if i18n is None or not (site / "sitemap.xml").is_file():
            return
        for lang in i18n.config.languages:
            if not lang.default:
                (site / lang.locale).mkdir(parents=True, exist_ok=True)
                for name in ("sitemap.xml", "sitemap.xml.gz"):
                    if (site / name).is_file():
                        shutil.copy2(site / name, site / lang.locale / name)

    def on_pre_build(self, config: MkDocsConfig) -> None:
        i18n = config.plugins.get("i18n")
        if i18n is None:
            return
        languages = [lang.locale for lang in i18n.config.languages]
        problems = missing_translations(Path(config.docs_dir), languages)
        if problems:
            raise PluginError("translations: pages without their translation:\n  " + "\n  ".join(problems))
