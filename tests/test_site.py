"""The real site, built once with --strict: what a reader downloads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from support import DOCS, LANGUAGES, facts, mkdocs_config, pages

SITE_PATH = urlparse(mkdocs_config().site_url).path.rstrip("/")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def html_path(site: Path, lang: str, page: Path) -> Path:
    """Where mkdocs (directory URLs) and i18n (default language at the root) write a page."""
    parts = page.with_suffix("").parts
    if parts[-1] == "index":
        parts = parts[:-1]
    return site.joinpath(*([] if lang == "ko" else [lang]), *parts, "index.html")


ALL = [(lang, page) for lang in LANGUAGES for page in pages(lang)]
IDS = [f"{lang}/{page.as_posix()}" for lang, page in ALL]


@pytest.mark.parametrize(("lang", "page"), ALL, ids=IDS)
def test_every_formula_is_rendered_by_katex(site: Path, lang: str, page: Path) -> None:
    html = html_path(site, lang, page).read_text(encoding="utf-8")
    expected = len(facts(DOCS / lang / page).formulas)
    assert html.count('class="katex"') == expected, f"{lang}/{page}: {expected} formulas in the source"
    assert not re.search(r'class="arithmatex">\\[(\[]', html), f"{lang}/{page}: unrendered formula"


@pytest.mark.parametrize(("lang", "page"), ALL, ids=IDS)
def test_pages_load_nothing_from_other_hosts(site: Path, lang: str, page: Path) -> None:
    html = html_path(site, lang, page).read_text(encoding="utf-8")
    loaded = re.findall(r'<(?:script|img|iframe|source)\b[^>]*\bsrc="([^"]+)"', html)
    for tag in re.findall(r"<link\b[^>]*>", html):  # links that make the browser fetch something
        rel = re.search(r'\brel="([^"]+)"', tag)
        if rel and set(rel[1].split()) & {"stylesheet", "icon", "preload", "modulepreload", "manifest", "prefetch"}:
            loaded += re.findall(r'\bhref="([^"]+)"', tag)
    foreign = [u for u in loaded if urlparse(u).scheme in {"http", "https"} or u.startswith("//")]
    assert not foreign, f"{lang}/{page} loads {foreign}"


def test_stylesheets_load_nothing_from_other_hosts(site: Path) -> None:
    for css in site.rglob("*.css"):
        urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", css.read_text(encoding="utf-8"))
        foreign = [u for u in urls if urlparse(u).scheme in {"http", "https"} or u.startswith("//")]
        assert not foreign, f"{css.relative_to(site)} loads {foreign}"
        for u in urls:
            if not urlparse(u).scheme and not u.startswith("#"):
                assert (css.parent / u.split("?")[0].split("#")[0]).is_file(), f"{css.relative_to(site)}: {u} missing"


@pytest.mark.parametrize(("lang", "page"), ALL, ids=IDS)
def test_figures_and_snippet_downloads_are_published(site: Path, lang: str, page: Path) -> None:
    out = html_path(site, lang, page)
    html = out.read_text(encoding="utf-8")
    targets = re.findall(r'<img[^>]*\bsrc="([^"]+\.svg)"', html) + re.findall(r'href="([^"]+\.py)"', html)
    for target in targets:
        file = (out.parent / target).resolve()
        assert file.is_file() and file.stat().st_size > 0, f"{lang}/{page}: {target} not published"
    if facts(DOCS / lang / page).images:
        assert targets
    for img in re.findall(r'<img\b[^>]*\bsrc="[^"]*figures/[^"]+\.svg"[^>]*>', html):
        # The browser reserves the figure's box before the SVG arrives: no layout shift.
        size = re.search(r'\bwidth="(\d+)" height="(\d+)"', img)
        src = re.search(r'\bsrc="([^"]+)"', img)[1]
        svg = (out.parent / src).read_text(encoding="utf-8")[:2000]
        points = re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg)
        assert size and points, f"{lang}/{page}: {src} has no width and height"
        assert abs(int(size[1]) / int(size[2]) - float(points[1]) / float(points[2])) < 0.01, f"{lang}/{page}: {src} aspect"


def test_svg_figures_are_stable(site: Path) -> None:
    svgs = list((site / "figures").glob("*.svg"))
    assert svgs
    for svg in svgs:
        text = svg.read_text(encoding="utf-8")
        assert "<dc:date>" not in text, f"{svg.name} carries a date"


@pytest.mark.parametrize(("lang", "page"), ALL, ids=IDS)
def test_language_switcher_leads_to_the_same_concept(site: Path, lang: str, page: Path) -> None:
    out = html_path(site, lang, page)
    html = out.read_text(encoding="utf-8")
    base = "http://x" + "/" + out.parent.relative_to(site).as_posix() + "/"
    for other in LANGUAGES:
        links = re.findall(rf'<a href="([^"]+)" hreflang="{other}" class="md-select__link">', html)
        assert links, f"{lang}/{page}: no language-selector link to {other}"
        target = urlparse(urljoin(base, links[0])).path
        if links[0].startswith("/"):  # i18n writes home-page links from site_url's path
            target = target.removeprefix(SITE_PATH)
        target = target.lstrip("/")
        assert (site / target / "index.html").resolve() == html_path(site, other, page).resolve(), f"{lang}/{page} -> {links[0]}"


def test_sitemaps_carry_per_page_hreflang_alternates(site: Path) -> None:
    site_url = mkdocs_config().site_url
    for lang in LANGUAGES:
        sitemap = (site / ("" if lang == "ko" else lang) / "sitemap.xml").read_text(encoding="utf-8")
        for page in pages("ko"):
            urls = {other: site_url + html_path(Path(), other, page).parent.as_posix().removeprefix(".") for other in LANGUAGES}
            urls = {k: (v if v.endswith("/") else v + "/") for k, v in urls.items()}
            for other, url in urls.items():
                assert f'hreflang="{other}" href="{url}"' in sitemap, f"{lang} sitemap lacks {other} alternate {url}"


def test_korean_heading_anchors_are_readable(site: Path) -> None:
    ids = []
    for page in pages("ko"):
        html = html_path(site, "ko", page).read_text(encoding="utf-8")
        ids += re.findall(r'<h[2-4] id="([^"]+)"', html)
    assert ids and any(HANGUL.search(i) for i in ids)
    assert not [i for i in ids if re.fullmatch(r"_\d+", i)], "slugify dropped the Korean text"


def test_each_language_has_its_own_search_index(site: Path) -> None:
    """Korean pages load the root index, English pages en/search/: each holds only its language."""
    for lang in LANGUAGES:
        root = site / ("" if lang == "ko" else lang)
        index = json.loads((root / "search" / "search_index.json").read_text(encoding="utf-8"))
        assert index["config"]["lang"] == [lang]
        titles = [doc["title"] for doc in index["docs"] if "#" not in doc["location"]]
        assert len(titles) == len(pages(lang)), f"{lang}: {len(titles)} pages in the index, {len(pages(lang))} written"
        for doc in index["docs"]:
            page = doc["location"].split("#")[0]
            assert (root / page / "index.html").is_file() or (root / page).is_file(), f"{lang} index: {doc['location']} is not a {lang} page"
            assert lang != "ko" or not page.startswith("en/"), f"ko index holds an English page: {page}"
            assert "notebooks/" not in page, f"{lang} index holds a notebook page: {page}"
        assert (lang == "ko") == any(HANGUL.search(t) for t in titles), f"{lang} index titles: {titles[:5]}"


def test_search_indexes_leave_out_code_blocks(site: Path) -> None:
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert not [d["location"] for d in index["docs"] if "<pre" in d["text"] or "import torch" in d["text"]]


@pytest.mark.parametrize(("lang", "page"), ALL, ids=IDS)
def test_pages_search_their_own_languages_index(site: Path, lang: str, page: Path) -> None:
    out = html_path(site, lang, page)
    config = json.loads(re.search(r'<script id="__config" type="application/json">(.*?)</script>', out.read_text(encoding="utf-8"), re.S)[1])
    base = (out.parent / config["base"]).resolve()
    assert base == (site / ("" if lang == "ko" else lang)).resolve(), f"{lang}/{page}: search base {config['base']} is {base}"
    assert (base / "search" / "search_index.json").is_file()


@pytest.mark.parametrize(("lang", "page"), ALL, ids=IDS)
def test_page_language_title_and_description(site: Path, lang: str, page: Path) -> None:
    """<html lang>, <title> and the description are in the page's language; titles don't repeat."""
    html = html_path(site, lang, page).read_text(encoding="utf-8")
    assert f'<html lang="{lang}"' in html
    title = re.search(r"<title>(.*?)</title>", html, re.S)[1]
    description = re.search(r'<meta name="description" content="([^"]*)"', html)[1]
    for name, text in (("title", title), ("description", description)):
        assert bool(HANGUL.search(text)) == (lang == "ko"), f"{lang}/{page}: {name} not in {lang}: {text}"
    first, _, rest = title.partition(" - ")
    assert first != rest, f"{lang}/{page}: title repeats the site name: {title}"
