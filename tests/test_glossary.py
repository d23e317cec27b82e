"""The glossary as data (glossary.toml) and the house style's first-use rule.

- Every term a Korean page introduces as 한국어(English) is a glossary entry, written as the
  glossary writes it (Korean word before the parenthesis; English term, its abbreviation, or both).
- On each Korean concept page, a glossary term's first use in the body (headings aside) is that
  bilingual form.
- Every entry points at a page that exists in both languages; its anchor (the term's first use)
  is checked in the built site by tests/test_built_html.py, and the strict build fails on a
  glossary link to a missing anchor.
- The generated glossary pages list every entry once, sorted, under jump-linked initials; the
  tooltips wrap the first use per section and never code, math, links or headings.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import markdown
import pytest

from sitebuild import glossary as g
from sitebuild.references import parse_bib
from test_style_ko import prose_lines

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
TERMS = g.load(ROOT / "glossary.toml")
NOT_CONCEPT = {"index.md", "glossary.md", "references.md"}
KO_PAGES = sorted(p.relative_to(DOCS / "ko").as_posix() for p in (DOCS / "ko").rglob("*.md") if p.name not in NOT_CONCEPT)

# 한국어(English): Hangul right before "(", Latin letters inside, no Hangul.
INTRODUCTION = re.compile(r"(?<=[가-힣])\(([A-Za-z][^()가-힣]*)\)")
CITATION = re.compile(r"\d|et al\.|&|;")
# Surnames of cited authors ("Glorot", "Bahdanau"): a name in parentheses is not a term.
SURNAMES = {name for e in parse_bib((ROOT / "references.bib").read_text(encoding="utf-8")).values() for name in e.surnames}


def body_lines(text: str):
    """Prose lines of a page outside headings and front matter."""
    in_front = text.startswith("---\n")
    front_end = text.find("\n---", 4) if in_front else -1
    front_lines = text[: front_end + 1].count("\n") + 1 if in_front else 0
    for n, line in prose_lines(text):
        if n > front_lines and not line.lstrip().startswith("#"):
            yield n, line


def introductions(text: str):
    """(line, Korean text before, English inside) for every 한국어(English) in the body."""
    for n, line in body_lines(text):
        for m in INTRODUCTION.finditer(line):
            inside = m.group(1).strip().rstrip(",").strip()
            if CITATION.search(inside) or inside in SURNAMES:
                continue
            yield n, line[: m.start()], inside


def entries_for(inside: str, terms: list[g.Term]) -> list[g.Term]:
    """The entries an English parenthesis names: its term, abbreviation, or "term, ABBR"."""
    parts = [p.strip() for p in inside.split(",")]
    first = parts[0].lower()
    rest = [p for p in parts[1:] if not re.search("[가-힣$]", p)]  # a Korean note after the comma is not a name
    return [t for t in terms if first in (t.en.lower(), t.abbr.lower()) and all(p in (t.abbr, t.en) for p in rest)]


def introduction_violations(text: str, terms: list[g.Term]) -> list[str]:
    found = []
    for n, before, inside in introductions(text):
        matches = entries_for(inside, terms)
        if not matches:
            found.append(f"{n}: ({inside}) is not in glossary.toml (add the term, or do not write it as a term)")
        elif not any(before.endswith(t.ko) for t in matches):
            want = " or ".join(repr(t.ko) for t in matches)
            found.append(f"{n}: …{before[-12:]}({inside}): the glossary's Korean word is {want}")
    return found


def first_use_violations(text: str, terms: list[g.Term]) -> list[str]:
    """Terms whose first use on the page is not followed by (English)."""
    matcher = g.Matcher(terms, "ko")
    seen: set[str] = set()
    found = []
    for n, line in body_lines(text):
        for m, matched in matcher.find(line):
            if m.group() in seen:
                continue
            seen.add(m.group())
            if not re.search("[가-힣]", m.group()):
                continue  # a name the languages share (Adam, LARS): nothing to translate
            after = line[m.end() :]
            # (English), (English, ABBR), (English; a note), or (English wrapped onto the next line
            inside = re.split(r"[;)]", after[1:])[0].strip() if after.startswith("(") else ""
            words = " ".join(inside.split()).lower()
            named = set(entries_for(inside, terms)) | {t for t in terms if len(words) > 3 and t.en.lower().startswith(words)}
            if not (inside and set(matched) & named):
                found.append(f"{n}: first use of {m.group()!r} without ({matched[0].en})")
    return found


@pytest.mark.parametrize("page", KO_PAGES)
def test_every_introduced_term_is_in_the_glossary(page: str) -> None:
    found = introduction_violations((DOCS / "ko" / page).read_text(encoding="utf-8"), TERMS)
    if found:
        pytest.fail(f"docs/ko/{page}:\n" + "\n".join(found), pytrace=False)


@pytest.mark.parametrize("page", KO_PAGES)
def test_first_use_is_bilingual(page: str) -> None:
    found = first_use_violations((DOCS / "ko" / page).read_text(encoding="utf-8"), TERMS)
    if found:
        pytest.fail(f"docs/ko/{page}: write 한국어(English) at a term's first use:\n" + "\n".join(found), pytrace=False)


def test_every_entry_points_at_a_page_in_both_languages() -> None:
    missing = [f"{t.ko} / {t.en} → {lang}/{t.page}.md" for t in TERMS for lang in g.LANGS if not (DOCS / lang / f"{t.page}.md").is_file()]
    assert not missing, missing


def test_the_glossary_is_a_real_one() -> None:
    assert len(TERMS) >= 300
    assert all(t.ko_def.endswith("다.") and t.en_def.endswith(".") for t in TERMS)


def test_no_variant_is_another_entrys_term() -> None:
    words = {t.ko for t in TERMS} | {t.en.lower() for t in TERMS}
    clash = [(t.en, v) for t in TERMS for v in (*t.ko_variants, *(x.lower() for x in t.en_variants)) if v in words]
    assert not clash, clash


# --- The checks catch what they should -------------------------------------------------------

LR = g.Term("학습률", "learning rate", "optimization/gradient-descent", "계수다.", "A factor.", abbr="LR")
BN = g.Term("배치 정규화", "batch normalization", "optimization/batch-normalization", "정규화다.", "Normalization.", abbr="BN")
NORM = g.Term("정규화", "normalization", "optimization/batch-normalization", "맞춘다.", "Rescaling.")
SAMPLE_TERMS = [LR, BN, NORM]


def page(body: str) -> str:
    return f"---\ntitle: 예\n---\n\n# 학습률\n\n{body}\n"


def test_first_use_rule_passes_a_good_page_and_ignores_headings() -> None:
    good = page("**학습률(learning rate)**은 계수다. 학습률을 바꾼다. 배치 정규화(batch normalization, BN)를 쓴다.")
    assert first_use_violations(good, SAMPLE_TERMS) == []
    assert introduction_violations(good, SAMPLE_TERMS) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("학습률을 바꾼다. 학습률(learning rate)은 계수다.", "first use of '학습률'"),
        ("배치 정규화를 쓴다.", "first use of '배치 정규화'"),  # longest term wins: not 정규화
        ("`x` 배치 정규화는 정규화(normalization)다.", "first use of '배치 정규화'"),
    ],
)
def test_first_use_rule_catches_a_late_introduction(body: str, expected: str) -> None:
    assert any(expected in v for v in first_use_violations(page(body), SAMPLE_TERMS))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("학습률(step size)은 계수다.", "(step size) is not in glossary.toml"),
        ("보폭(learning rate)은 계수다.", "the glossary's Korean word is '학습률'"),
        ("가중치(weight)는 수다.", "(weight) is not in glossary.toml"),
    ],
)
def test_introductions_must_match_the_glossary(body: str, expected: str) -> None:
    assert any(expected in v for v in introduction_violations(page(body), SAMPLE_TERMS))


def test_citations_and_names_are_not_introductions() -> None:
    body = "이 방법은 널리 쓰인다(Kingma & Ba, 2015). 초기화(Glorot)도 그렇다. 정규화(normalization)다."
    assert [inside for _, _, inside in introductions(page(body))] == ["normalization"]


def test_korean_matching_respects_word_boundaries() -> None:
    matcher = g.Matcher([replace(LR, ko="배치", en="batch")], "ko")
    found = [m.group() for m, _ in matcher.find("배치를 나눈다. 배치한다. 미니배치. 배치(batch)에서는")]
    assert found == ["배치", "배치"]


def test_english_matching_takes_plurals_and_any_case() -> None:
    found = [m.group() for m, _ in g.Matcher(SAMPLE_TERMS, "en").find("Learning rates and a learning-rated x; learning rate.")]
    assert found == ["Learning rates", "learning rate"]


def flat_alternation(words) -> str:
    """The plain way to write the matcher's alternation: every word, longest first (the reference
    for the trie that sitebuild.glossary builds for speed)."""
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(set(words), key=len, reverse=True))


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_trie_finds_what_a_longest_first_alternation_finds(monkeypatch: pytest.MonkeyPatch, lang: str) -> None:
    """Over a sample of the book's pages (the flat alternation takes seconds a page), the same terms
    at the same places as the flat alternation (longest word first, whitespace-tolerant); a trie
    that prefers the shorter word does not."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted((DOCS / lang).rglob("*.md"))[::8])
    text += "\n learning\n rate gradient descent Gradient  descents 경사 하강법을 경사\n하강법"

    def found(alternation) -> list[tuple[int, str]]:
        with monkeypatch.context() as m:
            m.setattr(g, "_alternation", alternation)
            return [(x.start(), x.group()) for x, _ in g.Matcher(TERMS, lang).find(text)]

    trie = g._alternation
    reference = found(flat_alternation)
    assert len(reference) > 500 and found(trie) == reference
    shortest_first = lambda words: trie(words).replace(")?", ")??")  # noqa: E731 - a mutant
    assert found(shortest_first) != reference, "the comparison tells a shorter-first match apart"


