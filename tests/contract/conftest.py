"""Contract fixtures: one offline backend for the whole layer, plus special-purpose ones."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.backend import backend_settings, serve_backend
from tests.support.servers import ServerThread


@pytest.fixture(scope="session")
def contract_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """The offline demo model at a pace slow enough to catch streams mid-way."""
    settings = backend_settings(
        tmp_path_factory.mktemp("contract"), offline_token_delay_seconds=0.01
    )
    with serve_backend(settings) as server:
        yield server


@pytest.fixture
def api(contract_backend: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=contract_backend.url, timeout=20) as client:
        yield client


@pytest.fixture
async def async_api(contract_backend: ServerThread) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=contract_backend.url, timeout=20)
