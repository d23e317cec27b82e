"""Translation staleness (sitebuild/staleness.py): the history walk on temporary repositories,
the notice a reader sees, and the real repository's stale pairs against the limit."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

from sitebuild import staleness
from sitebuild.staleness import LIMIT, Stale, StalenessPlugin, stale_pairs
from support import ROOT

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """Git as on a fresh machine: no user or system configuration, a fixed identity."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{var}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{var}_EMAIL", "test@example.invalid")


class Repo:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True)
        self.git("init", "-q")
        self.count = 0

    def git(self, *args: str) -> str:
        return subprocess.run(["git", "-C", str(self.root), *args], check=True, capture_output=True, text=True).stdout

    def edit(self, *pages: str) -> None:
        """Change ``docs/<lang>/<path>`` for each of ``pages`` (``"ko/x.md"``)."""
        for page in pages:
            path = self.root / "docs" / page
            path.parent.mkdir(parents=True, exist_ok=True)
            self.count += 1
            path.write_text(f"# {page}\n\nrevision {self.count}\n", encoding="utf-8")

    def commit(self, *pages: str, trailers: tuple[str, ...] = ()) -> None:
        self.edit(*pages)
        extra = [arg for value in trailers for arg in ("--trailer", f"Translation-synced: {value}")]
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", f"Commit {self.count}", *extra)

    def stale(self) -> list[tuple[str, str, str, int]]:
        report = stale_pairs(self.root / "docs")
        assert report.unavailable is None, report.unavailable
        return [(s.path, s.stale, s.newer, s.age) for s in report.stale]


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """A repository whose pair x.md (and sub/y.md) was created in one commit: synced."""
    repo = Repo(tmp_path / "repo")
    repo.commit("ko/x.md", "en/x.md", "ko/sub/y.md", "en/sub/y.md")
    assert repo.stale() == []
    return repo


def test_one_side_changed_makes_the_other_stale_and_age_grows(repo: Repo) -> None:
    repo.commit("ko/x.md")
    assert repo.stale() == [("x.md", "en", "ko", 1)]
    repo.commit("en/sub/y.md")
    assert repo.stale() == [("sub/y.md", "ko", "en", 1), ("x.md", "en", "ko", 2)]
    repo.commit("ko/x.md")  # the same side again: stale since the first change
    repo.commit()  # a commit touching no page still counts
    repo.edit("en/x.md")  # uncommitted: not counted
    assert repo.stale() == [("sub/y.md", "ko", "en", 3), ("x.md", "en", "ko", 4)]


def test_the_stale_side_changing_alone_does_not_sync(repo: Repo) -> None:
    repo.commit("ko/x.md")
    repo.commit("en/x.md")
    assert repo.stale() == [("x.md", "en", "ko", 2)]


def test_trailer_syncs(repo: Repo) -> None:
    repo.commit("ko/x.md", "ko/sub/y.md")
    repo.commit("en/x.md", trailers=("x.md",))  # the translator catches up and says so
    assert repo.stale() == [("sub/y.md", "en", "ko", 2)]
    repo.commit(trailers=("docs/ko/sub/y.md",))  # an empty commit marks it, with the full path too
    assert repo.stale() == []
    repo.commit("ko/x.md", trailers=("x.md",))  # a fix that needs no translation, marked at once
    assert repo.stale() == []
    repo.commit("ko/x.md", "en/sub/y.md")
    repo.commit(trailers=("*",))
    assert repo.stale() == []


def test_trailer_survives_a_rebase(repo: Repo) -> None:
    repo.git("checkout", "-q", "-b", "topic")
    repo.commit("ko/x.md", trailers=("x.md",))
    repo.git("checkout", "-q", "-")
    repo.commit("ko/sub/y.md", "en/sub/y.md")
    repo.git("checkout", "-q", "topic")
    repo.git("rebase", "-q", "-")
    assert repo.stale() == []


def test_both_sides_in_one_commit_sync(repo: Repo) -> None:
    repo.commit("en/x.md")
    repo.commit("ko/x.md", "en/x.md")
    assert repo.stale() == []


def test_pages_created_apart_and_deleted(repo: Repo) -> None:
    repo.commit("ko/z.md")  # a page without its translation yet: not a pair
    assert repo.stale() == []
    repo.commit("en/z.md")  # the translation, written from the current page
    assert repo.stale() == []
    repo.commit("ko/z.md")
    repo.git("rm", "-q", "docs/ko/z.md")
    repo.commit()
    assert repo.stale() == []


