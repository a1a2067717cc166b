# Two commands for a fresh machine: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := wsgi
# The app runs as production unless told otherwise; `make run` is development, on purpose.
run: export APP_ENV := development

.PHONY: run test lint check-install test-sqlite test-postgres test-browser install translations demo clean bench help

help:
	@echo "make run    - install, migrate, load demo data, start the site and print the logins"
	@echo "make test   - the whole test suite (SQLite; PostgreSQL and Chromium when available)"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	# MovieLens-100k for the recommender's offline evaluation: a data wheel, its code unused.
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt recbole
	# CDNOW for validating the CLV models (crm.cdnow): a data wheel, its code unused.
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt Lifetimes
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	@$(BIN)/pybabel compile -d webapp/translations --statistics

run: install
	mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load
	@scripts/run.sh "$(HOST)" "$(PORT)"

test: install
	@scripts/test.sh

# Lint, the layering contracts and the domain's types (make test runs these first).
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# A plain (non-editable) install into a fresh venv migrates, serves its routes and renders
# pages in both languages (CI runs it).
check-install:
	@scripts/check_install.sh

bench: install
	# Lifetimes' own fit runs beside ours in bench/crm.py: its pandas, autograd and dill;
	# bench/load.py's locust.
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[bench]"
	$(BIN)/python bench/timeline.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/crm.py

clean:
	rm -rf $(VENV) instance/app.db* .pytest_cache
