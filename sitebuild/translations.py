"""The ``translations`` plugin: fail the build when a page lacks its translation.

mkdocs-static-i18n quietly builds a language with pages missing (or falls back to the default
language). This site promises every concept in every language, so a page that exists under one
language folder but not under another stops the build, naming the missing file.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin


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
    def on_pre_build(self, config: MkDocsConfig) -> None:
        i18n = config.plugins.get("i18n")
        if i18n is None:
            return
        languages = [lang.locale for lang in i18n.config.languages]
        problems = missing_translations(Path(config.docs_dir), languages)
        if problems:
            raise PluginError("translations: pages without their translation:\n  " + "\n  ".join(problems))
