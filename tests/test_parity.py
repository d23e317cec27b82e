"""Korean and English pages mirror each other in everything that is not prose."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import DOCS, LANGUAGES, facts, front_matter, pages

ALL_PAGES = sorted(set().union(*(pages(lang) for lang in LANGUAGES)))
IDS = [p.as_posix() for p in ALL_PAGES]


def test_there_are_pages() -> None:
    assert len(ALL_PAGES) >= 4


@pytest.mark.parametrize("page", ALL_PAGES, ids=IDS)
def test_page_exists_in_every_language(page: Path) -> None:
    missing = [f"docs/{lang}/{page.as_posix()}" for lang in LANGUAGES if not (DOCS / lang / page).is_file()]
    assert not missing, f"missing translation: {', '.join(missing)}"


@pytest.mark.parametrize("page", ALL_PAGES, ids=IDS)
@pytest.mark.parametrize("part", ["formulas", "code", "images", "snippet_links", "headings"])
def test_language_neutral_parts_are_identical(page: Path, part: str) -> None:
    ko, en = (DOCS / "ko" / page), (DOCS / "en" / page)
    if not (ko.is_file() and en.is_file()):
        pytest.skip("missing translation (reported by test_page_exists_in_every_language)")
    assert getattr(facts(ko), part) == getattr(facts(en), part), f"{part} differ between {ko} and {en}"


@pytest.mark.parametrize("page", ALL_PAGES, ids=IDS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_page_has_title_and_description(page: Path, lang: str) -> None:
    path = DOCS / lang / page
    if not path.is_file():
        pytest.skip("missing translation")
    meta = front_matter(path)
    assert meta.get("title", "").strip() and meta.get("description", "").strip(), f"{path}: front matter needs title and description"
    for key in ("title", "description"):
        # Material writes both into HTML attributes without escaping: a quote ends the attribute.
        bad = sorted(set(str(meta[key])) & set('"<>&'))
        assert not bad, f"{path}: front-matter {key} contains {' '.join(bad)}; Material does not escape it in <meta> (use ‘’ or rephrase)"
