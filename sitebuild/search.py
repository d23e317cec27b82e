"""The ``search`` plugin: one search index per language, holding prose, not code blocks, and
forgiving the spacing, spelling and words a learner types.

mkdocs-static-i18n merges every language into one index (``search/search_index.json``) that
all pages load, so a Korean reader gets English hits and the reverse. After the last language is
built this plugin splits it: entries under ``<lang>/`` go to ``<lang>/search/search_index.json``
with that prefix removed, each index configured for its own language only. Every page of a
non-default language gets its language root as the ``base`` in Material's page config, which is
where Material's search loads the index from and resolves hits against.

Code blocks are left out of the index (``data-search-exclude``, which Material's search honours):
each concept page carries its whole snippet, so code was 44% of the index text, and the index is
the largest download of a first page view. Inline code in the prose stays searchable.

Forgiving search (Material's lunr matches a query word against the *start* of an indexed word and
ORs the query's words; it knows no Korean word boundaries, synonyms or spellings). Each index entry
gets two fields Material indexes but never shows (it renders only title, text and tags):

- ``keys`` (boosted like a title) on a term's defining page, from ``glossary.toml``: the term, its
  variants (``ko_variants``/``en_variants``), its abbreviation, and in Korean the term written
  without spaces; so 헤시안 finds the Hessian's page, BN batch normalization, 경사하강법 경사 하강법.
  Also on every entry, the same forms made from its own title (Korean title words joined, English
  hyphenated words joined and spelled the British way): headings name the compounds a reader types.
- ``alias`` (weighted like text): wherever the text uses a glossary term or an American spelling,
  the variants and joined/British forms, once per use (at most ``MIRROR_CAP`` times), so those
  words rank the pages that use the term the way the book's own word does.

The Korean index's separator also consumes common particles at the end of a Korean word
(``PARTICLES``; the separator applies to the text and to the query alike), so 역전파란 and
경사하강법이란 find 역전파 and 경사 하강법. (``HANGUL_SYLLABLES``, a split between every two syllables, makes spacing irrelevant
too, but ranks worse and highlights single syllables all over a page; see
tests/benchmarks/search_recall.py.)
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from sitebuild.site_files import language_prefix

log = logging.getLogger("mkdocs.plugins.sitebuild.search")

MATERIAL_CONFIG = re.compile(r'(<script id="__config" type="application/json">)(.*?)(</script>)', re.S)
CODE_BLOCK = re.compile(r'<div class="highlight">')
# Material's own search defaults per language (partials/languages/<lang>.html): Korean runs no
# lunr pipeline step (prefix matching only); English drops stop words.
PIPELINE = {"ko": [" "], "en": ["stopWordFilter"]}

# Hidden fields (Material indexes every field of the index config, renders title, text, tags).
KEYS, ALIAS = "keys", "alias"
FIELD_BOOST = {KEYS: 300.0, ALIAS: 1.0}  # titles 1000, text 1 (mkdocs.yml); keys 300 measured best (search_recall.py --keys-boost)
MIRROR_CAP = 2  # an alias repeats at most this often per entry (lunr's BM25 saturates anyway)

# Splits added to mkdocs.yml's separator for the Korean index. Each alternative has no
# "|" inside, as Material's highlighter splits the separator on "|" to drop pure lookarounds.
HANGUL = "가-힣"
# Particles a learner types after a term (X란 / X이란 = "what is X", X은/는/을/를, X에서, X으로):
# the separator consumes them at a word's end, in the text and in the query alike, so they are
# no word at all. Only endings that rarely end a noun (not 의 as in 정의, 과 as in 효과, 가 as in
# 평가, 이 as in 차이, 도 as in 속도).
PARTICLES = [f"(?<=[{HANGUL}]){p}(?![{HANGUL}])" for p in ("[은는을를]", "이?란", "에서", "으로")]
HANGUL_SYLLABLES = f"(?<=[{HANGUL}])(?=[{HANGUL}])"  # every syllable its own word (measured, not used)
# Korean index modes: "particles" (the default), "syllables", "none" (mkdocs.yml's separator only).
KOREAN_SPLIT = {"none": [], "particles": PARTICLES, "syllables": [HANGUL_SYLLABLES]}



def load_glossary(path: Path | None) -> list[dict]:
    """``glossary.toml``'s ``[[term]]`` entries (optional keys may be missing)."""
    return [dict(t) for t in tomllib.loads(path.read_text(encoding="utf-8")).get("term", [])] if path and path.is_file() else []


