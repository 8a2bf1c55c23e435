# Concierge: two commands for a newcomer (see README): `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# test processes: one per core (pytest-xdist); each file runs whole in one process, so a module's
# fixtures are built once. TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= auto

.PHONY: install demo serve test bench model-figures browser-deps clean help

help:
	@echo "make demo   - install, create the SQLite database, load demo data, serve http://127.0.0.1:5000"
	@echo "make test   - install and run the whole test suite"
	@echo "make bench  - run the benchmarks (results: docs/benchmarks.md)"
	@echo "make model-figures - train and evaluate the model on three 20k demo populations (figures: docs/model.md)"

$(STAMP): pyproject.toml $(wildcard */__init__.py)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

install: $(STAMP)

demo: install
	$(BIN)/concierge init
	$(BIN)/concierge demo --if-empty
	@$(BIN)/concierge model list --json | $(BIN)/python -c 'import json, sys; sys.exit(0 if any(m["active"] for m in json.load(sys.stdin)["models"]) else 1)' \
	  || ($(BIN)/concierge model train > /dev/null && $(BIN)/concierge score --all > /dev/null && echo "Trained a model on the demo history and scored the open trials.")
	$(BIN)/concierge audits plan
	$(BIN)/concierge users ensure-demo
	$(BIN)/concierge serve

serve: install
	$(BIN)/concierge serve

test: install
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: install
	$(BIN)/python benchmarks/run.py

# SHOPS=5000 for a quick look (20-40 min at the default 20000 on a shared 2-core machine; JOBS=3 runs the populations at once)
JOBS ?= 1
SHOPS ?= 20000
model-figures: install
	$(BIN)/python benchmarks/model_figures.py --shops $(SHOPS) --jobs $(JOBS)

# Debian's Chromium for the browser tests (root, Debian/Ubuntu); .ci/run calls this.
browser-deps:
	@if command -v chromium >/dev/null 2>&1; then echo "chromium present"; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	else echo "chromium missing: browser tests will be skipped (install Debian's chromium)"; fi

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache test-output
