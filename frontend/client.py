"""The one client the UI uses to talk to the ChatWait backend.

It owns every HTTP detail: timeouts, the SSE parser, resuming a broken stream, and
turning each failure into a `BackendError` whose text can be shown to people as is.

    BackendError                 the backend answered with an error (code, status)
     ├── BackendUnreachable      no connection, or no answer in time
     ├── StreamExpired           a broken stream can no longer be resumed
     └── StreamLost              the stream broke more often than we retry

`stream()` yields `StreamStarted` (again after every resume), `TokenReceived` for each
token exactly once, `Reconnecting` before each retry, and finally `StreamFinished`.
Resuming follows docs/api.md: same `stream_id`, `Last-Event-ID` = last token index.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from frontend.config import UISettings

__all__ = [
    "BackendError",
    "BackendHealth",
    "BackendUnreachable",
    "ChatWaitClient",
    "Reconnecting",
    "StreamEvent",
    "StreamExpired",
    "StreamFinished",
    "StreamLost",
    "StreamStarted",
    "TokenReceived",
    "WaitAnswer",
    "new_stream_id",
]

# The first reconnect waits this long (the backend's `retry:` hint replaces it), then
# the wait doubles up to the cap, so a restarting backend is not hammered.
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 8.0


# --- results --------------------------------------------------------------------------


@dataclass(frozen=True)
class BackendHealth:
    provider: str
    model: str
    version: str


@dataclass(frozen=True)
class WaitAnswer:
    response: str
    conversation_id: str
    model: str


@dataclass(frozen=True)
class StreamStarted:
    stream_id: str
    conversation_id: str
    model: str
    resumed: bool


@dataclass(frozen=True)
class TokenReceived:
    index: int
    text: str


@dataclass(frozen=True)
class Reconnecting:
    attempt: int
    max_attempts: int
    delay_seconds: float


@dataclass(frozen=True)
class StreamFinished:
    response: str
    conversation_id: str
    token_count: int


StreamEvent = StreamStarted | TokenReceived | Reconnecting | StreamFinished


# --- errors ---------------------------------------------------------------------------

# What each backend error code means to someone chatting; docs/api.md lists the codes.
_HUMAN_MESSAGES: dict[str, str] = {
    "upstream_rate_limited": "The model provider is rate limiting ChatWait right now.",
    "upstream_auth_failed": (
        "The model provider rejected the backend's API key. The backend's administrator "
        "needs to fix its configuration."
    ),
    "upstream_error": "The model provider failed to answer. Please try again.",
    "upstream_timeout": "The model took too long to answer. Please try again.",
    "conversation_busy": (
        "This conversation is still answering your previous message. "
        "Send again once it has finished."
    ),
    "store_unavailable": "The backend's storage is unavailable. Please try again in a moment.",
    "producer_lost": "The server that was writing this answer stopped. Please ask again.",
    "cancelled": "The answer was cancelled on the server.",
    "payload_too_large": "Your message is too large to send.",
    "stream_not_found": "This answer is no longer available on the server. Please ask again.",
    "internal_error": "The backend hit an unexpected error. Please try again.",
    "origin_not_allowed": (
        "The backend does not accept requests from this page's address "
        "(see its CORS_ORIGINS setting)."
    ),
}


class BackendError(Exception):
    """The backend (or the way to it) failed; `str(error)` is a sentence for people."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status_code: int | None = None,
        retry_after_seconds: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status_code = status_code
        self.retry_after_seconds = retry_after_seconds

    @classmethod
    def from_payload(
        cls,
        payload: Mapping[str, Any],
        *,
        status_code: int | None = None,
        retry_after_header: str | None = None,
    ) -> BackendError:
        """An error from the backend's `{"code", "message", ...}` (body or SSE event)."""
        code = str(payload.get("code") or "unknown_error")
        details = payload.get("details")
        # Retry-After: a header on HTTP errors, a field of the SSE error event, or in details.
        retry_after = _seconds(retry_after_header) or _seconds(payload.get("retry_after"))
        if retry_after is None and isinstance(details, Mapping):
            retry_after = _seconds(details.get("retry_after"))
        message = _describe(code, payload, retry_after)
        error_class = StreamExpired if code == "stream_not_found" else BackendError
        return error_class(
            message, code=code, status_code=status_code, retry_after_seconds=retry_after
        )


