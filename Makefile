# Mint Cloud — see README.md.
PYTHON ?= python3
PORT ?= 8069
DB ?= mintcloud
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

.PHONY: deps test test-plain run bench lint help

help:
	@echo "make run    start Odoo 17 with all addons and demo data on http://localhost:$(PORT)"
	@echo "make test   run the plain suite, and the Odoo suites where 'import odoo' works"
	@echo "make bench  benchmarks (render+apply vs Ansible, status collection, name check)"
	@echo "make lint   ruff"

deps:
	$(PYTHON) tests/run_suites.py deps

test: deps
	$(PYTHON) tests/run_suites.py

test-plain: deps
	MINTCLOUD_SKIP_ODOO=1 $(PYTHON) tests/run_suites.py

run: deps
	$(PYTHON) tests/run_suites.py serve $(PORT) $(DB)

bench: deps
	$(PYTHON) -m pip install -q -r bench/requirements.txt $(if $(wildcard .odoo-constraints.txt),-c .odoo-constraints.txt)
	$(PYTHON) -m bench

lint:
	ruff check . && ruff format --check .
