"""The Redis stream store: token logs shared by every worker and instance.

Layout, per stream (prefix `chatwait:stream:{id}:`):

    meta       StreamMeta JSON, SET NX: the atomic claim of the stream_id
    log        a Redis Stream; token i is entry id `{i+1}-0`, field `t`; once the
               outcome is written, one more entry (field `o`) marks the end
    outcome    StreamOutcome JSON, SET NX: the first outcome wins
    viewed     viewer heartbeat (time.time() of the viewer's process)
    producer   producer lease (time.time() of the producer's process)
    cancel     cancel flag; `request_cancel` also PUBLISHes on channel `…:cancel`

Explicit entry ids make "token index k" an entry id, so any worker resumes from any
index with one XRANGE, and viewers wait for the next entry with XREAD BLOCK — no
polling. Heartbeats are wall-clock times written by the process that sends them:
workers on several machines need synchronised clocks (NTP), as leases always do.

Keys of an unfinished stream expire after STREAM_TTL_SECONDS + MAX_RUN_SECONDS (the
setting when it is set, else an hour), so a producer lost with its machine leaks nothing
while a live run never loses its keys; `finish` shortens that to the TTL.
Every Redis failure is raised as StoreUnavailable (see chatwait.redis_client).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from redis.exceptions import RedisError

from chatwait.exceptions import StoreUnavailable, StreamNotFound
from chatwait.models.stream import StreamMeta, StreamOutcome, StreamRead
from chatwait.redis_client import BLOCKING_TIMEOUT_SECONDS, guarded, redis_client
from chatwait.streams.store import StreamStore

# How long an unfinished stream's keys live past the TTL when MAX_RUN_SECONDS is off.
MAX_RUN_SECONDS = 3600


def _outcome_json(outcome: StreamOutcome) -> str:
    """The outcome as ASCII JSON. A model's answer may hold a lone surrogate, which
    pydantic's JSON encoder refuses; json.dumps escapes it (\\ud800), so the outcome is
    stored all the same and the SSE renderer decides what a viewer gets."""
    return json.dumps(outcome.model_dump(mode="json"))


class RedisStreamStore(StreamStore):
    """StreamStore on Redis (STREAM_STORE_URL=redis://host:port/db)."""

    def __init__(self, url: str, ttl_seconds: float, max_run_seconds: float | None = None) -> None:
        self._redis = redis_client(url)
        self._blocking = redis_client(url, socket_timeout=BLOCKING_TIMEOUT_SECONDS)
        # Milliseconds: Redis honours sub-second TTLs with PX / PEXPIRE.
        self._ttl = max(1, round(ttl_seconds * 1000))
        longest_run = max_run_seconds if max_run_seconds else MAX_RUN_SECONDS
        self._unfinished_ttl = self._ttl + round(longest_run * 1000)

    @staticmethod
    def _key(stream_id: str, part: str) -> str:
        return f"chatwait:stream:{stream_id}:{part}"

    def _keys(self, stream_id: str) -> list[str]:
        parts = ("meta", "log", "outcome", "viewed", "producer", "cancel")
        return [self._key(stream_id, part) for part in parts]

    async def create(self, meta: StreamMeta) -> bool:
        claimed = await guarded(
            self._redis.set(
                self._key(meta.key, "meta"),
                meta.model_dump_json(),
                nx=True,
                px=self._unfinished_ttl,
            )
        )
        if not claimed:
            # Leave the heartbeats of the existing stream alone: refreshing them would
            # hide a dead producer for another lease period.
            return False
        now = str(time.time())
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(self._key(meta.key, "viewed"), now, px=self._unfinished_ttl)
            pipe.set(self._key(meta.key, "producer"), now, px=self._unfinished_ttl)
            await guarded(pipe.execute())
        return True

    async def get_meta(self, stream_id: str) -> StreamMeta | None:
        raw = await guarded(self._redis.get(self._key(stream_id, "meta")))
        return StreamMeta.model_validate_json(raw) if raw else None

    async def append(self, stream_id: str, index: int, text: str) -> None:
        log = self._key(stream_id, "log")
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xadd(log, {"t": text}, id=f"{index + 1}-0")
            if index == 0:
                pipe.pexpire(log, self._unfinished_ttl)
            await guarded(pipe.execute())

    async def finish(self, stream_id: str, outcome: StreamOutcome) -> None:
        won = await guarded(
            self._redis.set(
                self._key(stream_id, "outcome"), _outcome_json(outcome), nx=True, px=self._ttl
            )
        )
        async with self._redis.pipeline(transaction=False) as pipe:
            if won:
                # The end marker wakes blocked viewers; its auto id sorts after every token.
                pipe.xadd(self._key(stream_id, "log"), {"o": "1"})
            for key in self._keys(stream_id):
                pipe.pexpire(key, self._ttl)
            await guarded(pipe.execute())

    async def read(self, stream_id: str, start: int, wait_seconds: float) -> StreamRead:
        log = self._key(stream_id, "log")
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.exists(self._key(stream_id, "meta"))
            pipe.xrange(log, min=f"{start + 1}-0", max="+")
            exists, entries = await guarded(pipe.execute())
        if not exists:
            raise StreamNotFound()
        if not entries and wait_seconds > 0:
            block_ms = max(1, round(wait_seconds * 1000))
            found: Any = await guarded(
                self._blocking.xread({log: f"{start}-0"}, block=block_ms)  # ids after start-0
            )
            # RESP2 answers [[key, entries]], RESP3 {key: [entries]}.
            if isinstance(found, dict):
                entries = next(iter(found.get(log, [])), [])
            else:
                entries = found[0][1] if found else []
        return await self._to_read(stream_id, entries)

    async def _to_read(self, stream_id: str, entries: list[Any]) -> StreamRead:
        tokens: list[str] = []
        for _entry_id, fields in entries:
            if "o" in fields:
                raw = await guarded(self._redis.get(self._key(stream_id, "outcome")))
                if raw is None:  # expired between the two calls
                    raise StreamNotFound()
                return StreamRead(
                    tokens=tokens, outcome=StreamOutcome.model_validate(json.loads(raw))
                )
            tokens.append(fields["t"])
        return StreamRead(tokens=tokens)

    async def touch_viewer(self, stream_id: str) -> None:
        await guarded(
            self._redis.set(
                self._key(stream_id, "viewed"), str(time.time()), px=self._unfinished_ttl, xx=True
            )
        )

    async def last_viewed(self, stream_id: str) -> float | None:
        raw = await guarded(self._redis.get(self._key(stream_id, "viewed")))
        return float(raw) if raw else None

    async def heartbeat_producer(self, stream_id: str) -> None:
        await guarded(
            self._redis.set(
                self._key(stream_id, "producer"), str(time.time()), px=self._unfinished_ttl
            )
        )

    async def last_producer_heartbeat(self, stream_id: str) -> float | None:
        raw = await guarded(self._redis.get(self._key(stream_id, "producer")))
        return float(raw) if raw else None

    async def request_cancel(self, stream_id: str) -> None:
        key = self._key(stream_id, "cancel")
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(key, "1", px=self._unfinished_ttl)
            pipe.publish(key, "cancel")
            await guarded(pipe.execute())

    async def wait_cancel_requested(self, stream_id: str) -> None:
        key = self._key(stream_id, "cancel")
        # One subscription per running producer: it lives as long as its run.
        pubsub = self._blocking.pubsub()
        try:
            await guarded(pubsub.subscribe(key))
            # Subscribe first, then check the flag: a request between the two is seen.
            if await guarded(self._redis.exists(key)):
                return
            while True:
                message = await guarded(
                    pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
                )
                if message is not None and message.get("type") == "message":
                    return
        finally:
            await asyncio.shield(self._close_pubsub(pubsub))

    @staticmethod
    async def _close_pubsub(pubsub: Any) -> None:
        with contextlib.suppress(RedisError, OSError):
            await pubsub.aclose()

    async def ping(self) -> None:
        try:
            await guarded(self._redis.ping())
        except StoreUnavailable as error:
            raise StoreUnavailable("The stream store (Redis) does not answer.") from error

    async def aclose(self) -> None:
        await self._redis.aclose()
        await self._blocking.aclose()
