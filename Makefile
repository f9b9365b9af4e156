# Mint Cloud — see README.md.  Every target goes through dev/launch.py, which
# first gets what is missing (Odoo 17 in .venv, packages, wkhtmltopdf,
# PostgreSQL) and says so, one line a step.
PYTHON ?= python3
PORT ?= 8069
DB ?= mintcloud
# Capacity of the queue_job channel root.kubernetes: deployments at once.
KUBERNETES_JOBS ?= 2
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))
LAUNCH = $(PYTHON) dev/launch.py

.PHONY: deps test test-plain run bench lint help

help:
	@echo "make run    Odoo 17 with all addons and demo data on http://localhost:$(PORT) (admin/admin)"
	@echo "make test   every test suite: plain, Odoo, and the served product"
	@echo "make test-plain   the plain suite only, with $(PYTHON) (no Odoo, no PostgreSQL)"
	@echo "make bench  benchmarks (render+apply vs Ansible, status collection, name check)"
	@echo "make lint   ruff"

deps:
	$(LAUNCH) deps

test:
	$(LAUNCH) test

test-plain:
	MINTCLOUD_SKIP_ODOO=1 $(LAUNCH) test

run:
	$(LAUNCH) run --port $(PORT) --db $(DB) --kubernetes-jobs $(KUBERNETES_JOBS)

bench:
	$(LAUNCH) bench

lint:
	ruff check . && ruff format --check .
