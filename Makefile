# The national efficiency-returns warehouse. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
export PYTHONPATH := $(CURDIR)/plugins

.PHONY: help run up down status redis test test-fast review bench stop dsn psql summary templates lint format lock clean reset

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-8s %s\n", $$1, $$2}'

$(INSTALLED): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (found " + sys.version.split()[0] + "): set PYTHON=/path/to/python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

run: $(INSTALLED) ## Set up everything and run the whole pipeline on the embedded warehouse (or AIRFLOW_CONN_WAREHOUSE)
	$(PY) -m efficiency_warehouse.cli run

# `make up EXECUTOR=celery`: Redis and two Celery workers as well
EXECUTOR ?= local

up: $(INSTALLED) $(if $(filter celery,$(EXECUTOR)),redis) ## Start Airflow's services (UI on http://127.0.0.1:8080); EXECUTOR=celery adds Redis and two Celery workers
	$(PY) -m efficiency_warehouse.services up --executor $(EXECUTOR)

redis: ## Install Debian's redis-server (the Celery broker) if it is missing; its own service is not started
	@command -v redis-server >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing redis-server (apt-get) for the Celery broker"; \
	  $$SUDO apt-get install -y -qq redis-server >/dev/null 2>&1 || { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq redis-server >/dev/null; }; \
	  command -v redis-server >/dev/null || { echo "could not install redis-server: apt-get install redis-server"; exit 1; }; }

down: $(INSTALLED) ## Stop exactly the services `make up` started (the warehouse stays up: `make stop`)
	$(PY) -m efficiency_warehouse.services down

status: $(INSTALLED) ## The services `make up` started, and whether each still runs
	@$(PY) -m efficiency_warehouse.services status

TEST_WORKERS ?= 2  # pytest-xdist workers, each with its own embedded PostgreSQL, Airflow and folders

test: lint redis ## Lint, then run the test suite (two workers) against real embedded PostgreSQL servers of its own
	$(PY) -m pytest -n $(TEST_WORKERS)

test-fast: lint ## Lint, then only the tests marked fast (no pipeline run, no warehouse build): about a minute
	$(PY) -m pytest -m fast

review: $(INSTALLED) ## List the returns held for review (decide: python -m efficiency_warehouse.review confirm|reject ID --by --reason)
	@$(PY) -m efficiency_warehouse.review list

bench: $(INSTALLED) ## Print the wall time of each stage of a full cycle and of each DAG file's import
	$(PY) -m efficiency_warehouse.bench

stop: $(INSTALLED) ## Stop the embedded warehouse
	$(PY) -m efficiency_warehouse.cli stop

dsn: $(INSTALLED) ## Print the warehouse connection URL (starts the embedded one if it is down)
	@$(PY) -m efficiency_warehouse.cli dsn

psql: $(INSTALLED) ## Open psql on the warehouse (starts the embedded one if it is down)
	@$(PY) -m efficiency_warehouse.cli psql

templates: $(INSTALLED) ## Write the blank return templates (XLSX with a data dictionary, and CSV) to outputs/templates
	@$(PY) -m efficiency_warehouse.cli templates

summary: $(INSTALLED) ## Print the manifest totals and the national position again
	@$(PY) -m efficiency_warehouse.cli summary

lint: $(INSTALLED) ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(INSTALLED) ## ruff fix and format
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

lock: ## Re-pin requirements.txt from requirements.in in a clean venv
	rm -rf /tmp/efficiency-warehouse-lock && $(PYTHON) -m venv /tmp/efficiency-warehouse-lock
	/tmp/efficiency-warehouse-lock/bin/pip install --quiet -r requirements.in
	(echo "# Generated from requirements.in by 'make lock' (pip freeze of a clean venv); Python 3.11."; \
	 /tmp/efficiency-warehouse-lock/bin/pip freeze) > requirements.txt

clean: ## Remove build artefacts (dbt target, caches); keeps the warehouse and received files
	rm -rf dbt_project/target dbt_project/logs .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

reset: stop ## Stop and delete the embedded warehouse, Airflow's metadata, received files and outputs
	rm -rf .warehouse .airflow data outputs