class BackendUnreachable(BackendError):
    """No connection to the backend, or no answer in time."""


class StreamExpired(BackendError):
    """The stream is unknown to the backend: its TTL ended, or it never started."""


class StreamLost(BackendError):
    """The connection kept breaking; the run may still finish on the server."""


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def _describe(code: str, payload: Mapping[str, Any], retry_after: float | None) -> str:
    if code == "upstream_rate_limited" and retry_after is not None:
        return f"{_HUMAN_MESSAGES[code]} Try again in {retry_after:g} seconds."
    if code == "validation_error":
        return _describe_validation_error(payload)
    if code in _HUMAN_MESSAGES:
        return _HUMAN_MESSAGES[code]
    backend_message = str(payload.get("message") or "no details")
    return f"The backend refused the request ({code}): {backend_message}"


def _describe_validation_error(payload: Mapping[str, Any]) -> str:
    details = payload.get("details")
    for detail in details if isinstance(details, list) else []:
        if not isinstance(detail, Mapping) or detail.get("field") != "message":
            continue
        if detail.get("type") == "string_too_long":
            # The backend says "Must have at most N characters."
            limit = str(detail.get("message", "")).rstrip(".")
            return f"Your message is too long: it {limit[:1].lower()}{limit[1:]}."
        return f"Your message was not accepted: {detail.get('message', 'invalid')}."
    return f"The request was not accepted: {payload.get('message', 'invalid input')}"


def _error_from_response(response: httpx.Response, body: bytes) -> BackendError:
    try:
        payload = json.loads(body)["error"]
        if not isinstance(payload, Mapping):
            raise TypeError("error is not an object")
    except (ValueError, KeyError, TypeError):
        # Not our JSON error body: a proxy or another server answered.
        return BackendError(
            f"The backend answered with HTTP {response.status_code}. Please try again.",
            code="unexpected_response",
            status_code=response.status_code,
        )
    return BackendError.from_payload(
        payload,
        status_code=response.status_code,
        retry_after_header=response.headers.get("retry-after"),
    )


# --- SSE ------------------------------------------------------------------------------


@dataclass
class _SSEMessage:
    event: str = "message"
    data: str = ""
    id: str | None = None
    retry_ms: int | None = None


async def _iter_sse(response: httpx.Response) -> AsyncIterator[_SSEMessage]:
    """Events of an SSE response, per the HTML spec: blank line ends an event, `:` starts
    a comment, `data` lines join with newlines. Comment-only blocks (pings) are skipped."""
    message = _SSEMessage()
    data_lines: list[str] = []
    has_fields = False
    async for line in response.aiter_lines():
        if line == "":
            if has_fields:
                message.data = "\n".join(data_lines)
                yield message
            message, data_lines, has_fields = _SSEMessage(), [], False
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        has_fields = True
        if name == "event":
            message.event = value
        elif name == "data":
            data_lines.append(value)
        elif name == "id":
            message.id = value
        elif name == "retry" and value.isdigit():
            message.retry_ms = int(value)


# --- the client -----------------------------------------------------------------------


def new_stream_id() -> str:
    """A client-chosen stream_id: unguessable, since anyone who knows it can read the stream."""
    return f"ui-{uuid.uuid4().hex}"


class _ConnectionBroken(Exception):
    """The stream ended before `done` or `error`; resuming may continue it."""


