# Two commands set everything up on a fresh machine (Python 3.11+, Node.js 20+ and npm on PATH):
#   make serve   install everything, then serve the site on http://127.0.0.1:8000/dl-textbook/
#   make test    install everything, then run the full test suite (what CI runs)
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
export NO_MKDOCS_2_WARNING := 1

.PHONY: install serve build test benchmark page-weight clean

install: $(VENV)/.installed node_modules/.package-lock.json

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
# pip byte-compiles one file at a time; compileall uses every core (install 48 s -> 36 s here).
# The .pyc files must be there: where PYTHONDONTWRITEBYTECODE is set, no process writes its own
# and every import would compile from source. A few files are for newer Pythons (torch's
# py312_intrinsics.py) and fail to compile, as they do silently under pip's own compile.
	$(BIN)/python -m pip install --quiet --no-compile -e ".[test]"
	$(BIN)/python -m compileall -qq -j 0 $(VENV)/lib || true
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

serve: install
	$(BIN)/mkdocs serve --dirty --dev-addr 127.0.0.1:8000

build: install
	$(BIN)/mkdocs build --strict

test: install
	$(BIN)/python -m pytest

benchmark: install
	$(BIN)/python tests/benchmarks/build_times.py $(BENCHMARK_ARGS)

page-weight: install
	$(BIN)/python tests/benchmarks/page_weight.py

clean:
	rm -rf site .cache
