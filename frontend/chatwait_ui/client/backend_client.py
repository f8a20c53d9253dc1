"""`ChatWaitClient`: every request the UI makes to the backend, and the resume loop
that carries a stream through broken connections.

`stream()` yields `StreamStarted` (again after every resume), `TokenReceived` for each
token exactly once, `Reconnecting` before each retry, and finally `StreamFinished`.
Resuming follows docs/api.md: same `stream_id`, `Last-Event-ID` = last token index.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import httpx
from httpx_sse import ServerSentEvent, SSEError, aconnect_sse

from chatwait_ui.client.errors import (
    RESUMABLE_CODES,
    BackendError,
    ConnectionBroken,
    RetryableStatus,
    StreamExpired,
    StreamLost,
    error_from_response,
)
from chatwait_ui.client.events import (
    Reconnecting,
    RetryHint,
    StreamEvent,
    StreamFinished,
    StreamStarted,
    TokenReceived,
    WaitAnswer,
    parse_stream_event,
)
from chatwait_ui.client.plain_requests import BackendRequests

# The first reconnect waits this long (the backend's `retry:` hint replaces it), then
# the wait doubles up to the cap, so a restarting backend is not hammered.
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 8.0
# The backend ends a response right after `done` or `error`; the rest is read for at
# most this long (see _read_to_end).
FINAL_READ_SECONDS = 5.0


def new_stream_id() -> str:
    """A client-chosen stream_id: unguessable, since anyone who knows it can read the stream."""
    return f"ui-{uuid.uuid4().hex}"


class ChatWaitClient(BackendRequests):
    """Async client for the ChatWait backend; one per process, shared by every chat
    (`with_key` gives each person's view of it, carrying their API key)."""

    async def wait(self, message: str, conversation_id: str) -> WaitAnswer:
        """POST /chat/wait: the whole answer at once."""
        body = await self._request_json(
            "POST",
            "/chat/wait",
            json={"message": message, "conversation_id": conversation_id},
            http_timeout=self._wait_timeout,
        )
        return WaitAnswer(
            response=str(body["response"]),
            conversation_id=str(body["conversation_id"]),
            model=str(body.get("model", "")),
        )

    async def cancel_stream(self, stream_id: str) -> None:
        """DELETE /chat/streaming/{id}: stop the run on the server. A stream that has
        already ended or expired is fine: there is nothing left to stop."""
        with contextlib.suppress(StreamExpired):
            await self._request_json("DELETE", f"/chat/streaming/{stream_id}")

    async def stream(
        self, message: str, conversation_id: str, *, stream_id: str | None = None
    ) -> AsyncGenerator[StreamEvent]:
        """Stream an answer, resuming through broken connections without losing or
        repeating a token. The caller picks `stream_id` (or reads it from the first
        `StreamStarted`) so it can cancel the run even before the first token."""
        stream_id = stream_id or new_stream_id()
        last_index = -1
        failures = 0  # consecutive attempts that brought no new token
        reached_backend = False
        first_delay = FIRST_BACKOFF_SECONDS
        max_attempts = self._settings.chatwait_resume_attempts
        while True:
            try:
                attempt = self._read_stream(
                    message, conversation_id, stream_id, last_index, resumed=failures > 0
                )
                async with contextlib.aclosing(attempt) as events:
                    async for event in events:
                        if isinstance(event, RetryHint):
                            first_delay = event.seconds
                            continue
                        if isinstance(event, StreamStarted):
                            reached_backend = True
                        elif isinstance(event, TokenReceived):
                            if event.index <= last_index:
                                continue  # already rendered: a resume never doubles a token
                            if event.index != last_index + 1:
                                raise ConnectionBroken(f"token {last_index + 1} is missing")
                            last_index = event.index
                            failures = 0
                        yield event
                        if isinstance(event, StreamFinished):
                            return
                raise ConnectionBroken("the stream ended before `done`")
            except (ConnectionBroken, RetryableStatus, httpx.TransportError) as broken:
                if isinstance(broken, httpx.ConnectError) and not reached_backend:
                    # Down from the start: say so now rather than after every retry.
                    raise self._unreachable() from broken
                failures += 1
                if failures > max_attempts:
                    raise StreamLost(
                        "The connection to the backend kept breaking, so the answer "
                        "could not be completed. Please ask again.",
                        code="stream_lost",
                    ) from broken
                delay = min(first_delay * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
                yield Reconnecting(attempt=failures, max_attempts=max_attempts, delay_seconds=delay)
                await asyncio.sleep(delay)

    async def _read_stream(
        self,
        message: str,
        conversation_id: str,
        stream_id: str,
        last_index: int,
        *,
        resumed: bool,
    ) -> AsyncGenerator[StreamEvent | RetryHint]:
        # Every attempt sends the message too: if the first POST never reached the
        # server, the same stream_id starts the run now; if it did, the backend treats
        # this as a resume (a known stream_id is never run twice).
        body: dict[str, Any] = {
            "message": message,
            "conversation_id": conversation_id,
            "stream_id": stream_id,
        }
        headers: dict[str, str] = {}
        if last_index >= 0:
            headers["Last-Event-ID"] = str(last_index)
        # httpx-sse splits lines only at CR, LF and CRLF, as the SSE format says; a
        # token holding U+2028 or NEL stays one `data:` line.
        async with aconnect_sse(
            self._http,
            "POST",
            "/chat/streaming",
            json=body,
            headers={**self._auth_headers, **headers},
            timeout=self._stream_timeout,
        ) as source:
            response = source.response
            if response.status_code != 200:
                error = error_from_response(response, await response.aread())
                if error.code in RESUMABLE_CODES or (
                    error.code == "unexpected_response" and response.status_code >= 500
                ):
                    raise RetryableStatus(str(error))
                raise error
            async with contextlib.aclosing(source.aiter_sse()) as messages:
                try:
                    async for sse in messages:
                        if sse.retry is not None:
                            yield RetryHint(sse.retry / 1000)
                        for event in await _stream_events(sse, messages, resumed=resumed):
                            yield event
                except SSEError as exc:
                    raise ConnectionBroken("the response is not an event stream") from exc
                finally:
                    # httpx reads a response through a chain of async generators that
                    # nobody can close. Left half-read, the garbage collector closes
                    # them later in a task of its own, racing this one ("async generator
                    # ignored GeneratorExit", "exit cancel scope in a different task").
                    # Closed here first, in the task that opened it, they find nothing
                    # left to do.
                    await response.aclose()


async def _stream_events(
    sse: ServerSentEvent, rest: AsyncIterator[ServerSentEvent], *, resumed: bool
) -> list[StreamEvent]:
    """`sse` as a stream event (none for pings and unknown events). After `done` and
    `error` the backend ends the response: it is read to its end, so the connection
    goes back to the pool and httpx's iterators all finish in this task."""
    try:
        event = parse_stream_event(sse, resumed=resumed)
    except BackendError:
        await _read_to_end(rest)
        raise
    if isinstance(event, StreamFinished):
        await _read_to_end(rest)
    return [] if event is None else [event]


async def _read_to_end(messages: AsyncIterator[ServerSentEvent]) -> None:
    # The answer is complete (or failed) already: a connection that breaks now, or a
    # proxy that holds the response open, must not turn it into a reconnect.
    with contextlib.suppress(TimeoutError, httpx.TransportError, SSEError):
        async with asyncio.timeout(FINAL_READ_SECONDS):
            async for _ in messages:
                pass
