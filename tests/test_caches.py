"""The build's caches never serve a stale figure, formula or notebook page.

Each cache is keyed by what decides its content: a snippet's figures and notebook by the
snippet's bytes, the runner and the versions of Python, PyTorch, NumPy and Matplotlib; a formula
by its TeX, display mode, the KaTeX version and the renderer script; a notebook page by the
notebook, the versions of the packages that render it, their options and our module. Changing
any of them must miss the cache; the first test proves it on a real build.
"""

from __future__ import annotations

import json
import re
import shutil
from importlib import metadata
from pathlib import Path

import pytest

from sitebuild import gallery, katex, notebooks, site_files
from support import ROOT, build, copy_project


def fake_versions(monkeypatch: pytest.MonkeyPatch, **bumped: str) -> None:
    """Make the build see other versions of the named packages (as after an upgrade)."""
    real = metadata.version
    monkeypatch.setattr(site_files.metadata, "version", lambda name: bumped.get(name, real(name)))


def test_edited_snippet_and_formula_are_rebuilt_not_served_from_cache(site: Path, tmp_path: Path) -> None:
    """`site` first: the copied cache is warm, so only what the edits touch may run again (a
    second build runs no other snippet and republishes every other figure byte for byte)."""
    project = copy_project(tmp_path / "project")
    snippet = project / "snippets" / "attention.py"
    source = snippet.read_text(encoding="utf-8")
    label = re.search(r'set_title\("([^"]+)"', source)
    assert label, "the test edits a set_title label of snippets/attention.py"
    snippet.write_text(source.replace(label[0], 'set_title("Edited title 4711"', 1), encoding="utf-8")
    page = project / "docs" / "en" / "sequences" / "attention.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n\nEdited formula: $\\kappa_{4711}$\n", encoding="utf-8")
    proc = build(project, tmp_path / "site")
    assert proc.returncode == 0, proc.stderr[-3000:]
    ran = re.findall(r"gallery: ran \d+ snippet\(s\) in [\d.]+ s: (.*)", proc.stderr)
    assert ran == ["attention"], f"only the edited snippet runs again: {ran}"
    out = tmp_path / "site"
    old = {p.name: p.read_bytes() for p in (site / "figures").glob("*.svg")}
    new = {p.name: p.read_bytes() for p in (out / "figures").glob("*.svg")}
    assert old.keys() == new.keys() and old, "the same figures are published"
    changed = [name for name in old if old[name] != new[name]]
    assert len(changed) == 1 and changed[0].startswith("attention-"), (
        f"exactly the figure with the edited title is new (not served from the cache), every other is byte-identical: {changed}"
    )
    assert "Edited title 4711" in (out / "notebooks" / "attention.ipynb").read_text(encoding="utf-8")
    for lang in ("", "en/"):
        html = (out / lang / "notebooks" / "attention" / "index.html").read_text(encoding="utf-8")
        assert "Edited title 4711" in html, f"the {lang or 'ko/'} notebook page shows the edited code"
    concept = (out / "en" / "sequences" / "attention" / "index.html").read_text(encoding="utf-8")
    assert "Edited title 4711" in concept, "the concept page shows the edited code"
    assert "<mn>4711</mn>" in concept and "κ" in concept, "the new formula is rendered, not a cached one"


def test_snippet_keys_change_with_versions_and_runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    shutil.copy2(ROOT / "snippets" / "mlp.py", tmp_path / "s" / "mlp.py")
    before = gallery.find_snippets(tmp_path / "s", tmp_path / "cache")[0]
    for package in gallery.VERSIONED:
        with monkeypatch.context() as m:
            fake_versions(m, **{package: "999.0"})
            assert gallery.find_snippets(tmp_path / "s", tmp_path / "cache")[0].key != before.key, package
    runner = tmp_path / "runner.py"
    runner.write_bytes(gallery.RUNNER.read_bytes() + b"\n# changed\n")
    monkeypatch.setattr(gallery, "RUNNER", runner)
    assert gallery.find_snippets(tmp_path / "s", tmp_path / "cache")[0].key != before.key, "runner"
    monkeypatch.undo()
    (tmp_path / "s" / "mlp.py").write_text((ROOT / "snippets" / "mlp.py").read_text(encoding="utf-8") + "\n# edit\n")
    assert gallery.find_snippets(tmp_path / "s", tmp_path / "cache")[0].key != before.key, "source"
    assert gallery.find_snippets(tmp_path / "s", tmp_path / "cache")[0].entry.parent.name == "mlp"


