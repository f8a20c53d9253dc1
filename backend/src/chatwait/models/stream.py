"""What a stream store keeps about one streamed run.

A stream is an append-only list of text deltas (token `i` is the `i`-th delta) plus one
terminal outcome. Stores serialise the models as JSON, so they must stay plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from chatwait.auth import scoped_id
from chatwait.models.chat import TokenUsage


class StreamMeta(BaseModel):
    """Fixed facts about a stream, written once when its run starts."""

    stream_id: str
    # The principal that started it; stores key the stream by `key`, so ids chosen by
    # two principals never meet.
    owner: str
    conversation_id: str
    model: str
    created_at: float
    # SHA-256 of the message that started it: the same stream_id with another message
    # is refused (stream_id_in_use) instead of silently replaying this stream.
    message_sha256: str | None = None

    @property
    def key(self) -> str:
        return scoped_id(self.owner, self.stream_id)


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


@dataclass(frozen=True, slots=True)
class StreamRead:
    """One read from a store: tokens from a start index, and the outcome once all are read.

    A plain dataclass, not a model: one is made per token a viewer receives, it is never
    serialised, and a pydantic model's validation cost more than the read itself.
    """

    tokens: list[str]
    outcome: StreamOutcome | None = None
