# The project's vocabulary. `make help` lists the targets.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOPIC ?= Реклама кофе

.DEFAULT_GOAL := help

# Python's bytecode is cached (in the __pycache__ folders git ignores, never in a Lambda package:
# sam build leaves them out), even where the shell sets PYTHONDONTWRITEBYTECODE, as these
# machines do: without it every process compiled the project's modules again, and pytest
# rewrote every test module's asserts again, two thirds of each xdist worker's collection.
export PYTHONDONTWRITEBYTECODE :=

$(VENV)/.installed: requirements.txt functions/requirements.txt pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

.PHONY: help
help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: install
install: $(VENV)/.installed deploy-tools ## Create .venv (the runner and the tests) and the deployment checks' tools (.venv-sam, infra/node_modules)

.PHONY: demo
demo: $(VENV)/.installed ## Make a video offline: TOPIC="..." (default Реклама кофе), INTERACTIVE=1 to approve by hand (OPEN=1 opens each contact sheet), RATIO=9:16, JOB_ID=abc-123, LOG_LEVEL=INFO to show the logs
	$(BIN)/python -m local demo --topic "$(TOPIC)" $(if $(INTERACTIVE),--interactive,) $(if $(OPEN),--open,) $(if $(RATIO),--ratio $(RATIO),) $(if $(JOB_ID),--job-id $(JOB_ID),)

# pytest-xdist workers: each gets its own database and local pipeline (tests/conftest.py).
# A worker takes a whole file at a time, in the order collected (the heavy integration files
# first), so the few long tests spread over the workers instead of queueing on one. Three on two
# cores: a pipeline test spends much of its time waiting (for a gate, a poll, an end), and a
# third worker runs in those waits; a fourth costs more (its own start and collection) than it
# fills (docs/benchmarks.md).
WORKERS ?= 3
PARALLEL := -n $(WORKERS) --dist loadfile --no-loadscope-reorder

.PHONY: test
test: $(VENV)/.installed deploy-tools lint-fast ## Lint, then the unit and integration tests with mypy and the deployment checks beside them (tests/aws only with AWS_SAM_STACK_NAME)
	@mkdir -p .local
	@bash infra/ci_checks.sh > .local/ci_checks.log 2>&1 & checks=$$!; \
	$(BIN)/mypy > .local/mypy.log 2>&1 & typed=$$!; \
	$(BIN)/python -m pytest tests -q $(PARALLEL); tests=$$?; \
	wait $$typed; typecheck=$$?; \
	echo "== mypy, run beside the tests (.local/mypy.log)"; cat .local/mypy.log; \
	wait $$checks; checked=$$?; \
	echo "== infra/ci_checks.sh, run beside the tests (.local/ci_checks.log)"; \
	if [ $$checked -eq 0 ]; then tail -n 1 .local/ci_checks.log; else cat .local/ci_checks.log; fi; \
	exit $$(( tests || typecheck || checked ))

.PHONY: test-unit
test-unit: $(VENV)/.installed ## The unit tests alone
	$(BIN)/python -m pytest tests/unit -q $(PARALLEL)

.PHONY: mutation
mutation: $(VENV)/.installed ## mutmut over the money and gate modules against their unit tests, one mutant at a time, niced (MUTANTS='videobot.control.*' for some; REPORT=1 to print the last scores; docs/reliability.md)
	nice -n 19 $(BIN)/python -m tests.mutation $(if $(REPORT),--report,) $(MUTANTS)

.PHONY: migrate
migrate: $(VENV)/.installed ## Apply the SQL migrations to DATABASE_URL (or the embedded PostgreSQL)
	$(BIN)/python -m local migrate

.PHONY: clean
clean: ## Remove local data (embedded PostgreSQL, media)
	rm -rf .local

.PHONY: bench-pipeline
bench-pipeline: $(VENV)/.installed ## Wall time vs critical path, transitions and cost per video (SCALE=1 RUNS=3; docs/benchmarks.md)
	$(BIN)/python -m bench.pipeline.run --scale $(or $(SCALE),1) --runs $(or $(RUNS),3)
	$(BIN)/python -m bench.pipeline.run --sweep --scale $(or $(SCALE),1) --runs 1

