"""The ``glossary`` plugin: one glossary as data (``glossary.toml``), shown three ways.

- **Glossary pages.** ``docs/<lang>/glossary.md`` holds the page's introduction and the marker
  ``<!-- glossary -->``; the plugin puts every entry there, sorted 가나다 (Korean) or A–Z
  (English) under one heading per initial, with a jump bar of initials on top. Each entry gives
  both terms, the definition in the page's language and a link to the page that defines it.
- **Anchors.** On a term's defining page, the first use of the term in the body gets the id
  ``term-<slug of the English term>`` (the same in both languages); the glossary links to it, so
  a term its page never uses fails the strict build as a broken anchor.
- **Tooltips.** In every page, the first use of each term in each section (``h2``) becomes
  ``<abbr title="...">``; Material's ``content.tooltips`` shows it as a tooltip with the other
  language's term and the definition in the page's language.

Matching is plain text, never inside code, math, links, headings or HTML the author wrote. A
Korean term matches at the start of a word and is followed by nothing, a non-Hangul character or
particles (가중치를, 경사 하강법에서는), so 배치 does not match 배치한다; an English term matches whole
words, case-insensitively, with its plurals (rates, minima, matrices). One-syllable Korean terms
(값, 키, 현) are everyday words as often as terms: they match only as 값(value). Longer terms win (배치 정규화 over
정규화). ``tests/test_glossary.py`` checks the data, the pages, and the first-use rule of the house
style ("한국어(English)" at a term's first use on each Korean page) with the same matcher.
"""

from __future__ import annotations

import html
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as etree

from markdown import Markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString
from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.utils.meta import get_data

from sitebuild.site_files import page_language

MARKER = "<!-- glossary -->"
LANGS = ("ko", "en")
REQUIRED = ("ko", "en", "page", "ko_def", "en_def")
OPTIONAL = ("abbr", "ko_variants", "en_variants", "ko_sense", "ko_reading")

# Korean particles and copula endings that may follow a term (longest first): 경사 하강법에서는.
PARTICLES = sorted(
    "은 는 이 가 을 를 의 에 와 과 도 만 로 으로 에서 에게 까지 부터 보다 처럼 마다 조차 이나 나 이란 란 이라 라 "
    "이라는 라는 이라고 라고 이다 다 이며 며 이고 고 이면 면 이므로 므로 이지만 지만 인 일 이자 이든 든 뿐 밖에 "
    "로서 으로서 로써 으로써 와의 과의 에의 으로의 로의 께".split(),
    key=len,
    reverse=True,
)
_HANGUL = "가-힣"
KO_AFTER = rf"(?=(?:{'|'.join(PARTICLES)})*(?![{_HANGUL}]))"
KO_BEFORE = rf"(?<![{_HANGUL}])"
INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
SINGLE = {"ㄲ": "ㄱ", "ㄸ": "ㄷ", "ㅃ": "ㅂ", "ㅆ": "ㅅ", "ㅉ": "ㅈ"}  # double consonants file under the single
SKIP_TAGS = {"code", "pre", "a", "abbr", "h1", "h2", "h3", "h4", "h5", "h6", "script", "style", "svg", "kbd"}
SKIP_CLASSES = {"arithmatex", "headerlink", "katex"}


@dataclass(frozen=True)
class Term:
    ko: str
    en: str
    page: str
    ko_def: str
    en_def: str
    abbr: str = ""
    ko_variants: tuple[str, ...] = ()
    en_variants: tuple[str, ...] = ()
    ko_sense: str = ""
    ko_reading: str = ""

    @property
    def slug(self) -> str:
        """The anchor of the term's first use on its page: ``term-learning-rate``."""
        ascii_en = unicodedata.normalize("NFKD", self.en.replace("+", " plus")).encode("ascii", "ignore").decode()
        return "term-" + re.sub(r"[^a-z0-9]+", "-", ascii_en.lower()).strip("-")

    def word(self, lang: str) -> str:
        return self.ko if lang == "ko" else self.en

    def definition(self, lang: str) -> str:
        return self.ko_def if lang == "ko" else self.en_def

    def tooltip(self, lang: str) -> str:
        """The other language's term, then the definition in ``lang``."""
        other = self.en if lang == "ko" else self.ko
        return f"{other}: {self.definition(lang)}"


class GlossaryError(ValueError):
    """The glossary file is malformed; the message names the entry."""


