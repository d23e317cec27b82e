"""The ``references`` plugin: one BibTeX file (``references.bib``), cited by key in both languages.

A page's references section (``## References`` / ``## 참고 문헌``) is a list whose items start with
a key, followed by the page's own note in its language::

    - [@bottou2018optimization] §3 (why stochastic methods).

The plugin writes the entry in the book's one format (authors, year, title, venue, volume,
pages, DOI or arXiv link) in place of the key; an unknown key stops the build, naming the page.
The references page (``docs/<lang>/references.md``, marker ``<!-- references -->``) lists every
cited work once, sorted by first author and year, with links to the pages that cite it.

BibTeX is read by a small parser for the subset the file uses: ``@type{key, field = {value}, ...}``
with braced or quoted values in UTF-8 (no ``@string``, no ``#`` concatenation, no LaTeX escapes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.utils.meta import get_data

from sitebuild.site_files import page_language

MARKER = "<!-- references -->"
HEADINGS = {"en": "References", "ko": "참고 문헌"}
CITED_IN = {"en": "cited in", "ko": "인용한 페이지"}
SECTION = re.compile(r"^## (?:References|참고 문헌)[ \t]*\n(.*?)(?=^#{1,2} |\Z)", re.M | re.S)
ITEM_KEY = re.compile(r"^([ \t]*[-*] )\[@([\w:.-]+)\][ \t]*", re.M)
ENTRY = re.compile(r"@(\w+)\s*\{\s*([^,\s]+)\s*,", re.S)


class BibError(ValueError):
    """The BibTeX file is malformed; the message gives the line."""


@dataclass(frozen=True)
class Entry:
    key: str
    kind: str
    fields: dict[str, str]

    def get(self, name: str) -> str:
        return self.fields.get(name, "")

    @property
    def surnames(self) -> list[str]:
        return [a.split(",")[0].strip() for a in split_authors(self.get("author") or self.get("editor"))]

    @property
    def sort_key(self) -> tuple[str, str, str]:
        return ("; ".join(self.surnames).casefold(), self.get("year"), self.get("title").casefold())


def _value(text: str, i: int, line_of) -> tuple[str, int]:
    """The braced or quoted value starting at ``text[i]``; returns it and the index after it."""
    if text[i] == "{":
        depth, j = 0, i
        while j < len(text):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            if depth == 0:
                return text[i + 1 : j], j + 1
            j += 1
        raise BibError(f"line {line_of(i)}: unbalanced braces")
    if text[i] == '"':
        j = text.find('"', i + 1)
        if j < 0:
            raise BibError(f"line {line_of(i)}: unterminated quote")
        return text[i + 1 : j], j + 1
    m = re.compile(r"\d+").match(text, i)
    if not m:
        raise BibError(f"line {line_of(i)}: a value is braced, quoted or a number")
    return m.group(), m.end()


def parse_bib(text: str) -> dict[str, Entry]:
    """Entries by key. Duplicate keys, unbalanced braces and stray text are errors."""

    def line_of(i: int) -> int:
        return text.count("\n", 0, i) + 1

    entries: dict[str, Entry] = {}
    pos = 0
    for m in ENTRY.finditer(text):
        if m.start() < pos:
            continue
        between = text[pos : m.start()].strip()
        if between and not between.startswith("%"):
            raise BibError(f"line {line_of(pos)}: text outside an entry: {between[:40]!r}")
        kind, key = m.group(1).lower(), m.group(2)
        if key in entries:
            raise BibError(f"line {line_of(m.start())}: duplicate key {key!r}")
        fields: dict[str, str] = {}
        i = m.end()
        while True:
            f = re.compile(r"\s*(\}|(\w+)\s*=\s*)").match(text, i)
            if not f:
                raise BibError(f"line {line_of(i)}: expected a field or the closing brace in {key!r}")
            if f.group(1) == "}":
                pos = f.end()
                break
            value, i = _value(text, f.end(), line_of)
            fields[f.group(2).lower()] = " ".join(value.split())
            comma = re.compile(r"\s*,?").match(text, i)
            i = comma.end() if comma else i
        entries[key] = Entry(key, kind, fields)
    if text[pos:].strip():
        raise BibError(f"line {line_of(pos)}: text after the last entry")
    return entries


def split_authors(names: str) -> list[str]:
    return [n.strip() for n in re.split(r"\s+and\s+", names) if n.strip()] if names else []


def initials(given: str) -> str:
    """``Jean-Louis Marie`` → ``J.-L. M.``"""
    parts = []
    for word in given.split():
        pieces = [p for p in word.split("-") if p]
        parts.append("-".join(p[0] + "." if not p.endswith(".") else p for p in pieces))
    return " ".join(parts)


def author_list(names: str) -> str:
    people = []
    for name in split_authors(names):
        if name.startswith("{") and name.endswith("}"):  # an organization: {PyTorch Contributors}
            people.append(name.strip("{}"))
            continue
        last, _, given = (p.strip() for p in name.partition(","))
        people.append(f"{last}, {initials(given)}" if given else last)
    if len(people) <= 1:
        return "".join(people)
    return ", ".join(people[:-1]) + ", & " + people[-1]


def format_entry(e: Entry) -> str:
    """One line of Markdown: ``Surname, I., & Surname, I. (Year). Title. *Venue*, 1(2), 3–4. <link>``."""
    who = author_list(e.get("author")) or (author_list(e.get("editor")) + " (Ed.)" if e.get("editor") else "")
    title = e.get("title").rstrip(".")
    standalone = e.kind in ("book", "phdthesis", "mastersthesis", "techreport", "misc")
    year = e.get("year") or "n.d."
    shown = f"*{title}*" if standalone else title
    out = [f"{who} ({year}).", f"{shown}."] if who else [f"{shown} ({year})."]
    venue = e.get("journal") or e.get("booktitle")
    if venue:
        where = f"In *{venue}*" if e.kind in ("incollection", "inproceedings") else f"*{venue}*"
        volume = e.get("volume") + (f"({e.get('number')})" if e.get("number") else "")
        pages = e.get("pages").replace("--", "–")
        out.append(", ".join(filter(None, [where, volume, pages])) + ".")
    if e.kind in ("phdthesis", "mastersthesis"):
        kind = e.get("type") or ("PhD thesis" if e.kind == "phdthesis" else "Master's thesis")
        out.append(f"{kind}, {e.get('school')}.")
    if e.kind == "techreport" and e.get("institution"):
        out.append(f"{e.get('institution')}.")
    if e.get("howpublished"):
        out.append(f"{e.get('howpublished')}.")
    if e.get("publisher") and e.kind in ("book", "incollection"):
        out.append(f"{e.get('publisher')}.")
    arxiv = e.get("eprint") and e.get("archiveprefix").lower() == "arxiv"
    if arxiv and not venue:
        out.append(f"arXiv:{e.get('eprint')}.")
    if e.get("note"):
        out.append(e.get("note").rstrip(".") + ".")
    if e.get("doi"):
        out.append(f"<https://doi.org/{e.get('doi')}>")
    elif arxiv:
        out.append(f"<https://arxiv.org/abs/{e.get('eprint')}>")
    elif e.get("url"):
        out.append(f"<{e.get('url')}>")
    return re.sub(r"https?://[^\s>]+(?<![.,;)])", lambda m: m.group() if m.string[m.start() - 1] == "<" else f"<{m.group()}>", " ".join(out))


def citations(markdown: str) -> list[str]:
    """The keys of a page's references section, in order."""
    section = SECTION.search(markdown)
    return [m.group(2) for m in ITEM_KEY.finditer(section.group(1))] if section else []


