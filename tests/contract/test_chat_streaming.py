"""GET/POST /chat/streaming and DELETE /chat/streaming/{id}: events, headers, codes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.contract.errors import assert_error
from tests.support.servers import ServerThread
from tests.support.sse import SSEEvent, collect_sse, token_texts


@pytest.fixture
async def client(contract_backend: ServerThread) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=contract_backend.url, timeout=20) as http:
        yield http


def assert_complete_stream(events: list[SSEEvent]) -> None:
    """start first; tokens 0..n-1 with matching ids; done last and consistent. The ids
    name the stream (`<stream_id>:<position>`) when the request did not."""
    assert events[0].event == "start"
    assert set(events[0].json()) == {"stream_id", "conversation_id", "model"}
    stream_id = events[0].json()["stream_id"]
    prefix = f"{stream_id}:" if events[0].id and events[0].id.startswith(f"{stream_id}:") else ""
    assert events[0].id == f"{prefix}start"
    tokens = [e for e in events if e.event == "token"]
    assert [e.id for e in tokens] == [f"{prefix}{i}" for i in range(len(tokens))]
    assert [e.json()["index"] for e in tokens] == list(range(len(tokens)))
    done = events[-1]
    assert done.event == "done"
    assert done.id == f"{prefix}done"
    assert set(done.json()) >= {"stream_id", "conversation_id", "response", "token_count"}
    assert done.json()["response"] == "".join(token_texts(events))
    assert done.json()["token_count"] == len(tokens)


async def test_get_streams_start_tokens_done_with_sse_headers(
    client: httpx.AsyncClient,
) -> None:
    response, events = await collect_sse(client, "GET", "/chat/streaming", params={"message": "hi"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] in ("no-cache", "no-store")
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["x-stream-id"] == events[0].json()["stream_id"]
    assert len(response.headers["x-stream-id"]) >= 20, "server ids must be unguessable"
    assert events[0].retry is not None
    assert_complete_stream(events)


async def test_post_streams_the_same_events_from_a_json_body(client: httpx.AsyncClient) -> None:
    response, events = await collect_sse(
        client,
        "POST",
        "/chat/streaming",
        json={"message": "hi", "stream_id": "contract-post-1", "conversation_id": "c-post"},
    )

    assert response.headers["x-stream-id"] == "contract-post-1"
    assert events[0].json()["conversation_id"] == "c-post"
    assert events[-1].json()["stream_id"] == "contract-post-1"
    assert_complete_stream(events)


async def test_resume_with_last_event_id_header_sends_remaining_tokens_then_done(
    client: httpx.AsyncClient,
) -> None:
    _, full = await collect_sse(
        client, "GET", "/chat/streaming", params={"message": "hi", "stream_id": "contract-res-1"}
    )

    _, resumed = await collect_sse(
        client,
        "GET",
        "/chat/streaming",
        params={"stream_id": "contract-res-1"},
        headers={"Last-Event-ID": "4"},
    )

    assert resumed[0].event == "start"
    assert token_texts(resumed) == token_texts(full)[5:]
    assert resumed[-1].json() == full[-1].json()


async def test_resume_with_last_event_id_query_for_clients_without_headers(
    client: httpx.AsyncClient,
) -> None:
    _, full = await collect_sse(
        client, "POST", "/chat/streaming", json={"message": "hi", "stream_id": "contract-res-2"}
    )

    _, resumed = await collect_sse(
        client,
        "POST",
        "/chat/streaming",
        json={"stream_id": "contract-res-2", "last_event_id": 2},
    )

    assert token_texts(resumed) == token_texts(full)[3:]


async def test_known_stream_without_last_event_id_replays_from_zero(
    client: httpx.AsyncClient,
) -> None:
    _, full = await collect_sse(
        client, "GET", "/chat/streaming", params={"message": "hi", "stream_id": "contract-rep-1"}
    )

    _, replay = await collect_sse(
        client, "GET", "/chat/streaming", params={"stream_id": "contract-rep-1"}
    )

    assert token_texts(replay) == token_texts(full)


async def test_unknown_stream_with_last_event_id_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/chat/streaming", params={"stream_id": "never-seen-1"}, headers={"Last-Event-ID": "3"}
    )

    assert_error(response, 404, "stream_not_found")


async def test_unknown_stream_without_message_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/chat/streaming", params={"stream_id": "never-seen-2"})

    assert_error(response, 404, "stream_not_found")


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "+2", "0x10"])
async def test_bad_last_event_id_header_is_400(client: httpx.AsyncClient, value: str) -> None:
    response = await client.get(
        "/chat/streaming", params={"stream_id": "whatever-1"}, headers={"Last-Event-ID": value}
    )

    assert_error(response, 400, "invalid_last_event_id")


@pytest.mark.parametrize("value", [-1, 1.5, "x", True])
async def test_bad_last_event_id_in_body_is_400(client: httpx.AsyncClient, value: object) -> None:
    response = await client.post(
        "/chat/streaming", json={"stream_id": "whatever-2", "last_event_id": value}
    )

    assert_error(response, 400, "invalid_last_event_id")


async def test_bad_last_event_id_in_body_is_400_even_when_the_header_wins(
    client: httpx.AsyncClient,
) -> None:
    """The header wins over the field, so a body with `last_event_id: -1` was accepted
    (Schemathesis: schema-violating request accepted)."""
    response = await client.post(
        "/chat/streaming",
        json={"message": "hi", "stream_id": "header-wins-1", "last_event_id": -1},
        headers={"Last-Event-ID": "0"},
    )

    assert_error(response, 400, "invalid_last_event_id")


async def test_last_event_id_in_query_is_checked_like_the_body(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/chat/streaming", params={"stream_id": "query-check-1", "last_event_id": "true"}
    )

    assert_error(response, 400, "invalid_last_event_id")


async def test_neither_message_nor_stream_id_is_422(client: httpx.AsyncClient) -> None:
    get = await client.get("/chat/streaming")
    post = await client.post("/chat/streaming", json={})

    assert_error(get, 422, "validation_error")
    assert_error(post, 422, "validation_error")


async def test_last_event_id_without_stream_id_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/chat/streaming", params={"message": "hi"}, headers={"Last-Event-ID": "3"}
    )

    assert_error(response, 422, "validation_error")


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"message": ""}, id="empty-message"),
        pytest.param({"message": "x" * 16_001}, id="long-message"),
        pytest.param({"message": "x", "stream_id": "short"}, id="short-stream-id"),
        pytest.param({"message": "x", "stream_id": "bad id here"}, id="bad-stream-id"),
        pytest.param({"message": "x", "conversation_id": "x" * 129}, id="long-conv-id"),
    ],
)
async def test_invalid_stream_request_fails_before_any_sse_byte(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    get = await client.get("/chat/streaming", params=params)
    post = await client.post("/chat/streaming", json=params)

    assert_error(get, 422, "validation_error")
    assert_error(post, 422, "validation_error")


async def test_post_streaming_with_text_body_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/chat/streaming", content=b"message=hi", headers={"content-type": "text/plain"}
    )

    assert_error(response, 415, "unsupported_media_type")


async def test_delete_cancels_a_running_stream_and_viewers_get_cancelled(
    client: httpx.AsyncClient,
) -> None:
    viewer = asyncio.create_task(
        collect_sse(
            client,
            "GET",
            "/chat/streaming",
            params={"message": "hi", "stream_id": "contract-del-1"},
        )
    )
    await asyncio.sleep(0.1)

    response = await client.delete("/chat/streaming/contract-del-1")
    _, events = await asyncio.wait_for(viewer, 10)

    assert response.status_code == 204
    assert response.content == b""
    assert events[-1].event == "error"
    error = events[-1].json()
    assert set(error) == {"code", "message", "retryable"}
    assert error["code"] == "cancelled"
    assert error["retryable"] is False


async def test_delete_unknown_stream_is_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.delete("/chat/streaming/never-seen-3"), 404, "stream_not_found")


async def test_second_turn_on_a_busy_conversation_is_409(client: httpx.AsyncClient) -> None:
    stream = asyncio.create_task(
        collect_sse(
            client,
            "GET",
            "/chat/streaming",
            params={"message": "hi", "conversation_id": "contract-busy"},
        )
    )
    await asyncio.sleep(0.1)

    wait = await client.post(
        "/chat/wait", json={"message": "again", "conversation_id": "contract-busy"}
    )
    other_stream = await client.get(
        "/chat/streaming", params={"message": "again", "conversation_id": "contract-busy"}
    )
    await stream

    assert_error(wait, 409, "conversation_busy")
    assert_error(other_stream, 409, "conversation_busy")
