"""Break one thing in a copy of the project; the build must fail and name the broken file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support import DOCS, LANGUAGES, ROOT, build, concept_count, copy_project, original_sections, pages, replicate, snippets

AT_SCALE = 110  # pages in both languages together, index, glossary and references included


@pytest.fixture
def project(site: Path, tmp_path: Path) -> Path:  # `site` first: the figure cache is then warm
    return copy_project(tmp_path / "project")


def first_page() -> Path:
    return next(p for p in pages("en") if p.name != "index.md")


def assert_fails_naming(project: Path, *names: str, strict: bool = True) -> str:
    proc = build(project, project / "site", strict=strict)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, f"the build should fail:\n{output[-3000:]}"
    for name in names:
        assert name in output, f"{name!r} not in build output:\n{output[-3000:]}"
    return output


def test_a_raising_snippet_fails_the_build_with_its_traceback(project: Path) -> None:
    snippet = project / "snippets" / snippets()[0].name
    lines = snippet.read_text(encoding="utf-8").splitlines()
    lines.insert(len(lines) - 1, 'raise ValueError("injected fault")')
    snippet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    output = assert_fails_naming(project, f"snippets/{snippet.name}", "ValueError: injected fault")
    assert f'line {len(lines) - 1}' in output, "the traceback should give the failing line"
    assert not (project / "site" / "index.html").exists(), "nothing half-built"


def test_a_missing_english_page_fails_the_build(project: Path) -> None:
    (project / "docs" / "en" / first_page()).unlink()
    assert_fails_naming(project, f"docs/en/{first_page().as_posix()}")


def test_a_broken_link_and_a_broken_anchor_fail_the_build_naming_both(project: Path) -> None:
    """Both in one build: --strict reports every warning before it stops."""
    ko, en = project / "docs" / "ko" / first_page(), project / "docs" / "en" / first_page()
    ko.write_text(ko.read_text(encoding="utf-8") + "\n\n[nowhere](no-such-page.md)\n", encoding="utf-8")
    en.write_text(en.read_text(encoding="utf-8") + "\n\n[nowhere](#no-such-heading)\n", encoding="utf-8")
    assert_fails_naming(project, f"ko/{first_page().as_posix()}", "no-such-page.md", f"en/{first_page().as_posix()}", "no-such-heading")


@pytest.fixture
def big_project(project: Path) -> Path:
    """The project grown past AT_SCALE pages (copies of the concept pages; the snippets stay warm)."""
    replicate(project, max(concept_count(project), -(-AT_SCALE // len(LANGUAGES)) - 3), snippets=False)
    assert sum(1 for lang in LANGUAGES for _ in (project / "docs" / lang).rglob("*.md")) >= AT_SCALE
    return project


def last_copy(project: Path) -> Path:
    """The last concept page of the grown project, relative to docs/en (built last)."""
    return max((p.relative_to(project / "docs" / "en") for p in (project / "docs" / "en").glob("*-*/*.md")), key=str)


def test_at_scale_a_missing_translation_is_named(big_project: Path) -> None:
    page = last_copy(big_project)
    (big_project / "docs" / "en" / page).unlink()
    assert_fails_naming(big_project, f"docs/en/{page.as_posix()}")


def test_at_scale_a_raising_snippet_is_named(big_project: Path) -> None:
    snippet = big_project / "snippets" / snippets()[-1].name
    snippet.write_text(snippet.read_text(encoding="utf-8").replace("plt.show()", 'raise RuntimeError("late fault")\nplt.show()'), encoding="utf-8")
    # Without --strict (as `mkdocs serve` builds): a raising snippet fails the build all the same.
    assert_fails_naming(big_project, f"snippets/{snippet.name}", "RuntimeError: late fault", strict=False)


def test_at_scale_a_tex_error_in_the_last_page_is_named(big_project: Path) -> None:
    page = last_copy(big_project)
    path = big_project / "docs" / "en" / page
    path.write_text(path.read_text(encoding="utf-8") + "\n\nBroken: $\\sqrt{x$\n", encoding="utf-8")
    assert_fails_naming(big_project, f"en/{page.as_posix()}", "\\\\sqrt{x")


def test_a_partly_copied_section_links_to_the_pages_it_left_out(tmp_path: Path) -> None:
    """The grown copy must build with --strict: a copied page's link to a page of its own folder that
    the copy stops before goes to the original (the 60-page benchmark copy once failed on one)."""
    order = [p for _, section in original_sections((ROOT / "mkdocs.yml").read_text(encoding="utf-8")) for p in section]
    # The first page (in nav order) linking to a later page of its folder: the copy stops right after it.
    stop = next(i for i, page in enumerate(order)
                if any(f"{Path(page).parent}/{t}" in order[i + 1 :]
                       for t in re.findall(r"\]\(([\w-]+\.md)", (DOCS / "en" / page).read_text(encoding="utf-8"))))
    project = copy_project(tmp_path / "project", with_cache=False)

    def copies() -> set[Path]:
        return {p for p in (project / "docs").glob("*/*/*.md") if re.search(r"-\d+$", p.parent.name)}

    before = copies()  # make benchmark runs the tests in a copy grown already
    replicate(project, concept_count(project) + stop + 1, snippets=False)
    new = copies() - before
    assert len(new) == len(LANGUAGES) * (stop + 1)
    broken = [
        f"{page.relative_to(project)} -> {target}"
        for page in new
        for target in re.findall(r"\]\(([^)#\s]+\.md)", page.read_text(encoding="utf-8"))
        if "://" not in target and not (page.parent / target).resolve().is_file()
    ]
    assert not broken, broken
