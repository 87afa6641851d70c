# Todo Chatbot — developer commands. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
BACKEND := backend
PYRUN := $(UV) run --project $(BACKEND) --frozen

# Every suite `make test` runs, in order: quick checks first, slow system tests last.
TEST_TARGETS := lint typecheck test-unit test-backend test-backend-lowest
TEST_TARGETS += bench-quick
TEST_TARGETS += test-deploy test-e2e-k8s
TEST_TARGETS += check-api-types test-frontend test-e2e
TEST_TARGETS += test-docs
TEST_TARGETS += test-containers
TEST_TARGETS += test-reliability

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
run: setup ## run backend + frontend on embedded defaults (SQLite, offline `local` agent); prints the URL
	@UV="$(UV)" ./scripts/dev.sh

.PHONY: test
test: setup ## run every test suite (what CI runs); -k: one failing suite does not hide the others
	@$(MAKE) -k --no-print-directory $(TEST_TARGETS)

.PHONY: lint
lint: setup ## ruff lint + format check on all Python
	$(PYRUN) ruff check .
	$(PYRUN) ruff format --check .

.PHONY: typecheck
typecheck: setup ## mypy (strict) on the backend package
	cd $(BACKEND) && $(UV) run --frozen mypy

.PHONY: test-unit
test-unit: setup ## fast unit tier (< 20 s): dates, matching, the chat's rule table, text rules; no server, no database
	$(PYRUN) pytest $(BACKEND)/tests/unit

.PHONY: test-backend
test-backend: setup ## API, service, migration tests on SQLite and PostgreSQL (the unit tier is test-unit)
	$(PYRUN) pytest backend/tests --ignore=$(BACKEND)/tests/unit

# The lowest versions backend/pyproject.toml allows (uv's lowest-direct resolution), in their own
# venv so uv.lock and backend/.venv stay as they are: a lower bound nobody runs is a guess.
# The venv sits at the top, outside backend/, which the image tests copy as a build context.
# The whole backend suite takes 5-15 min on a shared 2-vCPU machine, so this runs a
# representative part (~2 CPU-minutes) on both databases:
# the API, MCP (mcp), the LLM provider (openai), migrations (alembic), the chat API, the rule
# corpus read directly and the unit tier. LOWEST_TESTS=backend/tests runs all of it.
LOWEST_VENV := .venv-lowest
LOWEST_PYTHON ?= 3.11
LOWEST_TESTS ?= $(BACKEND)/tests/api $(BACKEND)/tests/unit $(BACKEND)/tests/test_mcp.py \
	$(BACKEND)/tests/test_migrations.py $(BACKEND)/tests/agent/test_llm_provider.py \
	$(BACKEND)/tests/agent/test_chat_api.py $(BACKEND)/tests/agent/test_understand_corpus.py

.PHONY: test-backend-lowest
test-backend-lowest: uv ## backend tests on the LOWEST dependency versions pyproject allows (needs PyPI; uv.lock untouched)
	$(UV) venv --quiet --allow-existing --python $(LOWEST_PYTHON) $(LOWEST_VENV)
	$(UV) pip compile --quiet --resolution lowest-direct --python $(LOWEST_VENV)/bin/python \
		$(BACKEND)/pyproject.toml --group $(BACKEND)/pyproject.toml:dev -o $(LOWEST_VENV)/requirements.txt
	$(UV) pip sync --quiet --python $(LOWEST_VENV)/bin/python $(LOWEST_VENV)/requirements.txt
	$(UV) pip install --quiet --python $(LOWEST_VENV)/bin/python --no-deps -e $(BACKEND)
	$(LOWEST_VENV)/bin/python -m pytest $(LOWEST_TESTS) $(PYTEST_ARGS)

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

# --- frontend (Next.js) -------------------------------------------------------------------------
FRONTEND := frontend
FRONTEND_ENV := NEXT_TELEMETRY_DISABLED=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
FRONTEND_SRC := $(shell find $(FRONTEND)/app $(FRONTEND)/components $(FRONTEND)/lib $(FRONTEND)/public -type f 2>/dev/null) \
	$(FRONTEND)/proxy.ts $(FRONTEND)/next.config.ts $(FRONTEND)/tsconfig.json $(FRONTEND)/package.json

$(FRONTEND)/node_modules/.package-lock.json: $(FRONTEND)/package-lock.json $(FRONTEND)/package.json
	cd $(FRONTEND) && $(FRONTEND_ENV) npm ci --no-audit --no-fund

$(FRONTEND)/.next/standalone/server.js: $(FRONTEND)/node_modules/.package-lock.json $(FRONTEND_SRC)
	cd $(FRONTEND) && $(FRONTEND_ENV) npm run build

.PHONY: frontend-build
frontend-build: $(FRONTEND)/.next/standalone/server.js ## npm ci + production build (.next/standalone)

