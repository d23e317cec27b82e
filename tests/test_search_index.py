"""What sitebuild/search.py writes into each language's search index (no browser, no site build).

A tiny merged index and glossary stand in for the site's: each test fails when its mechanism is
removed (variants reaching the defining page, joined Korean compounds, British spellings, the
Korean particle separator, code blocks kept out).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sitebuild import search

GLOSSARY = """
[[term]]
ko = "헤세 행렬"
en = "Hessian"
page = "optimization/second-order"
ko_def = "이계 편도함수를 모은 행렬"
en_def = "the matrix of second partial derivatives"
ko_variants = ["헤시안"]
en_variants = ["Hessian matrix"]

[[term]]
ko = "배치 정규화"
en = "batch normalization"
page = "optimization/batch-normalization"
abbr = "BN"

[[term]]  # no page, no variants, no abbreviation, no definitions: tolerated
ko = "신경망"
en = "neural network"
"""

CONFIG = {"lang": ["ko", "en"], "separator": r"[\s\-\(\)\[\],.·]+", "pipeline": ["stopWordFilter"],
          "fields": {"title": {"boost": 1000.0}, "text": {"boost": 1.0}, "tags": {"boost": 1000000.0}}}


def doc(location: str, title: str, text: str) -> dict:
    return {"location": location, "title": title, "text": text}


DOCS = [
    doc("optimization/second-order/", "1차 방법과 2차 방법", "<p>헤세 행렬은 이계도함수를 모은다.</p>"),
    doc("optimization/second-order/#뉴턴-방법", "뉴턴 방법", "<p>헤세 행렬의 역행렬을 곱한다.</p>"),
    doc("optimization/batch-normalization/", "배치 정규화", "<p>배치 정규화는 층의 입력을 정규화한다.</p>"),
    doc("optimization/other/", "다른 페이지", "<p>신경망을 학습한다.</p>"),
    doc("en/optimization/second-order/", "First- and second-order methods", "<p>The Hessian of the loss.</p>"),
    doc("en/optimization/batch-normalization/", "Batch normalization", "<p>Batch normalization normalizes a layer's inputs.</p>"),
    doc("en/optimization/optimizers/", "Optimizers", "<p>An optimizer updates the parameters; warm-up first.</p>"),
]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "search").mkdir()
    (tmp_path / "search" / "search_index.json").write_text(json.dumps({"config": CONFIG, "docs": DOCS}), encoding="utf-8")
    (tmp_path / "glossary.toml").write_text(GLOSSARY, encoding="utf-8")
    return tmp_path


def built(site: Path, **options) -> dict[str, dict]:
    search.split_index(site, "ko", ["en"], site / "glossary.toml", **options)
    out = {}
    for lang, prefix in (("ko", ""), ("en", "en/")):
        index = json.loads((site / prefix / "search" / "search_index.json").read_text(encoding="utf-8"))
        out[lang] = {"config": index["config"], "docs": {d["location"]: d for d in index["docs"]}}
    return out


def words(d: dict, field: str) -> list[str]:
    return d.get(field, "").split()


def test_glossary_variants_reach_the_defining_pages_entry(site: Path) -> None:
    index = built(site)
    ko, en = index["ko"]["docs"], index["en"]["docs"]
    assert "헤시안" in words(ko["optimization/second-order/"], search.KEYS)
    assert "BN" in words(ko["optimization/batch-normalization/"], search.KEYS)  # the abbreviation, in Korean too
    assert "BN" in words(en["optimization/batch-normalization/"], search.KEYS)
    assert "matrix" in words(en["optimization/second-order/"], search.KEYS)
    # the page-level entry only, not its sections (which still get aliases where their text uses the term)
    assert "헤시안" not in words(ko["optimization/second-order/#뉴턴-방법"], search.KEYS)
    assert "헤시안" in words(ko["optimization/second-order/#뉴턴-방법"], search.ALIAS)


def test_korean_compounds_are_indexed_without_their_spaces(site: Path) -> None:
    ko = built(site)["ko"]["docs"]
    assert "배치정규화" in words(ko["optimization/batch-normalization/"], search.KEYS)  # glossary term
    assert "헤세행렬" in words(ko["optimization/second-order/"], search.KEYS)
    assert "2차방법" in words(ko["optimization/second-order/"], search.KEYS)  # from the title
    assert "뉴턴방법" in words(ko["optimization/second-order/#뉴턴-방법"], search.KEYS)  # a section's title


def test_english_british_spellings_and_joined_hyphens(site: Path) -> None:
    en = built(site)["en"]["docs"]
    assert "optimisers" in words(en["optimization/optimizers/"], search.KEYS)  # from the title
    assert "optimiser" in words(en["optimization/optimizers/"], search.ALIAS)  # from the text
    assert "warmup" in words(en["optimization/optimizers/"], search.ALIAS)
    assert "normalisation" in words(en["optimization/batch-normalization/"], search.KEYS)


def test_hidden_fields_are_indexed_and_never_shown(site: Path) -> None:
    index = built(site)
    for lang in ("ko", "en"):
        fields = index[lang]["config"]["fields"]
        assert fields[search.KEYS]["boost"] > fields["text"]["boost"], "keys must weigh like a title"
        assert fields[search.ALIAS]["boost"] == fields["text"]["boost"]
        for d in index[lang]["docs"].values():  # Material renders only title, text and tags
            assert not re.search("헤시안|optimiser|BN\\b", d["title"] + d["text"])


def test_without_the_mechanisms_the_index_is_the_plain_split(site: Path) -> None:
    index = built(site, glossary_forms=False, heading_forms=False, korean_split="none")
    for lang in ("ko", "en"):
        assert set(index[lang]["config"]["fields"]) == {"title", "text", "tags"}
        assert index[lang]["config"]["separator"] == CONFIG["separator"]
        assert all(set(d) == {"location", "title", "text"} for d in index[lang]["docs"].values())


def test_per_language_separator(site: Path) -> None:
    index = built(site)
    ko, en = index["ko"]["config"]["separator"], index["en"]["config"]["separator"]
    assert en == CONFIG["separator"]
    assert ko.startswith(CONFIG["separator"] + "|") and ko != en
    assert index["ko"]["config"]["lang"] == ["ko"] and index["en"]["config"]["lang"] == ["en"]
    # Material's highlighter splits the separator on "|" and drops alternatives that are only
    # lookarounds; every alternative must stay a valid regex on its own.
    for alternative in ko.split("|"):
        re.compile(alternative)


def split_words(separator: str, text: str) -> list[str]:
    """Material's tokenizer: the text between separator matches (Python's re has the same syntax here)."""
    return [w for w in re.split(separator, text) if w]


@pytest.mark.parametrize(("typed", "word"), [("역전파란", "역전파"), ("경사하강법이란", "경사하강법"), ("드롭아웃은", "드롭아웃"),
                                             ("배치 정규화를", "정규화"), ("층에서", "층"), ("기울기으로", "기울기")])
def test_korean_separator_drops_particles(site: Path, typed: str, word: str) -> None:
    separator = built(site)["ko"]["config"]["separator"]
    assert word in split_words(separator, typed)
    assert split_words(separator, "정의 효과 평가 차이 속도") == ["정의", "효과", "평가", "차이", "속도"]  # nouns stay whole


def test_glossary_reader_tolerates_missing_optional_keys(tmp_path: Path) -> None:
    path = tmp_path / "glossary.toml"
    path.write_text('[[term]]\nko = "에포크"\nen = "epoch"\n', encoding="utf-8")
    terms = search.load_glossary(path)
    assert any(t["en"] == "epoch" for t in terms)
    assert search.term_forms({"ko": "에포크", "en": "epoch"}, "ko") == ("에포크", ["epoch"]), "a Korean page is found by the English term too"
    assert search.load_glossary(tmp_path / "missing.toml") == search.load_glossary(None)


def test_the_plugin_reads_the_projects_glossary() -> None:
    """The plugin's default glossary is the repository's glossary.toml (read with tomllib, not a copy)."""
    plugin = search.SearchPlugin()
    errors, warnings = plugin.load_config({})
    assert not errors and plugin.config.glossary == "glossary.toml"
    root = Path(__file__).resolve().parent.parent
    terms = search.load_glossary(root / plugin.config.glossary)
    assert len(terms) >= 300 and all("ko" in t and "en" in t for t in terms)


def test_code_blocks_stay_out_of_the_index() -> None:
    html = '<p>text</p><div class="highlight"><pre><code>import torch</code></pre></div>'
    out = search.SearchPlugin().on_page_content(html, page=None, config=None, files=None)
    assert '<div class="highlight" data-search-exclude>' in out


def write_index(site: Path, docs: list[dict]) -> None:
    (site / "search" / "search_index.json").write_text(json.dumps({"config": CONFIG, "docs": docs}), encoding="utf-8")


def test_a_stacked_index_keeps_one_entry_per_location_the_latest(site: Path) -> None:
    """Under `mkdocs serve --dirty` each rebuild's entries arrive stacked onto the last build's."""
    edited = doc("optimization/other/", "다른 페이지", "<p>배치 정규화를 쓴다.</p>")
    write_index(site, [*DOCS, *DOCS[:3], edited])
    index = built(site)
    raw = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    assert [d["location"] for d in raw] == [d["location"] for d in DOCS if not d["location"].startswith("en/")], "each once, in place"
    assert index["ko"]["docs"]["optimization/other/"]["text"] == edited["text"], "the latest entry wins"
    assert "BN" in words(index["ko"]["docs"]["optimization/other/"], "alias"), "its hidden fields are the edited text's"


def test_enrichment_is_recomputed_when_an_entry_or_the_glossary_changes(site: Path) -> None:
    """enrich keeps its results between serve rebuilds, keyed by everything they depend on."""
    before = built(site)["ko"]["docs"]["optimization/other/"]
    assert "헤시안" not in words(before, "alias")
    write_index(site, [*DOCS[:3], doc("optimization/other/", "다른 페이지", "<p>헤세 행렬을 쓴다.</p>"), *DOCS[4:]])
    assert "헤시안" in words(built(site)["ko"]["docs"]["optimization/other/"], "alias"), "a changed text"
    (site / "glossary.toml").write_text(GLOSSARY.replace('ko_variants = ["헤시안"]', 'ko_variants = ["헤시안", "헷세"]'), encoding="utf-8")
    assert "헷세" in words(built(site)["ko"]["docs"]["optimization/other/"], "alias"), "a changed glossary"
