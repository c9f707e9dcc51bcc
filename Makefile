# FlowJAX reparameterization patch kit. `make help` lists the targets.
# Variables: FLOWJAX_DIR (checkout, default build/flowjax), PR (one PR of patches/stack.toml),
# FORCE=1, UPSTREAM_REF (your clone's base: a tag, main, a commit; old name UPSTREAM_TAG), ORDER, ENVS and KIT_PYTHONS (make envs), VERSIONS (make matrix),
# VERSION (make bump), AUTHOR and ISSUE (make pr), MUTATIONS and MUTATION_UPSTREAM=full (make mutation-report),
# STREAMS, CASES and FLAKE_MINUTES (make flake); DRY_RUN=1 (make apply, refresh, bump: print the plan, change nothing).
SHELL := /bin/bash
PYTHON ?= python3
KIT := PYTHONPATH=$(CURDIR)/scripts $(PYTHON) -m kit
export FLOWJAX_DIR PR FORCE UPSTREAM_REF UPSTREAM_TAG ORDER ENVS KIT_PYTHONS VERSIONS VERSION AUTHOR ISSUE MUTATIONS MUTATION_UPSTREAM STREAMS CASES FLAKE_MINUTES DRY_RUN

# A variable given in lower case (`make apply pr=docs`) would be ignored: name it instead.
KIT_VARS := FLOWJAX_DIR PR FORCE UPSTREAM_TAG UPSTREAM_REF ORDER ENVS KIT_PYTHONS KIT_PYTHON VERSIONS VERSION \
	AUTHOR ISSUE MUTATIONS MUTATION_UPSTREAM STREAMS CASES FLAKE_MINUTES DRY_RUN PYTHON KIT_INDEX_URL KIT_CACHE KIT_TOOLS_CACHE
lower = $(subst A,a,$(subst B,b,$(subst C,c,$(subst D,d,$(subst E,e,$(subst F,f,$(subst G,g,$(subst H,h,$(subst \
	I,i,$(subst J,j,$(subst K,k,$(subst L,l,$(subst M,m,$(subst N,n,$(subst O,o,$(subst P,p,$(subst Q,q,$(subst \
	R,r,$(subst S,s,$(subst T,t,$(subst U,u,$(subst V,v,$(subst W,w,$(subst X,x,$(subst Y,y,$(subst Z,z,$(1)))))))))))))))))))))))))))
$(foreach v,$(KIT_VARS),$(if $(filter command line,$(origin $(call lower,$(v)))),$(error \
	$(call lower,$(v))=$($(call lower,$(v))) is not read by the kit: did you mean $(v)=$($(call lower,$(v)))?)))

.DEFAULT_GOAL := help
.PHONY: help apply test test-fast docs envs streams flake matrix bump pr mutation-report env bench drift patches refresh lint

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

apply: ## fetch + verify the pinned sdist, make build/flowjax, apply the stack (PR=<name>: one PR + deps; FLOWJAX_DIR=<clone> UPSTREAM_REF=main: onto main; DRY_RUN=1: the plan only)
	@$(KIT) apply

test: ## kit tests; each PR alone; the stack + upstream's suite; sentinels; reproducer; docs; drift; ruff (on a PR's branch: that PR)
	@$(KIT) test

test-fast: ## the edit loop: the series' own tests, sentinels, reproducer, doctests (on a PR's branch: that PR)
	@$(KIT) test-fast

docs: ## build the patched HTML docs into build/docs/html; no new warnings vs the base
	@$(KIT) docs

envs: ## opt-in: the stack in upstream's CI environments (locked, latest-3.11, latest, lowest)
	@$(KIT) envs

streams: ## opt-in: the series' tests under JAX's other PRNGs (rbg, unsafe_rbg, threefry flipped) (~2 min)
	@$(KIT) streams

flake: ## opt-in: each new test case's failure rate over STREAMS=N fresh random streams (default 100; CASES=words, FLAKE_MINUTES=budget)
	@$(KIT) flake

matrix: ## the stack + its tests on each release: VERSIONS="19.0.0 19.1.2" (default: pin + newest)
	@$(KIT) matrix

bump: ## move the pin to VERSION=X, re-apply the series, report what broke (DRY_RUN=1: the plan only)
	@$(KIT) bump

pr: ## per PR: branch, build/pr/<pr>/ patches + PR_BODY.md (+ ISSUE.md); AUTHOR="Name <mail>"; never pushes
	@$(KIT) pr

mutation-report: ## opt-in: gradient-breaking mutations vs new and upstream tests (~40 min)
	@$(KIT) mutation-report

env: ## create or update .venv from requirements.lock (uv, system Python 3.11)
	@$(KIT) env

bench: ## print the edit-loop figures: kit tests, fresh-clone `make env` vs its uv (after make apply)
	@$(KIT) bench

drift: ## check the patches add exactly what flowjax_tests/ and docs_additions/ hold
	@$(KIT) drift

patches: ## rebuild the patches from flowjax_tests/ and docs_additions/
	@$(KIT) patches

refresh: ## export the checkout's commits to patches/ and the sources (on a PR's branch: that PR; restack the rest; DRY_RUN=1: the plan only)
	@$(KIT) refresh

lint: ## ruff over the kit's own code
	@.venv/bin/ruff check scripts tests && .venv/bin/ruff format --check scripts tests
