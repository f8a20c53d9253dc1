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
from tests.support.redis_server import RedisServer
from tests.support.servers import ServerThread

# Sent upstream as the Bearer token; tests assert it never comes back out.
UPSTREAM_KEY = "sk-test-SECRET-4f1c9b7e2d"
EMULATED_MODEL = "emulated-model"

BackendFactory = Callable[..., AbstractContextManager[ServerThread]]


@pytest.fixture(params=["memory", "redis"])
def store_kind(request: pytest.FixtureRequest) -> str:
    """Every behaviour runs against both store kinds: in-process and Redis."""
    return str(request.param)


@pytest.fixture
def make_backend(
    tmp_path: Path, upstream_base_url: str, store_kind: str, request: pytest.FixtureRequest
) -> BackendFactory:
    """Start a backend wired to the emulator; keyword arguments override Settings."""
    stores: dict[str, Any] = {}
    if store_kind == "redis":
        redis: RedisServer = request.getfixturevalue("redis_server")
        stores = {"stream_store_url": redis.url, "session_store_url": redis.url}

    def start(**overrides: Any) -> AbstractContextManager[ServerThread]:
        values: dict[str, Any] = {
            "llm_base_url": upstream_base_url,
            "llm_api_key": UPSTREAM_KEY,
            "llm_model": EMULATED_MODEL,
            **stores,
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
