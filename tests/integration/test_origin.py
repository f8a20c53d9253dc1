"""Run-starting requests from browser pages of foreign origins are refused before any
model call.

Regression test of issue 11: a page on an origin outside CORS_ORIGINS could not read the
answer, but its `EventSource` GET (no preflight) still started a paid model run.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.contract.errors import assert_error
from tests.support.servers import ServerThread
from tests.support.upstream_emulator import UpstreamEmulator

pytestmark = pytest.mark.parametrize("store_kind", ["memory"])

FOREIGN = "https://evil.example"
RUN_STARTING_REQUESTS = [
    pytest.param("GET", "/chat/streaming", {"params": {"message": "hi"}}, id="get-streaming"),
    pytest.param("POST", "/chat/streaming", {"json": {"message": "hi"}}, id="post-streaming"),
    pytest.param("POST", "/chat/wait", {"json": {"message": "hi"}}, id="post-wait"),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), RUN_STARTING_REQUESTS)
async def test_foreign_origin_is_403_before_any_model_call(
    client: httpx.AsyncClient,
    upstream: UpstreamEmulator,
    method: str,
    path: str,
    kwargs: dict[str, Any],
) -> None:
    response = await client.request(method, path, headers={"Origin": FOREIGN}, **kwargs)

    assert_error(response, 403, "origin_not_allowed")
    assert upstream.requests == []


@pytest.mark.parametrize(
    "origin",
    ["http://localhost:8001", "HTTP://127.0.0.1:8001"],
    ids=["cors-origin", "cors-origin-other-case"],
)
async def test_allowed_origin_starts_a_run(
    client: httpx.AsyncClient, upstream: UpstreamEmulator, origin: str
) -> None:
    response = await client.post("/chat/wait", json={"message": "hi"}, headers={"Origin": origin})

    assert response.status_code == 200, response.text
    assert len(upstream.requests) == 1


async def test_the_apis_own_origin_starts_a_run_for_the_docs_page(
    client: httpx.AsyncClient, backend: ServerThread, upstream: UpstreamEmulator
) -> None:
    async with client.stream(
        "GET", "/chat/streaming", params={"message": "hi"}, headers={"Origin": backend.url}
    ) as response:
        await response.aread()

    assert response.status_code == 200
    assert len(upstream.requests) == 1


async def test_requests_without_origin_are_not_browser_pages_and_pass(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    response = await client.post("/chat/wait", json={"message": "hi"})

    assert response.status_code == 200
    assert len(upstream.requests) == 1