.PHONY: test-frontend
test-frontend: $(FRONTEND)/node_modules/.package-lock.json ## frontend typecheck, lint, unit tests, production build
	cd $(FRONTEND) && $(FRONTEND_ENV) npm run typecheck
	cd $(FRONTEND) && $(FRONTEND_ENV) npm run lint
	cd $(FRONTEND) && $(FRONTEND_ENV) npm run test:unit
	@$(MAKE) --no-print-directory frontend-build
	test -f $(FRONTEND)/.next/standalone/server.js -a -d $(FRONTEND)/.next/standalone/.next/static

# The frontend's API types come from the backend's OpenAPI schema (frontend/lib/openapi.json,
# generated into frontend/lib/api-types.ts by openapi-typescript); both are committed.
API_SCHEMA := $(FRONTEND)/lib/openapi.json
API_TYPES := $(FRONTEND)/lib/api-types.ts

.PHONY: api-types
api-types: setup $(FRONTEND)/node_modules/.package-lock.json ## regenerate frontend/lib/openapi.json and api-types.ts from the backend
	$(PYRUN) todo-api openapi --output $(API_SCHEMA)
	cd $(FRONTEND) && npm run --silent gen:api-types

.PHONY: check-api-types
check-api-types: setup $(FRONTEND)/node_modules/.package-lock.json ## fail when the committed API schema or types differ from the backend's (fix: make api-types)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PYRUN) todo-api openapi --output "$$tmp/openapi.json" && \
	(cd $(FRONTEND) && npx --no-install openapi-typescript "$$tmp/openapi.json" --output "$$tmp/api-types.ts" >/dev/null) && \
	diff -u $(API_SCHEMA) "$$tmp/openapi.json" && diff -u $(API_TYPES) "$$tmp/api-types.ts" || \
	{ echo "frontend API types are stale: run 'make api-types' and commit the result" >&2; exit 1; }
	@echo "API schema and types match the backend"

.PHONY: test-e2e
test-e2e: setup frontend-build ## browser tests: Debian chromium + real backend + built frontend (screenshots in artifacts/e2e)
	cd $(FRONTEND) && $(FRONTEND_ENV) UV="$(UV)" npm run test:e2e

.PHONY: test-docs
test-docs: setup ## README + docs/: named paths, make targets, scripts, env vars, PHASE4 table, kagent/kubectl-ai manifests
	$(PYRUN) pytest tests/docs

# ---------------------------------------------------------------- container images (issue 5)
# Official bases by default. Where no registry is reachable, build on the local stand-ins from
# ../shared/ci/base-images.sh:  make images PYTHON_IMAGE=python:3.11-slim-bookworm NODE_IMAGE=node:20-bookworm-slim
PYTHON_IMAGE ?= python:3.13-slim-bookworm
NODE_IMAGE ?= node:20-alpine
IMAGE_VERSION ?= 0.1.0
IMAGE_LABEL_ARGS = --build-arg VERSION=$(IMAGE_VERSION) \
	--build-arg REVISION=$$(git rev-parse HEAD 2>/dev/null || echo unknown) \
	--build-arg SOURCE=$$(git remote get-url origin 2>/dev/null || echo unknown)

.PHONY: images
images: ## build todo-backend:0.1.0 and todo-frontend:0.1.0 (bases: PYTHON_IMAGE=, NODE_IMAGE=)
	docker build --build-arg PYTHON_IMAGE=$(PYTHON_IMAGE) $(IMAGE_LABEL_ARGS) -t todo-backend:$(IMAGE_VERSION) backend
	docker build --build-arg NODE_IMAGE=$(NODE_IMAGE) $(IMAGE_LABEL_ARGS) -t todo-frontend:$(IMAGE_VERSION) frontend

.PHONY: test-containers
test-containers: setup ## build both images on the stand-in bases; image, compose and hadolint tests
	$(PYRUN) pytest tests/containers

.PHONY: image-report
image-report: setup ## measure sizes, build times, contexts, time-to-healthy -> docs/BENCHMARKS.md
	$(PYRUN) python scripts/image-report.py

# --- reliability and security (tests/reliability; writes docs/RELIABILITY.md) -----------------
.PHONY: test-reliability
test-reliability: setup $(if $(shell command -v npm 2>/dev/null),frontend-build) ## fuzzing, isolation, tokens, DB outage, provider faults, limits, secrets, 60 s soak -> docs/RELIABILITY.md
	$(PYRUN) pytest tests/reliability

.PHONY: soak
soak: setup ## the documented 10-minute soak (mixed load, zero errors, bounded RSS); SOAK_SECONDS=600
	$(PYRUN) python scripts/soak.py --duration $${SOAK_SECONDS:-600}
