"""Event ids a browser's EventSource can live with (issue 11, "Browser EventSource").

Regression tests: `done` had no id, so a browser that reconnected after it (it takes the
end of the response for a drop) sent the last token's id and got `start` + `done` again,
every `retry` ms for the whole resume window; and a plain `?message=` stream had no way
back after a drop (its reconnect got 422 while the run went on).
"""

from __future__ import annotations

import httpx
import pytest

from tests.integration.conftest import BackendFactory
from tests.support.sse import collect_sse, iter_sse, token_texts
from tests.support.upstream_emulator import Scenario, UpstreamEmulator

CHUNKS = ["one ", "two ", "three ", "four"]


async def _stream(
    client: httpx.AsyncClient, params: dict[str, str], last_event_id: str | None = None
) -> tuple[httpx.Response, list[str], list[str | None], list[str]]:
    """Status, event names, ids and token texts of one whole response."""
    headers = {} if last_event_id is None else {"Last-Event-ID": last_event_id}
    response, events = await collect_sse(
        client, "GET", "/chat/streaming", params=params, headers=headers
    )
    named = [e for e in events if e.event != "message"]
    return response, [e.event for e in named], [e.id for e in named], token_texts(named)


# --- ids of their own, and 204 after the final event ------------------------------------


async def test_start_done_and_every_token_have_ids_a_reconnect_can_send_back(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=CHUNKS))

    _, names, ids, _ = await _stream(client, {"message": "m", "stream_id": "ids-own-0001"})

    assert names == ["start", "token", "token", "token", "token", "done"]
    assert ids == ["start", "0", "1", "2", "3", "done"]


@pytest.mark.parametrize("final", ["done", "error"])
async def test_reconnect_that_saw_the_final_event_gets_204_and_no_second_run(
    client: httpx.AsyncClient, upstream: UpstreamEmulator, final: str
) -> None:
    upstream.enqueue(Scenario(chunks=CHUNKS) if final == "done" else Scenario(status=500))
    params = {"message": "m", "stream_id": f"final-{final}-01"}
    _, names, ids, _ = await _stream(client, params)
    assert (names[-1], ids[-1]) == (final, final)

    response = await client.get("/chat/streaming", params=params, headers={"Last-Event-ID": final})

    assert response.status_code == 204
    assert response.content == b""
    assert len(upstream.requests) == 1


async def test_reconnect_that_saw_the_last_token_but_not_done_still_gets_done(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=CHUNKS))
    params = {"message": "m", "stream_id": "last-token-01"}
    await _stream(client, params)

    _, names, ids, _ = await _stream(client, params, last_event_id="3")

    assert names == ["start", "done"]
    assert ids == ["3", "done"]


async def test_reconnect_after_only_start_resumes_from_token_zero(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=CHUNKS))
    params = {"message": "m", "stream_id": "only-start-01"}
    await _stream(client, params)

    _, _, ids, texts = await _stream(client, params, last_event_id="start")

    assert texts == CHUNKS
    assert ids[0] == "start"
    assert len(upstream.requests) == 1


async def test_resumed_start_repeats_the_id_sent_so_a_drop_right_after_it_loses_nothing(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=CHUNKS))
    params = {"message": "m", "stream_id": "resumed-start-1"}
    await _stream(client, params)

    _, _, ids, texts = await _stream(client, params, last_event_id="1")

    assert ids == ["1", "2", "3", "done"]
    assert texts == CHUNKS[2:]


# --- server-named streams: ids name the stream ------------------------------------------


async def test_ids_of_a_server_named_stream_name_the_stream(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=CHUNKS))

    response, _, ids, _ = await _stream(client, {"message": "m"})

    stream_id = response.headers["x-stream-id"]
    assert ids == [f"{stream_id}:{p}" for p in ("start", "0", "1", "2", "3", "done")]


