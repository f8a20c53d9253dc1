"""Per-principal limits and usage, checked before any model call.

Each test runs on the memory stores and on Redis; tests/integration/test_scale_out.py
checks that Redis shares them between processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from tests.integration.conftest import BackendFactory
from tests.support.sse import collect_sse
from tests.support.upstream_emulator import Scenario, UpstreamEmulator
from tests.support.waiting import eventually


@asynccontextmanager
async def api(make_backend: BackendFactory, **settings: object) -> AsyncIterator[httpx.AsyncClient]:
    with make_backend(**settings) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            yield http


def assert_limited(response: httpx.Response, code: str) -> int:
    """The 429's Retry-After, after checking the body agrees with it."""
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert error["code"] == code
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit()
    assert int(retry_after) >= 1
    assert error["details"]["retry_after"] == retry_after
    return int(retry_after)


async def test_rate_limit_counts_runs_not_resumes_viewers_or_cancels(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    upstream.default_scenario = Scenario(chunks=["a", "b"])
    async with api(make_backend, rate_limit_per_minute=2) as http:
        assert (await http.post("/chat/wait", json={"message": "one"})).status_code == 200
        await collect_sse(
            http, "GET", "/chat/streaming", params={"message": "two", "stream_id": "rate-0001"}
        )
        # Replays, resumes and cancels of that stream are not new runs.
        for headers in ({}, {"Last-Event-ID": "0"}):
            response, _ = await collect_sse(
                http, "GET", "/chat/streaming", params={"stream_id": "rate-0001"}, headers=headers
            )
            assert response.status_code == 200
        assert (await http.delete("/chat/streaming/rate-0001")).status_code == 204

        wait = await http.post("/chat/wait", json={"message": "three"})
        stream = await http.get("/chat/streaming", params={"message": "three"})

    assert 1 <= assert_limited(wait, "rate_limited") <= 60
    assert_limited(stream, "rate_limited")
    assert len(upstream.requests) == 2


async def test_concurrent_runs_are_limited_and_the_slot_frees_when_a_run_ends(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=[f"t{i} " for i in range(20)], chunk_delay=0.05))
    upstream.default_scenario = Scenario(text="later")
    async with api(make_backend, max_concurrent_runs=1) as http:
        running = asyncio.create_task(
            collect_sse(http, "GET", "/chat/streaming", params={"message": "long"})
        )
        await eventually(lambda: upstream.streams_started == 1, what="the first run")

        refused = await http.post("/chat/wait", json={"message": "second"})
        await asyncio.wait_for(running, 10)
        allowed = await http.post("/chat/wait", json={"message": "third"})

    assert_limited(refused, "too_many_runs")
    assert allowed.status_code == 200


async def test_a_failed_or_cancelled_run_frees_its_slot(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(
        Scenario(status=500),
        Scenario(chunks=[f"t{i} " for i in range(200)], chunk_delay=0.05),
        Scenario(text="after"),
    )
    async with api(make_backend, max_concurrent_runs=1) as http:
        failed = await http.post("/chat/wait", json={"message": "fails"})
        running = asyncio.create_task(
            collect_sse(
                http, "GET", "/chat/streaming", params={"message": "m", "stream_id": "cancel-0001"}
            )
        )
        await eventually(lambda: upstream.streams_started == 1, what="the streamed run")
        assert (await http.delete("/chat/streaming/cancel-0001")).status_code == 204
        _, events = await asyncio.wait_for(running, 10)

        after = await http.post("/chat/wait", json={"message": "next"})

    assert failed.status_code == 502
    assert events[-1].json()["code"] == "cancelled"
    assert after.status_code == 200


async def test_daily_token_budget_refuses_new_runs_once_spent(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    upstream.default_scenario = Scenario(text="four words long answer")
    async with api(make_backend, daily_token_budget=1) as http:
        first = await http.post("/chat/wait", json={"message": "spend it"})
        refused = await http.get("/chat/streaming", params={"message": "more"})
        usage = (await http.get("/usage")).json()

    assert first.status_code == 200
    retry_after = assert_limited(refused, "quota_exceeded")
    assert retry_after <= 86_400
    assert len(upstream.requests) == 1
    assert usage["total_tokens"] >= 1
    assert usage["limits"]["daily_token_budget"] == 1


async def test_usage_reports_todays_runs_and_tokens_with_limits_off(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(text="hello there"), Scenario(chunks=["a", "b", "c"]))
    reply = (await client.post("/chat/wait", json={"message": "one"})).json()
    _, events = await collect_sse(client, "GET", "/chat/streaming", params={"message": "two"})

    usage = (await client.get("/usage")).json()

    streamed = events[-1].json()["usage"]
    assert usage["principal"] == "local"
    assert usage["period_start"].endswith(("T00:00:00Z", "T00:00:00+00:00"))
    assert usage["runs"] == 2
    assert usage["input_tokens"] == reply["usage"]["input_tokens"] + streamed["input_tokens"]
    assert usage["output_tokens"] == reply["usage"]["output_tokens"] + streamed["output_tokens"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["limits"] == {
        "rate_limit_per_minute": None,
        "max_concurrent_runs": None,
        "daily_token_budget": None,
    }


async def test_limits_apply_per_principal(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    upstream.default_scenario = Scenario(text="ok")
    keys = "alice:sk-alice-0123456789abcdef,bob:sk-bob-fedcba9876543210"
    async with api(make_backend, chatwait_api_keys=keys, rate_limit_per_minute=1) as http:
        alice = {"Authorization": "Bearer sk-alice-0123456789abcdef"}
        bob = {"Authorization": "Bearer sk-bob-fedcba9876543210"}
        first = await http.post("/chat/wait", json={"message": "a"}, headers=alice)
        second = await http.post("/chat/wait", json={"message": "a"}, headers=alice)
        bobs = await http.post("/chat/wait", json={"message": "b"}, headers=bob)
        usage = (await http.get("/usage", headers=bob)).json()

    assert first.status_code == 200
    assert_limited(second, "rate_limited")
    assert bobs.status_code == 200
    assert (usage["principal"], usage["runs"]) == ("bob", 1)
