# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 5000
export FLASK_APP := wsgi:app

.PHONY: run test lint bench load install db clean format

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

install: $(STAMP)

db: install
	$(BIN)/flask db upgrade
	$(BIN)/flask blog sync

run: db
	PORT=$(PORT) BLOG_ENV=$${BLOG_ENV:-development} BLOG_MAIL_BACKGROUND=$${BLOG_MAIL_BACKGROUND:-1} \
		$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# -n auto: one pytest-xdist worker per CPU; PYTEST_ARGS adds to it (PYTEST_ARGS="-n 0" runs serially).
test: install
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

load: install
	$(BIN)/python -m bench.load $(LOAD_ARGS)

clean:
	rm -rf $(VENV) instance/*.db* .pytest_cache .mypy_cache .ruff_cache
