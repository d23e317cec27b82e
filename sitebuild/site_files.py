"""Register generated files with mkdocs, once per language build of mkdocs-static-i18n.

mkdocs-static-i18n builds the site once per language and rebuilds the file list in its own
``on_files`` (priority -100). Files added before it are recreated from ``docs_dir`` and lose
their generated content, so our plugins add theirs afterwards (priority ``AFTER_I18N``) and place
them the way i18n places shared assets: at the root for the default language, under ``<lang>/``
for the others. Pages in both languages then use the same relative links.
"""

from __future__ import annotations

from importlib import metadata

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

AFTER_I18N = -150


def language_prefix(config: MkDocsConfig) -> str:
    """``""`` for the default language (or without i18n), ``"en/"`` for the English build."""
    i18n = config.plugins.get("i18n")
    if i18n is None:
        return ""
    current = getattr(i18n, "current_language", None)
    default = getattr(i18n, "default_language", None)
    return "" if current is None or current == default else f"{current}/"


def page_language(src_uri: str, languages: tuple[str, ...] = ("ko", "en"), default: str = "ko") -> tuple[str, str]:
    """(language folder, path inside it) of a page under ``docs/``: ``"en/x/y.md"`` -> ``("en", "x/y.md")``."""
    lang, _, rest = src_uri.partition("/")
    return (lang, rest) if lang in languages else (default, src_uri)


def add_file(
    files: Files,
    config: MkDocsConfig,
    src_uri: str,
    *,
    abs_src_path: str | None = None,
    content: str | bytes | None = None,
) -> File:
    """Add a generated file at ``src_uri`` (replacing one already there) for the current language."""
    if abs_src_path is not None:
        file = File.generated(config, src_uri, abs_src_path=abs_src_path)
    else:
        assert content is not None, "give abs_src_path or content"
        file = File.generated(config, src_uri, content=content)
    prefix = language_prefix(config)
    if prefix:
        file.dest_uri = prefix + file.dest_uri
    put(files, file)
    return file


def put(files: Files, file: File) -> None:
    """Add ``file``, replacing the one already at its ``src_uri``."""
    existing = files.get_file_from_path(file.src_uri)
    if existing is not None and existing.src_uri == file.src_uri:
        files.remove(existing)
    files.append(file)


def package_versions(names: tuple[str, ...]) -> list[str]:
    """``name==version`` (or ``name: missing``) for each package: part of a cache key."""
    versions = []
    for name in names:
        try:
            versions.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name}: missing")
    return versions
