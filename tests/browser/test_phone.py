"""On a phone (360 px wide): Korean lines break between words only, and no page scrolls sideways.

Every Korean page, and the English pages of the contrast sample, are checked by
tests/browser/test_reader.py (``check_on_a_phone``, on the page it has already loaded); this
module holds the check and proves it can fail."""

from __future__ import annotations

from pathlib import Path

import pytest

PHONE = {"width": 360, "height": 740}

# Line breaks inside a Korean word: two Hangul syllables on different lines, inside one run of
# Hangul between spaces in one text node. A run touching the edge of its text node continues into
# a link or code (one long token, which may wrap anywhere), so it is left out, as are code and formulas.
MID_WORD_BREAKS = """el => {
  const found = [];
  const hangul = /[\\uac00-\\ud7a3]/;
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  // Two ranges, reused: every Range a page creates stays live (the browser updates it on each later
  // change to the page) until it is garbage-collected, and one per character made axe, which runs
  // next on the same page, three times slower.
  const range = document.createRange(), char = document.createRange();
  const lines = (node, start, end) => { range.setStart(node, start); range.setEnd(node, end); return range.getClientRects().length; };
  while (walker.nextNode()) {
    const node = walker.currentNode, text = node.data;
    if (!hangul.test(text) || node.parentElement.closest("code, pre, .katex, .arithmatex")) continue;
    if (lines(node, 0, text.length) < 2) continue;  // on one line: no break inside it
    // Each word (a run between spaces) on two lines or more, character by character.
    for (const m of text.matchAll(/\\S+/g)) {
      const a = m.index, b = a + m[0].length - 1;
      if (a === 0 || b === text.length - 1 || !/^[\\uac00-\\ud7a3.,()]+$/.test(m[0]) || lines(node, a, b + 1) < 2) continue;
      let previousTop = null;
      for (let i = a; i <= b; i++) {
        char.setStart(node, i);
        char.setEnd(node, i + 1);
        const rect = char.getClientRects()[0];
        if (!rect) { previousTop = null; continue; }
        if (previousTop !== null && rect.top > previousTop + 2 && hangul.test(text[i]) && hangul.test(text[i - 1])) {
          found.push(m[0]);
          break;
        }
        previousTop = rect.top;
      }
    }
  }
  return found;
}"""


def check_on_a_phone(v, lang: str, page: Path) -> None:
    """The page at 360 px (called by the reader test on the page it has loaded): nothing wider than
    the screen, and Korean lines break between words."""
    v.tab.set_viewport_size(PHONE)
    v.tab.add_style_tag(content=".md-typeset > * { content-visibility: visible !important; }")
    width = v.tab.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{lang}/{page}: the page is {width} px wide on a {PHONE['width']} px screen"
    if lang == "ko":
        breaks = v.tab.evaluate(MID_WORD_BREAKS, v.tab.locator(".md-content article").element_handle())
        assert not breaks, f"ko/{page}: lines break inside words: {breaks[:10]}"


@pytest.fixture(scope="module")
def phone(browser):
    context = browser.new_context(viewport=PHONE, reduced_motion="reduce", is_mobile=True)
    yield context.new_page()
    context.close()


def test_the_check_sees_a_mid_word_break(phone, server: str) -> None:
    from test_reader import page_url

    """Without keep-all (the browser's default), a narrow Korean paragraph does break inside words."""
    phone.goto(page_url(server, "ko", Path("neural-networks/perceptron.md")), wait_until="load")
    phone.add_style_tag(content="html[lang=ko] .md-typeset { word-break: normal !important; }")
    phone.add_style_tag(content=".md-typeset > * { content-visibility: visible !important; }")
    assert phone.evaluate(MID_WORD_BREAKS, phone.locator(".md-content article").element_handle())
