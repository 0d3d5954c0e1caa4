# The two commands the README documents: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	rm -f $(VENV)/.installed-* && touch $@

## Install (first time) and start Switchboard.
run: $(STAMP)
	$(BIN)/switchboard $(ARGS)

## Install (first time), then lint, type-check and run the whole test suite.
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Benchmarks (not part of `make test`): prints figures.
bench: $(STAMP)
	$(BIN)/python -m tests.bench.overhead
	$(BIN)/python -m tests.bench.translation
	$(BIN)/python -m tests.bench.routing
	$(BIN)/python -m tests.bench.usage
	$(BIN)/python -m tests.bench.desktop

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
