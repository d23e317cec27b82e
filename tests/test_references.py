"""References as data: references.bib, cited by key from every concept page in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mkdocs.exceptions import PluginError

from sitebuild import references as r

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BIB = r.parse_bib((ROOT / "references.bib").read_text(encoding="utf-8"))
NOT_CONCEPT = {"index.md", "glossary.md", "references.md"}
CONCEPTS = sorted(p.relative_to(DOCS / "en").as_posix() for p in (DOCS / "en").rglob("*.md") if p.name not in NOT_CONCEPT)


def section(lang: str, page: str) -> str:
    m = r.SECTION.search((DOCS / lang / page).read_text(encoding="utf-8"))
    return m.group(1) if m else ""


@pytest.mark.parametrize("page", CONCEPTS)
def test_page_cites_by_key_the_same_works_in_both_languages(page: str) -> None:
    keys = {lang: r.citations((DOCS / lang / page).read_text(encoding="utf-8")) for lang in ("ko", "en")}
    assert keys["en"], f"docs/en/{page} has no references section with [@key] items"
    assert keys["ko"] == keys["en"], f"{page}: the two languages cite different works: {keys}"
    unknown = [k for k in keys["en"] if k not in BIB]
    assert not unknown, f"{page}: unknown keys {unknown}"
    for lang in ("ko", "en"):
        items = [line for line in section(lang, page).splitlines() if re.match(r"\s*[-*] ", line)]
        loose = [line for line in items if not r.ITEM_KEY.match(line)]
        assert not loose, f"docs/{lang}/{page}: a reference written out by hand instead of [@key]: {loose[:2]}"


def test_every_entry_is_cited() -> None:
    cited = {k for page in CONCEPTS for k in r.citations((DOCS / "en" / page).read_text(encoding="utf-8"))}
    unused = sorted(set(BIB) - cited)
    assert not unused, f"references.bib entries no page cites (cite them or remove them): {unused}"


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_references_page_is_generated(lang: str) -> None:
    assert r.MARKER in (DOCS / lang / "references.md").read_text(encoding="utf-8")


# --- The parser, the format and the errors ------------------------------------------------------

SAMPLE = """% comment
@article{robbins1951stochastic,
  author = {Robbins, Herbert and Monro, Sutton},
  title = {A Stochastic Approximation Method},
  journal = {The Annals of Mathematical Statistics},
  volume = {22}, number = "3",
  pages = {400--407},
  year = 1951,
  doi = {10.1214/aoms/1177729586}
}

@misc{kingma2015adam,
  author = {Kingma, Diederik P. and Ba, Jimmy},
  title = {Adam: A Method for {Stochastic} Optimization},
  year = {2015},
  eprint = {1412.6980},
  archiveprefix = {arXiv}
}

@book{goodfellow2016deep,
  author = {Goodfellow, Ian and Bengio, Yoshua and Courville, Aaron},
  title = {Deep Learning},
  publisher = {MIT Press},
  year = {2016},
  url = {https://www.deeplearningbook.org/}
}
"""


def test_parser_reads_braces_quotes_and_numbers() -> None:
    entries = r.parse_bib(SAMPLE)
    assert list(entries) == ["robbins1951stochastic", "kingma2015adam", "goodfellow2016deep"]
    assert entries["robbins1951stochastic"].fields["number"] == "3"
    assert entries["robbins1951stochastic"].fields["year"] == "1951"
    assert entries["kingma2015adam"].fields["title"] == "Adam: A Method for {Stochastic} Optimization"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SAMPLE + "\n@misc{kingma2015adam, title = {x}}\n", "duplicate key 'kingma2015adam'"),
        ("@misc{a, title = {x}\n", "line 2: expected a field or the closing brace"),
        ("@misc{a, title = {x}} stray", "text after the last entry"),
        ("@misc{a, title = {x}}\nstray\n@misc{b, title = {y}}", "line 1: text outside an entry"),
    ],
)
def test_parser_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(r.BibError, match=re.escape(message)):
        r.parse_bib(text)


def test_format_is_the_books_one_format() -> None:
    e = r.parse_bib(SAMPLE)
    assert r.format_entry(e["robbins1951stochastic"]) == (
        "Robbins, H., & Monro, S. (1951). A Stochastic Approximation Method. "
        "*The Annals of Mathematical Statistics*, 22(3), 400–407. <https://doi.org/10.1214/aoms/1177729586>"
    )
    assert r.format_entry(e["kingma2015adam"]).endswith("arXiv:1412.6980. <https://arxiv.org/abs/1412.6980>")
    assert r.format_entry(e["goodfellow2016deep"]) == (
        "Goodfellow, I., Bengio, Y., & Courville, A. (2016). *Deep Learning*. MIT Press. <https://www.deeplearningbook.org/>"
    )


def test_entries_without_author_or_year_and_theses() -> None:
    e = r.parse_bib(
        "@misc{a, title = {An issue}, year = {2021}, url = {https://x.org/1}}\n"
        "@mastersthesis{b, author = {Linnainmaa, Seppo}, title = {T}, school = {U}, year = {1970}, note = {See https://y.org/2}}\n"
        "@misc{c, author = {{PyTorch Contributors}}, title = {torch.optim}, howpublished = {PyTorch documentation}}"
    )
    assert r.format_entry(e["a"]) == "*An issue* (2021). <https://x.org/1>"
    assert r.format_entry(e["b"]) == "Linnainmaa, S. (1970). *T*. Master's thesis, U. See <https://y.org/2>."
    assert r.format_entry(e["c"]) == "PyTorch Contributors (n.d.). *torch.optim*. PyTorch documentation."


def test_initials_keep_hyphens() -> None:
    assert r.initials("Jean-Louis Marie") == "J.-L. M." and r.initials("P. T. P.") == "P. T. P."


def test_expand_writes_entries_and_keeps_notes() -> None:
    page = "# T\n\nText.\n\n## References\n\n- [@robbins1951stochastic] §2 only.\n- [@kingma2015adam]\n"
    out = r.expand(page, r.parse_bib(SAMPLE), "docs/en/x.md")
    assert "- Robbins, H., & Monro, S. (1951)." in out and out.rstrip().endswith("<https://arxiv.org/abs/1412.6980>")
    assert "407. <https://doi.org/10.1214/aoms/1177729586> §2 only." in out


def test_unknown_key_fails_naming_page_and_key() -> None:
    page = "# T\n\n## 참고 문헌\n\n- [@nobody2020none]\n"
    with pytest.raises(PluginError, match=r"docs/ko/x\.md cites unknown key\(s\) nobody2020none"):
        r.expand(page, r.parse_bib(SAMPLE), "docs/ko/x.md")


def test_references_page_sorts_by_author_and_links_citing_pages() -> None:
    cited = {"robbins1951stochastic": [("optimization/gradient-descent.md", "경사 하강법")], "goodfellow2016deep": [("a.md", "A"), ("b.md", "B")]}
    text = r.references_page(r.parse_bib(SAMPLE), cited, "ko")
    lines = text.splitlines()
    assert lines[0].startswith("- Goodfellow") and lines[1].startswith("- Robbins")
    assert lines[0].endswith("— 인용한 페이지: [A](a.md), [B](b.md).")
