"""Korean and English pages mirror each other in everything that is not prose."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support import DOCS, LANGUAGES, facts, front_matter, pages

TEXT = re.compile(r"\\text\{([^{}]*)\}")
# English prose inside a Korean formula: a function word, or two lowercase words in a row.
# Short labels (\text{out}, \text{train}) and names (\text{RMSProp, Adam}) are notation.
ENGLISH_PROSE = re.compile(
    r"\b(?:is|are|for|all|with|there|if|otherwise|may|via|a|an|the|of|to|and|or|vs|where|when|else|"
    r"condition|minimum|maximum|attend|query|key|fixed|best)\b|\b[a-z]{2,}\s+[a-z]{2,}\b"
)


def math_outside_text(formula: str) -> str:
    """A formula with the words of every ``\\text{...}`` set aside (they are prose, translated)."""
    return TEXT.sub(r"\\text{…}", formula)


def test_text_is_set_aside_and_nothing_else() -> None:
    assert math_outside_text(r"x_\text{out} = \text{최솟값}") == math_outside_text(r"x_\text{out} = \text{minimum}")
    assert math_outside_text(r"x_\text{out} = 1") != math_outside_text(r"x_\text{out} = 2")
    assert math_outside_text(r"\textbf{x}") != math_outside_text(r"\textbf{y}")


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
    if part == "formulas":
        ko_math, en_math = [math_outside_text(f) for f in facts(ko).formulas], [math_outside_text(f) for f in facts(en).formulas]
        assert ko_math == en_math, f"formulas differ between {ko} and {en} (outside \\text{{}})"
        return
    assert getattr(facts(ko), part) == getattr(facts(en), part), f"{part} differ between {ko} and {en}"


@pytest.mark.parametrize("page", pages("ko"), ids=[p.as_posix() for p in pages("ko")])
def test_korean_formulas_carry_no_english_prose(page: Path) -> None:
    found = [f"\\text{{{t}}}" for f in facts(DOCS / "ko" / page).formulas for t in TEXT.findall(f) if ENGLISH_PROSE.search(t)]
    assert not found, f"docs/ko/{page.as_posix()}: English words in formulas, translate them: {found}"


def test_english_prose_in_formulas_is_caught() -> None:
    for prose in (" for all ", " is a local minimum", "(heavy ball)", "generalization gap", "otherwise"):
        assert ENGLISH_PROSE.search(prose), prose
    for label in ("out", "in", "train: ", "RMSProp, Adam", "BCE", "모든 ", "이면"):
        assert not ENGLISH_PROSE.search(label), label


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
