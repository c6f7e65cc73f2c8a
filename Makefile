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

.PHONY: bench-pipeline
bench-pipeline: $(VENV)/.installed ## Wall time vs critical path, transitions and cost per video (SCALE=1 RUNS=3; docs/benchmarks.md)
	$(BIN)/python -m bench.pipeline.run --scale $(or $(SCALE),1) --runs $(or $(RUNS),3)

.PHONY: demo-vendors
demo-vendors: $(VENV)/.installed ## The demo with the real OpenAI/Runway clients against local fake vendors (no keys, no cost)
	$(BIN)/python -m tests.fakes --topic "$(TOPIC)" $(if $(RATIO),--ratio $(RATIO),)

.PHONY: test-vendors
test-vendors: $(VENV)/.installed ## Run the vendor contract tests (fake OpenAI, Runway, moto Polly)
	$(BIN)/python -m pytest tests/unit/test_openai_llm.py tests/unit/test_openai_speech.py tests/unit/test_runway.py tests/unit/test_polly.py tests/integration/test_pipeline_vendors.py -q

.PHONY: serve
serve: $(VENV)/.installed ## Run the Telegram bot locally: POST /webhook on 127.0.0.1:$(PORT) (default 8080), MODE=polling to long-poll; needs TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL, TELEGRAM_WEBHOOK_SECRET
	$(BIN)/python -m local.serve $(if $(MODE),--mode $(MODE),) --port $(or $(PORT),8080)

.PHONY: set-webhook
set-webhook: $(VENV)/.installed ## Register WEBHOOK_URL (e.g. the stack's WebhookUrl output) with Telegram, using TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET
	@test -n "$(WEBHOOK_URL)" || { echo "WEBHOOK_URL is required"; exit 2; }
	$(BIN)/python -m local.serve --set-webhook "$(WEBHOOK_URL)"
