"""What a reader sees, page by page, in both languages, in a real browser."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from support import DOCS, LANGUAGES, ROOT, facts, pages
from test_phone import check_on_a_phone

HANGUL = re.compile(r"[\uac00-\ud7a3]")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# What axe may report, each for a narrow reason, as a test on the element (`el`):
ALLOWED_AXE = {
    # A header holding only a formula: KaTeX hides its HTML from screen readers and gives them
    # MathML, which axe's visible-text heuristic cannot see.
    "empty-table-header": "el.querySelector('.katex')",
}

DESKTOP = {"width": 1280, "height": 720}  # Playwright's default viewport, named
ALL = [(lang, page) for lang in LANGUAGES for page in pages(lang)]
IDS = [f"{lang}/{page.as_posix()}" for lang, page in ALL]


def page_url(server: str, lang: str, page: Path) -> str:
    path = page.with_suffix("").as_posix()
    path = "" if path == "index" else path.removesuffix("/index") + "/"
    return server + ("" if lang == "ko" else f"{lang}/") + path


class Visit:
    """A page loaded in a fresh tab, with every request, failure and console error recorded."""

    def __init__(self, browser, url: str, *, dark: bool = False, wait_until: str = "load") -> None:
        # Reduced motion (the site then runs no transitions): every check sees a settled page.
        self.context = browser.new_context(
            color_scheme="dark" if dark else "light", reduced_motion="reduce", viewport=DESKTOP
        )
        self.tab = self.context.new_page()
        self.requests: list[str] = []
        self.failures: list[str] = []
        self.errors: list[str] = []
        self.tab.on("request", lambda r: self.requests.append(r.url))
        self.tab.on("requestfailed", lambda r: self.failures.append(f"{r.url} ({r.failure})"))
        self.tab.on("response", lambda r: r.status >= 400 and self.failures.append(f"{r.url} ({r.status})"))
        self.tab.on("console", lambda m: m.type == "error" and self.errors.append(f"{m.text} at {m.location.get('url')}"))
        self.tab.on("pageerror", lambda e: self.errors.append(str(e)))
        # "load": every stylesheet, script, font and eagerly loaded image of the page is in. The
        # pages start nothing later (the search index waits for the reader); pages visited with
        # "networkidle" (half a second of silence) check that.
        self.response = self.tab.goto(url, wait_until=wait_until)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser, server):
    opened: list[Visit] = []

    def open_page(lang: str, page: Path, **kwargs) -> Visit:
        opened.append(Visit(browser, page_url(server, lang, page), **kwargs))
        return opened[-1]

    yield open_page
    for v in opened:
        v.close()


def check_loads_cleanly(v: Visit, server: str) -> None:
    assert v.response.status == 200
    assert not v.errors, f"console errors: {v.errors}"
    assert not v.failures, f"failed requests: {v.failures}"
    host = urlparse(server).netloc
    foreign = [u for u in v.requests if urlparse(u).scheme in {"http", "https"} and urlparse(u).netloc != host]
    assert not foreign, f"requests to other hosts: {foreign}"


FIRST_VIEW_BUDGET = 400 * 1024  # bytes on the wire (gzip, headers included) for a first view: 400 KB as make page-weight counts


def check_first_view_weight(v: Visit) -> None:
    """A reader's first view of the page (a fresh browser, nothing cached; the site served with gzip
    as GitHub Pages serves it) transfers at most FIRST_VIEW_BUDGET bytes, the document and
    everything it loaded by its load event. The search index is not among them: it loads when
    the reader starts a search (tests/browser/test_search.py)."""
    entries = v.tab.evaluate("""() => [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]
        .map(e => [e.name, e.transferSize])""")
    assert all(size > 0 for _, size in entries), f"a response with no size (from a cache?): {entries}"
    total = sum(size for _, size in entries)
    heaviest = sorted(entries, key=lambda e: -e[1])[:5]
    assert total <= FIRST_VIEW_BUDGET, f"first view {total:,} bytes > {FIRST_VIEW_BUDGET:,}; heaviest: {heaviest}"
    assert not [name for name, _ in entries if "search_index" in name], "the search index loaded on first view"


# The article's text outside rendered formulas, all of it. (innerText, used before, leaves out what
# is not rendered: folded solutions, and every block that site.css lets the browser skip far from
# the viewport; raw $$ in a list item on what-is-ml went unseen. It was also ten times slower.)
TEXT_OUTSIDE_FORMULAS = """article => {
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT,
    {acceptNode: n => n.parentElement.closest(".katex") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  let text = "";
  while (walker.nextNode()) text += walker.currentNode.data;
  return text;
}"""


def check_formulas(v: Visit, lang: str, page: Path) -> None:
    assert v.tab.locator(".md-content .katex").count() == len(facts(DOCS / lang / page).formulas)
    text = v.tab.evaluate(TEXT_OUTSIDE_FORMULAS, v.tab.locator(".md-content article").element_handle())
    for raw in ("\\(", "\\[", "$$"):
        assert raw not in text, f"raw {raw} visible"


def check_figures(v: Visit, lang: str, page: Path) -> None:
    """Every figure loaded (the page's load event waits for them: they are not lazy), with alt text
    in the page's language, a white background in both schemes and a link to its full-size SVG."""
    infos = v.tab.locator('.md-content img[src*="figures/"]').evaluate_all(
        """imgs => imgs.map(e => ({w: e.naturalWidth, alt: e.alt, bg: getComputedStyle(e).backgroundColor,
            lazy: e.loading === "lazy", zoom: e.closest('a') && e.closest('a').getAttribute('href')}))"""
    )
    assert len(infos) == len([i for i in facts(DOCS / lang / page).images if "figures/" in i])
    for i, info in enumerate(infos, start=1):
        assert not info["lazy"], f"figure {i} is lazy-loaded: the first view should show it"
        assert info["w"] > 0, f"figure {i} did not load"
        assert info["alt"].strip(), f"figure {i} has no alt text"
        assert bool(HANGUL.search(info["alt"])) == (lang == "ko"), f"alt text not in {lang}: {info['alt']}"
        assert info["bg"] == "rgb(255, 255, 255)", "figures keep their white background in both schemes"
        assert info["zoom"] and info["zoom"].endswith(".svg"), "a figure links to its full-size SVG"


def check_language_switcher(v: Visit, server: str, lang: str, page: Path) -> None:
    for other in LANGUAGES:
        href = v.tab.locator(f'.md-select__link[hreflang="{other}"]').get_attribute("href")
        target = urljoin(v.tab.url, href)
        assert target == page_url(server, other, page), f"switcher to {other} goes to {target}"
        assert v.context.request.get(target).status == 200


def check_heading_anchors(v: Visit, lang: str) -> None:
    ids = v.tab.locator(".md-content article :is(h2, h3, h4)[id]").evaluate_all("els => els.map(e => e.id)")
    assert not [i for i in ids if re.fullmatch(r"_\d+", i)], f"unreadable anchors: {ids}"
    if lang == "ko" and ids:
        assert any(HANGUL.search(i) for i in ids)


def check_accessibility(v: Visit, *, contrast: bool = True) -> None:
    if not AXE.is_file():
        pytest.skip("axe-core is missing: run `npm ci`")
    v.tab.add_script_tag(path=str(AXE))
    # site.css skips rendering blocks far from the viewport (content-visibility); axe checks them all.
    v.tab.add_style_tag(content=".md-typeset > * { content-visibility: visible !important; }")
    # No transition may be running while axe measures colours (the back-to-top button used to be
    # sampled half-way through fading in): with reduced motion there are none; wait for any left.
    v.tab.evaluate("""Promise.all(document.getAnimations()
        .filter(a => isFinite(a.effect?.getComputedTiming().endTime))
        .map(a => a.finished.catch(() => null)))""")
    options = {"resultTypes": ["violations"]} | ({} if contrast else {"rules": {"color-contrast": {"enabled": False}}})
    if not contrast:
        # Without the contrast rule, KaTeX's visual HTML is taken out of the page first: it is
        # aria-hidden (screen readers get the MathML beside it), holds nothing focusable (checked
        # here) and nothing the other rules look at, and it is about half a formula page's elements;
        # axe then runs in about 60 % of the time. (axe's own `exclude` made it slower, not faster.)
        # Likewise the syntax highlighter's token spans that hold only text and a class (up to half
        # of what is left) become their text (line anchors, code and any other span stay): 30 % less.
        hidden = v.tab.evaluate("""() => {
            const html = [...document.querySelectorAll('.katex-html')];
            const shown = html.filter(e => e.closest('[aria-hidden=true]') === null).length;
            const focusable = html.filter(e => e.querySelector('a, button, input, select, textarea, [tabindex]')).length;
            html.forEach(e => e.remove());
            [...document.querySelectorAll('.highlight code span')]
                .filter(e => !e.children.length && [...e.attributes].every(a => a.name === 'class'))
                .forEach(e => e.replaceWith(e.textContent));
            return {shown, focusable};
        }""")
        assert hidden == {"shown": 0, "focusable": 0}, f"KaTeX's visual HTML must be aria-hidden and hold nothing focusable: {hidden}"
    violations = v.tab.evaluate(
        """async ([allowed, options]) => (await axe.run(document, options))
            .violations.map(x => ({id: x.id, nodes: x.nodes
            .filter(n => !(x.id in allowed &&
                           new Function("el", "return " + allowed[x.id])(document.querySelector(n.target[0]))))
            .map(n => n.target.join(' '))}))""",
        [ALLOWED_AXE, options],
    )
    ours = [x for x in violations if x["nodes"]]
    assert not ours, f"axe: {ours}"


def check_dark_scheme_toggle(v: Visit) -> None:
    """The header's toggle switches to the dark scheme in place; figures stay readable."""
    assert v.tab.locator("body").get_attribute("data-md-color-scheme") == "default"
    v.tab.locator("form[data-md-component=palette] label:visible").first.click()
    assert v.tab.locator("body").get_attribute("data-md-color-scheme") == "slate"


# Colour contrast is a property of the theme's colours and of the kinds of element a page holds
# (code token classes, admonition types, tables, ...), not of its words: axe's colour-contrast
# rule (the costliest, seconds per page) runs on a set of pages that together hold every kind of
# element of the site, in both schemes; every other rule runs on every page. Pages set no colours
# of their own (checked below), so a new page with nothing new in it cannot add a contrast problem.
# (Leaving formulas out with axe's `exclude` made it slower, not faster.)
FEATURE = re.compile(r'<span class="(\w+)"|class="admonition (\w+)|<(table|details|figure|blockquote|dl|kbd|mark|abbr|img|a)\b')


def built_page(site: Path, lang: str, page: Path) -> Path:
    path = page.with_suffix("").as_posix()
    path = "" if path == "index" else path + "/"
    return site / ("" if lang == "ko" else lang) / path / "index.html"


def cover(features: dict[Path, set[str]]) -> set[Path]:
    """Few pages (greedily: the one adding most first) that together hold every feature any page holds."""
    todo, chosen = set().union(*features.values()), set()
    while todo:
        best = max(features, key=lambda p: (len(features[p] & todo), -len(str(p))))
        chosen.add(best)
        todo -= features[best]
    return chosen


@pytest.fixture(scope="session")
def contrast_pages(site: Path) -> set[tuple[str, Path]]:
    chosen = set()
    for lang in LANGUAGES:
        features = {}
        for page in pages(lang):
            html = built_page(site, lang, page).read_text(encoding="utf-8")
            html = html[html.index("<article") : html.index("</article>")]
            features[page] = {next(g for g in m.groups() if g) for m in FEATURE.finditer(html)}
        chosen |= {(lang, page) for page in cover(features)}
    return chosen


def test_pages_set_no_colours_of_their_own() -> None:
    own = re.compile(r"\\(?:color|textcolor|colorbox)\b|style=\"[^\"]*(?:color|background)|<font\b")
    found = [f"docs/{lang}/{page.as_posix()}" for lang in LANGUAGES for page in pages(lang) if own.search((DOCS / lang / page).read_text(encoding="utf-8"))]
    assert not found, f"pages that colour their own text (the contrast sample assumes none): {found}"


def test_the_contrast_sample_covers_every_kind_of_element() -> None:
    a, b, c = Path("a.md"), Path("b.md"), Path("c.md")
    assert cover({a: {"k", "table"}, b: {"mf", "note"}, c: {"k"}}) == {a, b}, "c adds nothing"
    assert cover({a: {"k"}, b: {"k", "mf"}}) == {b}


def axe_language(page: Path) -> str:
    """The language in which axe's structural rules check ``page`` (both languages if it is in the
    contrast sample). The two languages of a page are built from the same Markdown structure, the
    same template and the same figures, formulas and code (tests/test_parity.py), and axe's rules
    look at structure and attributes, not words; alternating the language page by page checks each
    language's template and half the pages in it, at half the cost (axe is most of a visit)."""
    order = sorted(p.as_posix() for p in pages(LANGUAGES[0]))
    return LANGUAGES[order.index(page.as_posix()) % len(LANGUAGES)]


def test_every_page_is_checked_by_axe_in_one_language_and_both_languages_are_used() -> None:
    chosen = [axe_language(p) for p in pages(LANGUAGES[0])]
    assert set(chosen) == set(LANGUAGES)
    assert all(p in pages(lang) for lang in LANGUAGES for p in pages(LANGUAGES[0])), "same pages in both languages"


@pytest.mark.parametrize(("lang", "page"), ALL, ids=IDS)
def test_page_as_a_reader_sees_it(visit, server: str, contrast_pages, lang: str, page: Path) -> None:
    """One visit: loads cleanly from this server only, within the first-view budget, formulas
    rendered, figures, switcher, anchors; the page on a phone (360 px, see below); then axe (see
    axe_language) at desktop width."""
    v = visit(lang, page)
    check_loads_cleanly(v, server)
    check_first_view_weight(v)
    check_formulas(v, lang, page)
    check_figures(v, lang, page)
    check_language_switcher(v, server, lang, page)
    check_heading_anchors(v, lang)
    contrast = (lang, page) in contrast_pages
    # On a phone: Korean line breaks need every Korean page. What can make a page wider than the
    # screen (formulas, code, figures, tables) is the same in both languages (tests/test_parity.py),
    # so the English pages of the contrast sample suffice for the English template.
    if lang == "ko" or contrast:
        check_on_a_phone(v, lang, page)
        v.tab.set_viewport_size(DESKTOP)  # axe sees the desktop layout
    if contrast or axe_language(page) == lang:
        check_accessibility(v, contrast=contrast)
    check_loads_cleanly(v, server)


# The colour scheme is the theme's, the same on every page: checked on the home page and on a page
# with figures, formulas and code, in both languages, after the network has gone quiet.
SCHEME_PAGES = [Path("index.md"), Path("sequences/attention.md")]


@pytest.mark.parametrize("page", SCHEME_PAGES, ids=[p.as_posix() for p in SCHEME_PAGES])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_dark_scheme_toggle_keeps_figures_readable(visit, server: str, lang: str, page: Path) -> None:
    v = visit(lang, page, wait_until="networkidle")
    check_loads_cleanly(v, server)
    check_dark_scheme_toggle(v)
    check_figures(v, lang, page)
    if page != SCHEME_PAGES[-1]:  # axe sees that page in the dark scheme in the test below
        check_accessibility(v)
    check_loads_cleanly(v, server)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_dark_scheme_follows_the_readers_system_setting(visit, server: str, lang: str) -> None:
    v = visit(lang, SCHEME_PAGES[-1], dark=True, wait_until="networkidle")
    assert v.tab.locator("body").get_attribute("data-md-color-scheme") == "slate"
    check_loads_cleanly(v, server)
    check_figures(v, lang, SCHEME_PAGES[-1])
    check_accessibility(v)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_missing_pages_get_the_404_page_in_both_languages(browser, server: str, lang: str) -> None:
    context = browser.new_context()
    tab = context.new_page()
    response = tab.goto(server + ("" if lang == "ko" else f"{lang}/") + "no/such/page/")
    assert response.status == 404
    assert tab.locator('div[lang="ko"] p').inner_text().strip() and tab.locator('div[lang="en"] p').inner_text().strip()
    assert "페이지를 찾을 수 없습니다" in tab.content() and "Page not found" in tab.content()
    context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_screenshots_light_and_dark(visit, lang: str, tmp_path_factory) -> None:
    """Keeps screenshots of one page per language and scheme (CI uploads test-artifacts/)."""
    out = Path(ROOT / "test-artifacts")
    out.mkdir(exist_ok=True)
    for dark in (False, True):
        v = visit(lang, Path("sequences/attention.md"), dark=dark)
        path = out / f"attention-{lang}-{'dark' if dark else 'light'}.png"
        v.tab.screenshot(path=str(path), full_page=False)
        assert path.stat().st_size > 10_000
