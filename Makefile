# posim: the two commands of the README, plus a few helpers.
#
#   make play   create .venv, install posim, start the game
#   make test   create/update .venv with the test extras, run the whole suite
#
# Installing is skipped when .venv is newer than pyproject.toml (stamp files).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.posim-installed
STAMP_TEST := $(VENV)/.posim-installed-test
# pytest-xdist workers (`make test WORKERS=0` runs in one process).
WORKERS ?= auto
PYTEST_ARGS ?=

.PHONY: play test test-slow bench lint format clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "posim needs Python 3.11 or newer; $(PYTHON) is " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@ $(STAMP_RUN)

## play: start the game (SCENARIO=name-or-path to pick one)
play: $(STAMP_RUN)
	$(BIN)/posim play $(SCENARIO)

## test: the gates (ruff lint and format, mypy, import contracts) and the whole fast suite
test: $(STAMP_TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy posim benchmarks
	$(BIN)/lint-imports
	$(BIN)/pytest -m "not slow" -n $(WORKERS) $(PYTEST_ARGS)

## test-slow: the long statistical checks
test-slow: $(STAMP_TEST)
	$(BIN)/pytest -m slow -n $(WORKERS) $(PYTEST_ARGS)

## bench: engine speed vs bare SimPy and Ciw, replications, start-up, memory
## (BENCH_ARGS="--profile --out bench.json"; see docs/performance.md)
BENCH_ARGS ?=
$(VENV)/.posim-installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	@touch $@

bench: $(VENV)/.posim-installed-bench
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

lint: $(STAMP_TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy posim benchmarks
	$(BIN)/lint-imports

format: $(STAMP_TEST)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis *.egg-info
