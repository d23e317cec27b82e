"""The ``staleness`` plugin: tell readers (and ``make test``) when a translation fell behind.

A pair is ``docs/ko/<path>`` and ``docs/en/<path>``. Walking the commits of HEAD oldest first, a
commit that creates the pair, changes both pages, or carries the trailer
``Translation-synced: <path>`` (``*`` for every pair) leaves the pair synced. A commit that
changes one page only makes the other page stale, from that commit on, until a later commit
marks the pair synced; a change to the stale page alone does not (only a marker or a change to
both pages does). Only commits count, never the working tree, and age is counted in commits, not
time. A shallow clone or a missing repository cannot tell, so it is logged and nothing is stale.

The stale page gets a notice at its top, in its own language, linking the newer page.
``python -m sitebuild.staleness [--limit N]`` prints the stale pairs and exits 1 when one has been
stale for more than ``LIMIT`` commits.
"""

from __future__ import annotations

import argparse
import html
import logging
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from sitebuild.site_files import language_prefix

log = logging.getLogger("mkdocs.plugins.sitebuild.staleness")

TRAILER = "Translation-synced"
LIMIT = 20  # commits a pair may stay stale before `make test` fails
LANGUAGES = ("ko", "en")  # the default language (served at the site root) first
NAMES = {"ko": {"ko": "한국어", "en": "영어"}, "en": {"ko": "Korean", "en": "English"}}


@dataclass(frozen=True)
class Stale:
    path: str  # relative to the language folder, e.g. "optimization/optimizers.md"
    stale: str  # the language whose page is behind
    newer: str  # the language whose page changed
    since: str  # the commit that made the pair stale
    age: int  # commits on HEAD from `since` on, `since` included

    def line(self) -> str:
        commits = "commit" if self.age == 1 else "commits"
        return f"{self.stale} stale since {self.since[:7]}, {self.age} {commits}: {self.path} ({self.newer} is newer)"


@dataclass(frozen=True)
class Report:
    stale: list[Stale] = field(default_factory=list)
    unavailable: str | None = None  # why the history could not be read (then nothing is stale)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, text=True, encoding="utf-8", check=True
    ).stdout


def stale_pairs(docs_dir: Path, languages: tuple[str, str] = LANGUAGES) -> Report:
    """The stale pairs of ``docs_dir`` at its repository's HEAD (committed history only), by path."""
    try:
        shallow, prefix = git(docs_dir, "rev-parse", "--is-shallow-repository", "--show-prefix", "HEAD").split("\n")[:2]
    except FileNotFoundError:
        return Report(unavailable="git is not installed")
    except subprocess.CalledProcessError as error:
        reason = (error.stderr.strip().splitlines() or ["git failed"])[-1]
        return Report(unavailable=f"no git history at {docs_dir}: {reason}")
    if shallow == "true":
        return Report(unavailable="shallow clone: history cut off, nothing guessed (git fetch --unshallow)")
    log_text = git(
        docs_dir, "-c", "core.quotePath=false", "log", "HEAD", "--topo-order", "--reverse", "--no-renames",
        "--name-status", f"--format=%x1e%H%n%(trailers:key={TRAILER},valueonly)%x1f",
    )  # fmt: skip
    folders = {f"{prefix}{lang}/": lang for lang in languages}
    exists: dict[str, set[str]] = defaultdict(set)
    state: dict[str, tuple[str, str] | None] = {}  # path -> None (synced) or (newer language, commit)
    for record in log_text.split("\x1e")[1:]:
        head, _, changes = record.partition("\x1f")
        sha, *values = head.strip().split("\n")
        marked = {_page_of(value.strip(), folders) for value in values}
        touched: dict[str, set[str]] = defaultdict(set)
        for status, _, name in (line.partition("\t") for line in changes.splitlines()):
            folder = next((f for f in folders if name.startswith(f) and name.endswith(".md")), None)
            if folder:
                page = name[len(folder) :]
                touched[page].add(folders[folder])
                (exists[page].discard if status == "D" else exists[page].add)(folders[folder])
        for page in set(touched) | set(state):
            if len(exists[page]) < len(languages):
                state.pop(page, None)  # one page only: the translations plugin reports it
            elif page not in state or "*" in marked or page in marked or len(touched[page]) == len(languages):
                state[page] = None  # created, marked synced, or changed on both sides
            elif touched[page] and state[page] is None:
                state[page] = (next(iter(touched[page])), sha)
            # already stale: stays stale, in its first direction, until a marker
    stale = []
    for page, behind in sorted(state.items()):
        if behind:
            newer, sha = behind
            age = int(git(docs_dir, "rev-list", "--count", f"{sha}..HEAD")) + 1
            stale.append(Stale(page, next(lang for lang in languages if lang != newer), newer, sha, age))
    return Report(stale)


