# ChatWait: `make run` starts the app, `make test` runs every check. Both work on a
# fresh machine with only python3 and pip: uv is installed on first use.

SHELL := /bin/bash
PYTHON ?= python3
# uv runs as a module of the Python that installed it, so no PATH changes are needed.
UV := $(PYTHON) -m uv
# This machine reaches package registries only: never let uv download a Python.
export UV_PYTHON_DOWNLOADS := never
# Precompiled bytecode halves start-up (the Agents SDK is a large import), which every
# API process the tests start pays again.
export UV_COMPILE_BYTECODE := 1
HOST ?= 127.0.0.1
API_PORT ?= 8000
UI_PORT ?= 8001

.PHONY: help bootstrap sync test-deps run test lint typecheck pytest bench screenshot clean

help:
	@echo "make run    - start the API and the chat UI (offline demo model unless a key is set)"
	@echo "make test   - lint, format check, type check and every test"
	@echo "make bench  - ChatWait vs the bare Agents SDK relay, Redis memory; reports/"
	@echo "make screenshot - refresh docs/img/chat-ui.png from the browser test"

bootstrap:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv

sync: bootstrap
	@$(UV) sync --frozen --all-extras --quiet

# The API and the chat UI together; Ctrl-C stops both.
run: sync
	@$(UV) run --frozen python scripts/run_chatwait.py --host $(HOST) --api-port $(API_PORT) --ui-port $(UI_PORT)

lint: sync
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

typecheck: sync
	$(UV) run --frozen mypy
	$(UV) run --frozen mypy tests benchmarks scripts

# Real services the tests start themselves: a missing one is installed here, and a
# test that still cannot find it fails (never skips).
test-deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v nginx >/dev/null || test -x /usr/sbin/nginx || missing="$$missing nginx-light"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

pytest: sync test-deps
	$(UV) run --frozen pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# ChatWait vs the bare Agents SDK relay (a few minutes), then Redis memory per stream;
# the plots are copied to docs/img for docs/performance.md.
bench: sync test-deps
	$(UV) run --frozen python -m benchmarks.bench --docs-img docs/img
	$(UV) run --frozen python -m benchmarks.redis_memory

# Refresh the README's screenshot of the chat UI from the browser test.
screenshot: sync test-deps
	$(UV) run --frozen pytest tests/e2e/test_chat_ui.py
	cp artifacts/screenshots/chat-streaming.png docs/img/chat-ui.png

clean:
	rm -rf .venv .mypy_cache .ruff_cache reports
