"""The Korean pages speak in one register (한다체) and one vocabulary (glossary.toml).

Only prose is checked. Before matching, a page is reduced to its prose: front matter keeps only
``title`` and ``description``; fenced code, ``$$`` math blocks, inline code, inline math, link
targets, URLs, HTML tags and the References section (``## 참고 문헌``) are set aside.

- Register: no 합니다체 or 해요체 endings (…니다, …니까, …세요, …까요, …시오).
- Vocabulary: no ``ko_variants`` of glossary.toml (the glossary page and the references page are
  exempt: they list variants and titles on purpose). A variant inside a chosen word is not a
  variant: 하이퍼파라미터 is its own term, not 파라미터.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KO = ROOT / "docs" / "ko"
GLOSSARY = ROOT / "glossary.toml"
VOCABULARY_EXEMPT = {"glossary.md", "references.md"}  # they list variants and titles on purpose
PROSE_KEYS = ("title", "description")  # front-matter keys whose values readers see

# Hangul syllables whose final consonant is ㅂ: the 합/입/습/봅 of 합니다, 입니까, 봅시다.
_B_FINAL = "".join(chr(0xAC00 + i * 28 + 17) for i in range(19 * 21))
_HANGUL = "가-힣"
REGISTER = re.compile(
    rf"[{_B_FINAL}](?:니다|니까|시다)"  # 합니다, 합니까, 합시다 (and -습니다, -입니다)
    rf"|[{_HANGUL}](?:십시오|하시오)"  # 하십시오체
    rf"|(?<=[{_HANGUL}])(?:세요|셔요|에요|예요|어요|아요|여요|워요|해요|까요|네요|군요|나요|지요|죠|는데요|거든요)"
    rf"(?![{_HANGUL}])"  # 해요체, at the end of a word
)

FENCE = re.compile(r"^\s*(```|~~~)")
REFERENCES_HEADING = re.compile(r"^(#{2,6})\s*(?:참고 문헌|References)\s*$")
HEADING = re.compile(r"^(#{1,6})\s")
NOT_PROSE_INLINE = [
    re.compile(r"`[^`]*`"),  # inline code
    re.compile(r"\$\$.*?\$\$"),  # display math on one line
    re.compile(r"(?<!\\)\$[^$]+?(?<!\\)\$"),  # inline math
    re.compile(r"\]\([^)]*\)"),  # link and image targets (the link text and alt text stay)
    re.compile(r"<https?://[^>]*>"),  # autolinks
    re.compile(r"https?://\S+"),  # bare URLs
    re.compile(r"</?[A-Za-z][^>]*>"),  # HTML tags (figcaption text stays)
]


@dataclass(frozen=True)
class Term:
    ko: str
    variants: tuple[str, ...]


@dataclass(frozen=True)
class Violation:
    line: int
    found: str
    note: str = ""

    def describe(self, page: str) -> str:
        return f"docs/ko/{page}:{self.line}: {self.found!r}{self.note}"


def load_terms(path: Path = GLOSSARY) -> list[Term]:
    """The glossary's terms: the chosen Korean word and its variants (often none)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Term(t["ko"], tuple(t.get("ko_variants", ()))) for t in data["term"] if "ko" in t]


def prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, prose on that line) for every line of a Markdown page; non-prose becomes spaces."""
    lines = text.split("\n")
    start = 0
    if lines and lines[0].strip() == "---":  # front matter: only title and description are prose
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
        for i in range(1, end):
            key, _, value = lines[i].partition(":")
            if key.strip() in PROSE_KEYS:
                yield i + 1, value
        start = end + 1
    fenced = math = False
    references_level = 0  # heading level of the References section being skipped, 0 outside it
    for i in range(start, len(lines)):
        line = lines[i]
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        if line.strip() == "$$":
            math = not math
            continue
        if math:
            continue
        heading = HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            if references_level and level <= references_level:
                references_level = 0
            if REFERENCES_HEADING.match(line):
                references_level = level
                continue
        if references_level:
            continue
        for pattern in NOT_PROSE_INLINE:
            line = pattern.sub(lambda m: " " * len(m.group()), line)
        yield i + 1, line


def register_violations(text: str) -> list[Violation]:
    """합니다체 and 해요체 endings in the prose of a page."""
    return [
        Violation(n, line[max(0, m.start() - 12) : m.end()].strip())
        for n, line in prose_lines(text)
        for m in REGISTER.finditer(line)
    ]


def vocabulary_violations(text: str, terms: list[Term]) -> list[Violation]:
    """Glossary variants in the prose of a page, each with the word the book chose instead."""
    variants = {v: t.ko for t in terms for v in t.variants}
    # A chosen word that contains a variant (하이퍼파라미터 ⊃ 파라미터) is masked before matching.
    protected = sorted({t.ko for t in terms if any(v in t.ko and v != t.ko for v in variants)}, key=len, reverse=True)
    found = []
    for n, line in prose_lines(text):
        for word in protected:
            line = line.replace(word, "□" * len(word))
        for variant, chosen in variants.items():
            # at the start of a word: 물질의 does not hold the variant 질의
            found += [Violation(n, variant, f" → {chosen!r}") for _ in re.finditer(rf"(?<![가-힣]){re.escape(variant)}", line)]
    return found


PAGES = sorted(p.relative_to(KO).as_posix() for p in KO.rglob("*.md"))
TERMS = load_terms()


@pytest.mark.parametrize("page", PAGES)
def test_register_is_handa(page: str) -> None:
    found = register_violations((KO / page).read_text(encoding="utf-8"))
    if found:
        pytest.fail("합니다체/해요체 in prose; write 한다체:\n" + "\n".join(v.describe(page) for v in found), pytrace=False)


@pytest.mark.parametrize("page", [p for p in PAGES if Path(p).name not in VOCABULARY_EXEMPT])
def test_vocabulary_follows_glossary(page: str) -> None:
    found = vocabulary_violations((KO / page).read_text(encoding="utf-8"), TERMS)
    if found:
        pytest.fail("glossary.toml variants in prose:\n" + "\n".join(v.describe(page) for v in found), pytrace=False)


# The checker itself: it catches what it should, and only in prose.

SAMPLE = """---
title: 예시
description: <DESCRIPTION>
search:
  boost: 0.3 # 합니다
---

# 예시

<BODY>

```python
x = 1  # 파라미터를 갱신합니다
```

$$
\\text{파라미터입니다}
$$

## 참고 문헌

- Someone (2020). 파라미터를 다룹니다.
"""


def sample(body: str, description: str = "예시 페이지를 정리한다.") -> str:
    return SAMPLE.replace("<BODY>", body).replace("<DESCRIPTION>", description)


def test_glossary_has_variants() -> None:
    assert any(t.ko == "매개변수" and "파라미터" in t.variants for t in TERMS)


POLITE = ["손실을 줄입니다.", "최소점입니까?", "예를 풀어 봅시다.", "방향에 주의하세요.", "어떻게 될까요?", "참고하십시오.", "같은 값이에요."]


@pytest.mark.parametrize("sentence", POLITE, ids=[f"polite{i}" for i in range(len(POLITE))])
def test_register_catches_polite_endings(sentence: str) -> None:
    found = register_violations(sample(f"첫 문장은 맞다. {sentence}"))
    assert [v.line for v in found] == [10], found


def test_register_checks_the_description_and_names_the_line() -> None:
    found = register_violations(sample("본문은 한다체다.", description="페이지를 정리합니다."))
    assert [v.line for v in found] == [3]
    assert found[0].describe("x.md").startswith("docs/ko/x.md:3: ")


NOT_POLITE = [
    "손실을 줄인다. 최소점인가? 예를 풀어 보자. 방향에 주의해야 한다. 어떻게 될까? 중요하다. 필요 없다.",
    "코드는 `print('합니다')`처럼 쓴다.",
    "식 $\\text{입니다}$는 수식이다.",
    "[링크](https://example.com/합니다)를 본다.",
]


@pytest.mark.parametrize("body", NOT_POLITE, ids=["handa", "code", "math", "url"])
def test_register_ignores_handa_code_math_and_urls(body: str) -> None:
    assert register_violations(sample(body)) == []


def test_vocabulary_catches_a_variant_in_prose() -> None:
    found = vocabulary_violations(sample("모든 파라미터를 20걸음 동안 업데이트한다."), TERMS)
    assert {(v.line, v.found, v.note) for v in found} == {
        (10, "파라미터", " → '매개변수'"),
        (10, "걸음", " → '스텝'"),
        (10, "업데이트", " → '갱신'"),
    }


NOT_VARIANTS = [
    "하이퍼파라미터를 고른다.",
    "코드의 `파라미터` 이름은 그대로 둔다.",
    "식 $\\text{파라미터}$는 수식이다.",
    "[매개변수](https://example.com/파라미터)를 본다.",
    "매개변수를 스텝 20번 동안 갱신한다.",
    "물질의 성질을 본다.",  # 질의 (a variant of 쿼리) inside another word
]


@pytest.mark.parametrize("body", NOT_VARIANTS, ids=["hyperparameter", "code", "math", "url", "chosen", "inside-a-word"])
def test_vocabulary_ignores_chosen_words_code_math_links(body: str) -> None:
    assert vocabulary_violations(sample(body), TERMS) == []
