"""Figures a reader can cite and see: numbered captions, in order, and no curve named by color alone.

Every figure on a page is ``<figure>`` with an image and a ``<figcaption>`` that starts
"그림 n." / "Figure n.", numbered 1, 2, … in the order they appear, and the two languages show the
same figures in the same order. A snippet's figures (``<stem>-<k>.svg``) appear in the order the
snippet draws them. A caption may name a color only together with a line style or marker, in
the same parentheses ("(blue, dashed)"), so a reader who cannot tell colors apart still can.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(p.relative_to(DOCS / "en").as_posix() for p in (DOCS / "en").rglob("*.md"))
LABEL = {"ko": "그림", "en": "Figure"}

FIGURE = re.compile(r"<figure\b.*?</figure>", re.S)
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)")
CAPTION = re.compile(r"<figcaption>(.*?)</figcaption>", re.S)
SNIPPET_FIGURE = re.compile(r"figures/([\w-]+?)-(\d+)\.svg$")
COLORS = {
    "en": r"\b(?:blue|red|orange|green|purple|brown|pink|gray|grey|olive|cyan|yellow|black|magenta|violet|teal)\b",
    "ko": r"(?:파란|파랑|빨간|빨강|붉은|주황|초록|녹색|보라|갈색|분홍|회색|노란|노랑|검은|검정|청록|하늘색)",
}
STYLES = {
    "en": r"\b(?:solid|dashed|dotted|dash-dot|dashdot|marker|markers|circles?|squares?|triangles?|crosses|diamonds?|stars?|thick|thin|line|lines)\b",
    "ko": r"(?:실선|점선|파선|쇄선|일점쇄선|표식|마커|동그라미|원|네모|사각형|세모|삼각형|가위표|굵은|가는|선)",
}


def figures(text: str) -> list[tuple[str, str]]:
    """(image path, caption) of each <figure> on a page, in order."""
    out = []
    for block in FIGURE.findall(text):
        image, caption = IMAGE.search(block), CAPTION.search(block)
        out.append((image.group(1) if image else "", " ".join(caption.group(1).split()) if caption else ""))
    return out


def caption_problems(text: str, lang: str) -> list[str]:
    problems = []
    found = figures(text)
    for n, (image, caption) in enumerate(found, start=1):
        if not caption.startswith(f"{LABEL[lang]} {n}. "):
            problems.append(f"figure {n} ({image}): caption must start with '{LABEL[lang]} {n}. ', found {caption[:30]!r}")
        outside = re.sub(r"\([^()]*\)", " ", caption)
        for m in re.finditer(COLORS[lang], outside, re.I):
            problems.append(f"figure {n}: names a color ({m.group()}) outside parentheses with a line style or marker")
        for group in re.findall(r"\(([^()]*)\)", caption):
            if re.search(COLORS[lang], group, re.I) and not re.search(STYLES[lang], group, re.I):
                problems.append(f"figure {n}: ({group}) names a color without a line style or marker")
    order: dict[str, list[int]] = {}
    for image, _ in found:
        m = SNIPPET_FIGURE.search(image)
        if m:
            order.setdefault(m.group(1), []).append(int(m.group(2)))
    problems += [f"figures of {stem} appear out of order: {ks}" for stem, ks in order.items() if ks != sorted(ks)]
    return problems


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("page", PAGES)
def test_captions_are_numbered_in_order_and_not_by_color_alone(page: str, lang: str) -> None:
    problems = caption_problems((DOCS / lang / page).read_text(encoding="utf-8"), lang)
    if problems:
        pytest.fail(f"docs/{lang}/{page}:\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("page", PAGES)
def test_both_languages_show_the_same_figures(page: str) -> None:
    images = {lang: [i for i, _ in figures((DOCS / lang / page).read_text(encoding="utf-8"))] for lang in LABEL}
    assert images["ko"] == images["en"]


SAMPLE = """<figure markdown="span">
  ![a](../../figures/x-1.svg)
  <figcaption>Figure 1. SGD (solid) and Adam (dashed, orange).</figcaption>
</figure>

<figure markdown="span">
  ![b](../../figures/x-2.svg)
  <figcaption>Figure 2. Loss.</figcaption>
</figure>
"""


def test_good_captions_pass() -> None:
    assert caption_problems(SAMPLE, "en") == []
    ko = SAMPLE.replace("Figure", "그림").replace("(solid)", "(실선)").replace("(dashed, orange)", "(주황 점선)")
    assert caption_problems(ko, "ko") == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("Figure 2.", "Figure 3.", "must start with 'Figure 2. '"),
        ("Figure 1. ", "", "must start with 'Figure 1. '"),
        ("(solid)", "(blue)", "(blue) names a color"),
        ("and Adam", "and red Adam", "outside parentheses"),
        ("x-1.svg", "x-3.svg", "out of order"),
    ],
)
def test_bad_captions_fail(old: str, new: str, expected: str) -> None:
    broken = SAMPLE.replace(old, new, 1)
    assert any(expected in p for p in caption_problems(broken, "en"))


def test_the_runner_refuses_curves_told_apart_by_color_only() -> None:
    """The build stops on a figure whose labeled curves in one axes share line style and marker."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sitebuild.runner import curves_told_apart_by_color_only

    fig, (left, right) = plt.subplots(1, 2)
    left.plot([0, 1], [0, 1], label="SGD")
    left.plot([0, 1], [1, 0], "--", label="Adam")
    left.plot([0, 1], [0.5, 0.5], color="gray")  # unlabeled guide: not compared
    right.plot([0, 1], [0, 1], marker="o", label="train")
    assert curves_told_apart_by_color_only(fig) == ""
    right.plot([0, 1], [1, 1], marker="o", label="validation")
    assert "'train' and 'validation'" in curves_told_apart_by_color_only(fig)
    plt.close(fig)