def expand(markdown: str, entries: dict[str, Entry], where: str) -> str:
    """The page with each ``[@key]`` item of its references section written out."""
    section = SECTION.search(markdown)
    if not section:
        return markdown
    unknown = [m.group(2) for m in ITEM_KEY.finditer(section.group(1)) if m.group(2) not in entries]
    if unknown:
        raise PluginError(f"references: {where} cites unknown key(s) {', '.join(unknown)} (not in references.bib)")
    body = ITEM_KEY.sub(lambda m: m.group(1) + format_entry(entries[m.group(2)]) + " ", section.group(1))
    return markdown[: section.start(1)] + body + markdown[section.end(1) :]


def cited_by(docs: Path, lang: str) -> dict[str, list[tuple[str, str]]]:
    """key → [(page path, page title)] over the language's pages, in path order."""
    out: dict[str, list[tuple[str, str]]] = {}
    for path in sorted((docs / lang).rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(docs / lang).as_posix()
        for key in dict.fromkeys(citations(text)):
            out.setdefault(key, []).append((rel, get_data(text)[1].get("title", rel)))
    return out


def references_page(entries: dict[str, Entry], cited: dict[str, list[tuple[str, str]]], lang: str) -> str:
    lines = []
    for e in sorted((entries[k] for k in cited if k in entries), key=lambda e: e.sort_key):
        pages = ", ".join(f"[{title}]({rel})" for rel, title in cited[e.key])
        lines.append(f"- {format_entry(e)} — {CITED_IN[lang]}: {pages}.")
    return "\n".join(lines)


class ReferencesConfig(Config):
    file = c.Type(str, default="references.bib")


class ReferencesPlugin(BasePlugin[ReferencesConfig]):
    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        path = Path(config.config_file_path).parent / self.config.file
        try:
            self.entries = parse_bib(path.read_text(encoding="utf-8"))
        except (OSError, BibError) as e:
            raise PluginError(f"references: {path.name}: {e}") from e
        return config

    def on_page_markdown(self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        where = f"docs/{page.file.src_uri}"
        if MARKER in markdown:
            lang = page_language(page.file.src_uri)[0]
            return markdown.replace(MARKER, references_page(self.entries, cited_by(Path(config.docs_dir), lang), lang))
        return expand(markdown, self.entries, where)

