# The two commands: `make run` (serve on http://127.0.0.1:8000) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
NAME   ?=
STAMP  := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: run test setup lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Orion needs Python 3.11+") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

setup: $(STAMP)

run: setup
	DEBUG=$${DEBUG:-1} $(BIN)/python -m orion.run --port $(PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DJANGO_SETTINGS_MODULE=orion.settings_test $(BIN)/python manage.py makemigrations --check --dry-run

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

# LiteLLM is a benchmark peer only (tests/bench/failover.py), never a runtime dependency.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[dev,bench]'
	@touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python -m tests.bench $(NAME)

clean:
	rm -rf $(VENV) var
