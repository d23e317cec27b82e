"""English text is spelled the American way (the house style): optimize, normalization, color, center.

The check covers the prose of every English page (headings, captions, alt texts, admonitions,
front matter) and the comments and string literals of ``snippets/*.py``. What is not prose is
blanked out first, keeping line numbers: fenced code blocks and ``--8<--`` includes (the snippets'
code, identical in both languages), inline code, math (``$...$``, ``$$...$$``, ``\\(...\\)``,
``\\[...\\]``), URLs and Markdown link targets (file names, anchors), and snippet section markers
(``--8<-- [start:name]``, names the pages use). Identifiers such as ``OPTIMISERS`` or
``filter_normalised_direction`` are never matched: they sit in code, and ``_`` joins them into one word.

References sections are checked like any prose, except for the titles of cited works, which keep
their original spelling: those are listed one by one in ``CITED_TITLES`` rather than skipping whole
reference lines, so that our own notes on a reference ("§4.3 (gradient-based optimization)") and
the "cited in" page names are still checked.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path
from typing import NamedTuple

import pytest

from support import DOCS, ROOT, snippets

# Verbs and nouns in -ise/-isation: the stem before "is".
_IZE = (
    "amort apolog author binar categor character critic custom diagonal digit discret econom emphas "
    "equal factor final general global harmon hypothes initial legal linear local marginal maxim memor "
    "minim modern normal optim organ orthogonal parallel parameter parametr penal polar priorit quant "
    "random real recogn regular sanit serial special stabil standard summar symmetr synchron synthes "
    "theor token trivial util vector visual"
).split()
_OUR = "arm behavi clam col endeav fav flav harb hon hum lab neighb od parl rig rum sav savi splend tum val vap vig".split()
_LL = "cancel channel counsel dial equal fuel funnel jewel label level marvel model quarrel shovel signal total travel tunnel".split()

#: British stem or word -> American. Stems ending in "is", "ys", "our" or a doubled "l" match their
#: word forms (and prefixed words: renormalise, mislabelled); any other key is a whole word.
BRITISH: dict[str, str] = {
    **{f"{s}is": f"{s}iz" for s in _IZE},
    **{f"{s}ys": f"{s}yz" for s in ("anal", "catal", "paral")},
    **{f"{s}our": f"{s}or" for s in _OUR},
    **{f"{s}l": s for s in _LL},
    "centre": "center", "centres": "centers", "centred": "centered", "centring": "centering",
    "fibre": "fiber", "fibres": "fibers", "metre": "meter", "metres": "meters", "litre": "liter",
    "grey": "gray", "greys": "grays", "greyed": "grayed", "greyish": "grayish", "greyscale": "grayscale",
    "learnt": "learned", "towards": "toward", "whilst": "while", "amongst": "among", "per cent": "percent",
    "defence": "defense", "offence": "offense", "licence": "license", "pretence": "pretense",
    "judgement": "judgment", "acknowledgement": "acknowledgment", "ageing": "aging",
    "sceptic": "skeptic", "sceptical": "skeptical", "scepticism": "skepticism",
    "artefact": "artifact", "artefacts": "artifacts", "focussed": "focused", "focussing": "focusing",
    "fulfil": "fulfill", "fulfils": "fulfills", "fulfilment": "fulfillment", "skilful": "skillful",
    "instil": "instill", "maths": "math", "manoeuvre": "maneuver", "catalogue": "catalog",
    "programme": "program", "programmes": "programs",
    "practise": "practice", "practised": "practiced", "practises": "practices", "practising": "practicing",
}

# Endings per kind of stem. Constrained so that optimism, criticism, characteristic, analysis,
# cancellation, totally and equally stay clear; "analyses" is left alone (also the plural of analysis).
_ENDINGS = {"is": "e|ed|es|ing|ation|ations|ational|er|ers|able", "ys": "e|ed|ing|er|ers", "our": "[a-z]*", "ll": "ed|ing|er|ers"}


def _kind(key: str) -> str | None:
    return next((k for k in ("ll", "our", "is", "ys") if key.endswith(k)), None)


def _alternatives(kind: str | None) -> str:
    return "|".join(re.escape(k) for k in sorted(BRITISH, key=len, reverse=True) if _kind(k) == kind)


BRITISH_RE = re.compile(
    "|".join(rf"\b[a-z]*?(?P<{kind}>{_alternatives(kind)})(?:{_ENDINGS[kind]})\b" for kind in ("is", "ys", "our", "ll"))
    + rf"|\b(?P<word>{_alternatives(None)})\b",
    re.IGNORECASE,
)

#: Titles of cited works that keep their original (British) spelling.
CITED_TITLES = ("Batch Renormalization: Towards Reducing Minibatch Dependence",)


class Finding(NamedTuple):
    line: int
    british: str
    american: str


def _cased(like: str, word: str) -> str:
    return word.upper() if like.isupper() and len(like) > 1 else word[0].upper() + word[1:] if like[0].isupper() else word


def find_british(text: str) -> list[Finding]:
    """British spellings in ``text`` (already blanked where it is not prose), with 1-based lines."""
    found = []
    for m in BRITISH_RE.finditer(text):
        group = next(name for name, value in m.groupdict().items() if value)
        i, j = m.start(group) - m.start(), m.end(group) - m.start()
        stem = m.group(group)
        fixed = m.group(0)[:i] + _cased(stem, BRITISH[stem.lower()]) + m.group(0)[j:]
        found.append(Finding(text.count("\n", 0, m.start()) + 1, m.group(0), fixed))
    return found


def _blank(m: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", m.group(0))


FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<ticks>`{3,}|~{3,}).*?^(?P=indent)(?P=ticks)[ \t]*$", re.MULTILINE | re.DOTALL)
NOT_PROSE = [
    FENCE,
    re.compile(r"^.*--8<--.*$", re.MULTILINE),  # snippet includes and section markers
    re.compile(r"(`+).+?\1", re.DOTALL),  # inline code
    re.compile(r"\$\$.+?\$\$|\\\[.+?\\\]|\\\(.+?\\\)", re.DOTALL),  # display and inline math
    re.compile(r"(?<![\\$])\$(?!\s).+?(?<![\\\s])\$"),  # $...$ on one line
    re.compile(r"\]\([^)\s]*(?:\s+\"[^\"]*\")?\)|^\s*\[[^\]]+\]:\s*\S+|<[a-z]+://[^>]+>|\b[a-z]+://\S+", re.MULTILINE),
    re.compile(r"\b(?:href|src|id|class)=\"[^\"]*\""),  # HTML attributes naming files and anchors
    re.compile("|".join(r"\s+".join(map(re.escape, t.split())) for t in CITED_TITLES)),
]


def prose(text: str) -> str:
    """``text`` with everything that is not prose blanked out, line breaks kept."""
    for pattern in NOT_PROSE:
        text = pattern.sub(_blank, text)
    return text


def snippet_prose(source: str) -> str:
    """Only the comments and string literals of Python ``source``, in place (the rest blanked)."""
    lines = source.splitlines(keepends=True)
    keep = [[" " if c != "\n" else c for c in line] for line in lines]
    texts = {tokenize.COMMENT, tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in texts:
            (r0, c0), (r1, c1) = tok.start, tok.end
            for r in range(r0, r1 + 1):
                start, end = (c0 if r == r0 else 0), (c1 if r == r1 else len(lines[r - 1]))
                keep[r - 1][start:end] = lines[r - 1][start:end]
    return prose("".join("".join(line) for line in keep))


def report(path: str, findings: list[Finding]) -> str:
    return "British spelling (house style is American):\n" + "\n".join(f"{path}:{f.line}: {f.british} -> {f.american}" for f in findings)


EN_PAGES = sorted((DOCS / "en").rglob("*.md"))


@pytest.mark.parametrize("page", EN_PAGES, ids=[p.relative_to(DOCS / "en").as_posix() for p in EN_PAGES])
def test_english_page_uses_american_spelling(page: Path) -> None:
    findings = find_british(prose(page.read_text(encoding="utf-8")))
    assert not findings, report(page.relative_to(ROOT).as_posix(), findings)


@pytest.mark.parametrize("snippet", snippets(), ids=[p.name for p in snippets()])
def test_snippet_comments_and_strings_use_american_spelling(snippet: Path) -> None:
    findings = find_british(snippet_prose(snippet.read_text(encoding="utf-8")))
    assert not findings, report(snippet.relative_to(ROOT).as_posix(), findings)


def test_checker_reports_prose_not_code() -> None:
    text = "---\ntitle: Optimizers\n---\n\nWe study optimisation here.\n\n```python\noptimise(x)  # optimise\n```\n\n`optimiser` and $\\text{optimiser}$.\n"
    assert find_british(prose(text)) == [Finding(5, "optimisation", "optimization")]
    source = 'OPTIMISERS = {}  # the optimisers\nlabel = "Grey curve"\ndef filter_normalised(normalise=True): ...\n# --8<-- [start:optimisers]\n'
    assert find_british(snippet_prose(source)) == [Finding(1, "optimisers", "optimizers"), Finding(2, "Grey", "Gray")]


@pytest.mark.parametrize(
    ("british", "expected"),
    [("optimise", "optimize"), ("Optimisers", "Optimizers"), ("renormalised", "renormalized"), ("analysed", "analyzed"),
     ("colours", "colors"), ("behavioural", "behavioral"), ("Neighbourhood", "Neighborhood"), ("mislabelled", "mislabeled"),
     ("modelling", "modeling"), ("centred", "centered"), ("greyscale", "grayscale"), ("towards", "toward"),
     ("learnt", "learned"), ("per cent", "percent"), ("parametrisations", "parametrizations")],
)
def test_british_forms_are_caught(british: str, expected: str) -> None:
    assert [f.american for f in find_british(f"Some {british} here.")] == [expected]


def test_american_and_lookalike_words_pass() -> None:
    allowed = (
        "promise noise precise wise raise expertise exercise concise otherwise comprise analysis analyses "
        "optimism criticism characteristic emphasis hypothesis synthesis advertise supervise surprise "
        "compromise contour four hour devour cancellation totally equally controlled labeled optimize "
        "normalization color center gray toward Batch Renormalization: Towards Reducing Minibatch Dependence"
    )
    assert find_british(prose(allowed)) == []


def test_english_nav_and_site_texts_use_american_spelling() -> None:
    """The English nav titles and site name/description live in mkdocs.yml, not in docs/en."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    english = config[config.index("- locale: en") :]
    findings = find_british(english[: english.index("\n  - sitebuild/")])
    assert not findings, report("mkdocs.yml", findings)
