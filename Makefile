# `make demo` sets up and runs the main job; `make test` runs the test suite.
# Both create the virtualenv they need (.venv) on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test check bench bench-search clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/xxgk classify train  # the 清单 title model, from the labelled titles in the package
	touch $@

demo: $(BIN)/.installed
	$(BIN)/xxgk demo

test: $(BIN)/.installed
	$(BIN)/python -m pytest

# Lint (ruff: errors, import order, line length) and types (mypy) on the package; CI runs it before the tests.
check: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(BIN)/.installed
	$(BIN)/python bench/ingest.py

bench-search: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/search.py --posts 100000

clean:
	rm -rf $(VENV) data demo-data .pytest_cache
