"""Event ids a browser's EventSource can live with (issue 11, "Browser EventSource").

Regression tests: `done` had no id, so a browser that reconnected after it (it takes the
end of the response for a drop) sent the last token's id and got `start` + `done` again,
every `retry` ms for the whole resume window; and a plain `?message=` stream had no way
back after a drop.
"""

from __future__ import annotations

import httpx
import pytest

from tests.support.sse import collect_sse, token_texts
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
