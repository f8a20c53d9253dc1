"""`GET /metrics`: Prometheus counters move with the runs, streams and errors they count.

The backend runs in this test process, so the metrics accumulate across tests: each
test compares a scrape after its requests with one before.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.integration.conftest import BackendFactory
from tests.support.metrics import Scrape, scrape, scrape_until
from tests.support.redis_server import RedisServer
from tests.support.sse import collect_sse
from tests.support.upstream_emulator import Scenario, UpstreamEmulator
from tests.support.waiting import eventually


@pytest.fixture
def store_kind() -> str:
    """The metrics do not depend on the store; one kind is enough here."""
    return "memory"


def moved(before: Scrape, after: Scrape, name: str, **labels: str) -> float:
    return after.value(name, **labels) - before.value(name, **labels)


async def test_a_wait_and_a_stream_move_the_run_counters(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(
        Scenario(text="one two", usage=(30, 2)), Scenario(chunks=["a ", "b"], usage=(40, 2))
    )
    before = await scrape(client)

    assert (await client.post("/chat/wait", json={"message": "hi"})).status_code == 200
    _, events = await collect_sse(client, "GET", "/chat/streaming", params={"message": "hi"})
    assert events[-1].event == "done"
    after = await scrape_until(
        client, lambda now: moved(before, now, "chatwait_runs_active", mode="stream") == 0
    )

    for mode in ("wait", "stream"):
        assert moved(before, after, "chatwait_runs_started_total", mode=mode) == 1
        assert (
            moved(before, after, "chatwait_runs_finished_total", mode=mode, outcome="done", code="")
            == 1
        )
        assert moved(before, after, "chatwait_run_duration_seconds_count", mode=mode) == 1
        # Other tests' servers share this process's metrics: compare, do not expect 0.
        assert moved(before, after, "chatwait_runs_active", mode=mode) == 0
    assert moved(before, after, "chatwait_tokens_total", kind="input") == 70
    assert moved(before, after, "chatwait_tokens_total", kind="output") == 4
    assert moved(before, after, "chatwait_time_to_first_token_seconds_count") == 1


async def test_open_streams_and_viewers_are_gauges_while_a_stream_runs(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=[f"w{i} " for i in range(30)], chunk_delay=0.05))
    before = await scrape(client)
    viewer = asyncio.create_task(
        collect_sse(client, "GET", "/chat/streaming", params={"message": "long"})
    )
    await eventually(lambda: upstream.streams_started == 1, what="the stream to start")
    # The SSE response may start a moment after the run does (~1.5 s of answer remain).
    during = await scrape_until(
        client, lambda now: moved(before, now, "chatwait_stream_viewers") == 1
    )
    await viewer
    after = await scrape_until(client, lambda now: moved(before, now, "chatwait_streams_open") == 0)

    assert moved(before, during, "chatwait_streams_open") == 1
    assert moved(before, during, "chatwait_stream_viewers") == 1
    assert moved(before, during, "chatwait_runs_active", mode="stream") == 1
    assert moved(before, after, "chatwait_stream_viewers") == 0
    assert moved(before, after, "chatwait_streams_open") == 0


async def test_error_responses_and_upstream_errors_are_counted_by_code(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(status=429, retry_after="3"), Scenario(status=400))
    before = await scrape(client)

    await client.post("/chat/wait", json={"message": "hi"})
    await client.post("/chat/wait", json={"message": ""})
    _, events = await collect_sse(client, "GET", "/chat/streaming", params={"message": "x"})
    after = await scrape_until(
        client, lambda now: moved(before, now, "chatwait_runs_active", mode="stream") == 0
    )

    assert events[-1].json()["code"] == "upstream_rejected"
    assert (
        moved(
            before,
            after,
            "chatwait_error_responses_total",
            code="upstream_rate_limited",
            status="429",
        )
        == 1
    )
    assert (
        moved(
            before, after, "chatwait_error_responses_total", code="validation_error", status="422"
        )
        == 1
    )
    assert moved(before, after, "chatwait_upstream_errors_total", kind="upstream_rate_limited") == 1
    assert moved(before, after, "chatwait_upstream_errors_total", kind="upstream_rejected") == 1
    assert (
        moved(
            before,
            after,
            "chatwait_runs_finished_total",
            mode="stream",
            outcome="error",
            code="upstream_rejected",
        )
        == 1
    )
    assert moved(before, after, "chatwait_stream_error_events_total", code="upstream_rejected") == 1


async def test_store_errors_are_counted(
    make_backend: BackendFactory,
    redis_server: RedisServer,
    upstream: UpstreamEmulator,
) -> None:
    stores = {"stream_store_url": redis_server.url, "session_store_url": redis_server.url}
    with make_backend(**stores) as backend:
        async with httpx.AsyncClient(base_url=backend.url, timeout=20) as http:
            before = await scrape(http)
            redis_server.stop()
            response = await http.post("/chat/wait", json={"message": "hi"})
            after = await scrape(http)

    assert response.status_code == 503
    assert moved(before, after, "chatwait_store_errors_total") >= 1
    assert (
        moved(
            before, after, "chatwait_error_responses_total", code="store_unavailable", status="503"
        )
        == 1
    )


async def test_metrics_labels_carry_no_ids(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    await client.post("/chat/wait", json={"message": "hi", "conversation_id": "conv-secretive"})
    await collect_sse(
        client, "GET", "/chat/streaming", params={"message": "x", "stream_id": "str-secretive"}
    )

    text = (await client.get("/metrics")).text

    assert "secretive" not in text


async def test_metrics_need_an_api_key_once_keys_exist_unless_public(
    make_backend: BackendFactory,
) -> None:
    keys = "ops:sk-ops-0123456789abcdef"
    with (
        make_backend(chatwait_api_keys=keys) as private,
        make_backend(chatwait_api_keys=keys, metrics_public=True) as public,
    ):
        async with httpx.AsyncClient(timeout=20) as http:
            anonymous = await http.get(f"{private.url}/metrics")
            keyed = await http.get(
                f"{private.url}/metrics",
                headers={"Authorization": "Bearer sk-ops-0123456789abcdef"},
            )
            opened = await http.get(f"{public.url}/metrics")

    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthorized"
    assert keyed.status_code == 200
    assert opened.status_code == 200
    assert "chatwait_runs_started_total" in keyed.text