def load(path: Path) -> list[Term]:
    """Read and validate ``glossary.toml``: required keys present, no unknown key, no duplicate."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    terms: list[Term] = []
    seen_en: dict[str, int] = {}
    seen_ko: dict[tuple[str, str], int] = {}
    seen_slug: dict[str, int] = {}  # two terms, one anchor (k-means, k-means++) would be a duplicate id
    for i, raw in enumerate(data.get("term", [])):
        where = f"{path.name}: term {i + 1} ({raw.get('ko', '?')} / {raw.get('en', '?')})"
        missing = [k for k in REQUIRED if not raw.get(k)]
        unknown = sorted(set(raw) - set(REQUIRED) - set(OPTIONAL))
        if missing or unknown:
            raise GlossaryError(f"{where}: " + "; ".join(filter(None, [missing and f"missing {missing}", unknown and f"unknown keys {unknown}"])))
        term = Term(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
        for key, seen in ((term.en.lower(), seen_en), ((term.ko, term.ko_sense), seen_ko), (term.slug, seen_slug)):
            if key in seen:
                what = "English term" if seen is seen_en else "Korean term" if seen is seen_ko else f"anchor ({term.slug})"
                raise GlossaryError(f"{where}: same {what} as term {seen[key] + 1}")
            seen[key] = i  # type: ignore[index]
        terms.append(term)
    return terms


# --- Matching ---------------------------------------------------------------------------------


def plurals(word: str) -> set[str]:
    """``word`` and its English plurals: rates, biases, minima, matrices, probabilities."""
    forms = {word, word + "s", word + "es"}
    for singular, plural in (("y", "ies"), ("um", "a"), ("ix", "ices"), ("ex", "ices"), ("is", "es")):
        if word.endswith(singular):
            forms.add(word[: -len(singular)] + plural)
    return forms


Trie = dict[str, "Trie"]


def _alternation(words: Iterable[str]) -> str:
    """A regex matching any of ``words``, the longest that fits first, written as a trie
    (``gra(?:dient(?:\\s+descent)?|ph)``): Python's regex engine tries a flat alternation's words
    one by one at every position of the text, which made this the slowest step of the build (a
    flat, longest-first alternation finds the same; tests/test_glossary.py compares them). A term
    may wrap across lines of the Markdown source: any whitespace between its words."""
    root: Trie = {}
    for word in set(words):
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here

    def regex(node: Trie) -> str:
        # At most one child fits the next character, and a longer word is tried before one ending here.
        branches = [(r"\s+" if char == " " else re.escape(char)) + regex(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        if "" not in node:
            return body
        return f"(?:{body})?" if len(branches) == 1 else f"{body}?"

    return regex(root)


def term_pattern(words: Iterable[str], lang: str, bilingual_only: Iterable[tuple[str, str]] = ()) -> re.Pattern[str]:
    """One regex for all ``words`` as the pages use them (longest first; see the module docstring).

    ``bilingual_only`` holds (Korean, English) pairs matched only as 한국어(English): one-syllable
    Korean terms, which are everyday words elsewhere.
    """
    alternatives = _alternation(words)
    if lang == "ko":
        pairs = "|".join(rf"{re.escape(ko)}(?=\({re.escape(en)})" for ko, en in bilingual_only)
        return re.compile(rf"{KO_BEFORE}(?:{alternatives}{'|' + pairs if pairs else ''}){KO_AFTER}")
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


@dataclass
class Matcher:
    """Finds the glossary's terms of one language in text."""

    terms: list[Term]
    lang: str
    by_word: dict[str, list[Term]] = field(init=False)
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        self.by_word = {}
        short: list[tuple[str, str]] = []
        for t in self.terms:
            if self.lang == "ko" and len(t.ko) < 2:
                short.append((t.ko, t.en))  # one syllable (값, 키, 현): only as 값(value)
                self.by_word.setdefault(t.ko, []).append(t)
                continue
            for form in plurals(t.en) if self.lang == "en" else {t.ko}:
                self.by_word.setdefault(self.key(form), []).append(t)
        long_words = [w for w in self.by_word if not (self.lang == "ko" and len(w) < 2)]
        self.pattern = term_pattern(long_words, self.lang, short)

    def key(self, text: str) -> str:
        text = " ".join(text.split())
        return text if self.lang == "ko" else text.lower()

    def find(self, text: str) -> Iterator[tuple[re.Match[str], list[Term]]]:
        for m in self.pattern.finditer(text):
            terms = self.by_word.get(self.key(m.group()))
            if terms:
                yield m, terms


