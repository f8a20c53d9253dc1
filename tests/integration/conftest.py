"""Integration fixtures: the backend served by uvicorn, talking to the upstream emulator.

The whole model path is real: httpx → uvicorn → FastAPI → Agents SDK Runner →
OpenAIChatCompletionsModel → AsyncOpenAI → HTTP → the emulator in tests/support.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.backend import backend_settings, serve_backend
from tests.support.servers import ServerThread

# Sent upstream as the Bearer token; tests assert it never comes back out.
UPSTREAM_KEY = "sk-test-SECRET-4f1c9b7e2d"
EMULATED_MODEL = "emulated-model"

BackendFactory = Callable[..., AbstractContextManager[ServerThread]]


@pytest.fixture
def make_backend(tmp_path: Path, upstream_base_url: str) -> BackendFactory:
    """Start a backend wired to the emulator; keyword arguments override Settings."""

    def start(**overrides: Any) -> AbstractContextManager[ServerThread]:
        values: dict[str, Any] = {
            "llm_base_url": upstream_base_url,
            "llm_api_key": UPSTREAM_KEY,
            "llm_model": EMULATED_MODEL,
        }
        values.update(overrides)
        return serve_backend(backend_settings(tmp_path, **values))

    return start


@pytest.fixture
def backend(make_backend: BackendFactory) -> Iterator[ServerThread]:
    with make_backend() as server:
        yield server


@pytest.fixture
async def client(backend: ServerThread) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=backend.url, timeout=20) as http:
        yield http
