# Two commands on a fresh machine: `make demo` and `make test`. Both bootstrap .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean

# The Python client is its own distribution (clients/python); the demo site and the tests use it.
$(STAMP): pyproject.toml clients/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -e clients/python
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/stitch-bridge demo

# Line and branch coverage of bridge/ ([tool.coverage] in pyproject.toml): the fifteen least
# covered files, then the total, which must not fall below COVERAGE_MIN (a little under the
# measure; `.venv/bin/coverage report` or `coverage html` after a run show every file).
COVERAGE_MIN ?= 87
# Test workers (pytest-xdist): more than the two cores, since most tests spend their time
# waiting on a server or a browser; `make test WORKERS=0` runs everything in one process.
# A test file runs on one worker (its module fixtures, such as a built wheel or a PostgreSQL
# server, start once), in the order pytest collects them: browser tests last (tests/conftest.py).
WORKERS ?= 4

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n $(WORKERS) --dist loadfile --no-loadscope-reorder --cov --cov-report=
	$(BIN)/coverage report --skip-covered --skip-empty --sort=-cover | tail -n 17
	@echo "bridge/ line+branch coverage: $$($(BIN)/coverage report --format=total)%"
	@$(BIN)/coverage report --format=total --fail-under=$(COVERAGE_MIN) >/dev/null

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache test-output .coverage .coverage.*
