# One-command entry points. Everything runs from the project's own .venv, created on first use.
PYTHON_BOOT ?= $(shell command -v python3.11 || command -v python3)
VENV        := .venv
PY          := $(VENV)/bin/python
EVENTS      ?= 10000
FAULT_RATE  ?= 0
STAMP       := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install demo soak up down status report docs test test-fast audit bench lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(PY):
	@$(PYTHON_BOOT) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || \
		{ echo "error: Python 3.11 is needed ('$(PYTHON_BOOT)' is not it); run make PYTHON_BOOT=/path/to/python3.11"; exit 2; }
	$(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==26.3

# Developers and CI install the dev set, which holds the local and production sets (requirements*.txt).
$(STAMP): $(PY) requirements.txt requirements-local.txt requirements-dev.txt constraints-dev.txt pyproject.toml
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install the pinned requirements (production, local stack, tools)

demo: $(STAMP) ## run the whole pipeline once on the local stack (EVENTS=10000, FAULT_RATE=0)
	$(PY) -m local_stack demo --events $(EVENTS) --fault-rate $(FAULT_RATE)

soak: $(STAMP) ## 1,000,000 events through the whole stack with faults injected, then a reconciliation
	$(PY) -m local_stack soak --events $(or $(SOAK_EVENTS),1000000)

up: $(STAMP) ## start the long-running local stack
	$(PY) -m local_stack up

down: $(STAMP) ## stop everything `make up` started
	$(PY) -m local_stack down

status: $(STAMP) ## show what the local stack is running
	$(PY) -m local_stack status

report: $(STAMP) ## write the running stack's pipeline health report (static HTML) to .local/report/
	$(PY) -m local_stack run -- $(PY) -m warehouse report --out .local/report

docs: $(STAMP) ## write dbt's docs site (models, tests, lineage, catalog of the running stack) to .local/dbt-docs/
	$(PY) -m local_stack run -- $(PY) -m warehouse docs --out .local/dbt-docs

test: $(STAMP) ## run lint and the test suite
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m ruff check --preview --select AIR .
	$(PY) -m sqlfluff lint sql
	$(PY) -m sqlfluff lint --templater jinja --disregard-sqlfluffignores sql/models sql/tests/*.sql
	$(PY) -m bandit -q -c pyproject.toml -r aws_infrastructure data_generation warehouse local_stack plugins dags config scripts
	$(PY) scripts/audit_dependencies.py
	$(PY) -m pytest

test-fast: $(STAMP) ## the unit tests only: no emulator, no Airflow (markers in pyproject.toml)
	$(PY) -m pytest -m "unit and not slow" -q

audit: $(STAMP) ## pip-audit every installed package (AUDIT_REQUIRE_SERVICE=1: fail if the service is unreachable)
	$(PY) scripts/audit_dependencies.py

bench: $(STAMP) ## run every benchmark and print its figures
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lock: $(PY) ## re-resolve the requirements and rewrite one lock per set (constraints*.txt)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) scripts/lock_requirements.py

clean: down ## stop the stack and delete local state (.local/)
	rm -rf .local