# --- forms a reader may type that the text does not contain -------------------------------------

KOREAN_WORD = f"[0-9A-Za-z{HANGUL}]*[{HANGUL}][0-9A-Za-z{HANGUL}]*"  # 경사, 2차, 1사이클
HANGUL_WORDS = re.compile(f"{KOREAN_WORD}(?:[ ]+{KOREAN_WORD})+")  # a run of two or more Korean words
HYPHENATED = re.compile(r"\b[A-Za-z]+(?:-[A-Za-z]+)+\b")
# American -> British spellings a reader may type: suffix rules, and a few whole words.
BRITISH_RULES = [
    (re.compile(r"\b([a-z]{3,})iz(e|es|ed|ing|er|ers|ation|ations|able)\b"), r"\1is\2"),
    (re.compile(r"\b([a-z]{2,})yz(e|es|ed|ing|er|ers)\b"), r"\1ys\2"),
    (re.compile(r"\b(label|model|travel|cancel|signal)(ed|ing|er|ers)\b"), r"\1l\2"),
    (re.compile(r"\b(behavi|col|neighb|fav|hon|lab)or(s|al|ed|ing)?\b"), r"\1our\2"),
    (re.compile(r"\b(cent|fib)er(s|ed)?\b"), r"\1re\2"),
    (re.compile(r"\bgray\b"), "grey"),
]
WORD = re.compile(r"[A-Za-z]+")


def joined(word: str) -> list[str]:
    """Korean compounds written without their spaces: every run of words from each word to the end
    (a query is matched against word starts, so 경사하강법 finds 경사하강법과학습률)."""
    out = []
    for run in HANGUL_WORDS.findall(word):
        parts = run.split()
        out += ["".join(parts[i:]) for i in range(len(parts) - 1)]
    return out


def british(text: str) -> list[str]:
    """British spellings of the American words in ``text`` (one per occurrence)."""
    out = []
    for word in WORD.findall(text.lower()):
        for rule, repl in BRITISH_RULES:
            other = rule.sub(repl, word)
            if other != word:
                out.append(other)
                break
    return out


def unhyphenated(text: str) -> list[str]:
    """Hyphenated English words written as one (warm-up -> warmup, mini-batch -> minibatch)."""
    return [w.replace("-", "") for w in HYPHENATED.findall(text)]


def typed_forms(text: str, lang: str) -> list[str]:
    """What a reader may type for ``text`` that the separator does not already make a word of."""
    if lang == "ko":
        return joined(text)
    forms = unhyphenated(text)
    return forms + british(" ".join([text, *forms]))


