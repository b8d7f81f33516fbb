# ntpd112. `make run` and `make test` do all the set-up a fresh machine needs; both are idempotent.
.DEFAULT_GOAL := help
VENV := .venv/bin

.PHONY: help setup run test unit integration load chaos lint bench-screen-pop lock asterisk-start asterisk-stop asterisk-status clean-spool

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

setup: ## Install what is missing, provision and start the local Asterisk, create databases, migrate
	@scripts/bootstrap.sh
	@$(VENV)/ntpd112 setup

run: setup ## Run the service against the local Asterisk (prints where everything listens)
	@$(VENV)/ntpd112 run

test: setup ## Run every test (unit, integration against the real Asterisk, PostgreSQL and SIPp, browser, console)
	@$(VENV)/pytest
	@cd webapp && npm test --silent

unit: ## Run the unit tests only (no set-up needed beyond the venv and webapp/node_modules)
	@$(VENV)/pytest tests/unit
	@cd webapp && npm test --silent

integration: setup ## Run the integration tests only
	@$(VENV)/pytest tests/integration

PROFILE ?= steady-short
LOAD_OUT ?= $(HOME)/.cache/ntpd112/loadtest
load: setup ## Load test against the local Asterisk: make load PROFILE=steady|surge|prank-flood|ramp|sustained|thousand|FILE
	@mkdir -p $(LOAD_OUT)
	@$(VENV)/ntpd112 loadtest $(PROFILE) --json $(LOAD_OUT)/$(notdir $(PROFILE)).json --plot $(LOAD_OUT)/$(notdir $(PROFILE)).png

FAULT ?= all
chaos: setup ## Fault harness under the chaos load: make chaos FAULT=all|service-kill|asterisk-restart|... (docs/RELIABILITY.md)
	@mkdir -p $(LOAD_OUT)
	@$(VENV)/ntpd112 loadtest chaos --fault $(FAULT) --json $(LOAD_OUT)/chaos.json

bench-screen-pop: setup ## Screen-pop benchmark: CALLS 112 calls to a baresip operator on the console (time to the card)
	@mkdir -p $(LOAD_OUT)
	NTPD112_BENCH_CALLS=$(or $(CALLS),50) NTPD112_BENCH_OUT=$(LOAD_OUT)/screen-pop.json \
		$(VENV)/pytest tests/integration/browser/bench_screen_pop.py -q -s -p no:cacheprovider

lint: ## ruff, mypy, the import layers (import-linter) and the console's types (svelte-check)
	@$(VENV)/ruff check src tests migrations
	@$(VENV)/ruff format --check src tests migrations
	@$(VENV)/mypy
	@$(VENV)/lint-imports
	@cd webapp && npm run --silent check

lock: ## Re-lock uv.lock after changing dependencies; UPGRADE=1 takes the newest allowed (bootstrap installs it)
	@$(VENV)/uv lock $(if $(UPGRADE),--upgrade)

asterisk-start: ## Start the local Asterisk (provisioned on first use)
	@$(VENV)/ntpd112 asterisk start

asterisk-stop: ## Stop the local Asterisk
	@$(VENV)/ntpd112 asterisk stop

asterisk-status: ## Is the local Asterisk running?
	@$(VENV)/ntpd112 asterisk status