@pytest.mark.parametrize("seen", ["start", "1"], ids=["before-first-token", "mid-answer"])
async def test_plain_message_reconnect_resumes_the_same_run_once(
    client: httpx.AsyncClient, upstream: UpstreamEmulator, seen: str
) -> None:
    """The browser repeats the same URL (`?message=` only) with the last id it saw; the
    model is slow to start, so the drop after `start` comes before any token exists."""
    upstream.enqueue(Scenario(chunks=CHUNKS, first_byte_delay=0.3, chunk_delay=0.1))
    params = {"message": "a plain question"}
    stop_after = 0 if seen == "start" else 2
    async with client.stream("GET", "/chat/streaming", params=params) as first:
        stream_id = first.headers["x-stream-id"]
        seen_ids: list[str | None] = []
        async for event in iter_sse(first):
            if event.event == "message":
                continue
            seen_ids.append(event.id)
            if len([i for i in seen_ids if i and i.split(":")[1].isdigit()]) >= stop_after:
                break
    last_id = seen_ids[-1]
    assert last_id == f"{stream_id}:{seen}"

    _, names, ids, texts = await _stream(client, params, last_event_id=last_id)

    assert texts == (CHUNKS if seen == "start" else CHUNKS[int(seen) + 1 :])
    assert names[-1] == "done"
    assert ids[0] == last_id
    assert len(upstream.requests) == 1


async def test_same_message_replayed_with_a_named_id_is_never_stream_id_in_use(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=CHUNKS))
    response, *_ = await _stream(client, {"message": "same"})
    stream_id = response.headers["x-stream-id"]

    for position in ("start", "0", "3"):
        replay, names, *_ = await _stream(
            client, {"message": "same"}, last_event_id=f"{stream_id}:{position}"
        )
        assert replay.status_code == 200
        assert names[-1] == "done"
    done = await client.get(
        "/chat/streaming",
        params={"message": "same"},
        headers={"Last-Event-ID": f"{stream_id}:done"},
    )
    assert done.status_code == 204
    assert len(upstream.requests) == 1


async def test_named_id_of_an_unknown_stream_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/chat/streaming", params={"message": "m"}, headers={"Last-Event-ID": "str_unknown01:3"}
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "stream_not_found"


async def test_named_id_that_disagrees_with_the_stream_id_is_400(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/chat/streaming",
        params={"stream_id": "stream-aaaa-1"},
        headers={"Last-Event-ID": "stream-bbbb-1:3"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_last_event_id"


@pytest.mark.parametrize("value", ["start", "done", "str_abcdefgh:3"])
async def test_last_event_id_field_stays_a_plain_index(
    client: httpx.AsyncClient, value: str
) -> None:
    response = await client.get(
        "/chat/streaming", params={"stream_id": "field-plain-01", "last_event_id": value}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_last_event_id"


async def test_named_id_of_another_principals_stream_answers_exactly_like_an_unknown_one(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=CHUNKS))
    keys = "alice:sk-alice-0123456789abcdef,bob:sk-bob-fedcba9876543210"
    with make_backend(chatwait_api_keys=keys) as server:
        alice = httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": "Bearer sk-alice-0123456789abcdef"}
        )
        bob = httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": "Bearer sk-bob-fedcba9876543210"}
        )
        async with alice, bob:
            response, *_ = await _stream(alice, {"message": "mine"})
            stream_id = response.headers["x-stream-id"]
            answers = []
            for named in (stream_id, "str_NeverMadeByTheServer0"):
                answer = await bob.get(
                    "/chat/streaming",
                    params={"message": "mine"},
                    headers={"Last-Event-ID": f"{named}:1"},
                )
                error = answer.json()["error"]
                answers.append((answer.status_code, error["code"], error["message"]))
            _, _, _, texts = await _stream(
                alice, {"message": "mine"}, last_event_id=f"{stream_id}:1"
            )

    assert answers[0] == answers[1]
    assert answers[0][:2] == (404, "stream_not_found")
    assert texts == CHUNKS[2:]
    assert len(upstream.requests) == 1
