# One-command entry points. Everything runs from the project's own .venv, created on first use.
PYTHON_BOOT ?= $(shell command -v python3.11 || command -v python3)
VENV        := .venv
PY          := $(VENV)/bin/python
EVENTS      ?= 10000
FAULT_RATE  ?= 0
EXECUTOR    ?= local
WORKERS     ?= 2
STAMP       := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install demo soak up down status report docs test test-fast audit bench lock data-model clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(PY):
	@$(PYTHON_BOOT) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || \
		{ echo "error: Python 3.11 is needed ('$(PYTHON_BOOT)' is not it); run make PYTHON_BOOT=/path/to/python3.11"; exit 2; }
	$(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==26.3

# Developers and CI install the dev set's lock (it holds the local and production sets), every package
# hash-checked; then the project itself, editable, which has no hash (docs/dependencies.md).
$(STAMP): $(PY) requirements-dev.lock pyproject.toml
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install the pinned requirements (production, local stack, tools)

demo: $(STAMP) ## run the whole pipeline once on the local stack (EVENTS=10000, FAULT_RATE=0)
	$(PY) -m mobile_events_elt.local_stack demo --events $(EVENTS) --fault-rate $(FAULT_RATE)

soak: $(STAMP) ## 1,000,000 events through the whole stack with faults injected, then a reconciliation
	$(PY) -m mobile_events_elt.local_stack soak --events $(or $(SOAK_EVENTS),1000000)

up: $(STAMP) ## start the long-running local stack (EXECUTOR=celery WORKERS=2: Celery workers, Redis, PostgreSQL)
ifeq ($(EXECUTOR),celery)
	@command -v redis-server >/dev/null && [ -x /usr/lib/postgresql/15/bin/postgres ] || { \
		SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); $$SUDO apt-get update -qq && \
		$$SUDO apt-get install -y -qq redis-server postgresql; }
endif
	$(PY) -m mobile_events_elt.local_stack up --executor $(EXECUTOR) --workers $(WORKERS)

down: $(STAMP) ## stop everything `make up` started
	$(PY) -m mobile_events_elt.local_stack down

status: $(STAMP) ## show what the local stack is running
	$(PY) -m mobile_events_elt.local_stack status

report: $(STAMP) ## write the running stack's pipeline health report (static HTML) to .local/report/
	$(PY) -m mobile_events_elt.local_stack run -- $(PY) -m mobile_events_elt.warehouse report --out .local/report

docs: $(STAMP) ## write dbt's docs site (models, tests, lineage, catalog of the running stack) to .local/dbt-docs/
	$(PY) -m mobile_events_elt.local_stack run -- $(PY) -m mobile_events_elt.warehouse docs

# The suite on TEST_WORKERS pytest-xdist workers, a test module per worker at a time (its module fixtures set
# up once): the whole-stack tests mostly wait on schedulers and timeouts, so two workers overlap that wait
# with the others' work (tests/README.md: How long).
TEST_WORKERS ?= 2

test: $(STAMP) ## run lint and the test suite
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m ruff check --preview --select AIR .
	$(PY) -m sqlfluff lint sql
	$(PY) -m sqlfluff lint --templater jinja --disregard-sqlfluffignores sql/models sql/tests/*.sql
	$(PY) scripts/lint_imports.py
	$(PY) -m bandit -q -c pyproject.toml -r aws_infrastructure data_generation warehouse local_stack plugins dags deploy config scripts
	$(PY) scripts/audit_dependencies.py
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

test-fast: $(STAMP) ## the unit tests only (tests/unit): no emulator, no Airflow
	$(PY) -m pytest tests/unit -m "not slow" -q

audit: $(STAMP) ## pip-audit every locked package (AUDIT_REQUIRE_SERVICE=1: fail if the service is unreachable)
	$(PY) scripts/audit_dependencies.py

data-model: $(STAMP) ## regenerate what the event contract generates: docs/data-model.md, the dbt contract macro
	$(PY) -m mobile_events_elt.warehouse.data_model_doc > docs/data-model.md
	$(PY) -m mobile_events_elt.warehouse.dbt_contract

bench: $(STAMP) ## run every benchmark and print its figures
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# One resolution for every platform and Python 3.11, from PyPI only (no local index or pip configuration):
# the dev set first, then the smaller sets held to it, so the locks agree. LOCK_ARGS=--upgrade-package=X
# (or --upgrade) moves versions the requirement files leave free; otherwise the existing locks are kept.
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --no-config --universal --python-version 3.11 --generate-hashes \
	--default-index https://pypi.org/simple --custom-compile-command "make lock" $(LOCK_ARGS)

lock: $(PY) ## resolve requirements*.txt into one hashed lock per set (requirements*.lock) with uv
	$(PY) -m pip install --quiet "$$(grep -o '^uv==[^ ]*' requirements-dev.txt)"
	$(UV_COMPILE) requirements-dev.txt -o requirements-dev.lock
	$(UV_COMPILE) requirements-local.txt -c requirements-dev.lock -o requirements-local.lock
	$(UV_COMPILE) requirements.txt -c requirements-dev.lock -o requirements.lock

clean: down ## stop the stack and delete local state (.local/)
	rm -rf .local
