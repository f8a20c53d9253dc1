"""What the client hands the UI: results of requests and the events of a stream, and
how a backend SSE event becomes one of them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from httpx_sse import ServerSentEvent

from chatwait_ui.client.errors import RESUMABLE_EVENT_CODES, BackendError, ConnectionBroken


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


@dataclass(frozen=True)
class RetryHint:
    """The backend's `retry:` field: how long to wait before the first reconnect."""

    seconds: float


def parse_stream_event(sse: ServerSentEvent, *, resumed: bool) -> StreamEvent | None:
    """The stream event in one SSE event: None for events the UI ignores, and an
    `error` event raised as the `BackendError` it reports (or as `ConnectionBroken`
    when resuming may help)."""
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
        raise ConnectionBroken(f"unreadable {sse.event!r} event") from exc
    if not isinstance(payload, Mapping):
        raise ConnectionBroken("unreadable 'error' event")
    if payload.get("code") in RESUMABLE_EVENT_CODES:
        raise ConnectionBroken(f"the server said {payload['code']}")
    raise BackendError.from_payload(payload)


@dataclass(frozen=True)
class Principal:
    """`GET /me`: who the backend takes the caller for, and whether it needs keys."""

    name: str
    auth: str  # "api_key" or "none"


@dataclass(frozen=True)
class ConversationSummary:
    """One entry of `GET /conversations` (times as the backend's ISO 8601 strings)."""

    conversation_id: str
    title: str
    created_at: str
    updated_at: str
    message_count: int


@dataclass(frozen=True)
class ConversationPage:
    conversations: list[ConversationSummary]
    next_cursor: str | None


@dataclass(frozen=True)
class HistoryMessage:
    """One message of `GET /conversations/{id}`: role "user" or "assistant"."""

    role: str
    content: str