.PHONY: demo-vendors
demo-vendors: $(VENV)/.installed ## The demo with the real OpenAI/Runway clients against local fake vendors (no keys, no cost); LLM_S=2 IMAGE_S=6 CLIP_S=12 for fixed vendor latencies
	$(BIN)/python -m tests.fakes --topic "$(TOPIC)" $(if $(RATIO),--ratio $(RATIO),) --llm-seconds $(or $(LLM_S),0) --image-seconds $(or $(IMAGE_S),0) --clip-seconds $(or $(CLIP_S),0)

.PHONY: bench-vendors
bench-vendors: $(VENV)/.installed ## What fixed vendor latencies add to the wall, through the real clients, over their critical path (RUNS=2; docs/benchmarks.md)
	$(BIN)/python -m bench.vendors.run --runs $(or $(RUNS),2) --sweep

.PHONY: bench-narration
bench-narration: $(VENV)/.installed ## No narration cut: parts rewritten, rounds and time added over SCRIPTS=40 scripts too long (LLM_S=0; docs/benchmarks.md)
	$(BIN)/python -m bench.narration.run --scripts $(or $(SCRIPTS),40) --llm-seconds $(or $(LLM_S),0)

.PHONY: test-vendors
test-vendors: $(VENV)/.installed ## Run the vendor contract tests (fake OpenAI, Runway, moto Polly)
	$(BIN)/python -m pytest tests/unit/test_openai_llm.py tests/unit/test_openai_speech.py tests/unit/test_runway.py tests/unit/test_polly.py tests/integration/test_pipeline_vendors.py -q

.PHONY: serve
serve: $(VENV)/.installed ## Run the Telegram bot locally: POST /webhook on 127.0.0.1:$(PORT) (default 8080), MODE=polling to long-poll; needs TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL, TELEGRAM_WEBHOOK_SECRET
	$(BIN)/python -m local.serve $(if $(MODE),--mode $(MODE),) --port $(or $(PORT),8080)

# ---------------------------------------------------------------- AWS (docs/deploy.md)
# ENV=dev (default) or ENV=prod picks the samconfig.toml environment.
ENV ?= default
SAM_VENV := .venv-sam
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam

# The deployment checks' tools (infra/ci_checks.sh), kept out of .venv. Each marker holds a
# copy of what it was installed from: a newer file with the same content installs nothing
# (and changes nothing, so a linked .venv-sam or node_modules is left as it is).
$(SAM_VENV)/.installed: infra/requirements-ci.txt
	@if cmp -s $< $@; then :; else \
	  set -e; $(PY) -m venv $(SAM_VENV); \
	  $(SAM_VENV)/bin/python -m pip install -q --upgrade pip; \
	  $(SAM_VENV)/bin/python -m pip install -q -r $<; \
	  cp $< $@; fi

infra/node_modules/.installed: infra/package.json infra/package-lock.json
	@if cmp -s infra/package-lock.json $@; then :; else \
	  set -e; cd infra && npm ci --no-audit --no-fund --loglevel=error; cp package-lock.json node_modules/.installed; fi

.PHONY: deploy-tools
deploy-tools: $(SAM_VENV)/.installed infra/node_modules/.installed

.PHONY: lint-fast
lint-fast: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m infra.asl --check

.PHONY: lint-code
lint-code: lint-fast
	$(BIN)/mypy

.PHONY: lint
lint: lint-code deploy-tools ## ruff (lint, complexity and format), mypy, the state machines as infra/asl.py writes them, the import rules (docs/architecture.md), then the offline deployment checks (sam validate --lint, cfn-lint, asl-validator, sam build)
	$(BIN)/python -m pytest tests/unit/test_architecture.py -q
	bash infra/ci_checks.sh

.PHONY: build
build: $(SAM_VENV)/.installed ## sam build (cached, parallel; no Docker, needs python3.12 on PATH)
	$(SAM) build --config-env $(ENV)

.PHONY: deploy
deploy: build ## Deploy: GUIDED=1 the first time (asks for the bot token and keys), ENV=prod for prod
	$(SAM) deploy --config-env $(ENV) $(if $(GUIDED),--guided,)

.PHONY: set-webhook
set-webhook: $(VENV)/.installed ## Register the deployed webhook URL and its secret token with Telegram
	$(BIN)/python -m infra.stack set-webhook --config-env $(ENV)