# --- Loading -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('ko = "학습률"\nen = "learning rate"\npage = "p"\nko_def = "다."', "missing ['en_def']"),
        ('ko = "학습률"\nen = "learning rate"\npage = "p"\nko_def = "다."\nen_def = "."\nkind = 1', "unknown keys ['kind']"),
        ('ko = "계수"\nen = "Learning Rate"\npage = "p"\nko_def = "다."\nen_def = "."', "same English term as term 1"),
        ('ko = "계수"\nen = "learning-rate"\npage = "p"\nko_def = "다."\nen_def = "."', "same anchor (term-learning-rate) as term 1"),
    ],
)
def test_load_names_the_bad_entry(tmp_path: Path, entry: str, message: str) -> None:
    good = '[[term]]\nko = "학습률"\nen = "learning rate"\npage = "p"\nko_def = "다."\nen_def = "."\n'
    path = tmp_path / "glossary.toml"
    path.write_text(good + "\n[[term]]\n" + entry + "\n", encoding="utf-8")
    with pytest.raises(g.GlossaryError, match=re.escape(message)) as error:
        g.load(path)
    assert "term 2" in str(error.value)


# --- Generated pages -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", g.LANGS)
def test_glossary_page_lists_every_entry_once_sorted_under_initials(lang: str) -> None:
    titles = {t.page: t.page for t in TERMS}
    text = g.glossary_markdown(TERMS, lang, titles)
    entries = re.findall(r"^\*\*(.+?)\*\*", text, re.M)
    assert len(entries) == len(TERMS)
    headings = re.findall(r"^## (\S+) \{#([\w-]+)\}", text, re.M)
    jumps = re.findall(r"\[(\S+?)\]\(#([\w-]+)\)", next(line for line in text.split("\n") if "glossary-jump" in line))
    assert jumps == headings and len(headings) >= (10 if lang == "ko" else 15)
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        letter = section.split()[0]
        words = re.findall(r"^\*\*(.+?)\*\*", section, re.M)
        by_word = {t.word(lang): t for t in TERMS}
        keys = [g.sort_key(by_word[w], lang) for w in words]
        assert keys == sorted(keys), f"{letter}: not sorted"
        assert all(g.initial(by_word[w], lang) == ("#" if letter == "0–9" else letter) for w in words)


