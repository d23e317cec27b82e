"""Every concept page follows the textbook template, in both languages (CONTRIBUTING: "Page template").

    # Title
    (an opening paragraph)
    !!! abstract "What you will learn"        — a list of goals
    !!! info "Before you start"               — links to the pages it builds on and to the notation page
    ## ... the body ...
    ## Summary
    ## Exercises                              — 3 to 5: **1.** question, then ??? success "Solution"
    ## Further reading
    ## Code                                   — optional: the page's whole snippet
    ## References                             — [@key] items (tests/test_references.py)

Code that checks a claim with ``assert`` sits folded in ``??? example "Check it in code"``
(``"코드로 확인"``), which pytest-codeblocks still runs; at least one solution per page computes
its answer in code that asserts it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
NOT_CONCEPT = {"index.md", "glossary.md", "references.md", "notation.md"}
CONCEPTS = sorted(p.relative_to(DOCS / "en").as_posix() for p in (DOCS / "en").rglob("*.md") if p.name not in NOT_CONCEPT)


@dataclass(frozen=True)
class Template:
    goals: str
    before: str
    summary: str
    exercises: str
    solution: str
    further: str
    code: str
    references: str
    check: str


TEMPLATES = {
    "en": Template(
        goals='!!! abstract "What you will learn"',
        before='!!! info "Before you start"',
        summary="## Summary",
        exercises="## Exercises",
        solution='??? success "Solution"',
        further="## Further reading",
        code="## Code",
        references="## References",
        check='??? example "Check it in code"',
    ),
    "ko": Template(
        goals='!!! abstract "이 페이지에서 배우는 것"',
        before='!!! info "먼저 읽을 것"',
        summary="## 요약",
        exercises="## 연습 문제",
        solution='??? success "풀이"',
        further="## 더 읽을거리",
        code="## 코드",
        references="## 참고 문헌",
        check='??? example "코드로 확인"',
    ),
}
EXERCISE = re.compile(r"^\*\*(\d+)\.\*\* \S", re.M)
FENCE = re.compile(r"^( *)```python[^\n]*\n(.*?)^\1```", re.M | re.S)


def sections(text: str) -> list[tuple[str, str]]:
    """(``## heading`` line, its text) for every h2, in order; the text before the first h2 as ``""``."""
    parts = re.split(r"^(## .*)$", text, flags=re.M)
    out = [("", parts[0])]
    out += [(parts[i].strip(), parts[i + 1]) for i in range(1, len(parts), 2)]
    return out


def template_problems(text: str, t: Template) -> list[str]:
    problems = []
    parts = sections(text)
    head = parts[0][1]
    heads = [h for h, _ in parts[1:]]
    if t.goals not in head or not re.search(re.escape(t.goals) + r"\n\n?    [-*] ", head):
        problems.append(f"no learning goals before the first section ({t.goals} with a list)")
    if t.before not in head:
        problems.append(f"no prerequisites before the first section ({t.before})")
    else:
        block = head[head.index(t.before) :]
        if "notation.md" not in block or not re.search(r"\]\([^)]+\.md[^)]*\)", block):
            problems.append(f"{t.before} links no page, or not the notation page (notation.md)")
    order = [t.summary, t.exercises, t.further]
    missing = [h for h in [*order, t.references] if h not in heads]
    problems += [f"no {h!r} section" for h in missing]
    if not missing:
        tail = [h for h in heads if h in (*order, t.code, t.references)]
        expected = [*order, *([t.code] if t.code in heads else []), t.references]
        if tail != expected or heads[-len(expected) :] != expected:
            problems.append(f"the closing sections must come last, in this order: {expected}; found {heads[-len(expected):]}")
        exercises = dict(parts[1:])[t.exercises]
        numbers = [int(n) for n in EXERCISE.findall(exercises)]
        if not 3 <= len(numbers) <= 5 or numbers != list(range(1, len(numbers) + 1)):
            problems.append(f"{t.exercises}: 3 to 5 exercises numbered **1.**, **2.**, …; found {numbers}")
        chunks = EXERCISE.split(exercises)[1:]
        unsolved = [chunks[i] for i in range(0, len(chunks), 2) if t.solution not in chunks[i + 1]]
        if unsolved:
            problems.append(f"{t.exercises}: exercise(s) {unsolved} without a folded {t.solution}")
        if not any("assert" in m.group(2) for m in FENCE.finditer(exercises)):
            problems.append(f"{t.exercises}: no solution computes its answer in a ```python block with an assert")
    for m in FENCE.finditer(text):
        if not m.group(1) and re.search(r"^\s*assert\b", m.group(2), re.M):
            line = text[: m.start()].count("\n") + 1
            problems.append(f"line {line}: a check (assert) in open code; fold it under {t.check}")
    return problems


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("page", CONCEPTS)
def test_page_follows_the_template(page: str, lang: str) -> None:
    problems = template_problems((DOCS / lang / page).read_text(encoding="utf-8"), TEMPLATES[lang])
    if problems:
        pytest.fail(f"docs/{lang}/{page}:\n" + "\n".join(problems), pytrace=False)


# --- The check catches each missing part ------------------------------------------------------

GOOD = """---
title: T
---

# T

Opening.

!!! abstract "What you will learn"

    - one

!!! info "Before you start"

    - [Notation](../notation.md), [MLP](mlp.md)

## Body

??? example "Check it in code"

    ```python
    assert 1 + 1 == 2
    ```

## Summary

- s

## Exercises

**1.** Q one.

??? success "Solution"

    ```python
    assert 2 * 2 == 4
    ```

**2.** Q two.

??? success "Solution"

    A.

**3.** Q three.

??? success "Solution"

    A.

## Further reading

- r

## References

- [@x]
"""


def test_a_page_on_the_template_passes() -> None:
    assert template_problems(GOOD, TEMPLATES["en"]) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('!!! abstract "What you will learn"\n\n    - one\n', "", "no learning goals"),
        ("[Notation](../notation.md), ", "", "not the notation page"),
        ("## Summary\n\n- s\n", "", "no '## Summary' section"),
        ("## Further reading\n\n- r\n\n## References", "## References\n\n- [@x]\n\n## Further reading\n\n- r\n\n## Old", "closing sections"),
        ("**3.** Q three.", "**4.** Q three.", "numbered"),
        ('**2.** Q two.\n\n??? success "Solution"\n\n    A.\n', "**2.** Q two.\n\n", "without a folded"),
        ("    ```python\n    assert 2 * 2 == 4\n    ```", "    A.", "no solution computes"),
        ('??? example "Check it in code"\n\n    ```python\n    assert 1 + 1 == 2\n    ```', "```python\nassert 1 + 1 == 2\n```", "fold it under"),
    ],
)
def test_each_missing_part_fails(old: str, new: str, expected: str) -> None:
    broken = GOOD.replace(old, new, 1)
    assert broken != GOOD
    assert any(expected in p for p in template_problems(broken, TEMPLATES["en"]))