def _page_of(value: str, folders: dict[str, str]) -> str:
    """A trailer value as a path in the language folder (``docs/ko/x.md`` and ``x.md`` alike)."""
    value = value.removeprefix("./")
    return next((value[len(f) :] for f in folders if value.startswith(f)), value)


def notice(stale: Stale, page_url: str, other_url: str) -> str:
    """The notice for the stale page at ``page_url``, in its language, linking ``other_url``.

    A Material admonition whose words carry the meaning (its colour only repeats it), kept out
    of the search index so that searches find the concept, not the notice.
    """
    lang, name = stale.stale, NAMES[stale.stale][stale.newer]
    link = f'<a href="{html.escape(get_relative_url(other_url, page_url))}" hreflang="{stale.newer}">'
    if lang == "ko":
        title = "번역이 뒤처져 있다"
        text = (
            f"{name}판이 이 페이지보다 나중에 고쳐졌다(커밋 {stale.age}개 전부터). "
            f"최신 내용은 {link}{name} 페이지</a>를 보라."
        )
    else:
        title = "This translation is behind"
        commits = "commit" if stale.age == 1 else "commits"
        text = (
            f"The {name} page was revised after this one ({stale.age} {commits} ago). "
            f"See the {link}{name} page</a> for the latest version."
        )
    return (
        f'<div class="admonition warning translation-stale" role="note" data-search-exclude>'
        f'<p class="admonition-title">{title}</p><p>{text}</p></div>\n'
    )


class StalenessPlugin(BasePlugin):
    report: Report | None = None  # computed once, for every language build of this plugin instance

    def on_pre_build(self, config: MkDocsConfig) -> None:
        if self.report is None:
            self.report = stale_pairs(Path(config.docs_dir))
            if self.report.unavailable:
                log.info("staleness: no translation notices: %s", self.report.unavailable)

    def on_page_content(self, html_text: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        """Put the notice under the title of a stale page."""
        if self.report is None or not self.report.stale or not page.file.abs_src_path:
            return html_text
        try:
            lang, *rest = Path(page.file.abs_src_path).relative_to(config.docs_dir).parts
        except ValueError:
            return html_text  # a generated page, not in docs/
        stale = next((s for s in self.report.stale if s.stale == lang and s.path == "/".join(rest)), None)
        prefix = language_prefix(config)
        if stale is None or not page.url.startswith(prefix):
            return html_text
        other_prefix = "" if stale.newer == LANGUAGES[0] else f"{stale.newer}/"
        block = notice(stale, page.url, other_prefix + page.url[len(prefix) :])
        end = html_text.find("</h1>")
        at = end + len("</h1>") if end >= 0 else 0
        return html_text[:at] + "\n" + block + html_text[at:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sitebuild.staleness", description="Print stale translation pairs.")
    parser.add_argument("--limit", type=int, default=LIMIT, help=f"commits a pair may stay stale (default {LIMIT})")
    parser.add_argument("--docs", type=Path, default=Path("docs"), help="the docs folder (default: docs)")
    args = parser.parse_args(argv)
    report = stale_pairs(args.docs)
    if report.unavailable:
        print(f"translation staleness unknown: {report.unavailable}")
    for stale in report.stale:
        print(stale.line() + (f"  <- over the limit of {args.limit}" if stale.age > args.limit else ""))
    if not report.stale and not report.unavailable:
        print("no stale translations")
    return 1 if any(stale.age > args.limit for stale in report.stale) else 0


if __name__ == "__main__":
    raise SystemExit(main())
