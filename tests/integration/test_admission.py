"""Per-process admission control: MAX_ACTIVE_RUNS and MAX_OPEN_STREAMS.

Over either limit a request gets a JSON 503 `server_busy` with Retry-After, before the
per-principal limits and before any model call (the emulator records every call).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from tests.integration.conftest import BackendFactory
from tests.support.sse import collect_sse, iter_sse
from tests.support.upstream_emulator import Scenario, UpstreamEmulator


@asynccontextmanager
async def api(make_backend: BackendFactory, **settings: object) -> AsyncIterator[httpx.AsyncClient]:
    with make_backend(**settings) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            yield http


def assert_busy(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "server_busy"
    assert int(response.headers["Retry-After"]) >= 1
    assert error["details"]["retry_after"] == response.headers["Retry-After"]


def slow(words: int = 30) -> Scenario:
    return Scenario(chunks=[f"w{i} " for i in range(words)], chunk_delay=0.05)


async def test_max_active_runs_refuses_before_the_principal_limits_and_the_model(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(slow())
    upstream.default_scenario = Scenario(text="quick")
    # RATE_LIMIT_PER_MINUTE=1 would answer 429 to the second run: the process limit
    # must answer first.
    async with api(make_backend, max_active_runs=1, rate_limit_per_minute=1) as http:
        async with http.stream(
            "GET", "/chat/streaming", params={"message": "long", "stream_id": "adm-run-01"}
        ) as running:
            events = iter_sse(running)
            while (await anext(events)).event != "token":
                pass
            wait = await http.post("/chat/wait", json={"message": "another"})
            stream = await http.get("/chat/streaming", params={"message": "and another"})
            # A viewer of the running stream is not a new run.
            _, replay = await collect_sse(
                http, "GET", "/chat/streaming", params={"stream_id": "adm-run-01"}
            )
        assert_busy(wait)
        assert_busy(stream)
        assert replay[-1].event == "done"
        assert len(upstream.requests) == 1

        # The run released its slot before `done`: the rate limit answers now.
        again = await http.post("/chat/wait", json={"message": "later"})
        assert again.status_code == 429, again.text


async def test_max_open_streams_counts_viewers_and_frees_their_slots(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(slow())
    upstream.default_scenario = Scenario(text="quick")
    async with api(make_backend, max_open_streams=1) as http:
        async with http.stream(
            "GET", "/chat/streaming", params={"message": "long", "stream_id": "adm-view-01"}
        ) as first:
            events = iter_sse(first)
            while (await anext(events)).event != "token":
                pass
            second = await http.get("/chat/streaming", params={"message": "new"})
            viewer = await http.get("/chat/streaming", params={"stream_id": "adm-view-01"})
            # Waiting for a whole answer holds no stream.
            wait = await http.post("/chat/wait", json={"message": "wait"})
        assert_busy(second)
        assert_busy(viewer)
        assert wait.status_code == 200, wait.text
        assert len(upstream.requests) == 2

        # The first viewer left: its slot is free again.
        async def opens() -> bool:
            response, events = await collect_sse(
                http, "GET", "/chat/streaming", params={"message": "after"}
            )
            return response.status_code == 200 and events[-1].event == "done"

        for _ in range(50):
            if await opens():
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the open-stream slot was never released")
