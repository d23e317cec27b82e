"""Build-time machinery of the site: mkdocs plugins for figures from snippets and KaTeX math."""
