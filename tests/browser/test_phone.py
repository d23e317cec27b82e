"""On a phone (360 px wide): Korean lines break between words only, and no page scrolls sideways."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import LANGUAGES, pages
from test_reader import page_url

ALL = [(lang, page) for lang in LANGUAGES for page in pages(lang)]
PHONE = {"width": 360, "height": 740}

# Pairs of adjacent Hangul syllables that a line break separates: a break inside a word. Text in
# code, formulas and links is left out (their own wrapping rules apply).
MID_WORD_BREAKS = """el => {
  const found = [];
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  let prev = null;
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest("code, pre, .katex, .arithmatex")) { prev = null; continue; }
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (!rect) continue;
      const ch = node.data[i];
      if (prev && rect.top > prev.top + 2 && /[\\uac00-\\ud7a3]/.test(ch) && /[\\uac00-\\ud7a3]/.test(prev.ch)) {
        found.push(prev.ch + "|" + ch);
      }
      prev = { ch, top: rect.top };
    }
  }
  return found;
}"""


@pytest.fixture(scope="module")
def phone(browser):
    context = browser.new_context(viewport=PHONE, reduced_motion="reduce", is_mobile=True)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize(("lang", "page"), ALL, ids=[f"{lang}/{p.as_posix()}" for lang, p in ALL])
def test_page_on_a_phone(phone, server: str, lang: str, page: Path) -> None:
    phone.goto(page_url(server, lang, page), wait_until="load")
    phone.add_style_tag(content=".md-typeset > * { content-visibility: visible !important; }")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{lang}/{page}: the page is {width} px wide on a {PHONE['width']} px screen"
    if lang == "ko":
        breaks = phone.evaluate(MID_WORD_BREAKS, phone.locator(".md-content article").element_handle())
        assert not breaks, f"ko/{page}: lines break inside words: {breaks[:10]}"


def test_the_check_sees_a_mid_word_break(phone, server: str) -> None:
    """Without keep-all (the browser's default), a narrow Korean paragraph does break inside words."""
    phone.goto(page_url(server, "ko", Path("neural-networks/perceptron.md")), wait_until="load")
    phone.add_style_tag(content="html[lang=ko] .md-typeset { word-break: normal !important; }")
    phone.add_style_tag(content=".md-typeset > * { content-visibility: visible !important; }")
    assert phone.evaluate(MID_WORD_BREAKS, phone.locator(".md-content article").element_handle())
