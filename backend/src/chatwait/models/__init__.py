"""Domain models: what ChatWait talks about, independent of HTTP."""

from chatwait.models.chat import ChatReply, TokenUsage
from chatwait.models.stream import StreamMeta, StreamOutcome, StreamRead

__all__ = ["ChatReply", "StreamMeta", "StreamOutcome", "StreamRead", "TokenUsage"]