def test_korean_initials_follow_the_reading() -> None:
    one = replace(LR, ko="1차 방법", ko_reading="일차 방법")
    assert g.initial(one, "ko") == "ㅇ" and g.initial(replace(LR, ko="까다로운 값"), "ko") == "ㄱ"
    assert g.initial(LR, "en") == "L"


# --- Tooltips and anchors ------------------------------------------------------------------------


class FakePlugin:
    def __init__(self, lang: str, page: str) -> None:
        self.current = (g.Matcher(SAMPLE_TERMS, lang), page, lang)


def render(text: str, lang: str = "ko", page_path: str = "optimization/gradient-descent") -> str:
    md = markdown.Markdown(extensions=["pymdownx.arithmatex", "attr_list", g.TermExtension(FakePlugin(lang, page_path))])  # type: ignore[arg-type]
    return md.convert(text)


def test_tooltip_on_first_use_per_section_with_anchor_on_the_home_page() -> None:
    out = render("## 가\n\n학습률(learning rate)은 크다. 학습률을 줄인다.\n\n## 나\n\n학습률을 쓴다.")
    abbrs = re.findall(r"<abbr[^>]*>[^<]*</abbr>", out)
    assert abbrs == [
        '<abbr id="term-learning-rate" title="learning rate: 계수다.">학습률</abbr>',
        '<abbr title="learning rate: 계수다.">학습률</abbr>',
    ]


