"""The in-process stream store: everything in a dict, for a single worker.

Waiting is event-driven: a viewer with nothing to read parks one future on its stream,
and every change resolves the futures parked there, so a viewer sleeps until the
producer appends, never polls. A change nobody waits for costs nothing: no event is
made per token, only per wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field

from chatwait.exceptions import StreamNotFound
from chatwait.models.stream import StreamMeta, StreamOutcome, StreamRead
from chatwait.streams.store import StreamStore


@dataclass
class _Stream:
    meta: StreamMeta
    tokens: list[str] = field(default_factory=list)
    outcome: StreamOutcome | None = None
    expires_at: float | None = None  # monotonic; set when the stream finishes
    last_viewed: float = field(default_factory=time.time)
    last_producer_heartbeat: float = field(default_factory=time.time)
    # One future per waiting viewer, resolved (and dropped) by the next change.
    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    cancel_requested: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self) -> None:
        if self.waiters:
            waiters, self.waiters = self.waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def wait_for_change(self, seconds: float) -> None:
        """Return at the next change, or after `seconds` without one."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self.waiters.append(waiter)
        # A bare timer instead of asyncio.wait_for: no timeout context per read.
        timer = loop.call_later(seconds, _resolve, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            if not waiter.done():  # the viewer was cancelled: leave no future behind
                waiter.cancel()
                with contextlib.suppress(ValueError):
                    self.waiters.remove(waiter)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class MemoryStreamStore(StreamStore):
    """StreamStore kept in this process's memory (STREAM_STORE_URL=memory://)."""

    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._streams: dict[str, _Stream] = {}
        # Finished streams in the order they finished: with one TTL for all, that is
        # the order they expire in, so expiring looks at the oldest ones only instead
        # of scanning every buffered stream on every token.
        self._finished: deque[tuple[float, str]] = deque()

    def _get(self, stream_id: str) -> _Stream | None:
        self._expire()
        return self._streams.get(stream_id)

    def _expire(self) -> None:
        now = time.monotonic()
        while self._finished and self._finished[0][0] <= now:
            _, stream_id = self._finished.popleft()
            stream = self._streams.pop(stream_id, None)
            if stream is not None:
                stream.notify()  # wake viewers so they see StreamNotFound, not a hang

    async def create(self, meta: StreamMeta) -> bool:
        if self._get(meta.key) is not None:
            return False
        self._streams[meta.key] = _Stream(meta=meta)
        return True

    async def get_meta(self, stream_id: str) -> StreamMeta | None:
        stream = self._get(stream_id)
        return stream.meta if stream else None

    async def append(self, stream_id: str, index: int, text: str) -> None:
        stream = self._require(stream_id)
        if index != len(stream.tokens):
            raise ValueError(f"token {index} appended out of order to {stream_id}")
        stream.tokens.append(text)
        stream.notify()

    async def finish(self, stream_id: str, outcome: StreamOutcome) -> None:
        stream = self._streams.get(stream_id)
        if stream is None or stream.outcome is not None:
            return
        stream.outcome = outcome
        stream.expires_at = time.monotonic() + self._ttl
        self._finished.append((stream.expires_at, stream_id))
        stream.notify()

    async def read(self, stream_id: str, start: int, wait_seconds: float) -> StreamRead:
        stream = self._require(stream_id)
        if start >= len(stream.tokens) and stream.outcome is None:
            await stream.wait_for_change(wait_seconds)
            stream = self._require(stream_id)
        tokens = stream.tokens[start:]
        return StreamRead(tokens=tokens, outcome=stream.outcome)

    async def touch_viewer(self, stream_id: str) -> None:
        stream = self._streams.get(stream_id)
        if stream is not None:
            stream.last_viewed = time.time()

    async def last_viewed(self, stream_id: str) -> float | None:
        stream = self._streams.get(stream_id)
        return stream.last_viewed if stream else None

    async def heartbeat_producer(self, stream_id: str) -> None:
        stream = self._streams.get(stream_id)
        if stream is not None:
            stream.last_producer_heartbeat = time.time()

    async def last_producer_heartbeat(self, stream_id: str) -> float | None:
        stream = self._streams.get(stream_id)
        return stream.last_producer_heartbeat if stream else None

    async def request_cancel(self, stream_id: str) -> None:
        stream = self._streams.get(stream_id)
        if stream is not None:
            stream.cancel_requested.set()

    async def wait_cancel_requested(self, stream_id: str) -> None:
        stream = self._require(stream_id)
        await stream.cancel_requested.wait()

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        self._streams.clear()
        self._finished.clear()

    def _require(self, stream_id: str) -> _Stream:
        stream = self._get(stream_id)
        if stream is None:
            raise StreamNotFound()
        return stream
