"""Curriculum topics: every concept page names its topics; topic links resolve or are listed."""

from __future__ import annotations

from pathlib import Path

import pytest
from mkdocs.exceptions import PluginError

from sitebuild import topics as tp
from support import mkdocs_config

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
NOT_CONCEPT = {"index.md", "glossary.md", "references.md", "notation.md"}
PARTS = {int(k): int(v) for k, v in next(p for p in mkdocs_config().plugins.values() if isinstance(p, tp.TopicsPlugin)).config.parts.items()}


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_concept_page_names_its_topics(lang: str) -> None:
    covered = tp.covered_topics(DOCS, lang)
    pages = {p.relative_to(DOCS / lang).as_posix() for p in (DOCS / lang).rglob("*.md") if p.name not in NOT_CONCEPT}
    named = tp.page_topics(DOCS, lang)
    assert pages <= set(named), f"pages without `topics:` front matter: {sorted(pages - set(named))}"
    bad = [t for t in covered if not 1 <= int(t.split(".")[1]) <= PARTS.get(int(t.split(".")[0]), 0)]
    assert not bad, f"topics outside the curriculum: {bad}"
    assert covered == tp.covered_topics(DOCS, "en"), "the two languages cover topics with different pages"


def test_pending_topic_links_are_real_topics_and_listed(capsys: pytest.CaptureFixture[str]) -> None:
    """Every [text](topic:N.M) on a page: a real topic; the ones not written yet are printed."""
    covered = tp.covered_topics(DOCS, "en")
    pending = {}
    for lang in ("ko", "en"):
        for path in sorted((DOCS / lang).rglob("*.md")):
            _, topics = tp.resolve(path.read_text(encoding="utf-8"), path.relative_to(DOCS / lang).as_posix(), covered, PARTS, lang)
            if topics:
                pending[f"docs/{lang}/{path.relative_to(DOCS / lang).as_posix()}"] = topics
    with capsys.disabled():
        for page, topics in pending.items():
            print(f"\n  pending topic links: {page} → {', '.join(topics)}", end="")


COVERED = {"3.2": "optimization/gradient-descent.md", "4.1": "convolution/why-convolution.md"}


def test_a_covered_topic_becomes_a_relative_link() -> None:
    out, pending = tp.resolve("See [GD](topic:3.2) and [CNNs](topic:4.1).", "neural-networks/mlp.md", COVERED, PARTS, "en")
    assert out == "See [GD](../optimization/gradient-descent.md) and [CNNs](../convolution/why-convolution.md)."
    assert pending == []


def test_a_topic_not_written_yet_is_marked_and_returned() -> None:
    out, pending = tp.resolve("See [RNNs](topic:5.3).", "sequences/attention.md", COVERED, PARTS, "ko")
    assert out == 'See <span class="topic-pending" title="커리큘럼 5.3: 아직 쓰지 않은 주제">RNNs</span>.'
    assert pending == ["5.3"]


@pytest.mark.parametrize("link", ["[x](topic:4.9)", "[x](topic:7.1)", "[x](topic:2.0)"])
def test_a_topic_outside_the_curriculum_stops_the_build(link: str) -> None:
    with pytest.raises(PluginError, match=r"a\.md links to topic \d\.\d, which is not in the curriculum"):
        tp.resolve(link, "a.md", COVERED, PARTS, "en")