def fake_katex(root: Path, version: str) -> Path:
    dist = root / version / "katex" / "dist"
    dist.mkdir(parents=True)
    package = json.loads((ROOT / "node_modules" / "katex" / "package.json").read_text(encoding="utf-8"))
    (dist.parent / "package.json").write_text(json.dumps({**package, "version": version}), encoding="utf-8")
    return dist


def test_formula_cache_is_per_katex_version_and_renderer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    old, new = fake_katex(tmp_path, "0.1.0"), fake_katex(tmp_path, "0.2.0")
    cache = tmp_path / "cache"
    assert katex.cache_file(cache, old) != katex.cache_file(cache, new)
    stale = katex.Renderer("node", katex.cache_file(cache, old))
    stale.cache[("x", False)] = "<span>stale</span>"
    stale.save()
    assert katex.Renderer("node", katex.cache_file(cache, old)).cache == {("x", False): "<span>stale</span>"}
    upgraded = katex.Renderer("node", katex.cache_file(cache, new))
    assert upgraded.cache == {}, "another KaTeX version never reads the old formulas"
    renderer = tmp_path / "render.cjs"
    renderer.write_bytes(katex.RENDERER.read_bytes() + b"\n// changed\n")
    before = katex.cache_file(cache, old)
    monkeypatch.setattr(katex, "RENDERER", renderer)
    assert katex.cache_file(cache, old) != before, "a changed renderer script misses the cache"


def test_formula_cache_keeps_display_mode_apart_and_never_stores_errors(tmp_path: Path) -> None:
    store = tmp_path / "formulas.json"
    renderer = katex.Renderer("node", store)
    try:
        inline, display, broken = renderer.render([("x^2", False), ("x^2", True), ("\\frac{a}{", False)])
    finally:
        renderer.close()
    assert isinstance(inline, str) and isinstance(display, str) and inline != display
    assert 'display="block"' in display and 'display="block"' not in inline
    assert isinstance(broken, katex.KatexError)
    renderer.save()
    saved = json.loads(store.read_text(encoding="utf-8"))
    assert sorted((tex, mode) for tex, mode, _ in saved) == [("x^2", False), ("x^2", True)], "errors are not cached"


def test_notebook_page_cache_changes_with_renderers_options_and_module(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    notebook = tmp_path / "entry" / notebooks.NOTEBOOK_NAME
    notebook.parent.mkdir()
    notebook.write_text("{}", encoding="utf-8")
    options = {"no_prompt": False, "theme": "default"}
    path = notebooks.PageCache(notebooks.render_fingerprint(options)).path(notebook)
    assert path.parent == notebook.parent, "a page lives in its notebook's content-addressed cache entry"
    for package in notebooks.RENDERERS:
        with monkeypatch.context() as m:
            fake_versions(m, **{package: "999.0"})
            assert notebooks.PageCache(notebooks.render_fingerprint(options)).path(notebook) != path, package
    assert notebooks.PageCache(notebooks.render_fingerprint({**options, "no_prompt": True})).path(notebook) != path
    module = tmp_path / "notebooks.py"
    module.write_bytes(Path(notebooks.__file__).read_bytes() + b"\n# changed\n")
    monkeypatch.setattr(notebooks, "__file__", str(module))
    assert notebooks.PageCache(notebooks.render_fingerprint(options)).path(notebook) != path, "our module"
