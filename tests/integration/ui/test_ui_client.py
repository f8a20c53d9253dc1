"""The UI's backend client against the real backend over HTTP (emulated upstream).

Resuming is tested through a TCP proxy that resets the connection mid-response, so the
client meets a real broken socket, not a simulated exception.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from chatwait_ui.client import (
    BackendError,
    BackendUnreachable,
    ChatWaitClient,
    Reconnecting,
    StreamEvent,
    StreamExpired,
    StreamFinished,
    StreamStarted,
    TokenReceived,
)
from tests.integration.conftest import BackendFactory
from tests.support.servers import ServerThread, free_port
from tests.support.tcp_proxy import CuttingProxy
from tests.support.ui import ui_settings
from tests.support.upstream_emulator import Scenario, UpstreamEmulator
from tests.support.waiting import eventually

CHUNKS = [f"word{i} " for i in range(40)] + ["línea\nnueva ✓", "\n\ndata: fake\n\n", "end."]
EXPECTED = "".join(CHUNKS)
# Characters that broke the UI's old SSE reader: Python's str.splitlines() (and so
# httpx's aiter_lines()) ends a line at U+2028, U+2029 and NEL, the SSE format only at
# CR, LF and CRLF; plus text that looks like SSE framing and an emoji.
TRICKY_CHUNKS = [
    "line\u2028separator ",
    "para\u2029graph ",
    "next\u0085line ",
    "carriage\rreturn\r\n",
    "new\nline ",
    "data: x\n\nevent: done\n\n",
    "id: 99\nretry: 1\n: comment\n",
    "emoji 🦜👩🏽‍💻 ",
    "end.",
]
TRICKY_TEXT = "".join(TRICKY_CHUNKS)


async def collect(client: ChatWaitClient, message: str = "hi", **kwargs: str) -> list[StreamEvent]:
    return [event async for event in client.stream(message, "conv-ui", **kwargs)]


async def collect_until_error(
    client: ChatWaitClient, *, cancel_after_first_token: bool = False, **kwargs: str
) -> tuple[list[StreamEvent], BackendError]:
    """The events before the stream failed, and the error it failed with."""
    received: list[StreamEvent] = []
    try:
        async for event in client.stream("hi", "conv-ui", **kwargs):
            received.append(event)
            if cancel_after_first_token and isinstance(event, TokenReceived):
                await client.cancel_stream(kwargs["stream_id"])
    except BackendError as error:
        return received, error
    raise AssertionError(f"the stream did not fail: {received[-1:]}")


def tokens(events: list[StreamEvent]) -> list[TokenReceived]:
    return [e for e in events if isinstance(e, TokenReceived)]


async def test_stream_yields_every_token_once_then_the_exact_text(
    ui_client: ChatWaitClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=CHUNKS))

    events = await collect(ui_client)

    assert isinstance(events[0], StreamStarted)
    assert not events[0].resumed
    assert [t.index for t in tokens(events)] == list(range(len(CHUNKS)))
    assert "".join(t.text for t in tokens(events)) == EXPECTED
    assert isinstance(events[-1], StreamFinished)
    assert events[-1].response == EXPECTED


async def test_stream_keeps_unicode_line_separators_and_sse_lookalikes_exact(
    ui_client: ChatWaitClient, upstream: UpstreamEmulator
) -> None:
    """Regression: a token with U+2028/U+2029/U+0085 split the old reader's `data:` line,
    the JSON no longer parsed, and the answer ended in "reconnecting… attempt 5 of 5"."""
    upstream.enqueue(Scenario(chunks=TRICKY_CHUNKS))

    events = await collect(ui_client)

    assert not any(isinstance(e, Reconnecting) for e in events)
    assert [t.text for t in tokens(events)] == TRICKY_CHUNKS
    assert isinstance(events[-1], StreamFinished)
    assert events[-1].response == TRICKY_TEXT


async def test_wait_returns_the_whole_answer(
    ui_client: ChatWaitClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(text="All at once.\nDone."))

    answer = await ui_client.wait("hi", "conv-ui-wait")

    assert answer.response == "All at once.\nDone."
    assert answer.conversation_id == "conv-ui-wait"


@pytest.mark.parametrize("cut_after_bytes", [20, 400, 1500])
async def test_stream_resumes_through_cut_connections_with_the_exact_text(
    make_backend: BackendFactory, upstream: UpstreamEmulator, cut_after_bytes: int
) -> None:
    """Cut in the headers, after the first tokens, and deep in the stream: twice each."""
    upstream.enqueue(Scenario(chunks=CHUNKS, chunk_delay=0.01))
    with (
        make_backend(sse_retry_ms=50) as backend,
        CuttingProxy(backend.port, cut_after_bytes=cut_after_bytes, cuts=2) as proxy,
    ):
        client = ChatWaitClient(ui_settings(proxy.url))
        try:
            events = await collect(client)
        finally:
            await client.aclose()

    assert proxy.cuts_done == 2
    assert sum(isinstance(e, Reconnecting) for e in events) == 2
    assert [t.index for t in tokens(events)] == list(range(len(CHUNKS)))
    assert "".join(t.text for t in tokens(events)) == EXPECTED
    assert isinstance(events[-1], StreamFinished)
    assert events[-1].response == EXPECTED
    assert len(upstream.requests) == 1, "a resume must not call the model again"


async def test_stream_that_expired_while_disconnected_is_reported_as_expired(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=CHUNKS))
    # The client waits 1.5 s (the server's retry hint) before resuming; the finished
    # stream is gone after 0.2 s.
    with (
        make_backend(sse_retry_ms=1500, stream_ttl_seconds=0.2) as backend,
        CuttingProxy(backend.port, cut_after_bytes=600) as proxy,
    ):
        client = ChatWaitClient(ui_settings(proxy.url))
        try:
            received, error = await collect_until_error(client)
        finally:
            await client.aclose()

    assert tokens(received), "the cut came after some tokens"
    assert isinstance(error, StreamExpired)
    assert "no longer available" in str(error)
    assert len(upstream.requests) == 1


async def test_rate_limit_is_reported_with_the_wait_time_in_both_modes(
    ui_client: ChatWaitClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(status=429, retry_after="7"), Scenario(status=429, retry_after="7"))

    with pytest.raises(BackendError) as waited:
        await ui_client.wait("hi", "conv-ui")
    with pytest.raises(BackendError) as streamed:
        await collect(ui_client)

    for error in (waited.value, streamed.value):
        assert error.code == "upstream_rate_limited"
        assert error.retry_after_seconds == 7
        assert str(error) == (
            "The model provider is rate limiting ChatWait right now. Try again in 7 seconds."
        )


async def test_upstream_failure_mid_stream_keeps_the_tokens_then_raises(
    ui_client: ChatWaitClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=CHUNKS, cut_after=3))

    received, error = await collect_until_error(ui_client)

    assert "".join(t.text for t in tokens(received)) == "".join(CHUNKS[:3])
    assert error.code == "upstream_error"
    assert str(error) == "The model provider failed to answer. Please try again."


async def test_too_long_message_is_refused_with_a_human_reason(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    with make_backend(max_message_chars=20) as backend:
        client = ChatWaitClient(ui_settings(backend.url))
        try:
            with pytest.raises(BackendError) as waited:
                await client.wait("x" * 21, "conv-ui")
            with pytest.raises(BackendError) as streamed:
                await collect(client, "x" * 21)
        finally:
            await client.aclose()

    for error in (waited.value, streamed.value):
        assert error.code == "validation_error"
        assert str(error) == "Your message is too long: it must have at most 20 characters."
    assert upstream.requests == []


async def test_backend_down_is_reported_at_once_in_both_modes(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    client = ChatWaitClient(ui_settings(url))
    try:
        with pytest.raises(BackendUnreachable) as waited:
            await client.wait("hi", "conv-ui")
        with pytest.raises(BackendUnreachable) as streamed:
            await asyncio.wait_for(collect(client), timeout=5)
        with pytest.raises(BackendUnreachable):
            await client.health()
    finally:
        await client.aclose()

    for error in (waited.value, streamed.value):
        assert str(error) == f"Cannot reach the ChatWait backend at {url}. Is it running?"


async def test_cancel_stream_stops_the_run_and_closes_the_upstream(
    ui_client: ChatWaitClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=CHUNKS, chunk_delay=0.1))

    received, error = await collect_until_error(
        ui_client, cancel_after_first_token=True, stream_id="ui-cancel-test-1"
    )

    assert error.code == "cancelled"
    assert len(tokens(received)) < len(CHUNKS)
    await eventually(lambda: upstream.streams_closed_by_client == 1, what="upstream closed")


async def test_cancel_of_an_unknown_stream_is_not_an_error(ui_client: ChatWaitClient) -> None:
    await ui_client.cancel_stream("ui-never-started-1")


async def test_health_reports_the_backend_model(
    ui_client: ChatWaitClient, backend: ServerThread
) -> None:
    health = await ui_client.health()

    assert health.provider == "openai-compatible"
    assert health.model == "emulated-model"


async def test_a_response_held_open_after_done_still_finishes_without_reconnecting() -> None:
    """After `done` the client reads the response to its end (so httpx's iterators end in
    the task that opened them); a proxy that holds the response open must not turn a
    finished answer into a reconnect."""

    async def held_open(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b'event: start\ndata: {"stream_id": "s-held-open", "conversation_id": "c"}\n\n'
            yield b'event: token\nid: 0\ndata: {"index": 0, "text": "Hi"}\n\n'
            yield (
                b'event: done\ndata: {"stream_id": "s-held-open", "conversation_id": "c", '
                b'"response": "Hi", "token_count": 1}\n\n'
            )
            await asyncio.sleep(60)

        return StreamingResponse(body(), media_type="text/event-stream")

    app = Starlette(routes=[Route("/chat/streaming", held_open, methods=["POST"])])
    with ServerThread(app) as server:
        client = ChatWaitClient(ui_settings(server.url, chatwait_stream_idle_timeout_seconds=1.0))
        try:
            events = await collect(client)
        finally:
            await client.aclose()

    assert not any(isinstance(e, Reconnecting) for e in events)
    assert isinstance(events[-1], StreamFinished)
    assert events[-1].response == "Hi"
