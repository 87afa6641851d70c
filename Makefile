# Todo Chatbot — developer commands. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
BACKEND := backend
PYRUN := $(UV) run --project $(BACKEND) --frozen

# Every suite `make test` runs, in order: quick checks first, slow system tests last.
TEST_TARGETS := lint typecheck test-backend
TEST_TARGETS += bench-quick
TEST_TARGETS += test-deploy test-e2e-k8s

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-18s %s\n",$$1,$$2}'

.PHONY: uv
uv: ## install uv (the Python project manager) when missing
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --quiet --user uv

.PHONY: setup
setup: uv ## install the backend's locked dependencies
	@$(UV) sync --project $(BACKEND) --frozen --quiet

.PHONY: run
run: setup ## run the app on embedded defaults (SQLite, offline `local` agent)
	@echo "Backend API on http://localhost:8001 (docs: http://localhost:8001/docs). Ctrl-C stops."
	@cd $(BACKEND) && $(UV) run --frozen todo-api serve --port 8001

.PHONY: test
test: setup ## run every test suite (what CI runs)
	@$(MAKE) --no-print-directory $(TEST_TARGETS)

.PHONY: lint
lint: setup ## ruff lint + format check on all Python
	$(PYRUN) ruff check .
	$(PYRUN) ruff format --check .

.PHONY: typecheck
typecheck: setup ## mypy (strict) on the backend package
	cd $(BACKEND) && $(UV) run --frozen mypy

.PHONY: test-backend
test-backend: setup ## API, service, migration tests on SQLite and PostgreSQL
	$(PYRUN) pytest backend/tests

.PHONY: fmt
fmt: setup ## format Python code
	$(PYRUN) ruff format .
	$(PYRUN) ruff check --fix .

.PHONY: bench
bench: setup ## API vs. minimal reference app, PostgreSQL + SQLite; writes docs/BENCHMARKS.md (< 5 min)
	$(PYRUN) python bench/run.py --write-docs

.PHONY: bench-quick
bench-quick: setup ## smoke run of the benchmark (seconds per scenario, tiny data set, no timing checks)
	$(PYRUN) python bench/run.py --quick --skip-missing-tools

.PHONY: test-deploy
test-deploy: setup ## deploy/: kustomize + Helm render, strict k8s schemas, policy, scripts (offline)
	$(PYRUN) pytest tests/deploy

.PHONY: test-e2e-k8s
test-e2e-k8s: setup ## live Kubernetes suite (needs `scripts/minikube.sh up`; skips without a cluster)
	$(PYRUN) pytest tests/e2e_k8s
