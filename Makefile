# oref — the README's commands. Every target installs what it needs first (uv, the two locked
# environments), so `make run` and `make test` work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PY := .venv/bin/python
OREF := .venv/bin/oref
export OREF_DATA_DIR ?= $(CURDIR)/data
# never let uv pick a different interpreter than the locked one
export UV_PYTHON ?= 3.11

.PHONY: help install run test check test-services lint up down fetch status clean docs snapshot \
        dashboards dashboards-record bench bench-superset bench-noop

help:
	@echo "make run            fetch the bundled snapshot over HTTP (loopback), build, test, publish, import dashboards"
	@echo "make run LIVE=1     the same against the real open-data endpoints"
	@echo "make test           lint + every test that runs on the embedded defaults (DuckDB, SQLite)"
	@echo "make check          the fast loop: unit and contract tests (no whole pipeline run, no Airflow or Superset)"
	@echo "make test-services  the tests that use the machine's PostgreSQL and Redis"
	@echo "make up             Airflow (standalone) and Superset (gunicorn) on localhost; Ctrl-C stops both"
	@echo "make down           stop what make up started (from another terminal)"
	@echo "make status         what is published and what has landed"
	@echo "make docs           regenerate docs/indicators.md from the indicator catalogue seeds"
	@echo "make snapshot REAL_DIR=...  regenerate data/snapshot from the real inputs (byte-reproducible)"
	@echo "make dashboards     write superset/assets from the dashboards' code (src/oref/dashboards)"
	@echo "make dashboards-record  record changed charts' queries from a running Superset (make up)"
	@echo "make bench          the benchmarks (bench-noop: a rerun with nothing new vs a cold run; bench-superset: chart-data latency), into docs/benchmarks.md"

$(UV):
	python3 -m pip install --quiet --user uv

.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	@touch $@

superset/.venv/.installed: superset/pyproject.toml superset/uv.lock | $(UV)
	cd superset && $(UV) sync --frozen --quiet
	@touch $@

install: .venv/.installed superset/.venv/.installed

# `oref run` re-imports the dashboards of an existing Superset home after publishing; here the
# import right after it creates the home on a first run, so the run itself skips it.
run: install
	OREF_SUPERSET_REFRESH=0 OREF_SOURCE_MODE=$(if $(LIVE),live,snapshot) $(OREF) run
	$(OREF) superset-import
	@echo ""
	@echo "warehouse:  $(OREF_DATA_DIR)/warehouse/oref.duckdb"
	@echo "reports:    $(OREF_DATA_DIR)/reports/"
	@echo "dashboards: make up, then http://127.0.0.1:8088/superset/dashboard/pilotage-preconisations/"

fetch: install
	OREF_SOURCE_MODE=$(if $(LIVE),live,snapshot) $(OREF) fetch

status: install
	$(OREF) status

docs: .venv/.installed
	$(PY) -m oref.indicator_docs

# One entry point for the snapshot generator package (scripts/snapshot): every source's files, in
# dependency order. REAL_DIR is the folder of the real inputs (see scripts/snapshot/__main__.py).
snapshot: .venv/.installed
	@test -n "$(REAL_DIR)" || { echo "usage: make snapshot REAL_DIR=<folder of the real inputs>"; exit 2; }
	cd scripts && $(CURDIR)/$(PY) -m snapshot --real-dir "$(abspath $(REAL_DIR))" --out "$(CURDIR)/data/snapshot"

# Dashboards as code: src/oref/dashboards -> superset/assets (YAML). A chart whose form data changed
# needs its query recorded again from Superset's front end: `make up` in one terminal, then
# `make dashboards-record` (SUPERSET_URL, SUPERSET_ADMIN_USER and the admin password file).
dashboards: .venv/.installed
	$(PY) -m oref.dashboards generate

SUPERSET_URL ?= http://127.0.0.1:8088
dashboards-record: .venv/.installed
	$(PY) -m oref.dashboards record --missing --url $(SUPERSET_URL) --user $${SUPERSET_ADMIN_USER:-admin} \
	  --password-file $(OREF_DATA_DIR)/secrets/superset_admin_password

# Benchmarks measure, tests assert: nothing here is timed in `make test`.
bench: bench-noop bench-superset

# a cold run and a rerun with nothing new, 3 rounds: the rerun must stay within 10 % of the cold run
bench-noop: install
	$(PY) -m oref.bench_noop

bench-superset: install
	$(PY) -m oref.dashboards.bench

lint: .venv/.installed
	.venv/bin/ruff check src dags tests scripts superset
	OREF_DBT_DUCKDB_PATH=$$(mktemp -d)/lint.duckdb .venv/bin/sqlfluff lint dbt_project/models --disable-progress-bar --nocolor

# Three workers (pytest-xdist): the shared run and Superset on one, the reruns on copies of it on
# another, the Airflow DAG runs on the third, the rest spread over all (tests/conftest.py groups them).
PYTEST_WORKERS ?= -n 3 --dist loadgroup

test: install lint
	.venv/bin/pytest -m "not services" -q $(PYTEST_WORKERS)

# The fast loop while coding: no whole pipeline run, no Airflow or Superset, no national-size file
# (those tests are marked slow).
check: .venv/.installed
	.venv/bin/pytest -m "not slow and not services" -q tests/unit tests/contract

test-services: install
	.venv/bin/pytest -m services -q $(PYTEST_WORKERS)

up: install
	scripts/up.sh

down:
	scripts/down.sh

clean:
	rm -rf $(OREF_DATA_DIR)/landing $(OREF_DATA_DIR)/warehouse $(OREF_DATA_DIR)/runs $(OREF_DATA_DIR)/reports \
	       $(OREF_DATA_DIR)/quarantine $(OREF_DATA_DIR)/superset
