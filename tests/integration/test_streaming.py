"""Streaming through the real model path: exact text, resume, viewers, cancel, abandon."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.integration.conftest import BackendFactory
from tests.support.sse import collect_sse, token_texts
from tests.support.upstream_emulator import Scenario, UpstreamEmulator
from tests.support.waiting import eventually

TRICKY_CHUNKS = [
    "Line one\n",
    "\nline three ",
    "héllo 🌍 ",
    "data: not-an-event\n\n",
    "event: done\nid: 99\n",
    ": comment?\r\n",
    "retry: 5",
    '{"json": "inside"}',
]


async def test_tokens_arrive_exactly_with_newlines_unicode_and_sse_lookalikes(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=TRICKY_CHUNKS))

    response, events = await collect_sse(client, "GET", "/chat/streaming", params={"message": "x"})

    assert response.status_code == 200
    assert next(e.event for e in events if e.event != "message") == "start"
    assert token_texts(events) == TRICKY_CHUNKS
    ids = [e.id for e in events if e.event == "token"]
    stream_id = response.headers["x-stream-id"]
    assert ids == [f"{stream_id}:{i}" for i in range(len(TRICKY_CHUNKS))]
    done = events[-1]
    assert done.event == "done"
    assert done.json()["response"] == "".join(TRICKY_CHUNKS)
    assert done.json()["token_count"] == len(TRICKY_CHUNKS)


async def test_post_streaming_uses_the_json_body(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=["a", "b"]))

    response, events = await collect_sse(
        client, "POST", "/chat/streaming", json={"message": "hi", "stream_id": "post-stream-1"}
    )

    assert response.headers["x-stream-id"] == "post-stream-1"
    assert token_texts(events) == ["a", "b"]
    assert upstream.requests[-1].body["messages"][-1]["content"] == "hi"


async def test_done_event_reports_usage_because_stream_usage_is_requested(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=["one ", "two"], usage=(7, 2)))

    _, events = await collect_sse(client, "GET", "/chat/streaming", params={"message": "x"})

    assert upstream.requests[-1].body.get("stream_options", {}).get("include_usage") is True
    usage = events[-1].json()["usage"]
    assert usage["input_tokens"] == 7
    assert usage["output_tokens"] == 2


@pytest.mark.parametrize("transport", ["header", "query"])
async def test_resume_after_every_position_sends_each_remaining_token_once(
    client: httpx.AsyncClient, upstream: UpstreamEmulator, transport: str
) -> None:
    chunks = [f"t{i} " for i in range(6)]
    upstream.enqueue(Scenario(chunks=chunks))
    stream_id = f"resume-all-{transport}"
    await collect_sse(
        client, "GET", "/chat/streaming", params={"message": "go", "stream_id": stream_id}
    )

    for last_seen in range(len(chunks)):
        params = {"stream_id": stream_id}
        headers = {}
        if transport == "header":
            headers["Last-Event-ID"] = str(last_seen)
        else:
            params["last_event_id"] = str(last_seen)
        _, events = await collect_sse(
            client, "GET", "/chat/streaming", params=params, headers=headers
        )
        assert token_texts(events) == chunks[last_seen + 1 :]
        assert [e.id for e in events if e.event == "token"] == [
            str(i) for i in range(last_seen + 1, len(chunks))
        ]
        assert events[0].event == "start"
        assert events[-1].event == "done"
        assert events[-1].json()["response"] == "".join(chunks)

    assert len(upstream.requests) == 1, "resuming must never call the model again"


async def test_resume_mid_stream_continues_live_without_gap_or_duplicate(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    chunks = [f"w{i} " for i in range(12)]
    upstream.enqueue(Scenario(chunks=chunks, chunk_delay=0.05))
    params = {"message": "go", "stream_id": "resume-live-01"}

    _, first = await collect_sse(client, "GET", "/chat/streaming", params=params, stop_after=3)
    seen = token_texts(first)
    last_id = [e.id for e in first if e.event == "token"][-1]
    _, rest = await collect_sse(
        client,
        "GET",
        "/chat/streaming",
        params={"stream_id": "resume-live-01"},
        headers={"Last-Event-ID": last_id},
    )

    assert seen + token_texts(rest) == chunks
    assert rest[-1].event == "done"
    assert len(upstream.requests) == 1


async def test_second_viewer_replays_from_zero_and_follows_live(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    chunks = [f"v{i} " for i in range(10)]
    upstream.enqueue(Scenario(chunks=chunks, chunk_delay=0.05))
    first = asyncio.create_task(
        collect_sse(
            client, "GET", "/chat/streaming", params={"message": "go", "stream_id": "viewers-001"}
        )
    )
    await eventually(lambda: upstream.streams_started == 1)
    await asyncio.sleep(0.15)

    _, second = await collect_sse(
        client, "GET", "/chat/streaming", params={"stream_id": "viewers-001"}
    )
    _, first_events = await first

    assert token_texts(second) == chunks
    assert token_texts(first_events) == chunks
    assert len(upstream.requests) == 1


async def test_resume_after_done_replays_remaining_tokens(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=["a", "b", "c"]))
    await collect_sse(
        client, "GET", "/chat/streaming", params={"message": "go", "stream_id": "after-done-1"}
    )

    _, events = await collect_sse(
        client,
        "GET",
        "/chat/streaming",
        params={"stream_id": "after-done-1"},
        headers={"Last-Event-ID": "0"},
    )

    assert token_texts(events) == ["b", "c"]
    assert events[-1].event == "done"


async def test_client_disconnect_does_not_cancel_the_run(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    chunks = [f"d{i} " for i in range(8)]
    upstream.enqueue(Scenario(chunks=chunks, chunk_delay=0.05))

    await collect_sse(
        client,
        "GET",
        "/chat/streaming",
        params={"message": "go", "stream_id": "disconnect-1"},
        stop_after=1,
    )
    await eventually(lambda: upstream.streams_completed == 1, timeout=10)

    assert upstream.streams_closed_by_client == 0
    _, events = await collect_sse(
        client, "GET", "/chat/streaming", params={"stream_id": "disconnect-1"}
    )
    assert events[-1].json()["response"] == "".join(chunks)


async def test_cancel_closes_upstream_stream_and_tells_viewers(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=[f"c{i} " for i in range(200)], chunk_delay=0.05))
    viewer = asyncio.create_task(
        collect_sse(
            client, "GET", "/chat/streaming", params={"message": "go", "stream_id": "cancel-0001"}
        )
    )
    await eventually(lambda: upstream.streams_started == 1)

    response = await client.delete("/chat/streaming/cancel-0001")
    _, events = await asyncio.wait_for(viewer, 10)

    assert response.status_code == 204
    assert events[-1].event == "error"
    assert events[-1].json() == {
        "code": "cancelled",
        "message": events[-1].json()["message"],
        "retryable": False,
    }
    await eventually(lambda: upstream.streams_closed_by_client == 1, timeout=5)
    assert upstream.streams_completed == 0


async def test_cancelled_stream_resumes_to_the_same_cancelled_error(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=[f"c{i} " for i in range(200)], chunk_delay=0.05))
    await collect_sse(
        client,
        "GET",
        "/chat/streaming",
        params={"message": "go", "stream_id": "cancel-0002"},
        stop_after=2,
    )
    assert (await client.delete("/chat/streaming/cancel-0002")).status_code == 204
    await eventually(lambda: upstream.streams_closed_by_client == 1, timeout=5)

    _, events = await collect_sse(
        client,
        "GET",
        "/chat/streaming",
        params={"stream_id": "cancel-0002"},
        headers={"Last-Event-ID": "1"},
    )

    assert events[-1].event == "error"
    assert events[-1].json()["code"] == "cancelled"


async def test_run_nobody_watches_is_abandoned_and_upstream_closed(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=[f"a{i} " for i in range(400)], chunk_delay=0.05))
    with make_backend(stream_abandon_seconds=0.6) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            await collect_sse(
                http,
                "GET",
                "/chat/streaming",
                params={"message": "go", "stream_id": "abandon-001"},
                stop_after=1,
            )
            await eventually(lambda: upstream.streams_closed_by_client == 1, timeout=8)

            _, events = await collect_sse(
                http, "GET", "/chat/streaming", params={"stream_id": "abandon-001"}
            )

    assert events[-1].event == "error"
    assert events[-1].json()["code"] == "cancelled"
    assert "Nobody watched" in events[-1].json()["message"]


async def test_finished_stream_expires_after_ttl(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=["x"]))
    with make_backend(stream_ttl_seconds=0.3) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            await collect_sse(
                http, "GET", "/chat/streaming", params={"message": "go", "stream_id": "ttl-stream"}
            )
            await asyncio.sleep(0.5)
            response = await http.get(
                "/chat/streaming",
                params={"stream_id": "ttl-stream"},
                headers={"Last-Event-ID": "0"},
            )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "stream_not_found"


async def test_idle_stream_sends_comment_pings(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=["slow"], first_byte_delay=1.6))
    with make_backend(sse_ping_seconds=0.5) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            _, events = await collect_sse(http, "GET", "/chat/streaming", params={"message": "go"})

    assert any(e.comments for e in events), "expected ': ping' comments while idle"
    assert token_texts(events) == ["slow"]
