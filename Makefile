# Two commands set everything up on a fresh machine (Python 3.11+, Node.js 20+ and npm on PATH):
#   make serve   install everything, then serve the site on http://127.0.0.1:8000/dl-textbook/
#   make test    install everything, then run the full test suite (what CI runs)
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
export NO_MKDOCS_2_WARNING := 1
# Python keeps the bytecode of what it imports (see the install rule below), even where the shell sets this.
unexport PYTHONDONTWRITEBYTECODE
# The Python and the Node.js installs run side by side.
MAKEFLAGS += --jobs=2

.PHONY: install serve build test benchmark page-weight clean

install: $(VENV)/.installed node_modules/.package-lock.json

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -e ".[test]"
# pip would byte-compile every file it installs, one at a time (torch alone is thousands, most
# never imported here). Instead each module is compiled when first imported and its .pyc kept
# (PYTHONDONTWRITEBYTECODE is unexported above); these two imports, side by side, compile the big
# ones now (install 50 s -> 33 s here). Leaving a module out of them costs time, never a result.
	$(BIN)/python -c "import torch, torch._dynamo, numpy, scipy.stats, matplotlib.pyplot, sklearn.datasets, \
	  sklearn.linear_model, sklearn.ensemble, sklearn.svm, sklearn.cluster, sklearn.decomposition, \
	  sklearn.model_selection, statsmodels.api" & \
	$(BIN)/python -c "import mkdocs.commands.build, material, pymdownx.arithmatex, mkdocs_jupyter, nbconvert, \
	  nbclient, jupytext, ipykernel.kernelapp, pytest, xdist, playwright.sync_api" && wait $$!
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
