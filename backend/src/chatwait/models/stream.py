"""What a stream store keeps about one streamed run.

A stream is an append-only list of text deltas (token `i` is the `i`-th delta) plus one
terminal outcome. Stores serialise these models as JSON, so they must stay plain data.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from chatwait.models.chat import TokenUsage


class StreamMeta(BaseModel):
    """Fixed facts about a stream, written once when its run starts."""

    stream_id: str
    conversation_id: str
    model: str
    created_at: float


class StreamOutcome(BaseModel):
    """How a stream ended: `done` with the full text, or `error` with a stable code."""

    kind: Literal["done", "error"]
    response: str = ""
    token_count: int = 0
    usage: TokenUsage | None = None
    error_code: str | None = None
    error_message: str | None = None
    retryable: bool = False
    # The provider's Retry-After (seconds) when the error is a rate limit.
    retry_after: str | None = None


class StreamRead(BaseModel):
    """One read from a store: tokens from a start index, and the outcome once all are read."""

    tokens: list[str]
    outcome: StreamOutcome | None = None
