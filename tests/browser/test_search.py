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


def search(browser, server: str, query: dict) -> tuple[str, list[str]]:
    context = browser.new_context()
    tab = context.new_page()
    root = server + ("" if query["lang"] == "ko" else f"{query['lang']}/")
    tab.goto(root, wait_until="networkidle")
    box = tab.locator(".md-search__input")
    box.click()
    results = tab.locator(".md-search-result__item > .md-search-result__link")
    for _ in range(30):  # the search worker drops queries typed before its index is built: retype
        box.fill("")
        box.press_sequentially(query["text"], delay=20)
        tab.wait_for_timeout(500)
        if results.count():
            break
    hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
    context.close()
    return root, [urlparse(urljoin(root, h))._replace(query="", fragment="").geturl() for h in hrefs]


def params(gaps: set[str]) -> list:
    return [
        pytest.param(q, id=f"{q['lang']}:{q['text']}", marks=[pytest.mark.xfail(strict=True, reason="known search gap (see KNOWN_GAPS)")] if f"{q['lang']}:{q['text']}" in gaps else [])
        for q in QUERIES
    ]


@pytest.mark.parametrize("query", params(KNOWN_GAPS))
def test_search_finds_the_right_page_first(browser, server: str, query: dict) -> None:
    root, hrefs = search(browser, server, query)
    assert hrefs, f"no results for {query['text']!r}"
    expected = root + query["first"] + "/"
    assert hrefs[0] == expected, f"first result {hrefs[0]}, expected {expected}; all: {hrefs[:5]}"


@pytest.mark.xfail(strict=False, reason="mkdocs-static-i18n merges both languages into one search index that every page loads")
@pytest.mark.parametrize("query", params(set()))
def test_search_answers_in_the_site_language_only(browser, server: str, query: dict) -> None:
    _, hrefs = search(browser, server, query)
    other = [h for h in hrefs if (("/en/" in h) != (query["lang"] == "en"))]
    assert not other, f"results from the other language: {other}"
