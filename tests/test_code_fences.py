"""Every Python fence in docs/ is run by a test, or skipped on purpose with a reason.

pytest-codeblocks only collects fences whose info string is exactly ``python``; any other
(``py``, ``python title="..."``, ``python hl_lines="2"``) is silently ignored. This test finds
every Python-looking fence and accepts it only if pytest-codeblocks collects it, it carries a
``pytest.mark.skip(reason=...)`` mark with a real reason, or it only includes snippets (``--8<--``)
that tests/test_snippets.py runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pytest_codeblocks.main import extract_from_file

from support import DOCS, ROOT, SNIPPETS

FENCE = re.compile(r"^(?P<indent>\s*)(?P<ticks>`{3,}|~{3,})\s*(?P<info>[^\n`]*)$")
PYTHON_INFO = re.compile(r"^\{?\s*\.?(python3?|py|pycon|ipython3?)\b", re.IGNORECASE)
INCLUDE = re.compile(r'^\s*--8<--\s+"(?P<path>[^"]+)"\s*$')
SKIP_WITH_REASON = re.compile(r"pytest\.mark\.skip(if)?\(.*reason\s*=\s*['\"]\s*\S")


def python_fences(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line number, info string, body lines) of every Python fence in a Markdown file."""
    fences, lines, i = [], path.read_text(encoding="utf-8").splitlines(), 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, ticks, body = i, m["ticks"], []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(ticks):
            body.append(lines[i])
            i += 1
        if PYTHON_INFO.match(m["info"].strip()):
            fences.append((start + 1, m["info"].strip(), body))
        i += 1
    return fences


def problem(path: Path, lineno: int, info: str, body: list[str], collected: dict[int, list[str]]) -> str | None:
    if lineno in collected:
        marks = collected[lineno]
        skips = [m for m in marks if "skip" in m]
        if skips and not all(SKIP_WITH_REASON.search(m) for m in skips):
            return "is skipped without a reason: use <!--pytest.mark.skip(reason=\"...\")-->"
        return None
    code = [line for line in body if line.strip()]
    includes = [INCLUDE.match(line) for line in code]
    if code and all(includes):
        for inc in includes:
            target = (ROOT / inc["path"].split(":")[0]).resolve()
            if target.parent != SNIPPETS.resolve() or not target.is_file():
                return f"includes {inc['path']}, which is not a snippet in snippets/ (only those are run)"
        return None
    return (
        f"has info string {info!r}, which pytest-codeblocks does not collect: "
        "use exactly ```python, or mark it <!--pytest.mark.skip(reason=\"...\")-->"
    )


MARKDOWN = sorted(DOCS.rglob("*.md"))


@pytest.mark.parametrize("path", MARKDOWN, ids=[str(p.relative_to(DOCS)) for p in MARKDOWN])
def test_every_python_fence_is_run_or_skipped_with_reason(path: Path) -> None:
    collected = {b.lineno: b.marks for b in extract_from_file(path) if b.syntax == "python"}
    problems = [
        f"{path.relative_to(ROOT)}:{lineno}: {msg}"
        for lineno, info, body in python_fences(path)
        if (msg := problem(path, lineno, info, body, collected))
    ]
    assert not problems, "\n".join(problems)


def test_the_audit_catches_silently_skipped_fences(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nx = 1\n```\n\n"
        '```python title="a.py"\ny = 2\n```\n\n'
        "```py\nz = 3\n```\n\n"
        "<!--pytest.mark.skip-->\n```python\nw = 4\n```\n\n"
        '<!--pytest.mark.skip(reason="needs a GPU")-->\n```python\nv = 5\n```\n\n'
        '```python title="snippets/x.py"\n--8<-- "snippets/missing.py"\n```\n',
        encoding="utf-8",
    )
    collected = {b.lineno: b.marks for b in extract_from_file(page) if b.syntax == "python"}
    verdicts = [problem(page, n, info, body, collected) for n, info, body in python_fences(page)]
    assert [v is None for v in verdicts] == [True, False, False, False, True, False]