# --- Glossary pages -----------------------------------------------------------------------------


def initial(term: Term, lang: str) -> str:
    """The heading a term files under: ㄱ…ㅎ for Korean (by its reading), A–Z for English."""
    if lang == "ko":
        first = (term.ko_reading or term.ko)[0]
        if "가" <= first <= "힣":
            letter = INITIALS[(ord(first) - 0xAC00) // 588]
            return SINGLE.get(letter, letter)
        return "#"
    first = term.en[0].upper()
    return first if "A" <= first <= "Z" else "#"


def sort_key(term: Term, lang: str) -> tuple[str, str]:
    if lang == "ko":
        return (term.ko_reading or term.ko, term.ko_sense)
    return (term.en.casefold(), term.en)


def initial_id(letter: str, lang: str) -> str:
    """The anchor of an initial's section: 가, 나, 다, … (readable in a Korean URL), a, b, c, …"""
    if lang == "ko" and letter in INITIALS:
        return chr(0xAC00 + INITIALS.index(letter) * 588)
    return "initial-other" if letter == "#" else f"initial-{letter.lower()}"


def glossary_markdown(terms: list[Term], lang: str, titles: dict[str, str]) -> str:
    """The generated part of ``docs/<lang>/glossary.md``: a jump bar and one section per initial."""
    groups: dict[str, list[Term]] = {}
    for t in sorted(terms, key=lambda t: sort_key(t, lang)):
        groups.setdefault(initial(t, lang), []).append(t)
    order = sorted(groups, key=lambda g: (g != "#", g) if lang == "en" else (g == "#", INITIALS.find(g)))
    label = {g: ("0–9" if g == "#" else g) for g in order}
    jump = " · ".join(f"[{label[g]}](#{initial_id(g, lang)})" for g in order)
    out = ['<div class="glossary" markdown>', "", f'<nav class="glossary-jump" markdown>{jump}</nav>', ""]
    for g in order:
        out += [f"## {label[g]} {{#{initial_id(g, lang)}}}", ""]
        for t in groups[g]:
            own, other = (t.ko, t.en) if lang == "ko" else (t.en, t.ko)
            sense = f" ({t.ko_sense})" if lang == "ko" and t.ko_sense else ""
            abbr = f", {t.abbr}" if t.abbr else ""
            link = f"[{titles[t.page]}]({t.page}.md#{t.slug})"
            text = html.escape(t.definition(lang), quote=False)
            out += [f"**{own}**{sense} ({other}{abbr}) {{#{t.slug}}}", f":   {text} → {link}", ""]
    return "\n".join([*out, "</div>"])


# --- Tooltips and anchors -----------------------------------------------------------------------


def _preface_box(el: etree.Element) -> bool:
    """The page's goals and prerequisites boxes (``!!! abstract`` / ``!!! info``): the anchor of a
    term belongs where the body introduces it, not in the list of what the page will teach."""
    classes = set((el.get("class") or "").split())
    return "admonition" in classes and bool(classes & {"abstract", "info"})


def _skipped(el: etree.Element) -> bool:
    return el.tag in SKIP_TAGS or bool(SKIP_CLASSES & set((el.get("class") or "").split()))


class TermTreeprocessor(Treeprocessor):
    """Wraps the first use of each term per section in ``<abbr>``; anchors first uses on the home page."""

    def __init__(self, md: Markdown, plugin: GlossaryPlugin) -> None:
        super().__init__(md)
        self.plugin = plugin

    def run(self, root: etree.Element) -> None:
        state = self.plugin.current
        if state is None:
            return
        self.matcher, self.page, self.lang = state
        self.section_seen: set[Term] = set()
        self.anchored: set[Term] = set()
        self.in_box = False
        self.walk(root)

    def walk(self, parent: etree.Element) -> None:
        # Text before the first child, then each child and the text after it (its tail).
        if not _skipped(parent):
            self.wrap_text(parent)
        for child in list(parent):
            if child.tag == "h2":
                self.section_seen = set()
            if not _skipped(child):
                box = _preface_box(child)
                if box:  # the goals and prerequisites: tooltips of their own, no anchors
                    outer, self.section_seen, self.in_box = self.section_seen, set(), True
                self.walk(child)
                if box:
                    self.section_seen, self.in_box = outer, False
            self.wrap_tail(parent, child)

    def pick(self, text: str) -> Iterator[tuple[re.Match[str], Term]]:
        for m, terms in self.matcher.find(text):
            fresh = sorted((t for t in terms if t not in self.section_seen), key=lambda t: t.page != self.page)
            if fresh:  # a word with two senses (기울기: gradient, slope) means its own page's sense there
                self.section_seen.update(terms)
                yield m, fresh[0]

    def make_abbr(self, text: str, term: Term) -> etree.Element:
        el = etree.Element("abbr", {"title": term.tooltip(self.lang)})
        el.text = AtomicString(text)
        if term.page == self.page and term not in self.anchored and not self.in_box:
            el.set("id", term.slug)
            self.anchored.add(term)
        return el

    def split(self, text: str) -> tuple[str, list[etree.Element]]:
        """``text`` cut into its leading text and ``<abbr>`` elements whose tails carry the rest."""
        if isinstance(text, AtomicString) or not text:
            return text, []
        head, elements, pos = None, [], 0
        for m, term in self.pick(text):
            piece = text[pos : m.start()]
            if elements:
                elements[-1].tail = piece
            else:
                head = piece
            elements.append(self.make_abbr(m.group(), term))
            pos = m.end()
        if not elements:
            return text, []
        elements[-1].tail = text[pos:]
        return head or "", elements

    def wrap_text(self, el: etree.Element) -> None:
        head, elements = self.split(el.text or "")
        if elements:
            el.text = head
            for i, new in enumerate(elements):
                el.insert(i, new)

    def wrap_tail(self, parent: etree.Element, child: etree.Element) -> None:
        head, elements = self.split(child.tail or "")
        if elements:
            child.tail = head
            at = list(parent).index(child) + 1
            for i, new in enumerate(elements):
                parent.insert(at + i, new)


class TermExtension(Extension):
    def __init__(self, plugin: GlossaryPlugin) -> None:
        super().__init__()
        self.plugin = plugin

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Markdown's API
        # After inline patterns (20) and prettify (10), before toc and mkdocs' anchor scan (5).
        md.treeprocessors.register(TermTreeprocessor(md, self.plugin), "sitebuild_glossary", 7)


class GlossaryConfig(Config):
    file = c.Type(str, default="glossary.toml")
    tooltips = c.Type(bool, default=True)


# The glossary's terms and compiled matchers, by the file's bytes: under `mkdocs serve` this module
# stays loaded, and every rebuild (each language's, too) would otherwise compile them again.
_LOADED: dict[bytes, tuple[list[Term], dict[str, Matcher]]] = {}


class GlossaryPlugin(BasePlugin[GlossaryConfig]):
    def __init__(self) -> None:
        self.terms: list[Term] = []
        self.matchers: dict[str, Matcher] = {}
        self.current: tuple[Matcher, str, str] | None = None

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        path = Path(config.config_file_path).parent / self.config.file
        try:
            source = path.read_bytes()
            if source not in _LOADED:  # compiling the matchers is most of the work: once per glossary text
                terms = load(path)
                _LOADED.clear()
                _LOADED[source] = terms, {lang: Matcher(terms, lang) for lang in LANGS}
        except (OSError, tomllib.TOMLDecodeError, GlossaryError, TypeError) as e:
            raise PluginError(f"glossary: {e}") from e
        self.terms, self.matchers = _LOADED[source]
        if not any(isinstance(e, TermExtension) for e in config.markdown_extensions):  # i18n re-runs on_config
            config.markdown_extensions.append(TermExtension(self))  # type: ignore[arg-type]
        return config

    def on_page_markdown(self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        lang, path = page_language(page.file.src_uri, LANGS)
        path = path.removesuffix(".md")
        is_glossary = path == "glossary"
        self.current = None if (is_glossary or path in ("index", "references") or not self.config.tooltips) else (self.matchers[lang], path, lang)
        if not is_glossary:
            return markdown
        if MARKER not in markdown:
            raise PluginError(f"glossary: {page.file.src_uri} lacks the marker {MARKER}")
        docs = Path(config.docs_dir) / lang
        titles = {}
        for t in self.terms:
            if t.page not in titles:
                source = docs / f"{t.page}.md"
                if not source.is_file():
                    raise PluginError(f"glossary: {t.ko} / {t.en} points at {t.page}, but docs/{lang}/{t.page}.md does not exist")
                titles[t.page] = html.escape(get_data(source.read_text(encoding="utf-8"))[1].get("title", t.page), quote=False)
        return markdown.replace(MARKER, glossary_markdown(self.terms, lang, titles))

    def on_page_content(self, html_: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        self.current = None
        return html_
