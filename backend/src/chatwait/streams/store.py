"""The token buffer interface every stream store implements.

A store is the only thing a producing run and its viewers share, so it is written for a
store shared by several processes (the Redis store) as much as for one (the memory
store): the producer appends tokens and finally one outcome; any viewer, in any process,
reads from any index and waits for more without polling; cancel requests and viewer
heartbeats travel through the store too, never through process memory.
"""

from __future__ import annotations

import abc

from chatwait.models.stream import StreamMeta, StreamOutcome, StreamRead


class StreamStore(abc.ABC):
    """Append-only token logs, one per stream, with expiry.

    A stream is stored under `StreamMeta.key` (its owner and stream_id); the `stream_id`
    arguments below are that key.
    """

    @abc.abstractmethod
    async def create(self, meta: StreamMeta) -> bool:
        """Claim `meta.key` for a new run; False when it is already taken.

        The claim is atomic: of two requests starting the same stream_id, exactly one
        wins and runs the model; the other becomes a viewer.
        """

    @abc.abstractmethod
    async def get_meta(self, stream_id: str) -> StreamMeta | None:
        """The stream's metadata, or None when it is unknown or expired."""

    @abc.abstractmethod
    async def append(self, stream_id: str, index: int, text: str) -> None:
        """Store token `index`; indexes arrive as 0, 1, 2, … from the one producer."""

    @abc.abstractmethod
    async def finish(self, stream_id: str, outcome: StreamOutcome) -> None:
        """Record the terminal outcome and start the STREAM_TTL_SECONDS expiry clock.

        The first outcome wins: a later `finish` of the same stream changes nothing
        (a viewer may record `producer_lost` while a slow producer still finishes).
        """

    @abc.abstractmethod
    async def read(self, stream_id: str, start: int, wait_seconds: float) -> StreamRead:
        """Tokens from index `start` on, and the outcome once no token is left to read.

        When nothing is there yet, wait up to `wait_seconds` for the producer, then
        return an empty read. Raises StreamNotFound when the stream expired meanwhile.
        """

    @abc.abstractmethod
    async def touch_viewer(self, stream_id: str) -> None:
        """Record that a viewer is connected now (a heartbeat, repeated while it is)."""

    @abc.abstractmethod
    async def last_viewed(self, stream_id: str) -> float | None:
        """Wall-clock time of the latest viewer heartbeat (time.time()), or None."""

    @abc.abstractmethod
    async def heartbeat_producer(self, stream_id: str) -> None:
        """Renew the producer's lease: "the process running this stream is alive"."""

    @abc.abstractmethod
    async def last_producer_heartbeat(self, stream_id: str) -> float | None:
        """Wall-clock time of the producer's latest heartbeat, or None."""

    @abc.abstractmethod
    async def request_cancel(self, stream_id: str) -> None:
        """Ask the producing run, wherever it runs, to stop."""

    @abc.abstractmethod
    async def wait_cancel_requested(self, stream_id: str) -> None:
        """Return once `request_cancel(stream_id)` was called (by any process)."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections."""


def create_stream_store(
    url: str, ttl_seconds: float, max_run_seconds: float | None = None
) -> StreamStore:
    """The store for STREAM_STORE_URL; `max_run_seconds` (MAX_RUN_SECONDS) bounds how long
    an unfinished stream's keys must live."""
    if url.startswith("memory://"):
        from chatwait.streams.memory import MemoryStreamStore

        return MemoryStreamStore(ttl_seconds=ttl_seconds)
    if url.startswith(("redis://", "rediss://")):
        from chatwait.streams.redis import RedisStreamStore

        return RedisStreamStore(url, ttl_seconds=ttl_seconds, max_run_seconds=max_run_seconds)
    raise ValueError(f"unsupported STREAM_STORE_URL scheme: {url.split('://', 1)[0]}")