.PHONY: outputs
outputs: $(VENV)/.installed ## Print the deployed stack's outputs (webhook URL, state machine, bucket)
	$(BIN)/python -m infra.stack outputs --config-env $(ENV)

.PHONY: logs
logs: $(SAM_VENV)/.installed ## Tail the stack's logs; FUNCTION=AssembleVideoFunction for one function
	$(SAM) logs --config-env $(ENV) $(if $(FUNCTION),--name $(FUNCTION),) --tail

.PHONY: delete
delete: $(VENV)/.installed $(SAM_VENV)/.installed ## Empty the media bucket and delete the stack (RDS leaves a final snapshot)
	$(BIN)/python -m infra.stack empty-bucket --config-env $(ENV)
	$(SAM) delete --config-env $(ENV)

.PHONY: test-aws
test-aws: $(VENV)/.installed ## Tests against a deployed stack: AWS_SAM_STACK_NAME=ai-video-bot-dev
	$(BIN)/python -m pytest tests/aws -q -m aws

bench/.venv-moviepy/.installed: bench/requirements.txt
	$(PY) -m venv bench/.venv-moviepy
	bench/.venv-moviepy/bin/python -m pip install -q -r bench/requirements.txt
	touch $@

.PHONY: bench-assembly
bench-assembly: $(VENV)/.installed bench/.venv-moviepy/.installed ## Benchmark assembly: ours vs MoviePy vs one bare ffmpeg pass (RUNS=3), into docs/benchmarks.md
	$(BIN)/python -m bench.assembly.bench --runs $(or $(RUNS),3) --write docs/benchmarks.md

.PHONY: bench-webhook
bench-webhook: $(VENV)/.installed ## Webhook latency warm (p50/p99 per update kind) and cold import time (docs/benchmarks.md)
	$(BIN)/python -m bench.webhook.run --requests $(or $(REQUESTS),300)

.PHONY: bench-webhook-history
bench-webhook-history: $(VENV)/.installed ## A topic's p99 through the webhook over 100,000 jobs and 1,000,000 ledger rows (JOBS= ROWS= TOPICS= HOURS=; docs/benchmarks.md)
	$(BIN)/python -m bench.webhook.history --jobs $(or $(JOBS),100000) --rows $(or $(ROWS),1000000) --topics $(or $(TOPICS),200) --hours $(or $(HOURS),24)

.PHONY: bench-load
bench-load: $(VENV)/.installed ## USERS=20 users at once through the webhook, every gate approved at once (approvals delivered twice), offline vendors at SCALE=0.25; every video delivered once (docs/benchmarks.md)
	$(BIN)/python -m bench.load.run --users $(or $(USERS),20) --scale $(or $(SCALE),0.25)

.PHONY: bench-test-loop
bench-test-loop: $(VENV)/.installed ## A fresh clone of HEAD: make install, make test RUNS times (3), make test-unit, timed with CPU and load (LOCK=file to take a flock per run; docs/benchmarks.md)
	$(BIN)/python -m bench.test_loop.run --runs $(or $(RUNS),3) $(if $(LOCK),--lock $(LOCK),)

# ---------------------------------------------------------------- reliability (docs/reliability.md)
RELIABILITY_TESTS := tests/unit/test_reliability_input.py tests/unit/test_reliability_races.py \
	tests/unit/test_reliability_security.py tests/unit/test_reliability_vendor_tasks.py \
	tests/integration/test_reliability_faults.py tests/integration/test_reliability_security.py \
	tests/integration/test_reliability_load.py

.PHONY: reliability
reliability: $(VENV)/.installed ## The fault matrix (docs/reliability.md): duplicates, races, bad input, security, faults, load
	$(BIN)/python -m pytest $(RELIABILITY_TESTS) -q

.PHONY: reliability-burst
reliability-burst: $(VENV)/.installed ## Burst at the local webhook: UPDATES=500 from CHATS=100, CONCURRENCY=16; throughput and p99
	$(BIN)/python -m bench.reliability.burst --updates $(or $(UPDATES),500) --chats $(or $(CHATS),100) --concurrency $(or $(CONCURRENCY),16)