def test_goal_boxes_get_tooltips_but_the_anchor_stays_in_the_body() -> None:
    md = markdown.Markdown(extensions=["admonition", g.TermExtension(FakePlugin("ko", "optimization/gradient-descent"))])  # type: ignore[arg-type]
    out = md.convert('!!! abstract "목표"\n\n    학습률(learning rate)을 고른다.\n\n학습률을 정의한다.')
    assert '<abbr title="learning rate: 계수다.">학습률</abbr>(learning rate)을' in out
    assert '<abbr id="term-learning-rate" title="learning rate: 계수다.">학습률</abbr>을 정의한다' in out


def test_tooltips_skip_code_math_links_and_headings() -> None:
    out = render("# 학습률\n\n`학습률` $\\text{학습률}$ [학습률](x.md)\n\n```\n학습률\n```\n")
    assert "<abbr" not in out


def test_english_tooltip_shows_the_korean_term() -> None:
    out = render("The **learning rates** differ.", lang="en", page_path="elsewhere")
    assert '<strong><abbr title="학습률: A factor.">learning rates</abbr></strong>' in out
    assert "id=" not in out


# --- The built site ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", g.LANGS)
def test_built_site_has_anchors_tooltips_and_glossary_entries(site: Path, lang: str) -> None:
    root = site if lang == "ko" else site / lang
    missing = []
    for t in TERMS:
        page = (root / t.page / "index.html").read_text(encoding="utf-8")
        if f'id="{t.slug}"' not in page:
            missing.append(f"{t.slug} on {lang}/{t.page}")
    assert not missing, missing
    glossary_page = (root / "glossary" / "index.html").read_text(encoding="utf-8")
    assert all(f'id="{t.slug}"' in glossary_page for t in TERMS)
    sample = (root / "optimization" / "gradient-descent" / "index.html").read_text(encoding="utf-8")
    tooltip = re.search(r'<abbr id="term-learning-rate" title="([^"]+)">', sample)
    lr = next(t for t in TERMS if t.en == "learning rate")
    assert tooltip and tooltip.group(1) == lr.tooltip(lang).replace("&", "&amp;")