def test_shallow_clone_and_no_repository_are_said(
    repo: Repo, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    repo.commit("ko/x.md")
    repo.commit("ko/x.md")
    assert repo.stale() == [("x.md", "en", "ko", 2)]
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", repo.root.as_uri(), str(clone)], check=True)
    report = stale_pairs(clone / "docs")
    assert report.stale == [] and "shallow" in report.unavailable
    plugin = StalenessPlugin()
    with caplog.at_level("INFO", logger="mkdocs.plugins.sitebuild.staleness"):
        plugin.on_pre_build(SimpleNamespace(docs_dir=str(clone / "docs")))
    assert plugin.report == report and "no translation notices: shallow clone" in caplog.text
    report = stale_pairs(tmp_path / "no-repo")
    assert report.stale == [] and "no git history" in report.unavailable


def test_command_exit_status(repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(repo.root)
    assert staleness.main([]) == 0 and capsys.readouterr().out == "no stale translations\n"
    repo.commit("en/x.md")
    repo.commit()
    sha = repo.git("rev-parse", "--short=7", "HEAD~1").strip()
    assert staleness.main(["--limit", "2"]) == 0
    assert capsys.readouterr().out == f"ko stale since {sha}, 2 commits: x.md (en is newer)\n"
    assert staleness.main(["--limit", "1"]) == 1
    assert "over the limit of 1" in capsys.readouterr().out


def page_content(stale: Stale, page_lang: str, url: str) -> str:
    """The content of the page ``url`` of ``page_lang`` through the plugin, with ``stale`` reported."""
    plugin = StalenessPlugin()
    plugin.report = staleness.Report([stale])
    i18n = SimpleNamespace(current_language=page_lang, default_language="ko")
    config = SimpleNamespace(docs_dir="/site/docs", plugins={"i18n": i18n})
    page = SimpleNamespace(url=url, file=SimpleNamespace(abs_src_path=f"/site/docs/{page_lang}/{stale.path}"))
    return plugin.on_page_content('<h1 id="t">Title</h1>\n<p>Body</p>', page=page, config=config, files=None)


def test_notice_on_a_stale_korean_page() -> None:
    stale = Stale("optimization/optimizers.md", "ko", "en", "0" * 40, 3)
    html = page_content(stale, "ko", "optimization/optimizers/")
    assert html.startswith(
        '<h1 id="t">Title</h1>\n<div class="admonition warning translation-stale" role="note" data-search-exclude>'
    )
    assert '<p class="admonition-title">번역이 뒤처져 있다</p>' in html
    assert "영어판이 이 페이지보다 나중에 고쳐졌다(커밋 3개 전부터)" in html
    assert '<a href="../../en/optimization/optimizers/" hreflang="en">영어 페이지</a>를 보라.' in html
    assert html.endswith("<p>Body</p>")


def test_notice_on_a_stale_english_page() -> None:
    stale = Stale("optimization/optimizers.md", "en", "ko", "0" * 40, 1)
    html = page_content(stale, "en", "en/optimization/optimizers/")
    assert '<p class="admonition-title">This translation is behind</p>' in html
    assert "The Korean page was revised after this one (1 commit ago)." in html
    assert 'See the <a href="../../../optimization/optimizers/" hreflang="ko">Korean page</a> for the latest' in html
    # the Korean page of a pair whose English page is stale shows nothing
    assert "admonition" not in page_content(Stale("x.md", "en", "ko", "0" * 40, 1), "ko", "x/")


def test_home_page_link() -> None:
    html = page_content(Stale("index.md", "en", "ko", "0" * 40, 2), "en", "en/")
    assert '<a href=".." hreflang="ko">' in html  # mkdocs' own link to a root: /dl-textbook/en/ -> /dl-textbook/


def test_real_repository_within_limit() -> None:
    """The project's stale pairs (shown with `pytest -s`, and as a warning in `make test`)."""
    report = stale_pairs(ROOT / "docs")
    if report.unavailable:
        pytest.skip(f"translation staleness unknown: {report.unavailable}")
    lines = [stale.line() for stale in report.stale]
    print("\n".join(lines) or "no stale translations")
    if lines:
        warnings.warn("stale translations:\n" + "\n".join(lines), stacklevel=1)
    over = [stale.line() for stale in report.stale if stale.age > LIMIT]
    assert not over, (
        f"translations stale for more than {LIMIT} commits (update the page, then commit with "
        f'--trailer "Translation-synced: <path>"):\n' + "\n".join(over) + "\nall stale pairs:\n" + "\n".join(lines)
    )
