"""Every HTML file of the built site: valid markup (vnu) and no broken internal link or anchor.

mkdocs ``validation:`` checks the links written in Markdown; this checks what is published,
generated pages included (notebook pages, the 404 page, figure and download links, theme links).
"""

from __future__ import annotations

import json
import posixpath
import re
import shutil
import subprocess
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from support import ROOT, mkdocs_config

SITE_PATH = urlparse(mkdocs_config().site_url).path  # "/dl-textbook/": the 404 page links from it
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
LINKING = {("a", "href"), ("link", "href"), ("img", "src"), ("script", "src"), ("source", "src"), ("iframe", "src")}

# Errors vnu reports in Material's own theme markup, on every page: (message, the markup it is in).
# Anything else is ours to fix.
THEME_ERRORS = [
    # navigation section labels: <label class="md-nav__link" ... tabindex="">
    (re.compile(r"Bad value “” for attribute “tabindex” on element “label”"), re.compile(r'<label class="md-nav__link')),
    # drawer and search toggles: <input class="md-toggle" type="checkbox" autocomplete="off">
    (re.compile(r"Attribute “autocomplete” is only allowed when the input type is"), re.compile(r'<input class="md-toggle"')),
]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)
            elif (tag, name) in LINKING:
                self.urls.append(value)


@cache
def parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def broken_links(site: Path, page: Path) -> list[str]:
    """``"url (why)"`` for every link on ``page`` to a missing file or a missing anchor."""
    here = page.parent.relative_to(site).as_posix()
    problems = []
    for url in parse(page).urls:
        parts = urlparse(url)
        if parts.scheme or parts.netloc or not (parts.path or parts.fragment):
            continue  # other hosts (never fetched: no network at test time), mailto:, data:
        path = unquote(parts.path)
        if path.startswith("/"):
            if not path.startswith(SITE_PATH):
                problems.append(f"{url} (outside the site's path {SITE_PATH})")
                continue
            target = posixpath.normpath(path.removeprefix(SITE_PATH))
        else:
            target = posixpath.normpath(posixpath.join(here, path)) if path else page.relative_to(site).as_posix()
        file = site / target
        if file.is_dir():
            file = file / "index.html"
        if target.startswith("..") or not file.is_file():
            problems.append(f"{url} (no file {target})")
        elif parts.fragment and file.suffix == ".html" and unquote(parts.fragment) not in parse(file).ids:
            problems.append(f"{url} (no id {unquote(parts.fragment)!r} in {file.relative_to(site)})")
    return problems


def test_no_broken_internal_links_or_anchors(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 20
    problems = [f"{page.relative_to(site)}: {p}" for page in pages for p in broken_links(site, page)]
    assert not problems, f"{len(problems)} broken links:\n" + "\n".join(problems[:40])


def test_the_link_checker_finds_broken_links(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text('<h2 id="here">x</h2><a href="#here">ok</a><a href="../b/">ok</a>'
                                               '<a href="#gone">anchor</a><a href="../c/">file</a><img src="f.svg">'
                                               '<a href="../b/#x">other page</a><a href="https://example.org/">external</a>')
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "index.html").write_text('<p id="y">b</p><a href="/elsewhere/">abs</a>')
    assert sorted(broken_links(tmp_path, tmp_path / "a" / "index.html")) == [
        "#gone (no id 'gone' in a/index.html)",
        "../b/#x (no id 'x' in b/index.html)",
        "../c/ (no file c)",
        "f.svg (no file a/f.svg)",
    ]
    assert broken_links(tmp_path, tmp_path / "b" / "index.html") == [f"/elsewhere/ (outside the site's path {SITE_PATH})"]


def vnu_errors(site: Path) -> list[dict]:
    java = shutil.which("java")
    if java is None or not VNU.is_file():
        pytest.skip("the HTML check needs Java (apt-get install default-jre-headless) and vnu-jar (npm ci)")
    proc = subprocess.run([java, "-Xss16m", "-jar", str(VNU), "--errors-only", "--format", "json", "--skip-non-html", str(site)],
                          capture_output=True, text=True, timeout=300)
    return [m for m in json.loads(proc.stderr or proc.stdout)["messages"] if m["type"] in {"error", "non-document-error"}]


def ours(message: dict) -> bool:
    return not any(text.search(message["message"]) and markup.search(message.get("extract", "")) for text, markup in THEME_ERRORS)


def test_html_is_valid_apart_from_materials_own_markup(site: Path) -> None:
    errors = [m for m in vnu_errors(site) if ours(m)]
    report = [f"{m['url'].split(site.name + '/', 1)[-1]}:{m.get('lastLine')}: {m['message']}\n    {m.get('extract', '').strip()[:200]}" for m in errors]
    assert not errors, f"vnu (Nu Html Checker) found {len(errors)} errors:\n" + "\n".join(report[:30])


def test_vnu_allowance_covers_only_materials_markup(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title>'
        '<meta name="description" content="a "quoted" word"></head><body>'
        '<input class="md-toggle" type="checkbox" id="t" autocomplete="off">'
        '<input class="mine" type="checkbox" id="u" autocomplete="off">'
        '<label class="md-nav__link" for="t" tabindex="">nav</label><label for="u" tabindex="">mine</label>'
        "</body></html>",
        encoding="utf-8",
    )
    errors = vnu_errors(tmp_path)
    kept = [m for m in errors if ours(m)]
    assert len(errors) > len(kept) >= 3, [m["message"] for m in errors]
    assert any("autocomplete" in m["message"] for m in kept) and any("tabindex" in m["message"] for m in kept)
    assert any("meta" in m["message"] or "attribute" in m["message"].lower() for m in kept)