class ChatWaitClient:
    """Async client for the ChatWait backend; one per process, shared by every chat."""

    def __init__(
        self,
        settings: UISettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = settings.chatwait_api_url
        self._settings = settings
        connect = settings.chatwait_connect_timeout_seconds
        self._wait_timeout = httpx.Timeout(settings.chatwait_wait_timeout_seconds, connect=connect)
        self._stream_timeout = httpx.Timeout(
            settings.chatwait_stream_idle_timeout_seconds, connect=connect
        )
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(10.0, connect=connect),
            transport=transport,
            headers={"User-Agent": "chatwait-ui"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def health(self) -> BackendHealth:
        body = await self._request_json("GET", "/health")
        return BackendHealth(
            provider=str(body.get("provider", "unknown")),
            model=str(body.get("model", "unknown")),
            version=str(body.get("version", "unknown")),
        )

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
    ) -> AsyncIterator[StreamEvent]:
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
                        if isinstance(event, _RetryHint):
                            first_delay = event.seconds
                            continue
                        if isinstance(event, StreamStarted):
                            reached_backend = True
                        elif isinstance(event, TokenReceived):
                            if event.index <= last_index:
                                continue  # already rendered: a resume never doubles a token
                            if event.index != last_index + 1:
                                raise _ConnectionBroken(f"token {last_index + 1} is missing")
                            last_index = event.index
                            failures = 0
                        yield event
                        if isinstance(event, StreamFinished):
                            return
                raise _ConnectionBroken("the stream ended before `done`")
            except (_ConnectionBroken, _RetryableStatus, httpx.TransportError) as broken:
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
    ) -> AsyncGenerator[StreamEvent | _RetryHint]:
        # Every attempt sends the message too: if the first POST never reached the
        # server, the same stream_id starts the run now; if it did, the backend treats
        # this as a resume (a known stream_id is never run twice).
        body: dict[str, Any] = {
            "message": message,
            "conversation_id": conversation_id,
            "stream_id": stream_id,
        }
        headers = {"Accept": "text/event-stream"}
        if last_index >= 0:
            headers["Last-Event-ID"] = str(last_index)
        request = self._http.build_request(
            "POST", "/chat/streaming", json=body, headers=headers, timeout=self._stream_timeout
        )
        response = await self._send(request, stream=True)
        try:
            if response.status_code != 200:
                error = _error_from_response(response, await response.aread())
                if error.code == "store_unavailable" or (
                    error.code == "unexpected_response" and response.status_code >= 500
                ):
                    raise _RetryableStatus(str(error))
                raise error
            async for sse in _iter_sse(response):
                if sse.retry_ms is not None:
                    yield _RetryHint(sse.retry_ms / 1000)
                event = _stream_event(sse, resumed=resumed)
                if event is not None:
                    yield event
        finally:
            await response.aclose()

    async def _request_json(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        http_timeout: httpx.Timeout | None = None,
    ) -> dict[str, Any]:
        request = self._http.build_request(
            method, path, json=json, timeout=http_timeout or self._http.timeout
        )
        response = await self._send(request, stream=False)
        if response.status_code >= 400:
            raise _error_from_response(response, response.content)
        if response.status_code == 204:
            return {}
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise BackendError(
                "The backend sent an answer ChatWait cannot read.", code="unexpected_response"
            )
        return body

    async def _send(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        try:
            return await self._http.send(request, stream=stream)
        except httpx.TimeoutException as exc:
            if stream:
                raise  # a stream that stalls is resumed, not reported
            raise BackendUnreachable(
                f"The backend at {self.base_url} did not answer in time. Please try again.",
                code="backend_timeout",
            ) from exc
        except httpx.TransportError as exc:
            if stream:
                raise
            raise self._unreachable() from exc

    def _unreachable(self) -> BackendUnreachable:
        return BackendUnreachable(
            f"Cannot reach the ChatWait backend at {self.base_url}. Is it running?",
            code="backend_unreachable",
        )


@dataclass(frozen=True)
class _RetryHint:
    seconds: float


class _RetryableStatus(Exception):
    """A status that says "try again shortly" (e.g. a proxy's 502, Redis restarting)."""


def _stream_event(sse: _SSEMessage, *, resumed: bool) -> StreamEvent | None:
    if sse.event not in ("start", "token", "done", "error"):
        return None
    try:
        payload = json.loads(sse.data)
        if sse.event == "start":
            return StreamStarted(
                stream_id=str(payload["stream_id"]),
                conversation_id=str(payload["conversation_id"]),
                model=str(payload.get("model", "")),
                resumed=resumed,
            )
        if sse.event == "token":
            return TokenReceived(index=int(payload["index"]), text=str(payload["text"]))
        if sse.event == "done":
            return StreamFinished(
                response=str(payload["response"]),
                conversation_id=str(payload["conversation_id"]),
                token_count=int(payload["token_count"]),
            )
    except (ValueError, KeyError, TypeError) as exc:
        raise _ConnectionBroken(f"unreadable {sse.event!r} event") from exc
    if not isinstance(payload, Mapping):
        raise _ConnectionBroken("unreadable 'error' event")
    raise BackendError.from_payload(payload)
