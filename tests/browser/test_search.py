"""The search box, typed into as a reader would, on each language's site."""

from __future__ import annotations

import tomllib
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

QUERIES = tomllib.loads((Path(__file__).with_name("search_queries.toml")).read_text(encoding="utf-8"))["query"]
# Known gaps, kept visible as strict xfails (a fix makes them fail, and the entry must go):
# Material's lunr (with lunr.ko) finds nothing for some single Korean words, and the one search
# index shared by both languages lets a Korean page outrank the English one for English terms.
KNOWN_GAPS = {"ko:역전파", "ko:backpropagation", "ko:어텐션", "ko:드롭아웃", "ko:옵티마이저", "en:batch normalization"}


@pytest.fixture(scope="module")
def search_box(browser, server: str):
    """One tab per language site, its search index loaded once, reused for every query."""
    tabs = {}

    def open_tab(lang: str):
        if lang not in tabs:
            context = browser.new_context()
            tab = context.new_page()
            root = server + ("" if lang == "ko" else f"{lang}/")
            tab.goto(root, wait_until="networkidle")
            tab.locator(".md-search__input").click()
            tabs[lang] = (context, tab, root)
        return tabs[lang]

    yield open_tab
    for context, _, _ in tabs.values():
        context.close()


def search(search_box, query: dict) -> tuple[str, list[str]]:
    _, tab, root = search_box(query["lang"])
    box = tab.locator(".md-search__input")
    results = tab.locator(".md-search-result__item > .md-search-result__link")
    for _ in range(15):  # the search worker drops queries typed before its index is built: retype
        box.fill("")
        box.press_sequentially(query["text"], delay=20)
        tab.wait_for_timeout(300)
        if results.count():
            break
    hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
    return root, [urlparse(urljoin(root, h))._replace(query="", fragment="").geturl() for h in hrefs]


def params(gaps: set[str]) -> list:
    return [
        pytest.param(q, id=f"{q['lang']}:{q['text']}", marks=[pytest.mark.xfail(strict=True, reason="known search gap (see KNOWN_GAPS)")] if f"{q['lang']}:{q['text']}" in gaps else [])
        for q in QUERIES
    ]


@pytest.mark.parametrize("query", params(KNOWN_GAPS))
def test_search_finds_the_right_page_first(search_box, query: dict) -> None:
    root, hrefs = search(search_box, query)
    assert hrefs, f"no results for {query['text']!r}"
    expected = root + query["first"] + "/"
    assert hrefs[0] == expected, f"first result {hrefs[0]}, expected {expected}; all: {hrefs[:5]}"