def plain(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def term_pattern(word: str, lang: str) -> re.Pattern[str]:
    """``word`` at a word start (Korean particles may follow; English plurals too)."""
    boundary = f"(?<![{HANGUL}A-Za-z0-9])"
    return re.compile(boundary + re.escape(word).replace(r"\ ", r"[\s\-]+"), re.I)


def term_forms(term: dict, lang: str) -> tuple[str | None, list[str]]:
    """A glossary term's word in ``lang`` and the other forms of it a reader may type."""
    word = term.get(lang)
    variants = [*term.get(f"{lang}_variants", []), *([term["abbr"]] if term.get("abbr") else [])]
    forms = [*variants, *(f for v in [word or "", *variants] for f in typed_forms(v, lang))]
    if lang == "ko":  # the English term, as the page gives it in parentheses, and typed without its hyphen: kmeans, kNN
        forms += [term.get("en", ""), *unhyphenated(" ".join([term.get("en", ""), term.get("abbr", "")]))]
    return word, list(dict.fromkeys(f for f in forms if f and f != word))


# Under `mkdocs serve` the module stays loaded between rebuilds; what enrich computes is a pure
# function of its inputs, so it is kept here, keyed by them: a rebuild after an edit recomputes the
# edited page's entries only (the glossary's patterns, compiled once per glossary and language).
_PREPARED: dict[tuple[str, str], tuple[list[tuple[str | None, list[str]]], list[tuple[str, re.Pattern[str], list[str]]]]] = {}
_EXTRAS: dict[tuple[object, ...], dict[str, list[str]]] = {}


def _prepare(terms: list[dict], lang: str) -> tuple[str, list[tuple[str | None, list[str]]], list[tuple[str, re.Pattern[str], list[str]]]]:
    """The glossary's forms for ``lang``: (its digest, [(defining page, words)], [(first word, pattern, forms)])."""
    digest = hashlib.sha256(json.dumps(terms, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
    if (digest, lang) not in _PREPARED:
        defining, patterns = [], []
        for term in terms:
            word, forms = term_forms(term, lang)
            if not forms and not word:
                continue
            defining.append((term.get("page"), [w for w in [word] if w] + forms))
            if word and forms:
                patterns.append((word.split()[0].lower(), term_pattern(word, lang), forms))
        _PREPARED[digest, lang] = defining, patterns
    return digest, *_PREPARED[digest, lang]


def _doc_extras(doc: dict, lang: str, patterns: list[tuple[str, re.Pattern[str], list[str]]], headings: bool) -> dict[str, list[str]]:
    """One entry's hidden words: forms of its title (and, in English, of its text), then the
    glossary variants of every term its text uses."""
    keys: list[str] = []
    alias: list[str] = []
    if headings:
        keys += typed_forms(doc["title"], lang)
        if lang == "en":  # Korean text is not joined at random: only the glossary's compounds
            counts: dict[str, int] = {}
            for form in typed_forms(plain(doc["text"]), lang):
                counts[form] = counts.get(form, 0) + 1
            alias += [f for f, n in counts.items() for _ in range(min(n, MIRROR_CAP))]
    if patterns:
        text = f"{doc['title']} {plain(doc['text'])}"
        lowered = text.lower()
        for first_word, pattern, forms in patterns:
            if first_word not in lowered:  # a cheap necessary condition: skips most terms
                continue
            n = min(len(pattern.findall(text)), MIRROR_CAP)
            alias += [f for _ in range(n) for f in forms]
    return {KEYS: keys, ALIAS: alias}


def enrich(docs: list[dict], lang: str, terms: Iterable[dict], *, glossary: bool = True, headings: bool = True) -> list[dict]:
    """Add the hidden ``keys`` and ``alias`` fields to a language's index entries (in place)."""
    pages = {d["location"]: d for d in docs if "#" not in d["location"]}
    digest, defining, patterns = _prepare(list(terms), lang) if glossary else ("", [], [])
    extra: dict[str, dict[str, list[str]]] = {}
    for doc in docs:
        key = (digest, lang, headings, doc["location"], doc["title"], doc["text"])
        if key not in _EXTRAS:
            _EXTRAS[key] = _doc_extras(doc, lang, patterns, headings)
        extra[doc["location"]] = {field: list(words) for field, words in _EXTRAS[key].items()}
    for page, words in defining:  # a term's own forms on its defining page, boosted like a title
        target = pages.get(f"{page}/") if page else None
        if target is not None:
            extra[target["location"]][KEYS] += words
    for doc in docs:
        for field, words in extra[doc["location"]].items():
            if words:
                doc[field] = " ".join(words)
            else:
                doc.pop(field, None)
    return docs


def index_config(config: dict, lang: str, korean_split: str = "particles", hidden: Iterable[str] = (KEYS, ALIAS)) -> dict:
    """The index config for one language: its lunr language and pipeline, the ``hidden`` fields,
    and for Korean the zero-width splits added to the separator."""
    separator = config["separator"]
    if lang == "ko" and KOREAN_SPLIT[korean_split]:
        separator = "|".join([separator, *KOREAN_SPLIT[korean_split]])
    fields = {**config["fields"], **{f: {"boost": FIELD_BOOST[f]} for f in hidden}}
    return {**config, "lang": [lang], "pipeline": PIPELINE.get(lang, config["pipeline"]), "separator": separator, "fields": fields}


def latest_per_location(entries: list[dict]) -> list[dict]:
    """One entry per location, the latest, in the place of the first. Under `mkdocs serve --dirty`,
    mkdocs-static-i18n and Material's search plugin keep their entries across rebuilds and each
    stacks the other's onto its own (the index doubled with each edit)."""
    return list({entry["location"]: entry for entry in entries}.values())


def split_index(site: Path, default: str, others: list[str], glossary: Path | None = None, *,
                korean_split: str = "particles", glossary_forms: bool = True, heading_forms: bool = True) -> dict[str, int]:
    """Split ``site/search/search_index.json`` into one index per language; return entries per language.

    The keywords choose the forgiving mechanisms (all on by default; the benchmark turns them off
    one by one): ``glossary_forms`` (glossary variants, abbreviations, joined compounds),
    ``heading_forms`` (joined/British/unhyphenated forms of titles and English text), and
    ``korean_split`` (a key of KOREAN_SPLIT)."""
    path = site / "search" / "search_index.json"
    index = json.loads(path.read_text(encoding="utf-8"))
    terms = load_glossary(glossary) if glossary_forms else []
    docs: dict[str, list[dict]] = {lang: [] for lang in [default, *others]}
    for doc in latest_per_location(index["docs"]):
        lang = next((o for o in others if doc["location"].startswith(f"{o}/")), default)
        if lang != default:
            doc = {**doc, "location": doc["location"][len(lang) + 1 :]}
        docs[lang].append(doc)
    for lang, entries in docs.items():
        enrich(entries, lang, terms, glossary=glossary_forms, headings=heading_forms)
        hidden = [f for f in (KEYS, ALIAS) if any(f in d for d in entries)]
        config = index_config(index["config"], lang, korean_split, hidden)
        out = site / ("" if lang == default else lang) / "search" / "search_index.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"config": config, "docs": entries}, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return {lang: len(entries) for lang, entries in docs.items()}


def set_material_base(html: str, base: str) -> str:
    """Set ``base`` in Material's ``__config`` JSON (the search index and its hits resolve against it)."""

    def replace(match: re.Match[str]) -> str:
        config = json.loads(match[2])
        config["base"] = base
        return match[1] + json.dumps(config).replace("<", "\\u003c") + match[3]

    return MATERIAL_CONFIG.sub(replace, html, count=1)


class SearchConfig(Config):
    glossary = c.Type(str, default="glossary.toml")  # relative to mkdocs.yml


class SearchPlugin(BasePlugin[SearchConfig]):
    def on_page_content(self, html: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        return CODE_BLOCK.sub('<div class="highlight" data-search-exclude>', html)

    def on_post_page(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str:
        prefix = language_prefix(config)
        if prefix and page.url.startswith(prefix):
            output = set_material_base(output, get_relative_url(prefix, page.url))
        return output

    @event_priority(-200)  # after mkdocs-static-i18n (-100) has built every language and merged the index
    def on_post_build(self, config: MkDocsConfig) -> None:
        i18n = config.plugins.get("i18n")
        site = Path(config.site_dir)
        if i18n is None or getattr(i18n, "building", False) or not (site / "search" / "search_index.json").is_file():
            return  # no languages, or one of i18n's nested per-language builds: wait for the last
        default = next(lang.locale for lang in i18n.config.languages if lang.default)
        others = [lang.locale for lang in i18n.config.languages if not lang.default and lang.build]
        glossary = Path(config.config_file_path).parent / self.config.glossary
        # The plugins' own lists too, so that they stop growing from one serve rebuild to the next.
        material = config.plugins.get("material/search") or config.plugins.get("search")
        for stacked in (getattr(i18n, "search_entries", None), getattr(getattr(material, "search_index", None), "entries", None)):
            if isinstance(stacked, list):
                stacked[:] = latest_per_location(stacked)
        counts = split_index(site, default, others, glossary)
        log.info("search: one index per language (%s entries)", ", ".join(f"{lang} {n}" for lang, n in counts.items()))
