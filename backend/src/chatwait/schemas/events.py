"""Payloads of the SSE events of `/chat/streaming` (each sent as JSON in `data:`)."""

from __future__ import annotations

from pydantic import BaseModel

from chatwait.models.chat import TokenUsage


class StartEvent(BaseModel):
    """`event: start` — always the first event of every response, new or resumed."""

    stream_id: str
    conversation_id: str
    model: str


class TokenEvent(BaseModel):
    """`event: token`, `id: <index>` — one text delta; indexes are 0, 1, 2, … contiguous."""

    index: int
    text: str


class DoneEvent(BaseModel):
    """`event: done` — the run finished; `response` is the full text."""

    stream_id: str
    conversation_id: str
    response: str
    token_count: int
    usage: TokenUsage | None = None


class ErrorEvent(BaseModel):
    """`event: error` — the run failed or was cancelled; the stream closes after it."""

    code: str
    message: str
    retryable: bool
    # Seconds to wait, as the model provider said (Retry-After), for `upstream_rate_limited`.
    retry_after: str | None = None
