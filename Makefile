# FlowJAX reparameterization patch kit. `make help` lists the targets.
# Variables: FLOWJAX_DIR (checkout, default build/flowjax), FORCE=1, UPSTREAM_TAG, ORDER,
# VERSIONS (make matrix), VERSION (make bump), MUTATIONS and MUTATION_UPSTREAM=full (make mutation-report).
SHELL := /bin/bash
PYTHON ?= python3
KIT := PYTHONPATH=$(CURDIR)/scripts $(PYTHON) -m kit
export FLOWJAX_DIR FORCE UPSTREAM_TAG ORDER VERSIONS VERSION MUTATIONS MUTATION_UPSTREAM

.DEFAULT_GOAL := help
.PHONY: help apply test test-fast docs matrix bump pr mutation-report env drift patches refresh lint

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

apply: ## fetch + verify the pinned sdist, make build/flowjax, git am patches/series
	@$(KIT) apply

test: ## kit tests; new + upstream tests; doctests; docs html; drift, catalogue, ruff (builds .venv)
	@$(KIT) test

test-fast: ## as `make test` without upstream's own suite (the edit loop)
	@$(KIT) test --fast

docs: ## build the patched HTML docs into build/docs/html; no new warnings vs the base
	@$(KIT) docs

matrix: ## series + new tests on each release: VERSIONS="19.0.0 19.1.2" (default: pin + newest)
	@$(KIT) matrix

bump: ## move the pin to VERSION=X, re-apply the series, report what broke
	@$(KIT) bump

pr: ## write build/pr/ (format-patch files + PR_BODY.md from the last results); never pushes
	@$(KIT) pr

mutation-report: ## opt-in: gradient-breaking mutations vs new and upstream tests (~20 min)
	@$(KIT) mutation-report

env: ## create or update .venv from requirements.lock (uv, system Python 3.11)
	@$(KIT) env

drift: ## check the patches add exactly what flowjax_tests/ and docs_additions/ hold
	@$(KIT) drift

patches: ## rebuild the patches from flowjax_tests/ and docs_additions/
	@$(KIT) patches

refresh: ## export the checkout's commits back to patches/ and the sources
	@$(KIT) refresh

lint: ## ruff over the kit's own code
	@.venv/bin/ruff check scripts tests && .venv/bin/ruff format --check scripts tests
