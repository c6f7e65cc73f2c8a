# The project's vocabulary. `make help` lists the targets.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOPIC ?= Реклама кофе
export PYTHONPATH := functions:.

.DEFAULT_GOAL := help

$(VENV)/.installed: requirements.txt functions/requirements.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

.PHONY: help
help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: install
install: $(VENV)/.installed ## Create .venv with everything the runner and the tests need

.PHONY: demo
demo: $(VENV)/.installed ## Make a video offline: TOPIC="..." (default Реклама кофе), INTERACTIVE=1 to approve by hand, RATIO=9:16, JOB_ID=abc-123
	$(BIN)/python -m local demo --topic "$(TOPIC)" $(if $(INTERACTIVE),--interactive,) $(if $(RATIO),--ratio $(RATIO),) $(if $(JOB_ID),--job-id $(JOB_ID),)

.PHONY: test
test: $(VENV)/.installed ## Run the unit and integration tests (tests/aws runs only with AWS_SAM_STACK_NAME)
	$(BIN)/python -m pytest tests -q

.PHONY: migrate
migrate: $(VENV)/.installed ## Apply the SQL migrations to DATABASE_URL (or the embedded PostgreSQL)
	$(BIN)/python -m local migrate

.PHONY: clean
clean: ## Remove local data (embedded PostgreSQL, media)
	rm -rf .local

bench/.venv-moviepy/.installed: bench/requirements.txt
	$(PY) -m venv bench/.venv-moviepy
	bench/.venv-moviepy/bin/python -m pip install -q -r bench/requirements.txt
	touch $@

.PHONY: bench-assembly
bench-assembly: $(VENV)/.installed bench/.venv-moviepy/.installed ## Benchmark assembly: ours vs MoviePy vs one bare ffmpeg pass (RUNS=3), into docs/benchmarks.md
	$(BIN)/python -m bench.assembly.bench --runs $(or $(RUNS),3) --write docs/benchmarks.md
