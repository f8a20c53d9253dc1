"""The life of a streamed run, in one place: open, produce, watch, cancel, abandon, follow.

    request ──open()──► find the caller's stream, or reserve a run and claim the id
            ──start()──► producer task ──append(i, delta)──► StreamStore ◄──read(from i)── viewers
                             ▲    │                                                   (any number,
     DELETE ─request_cancel──┤    └──finish(outcome)────────► StreamStore               any process)
     nobody watching ────────┘         (TTL starts)

* The run is not tied to any HTTP connection. It is driven by a task this supervisor
  owns, which writes every delta to the store; viewers only read the store. A viewer
  that disconnects therefore costs nothing, and one that comes back resumes from any
  index without a second model call.
* A watcher beside each producer stops it when a cancel is requested through the store
  (DELETE, from any process) or when no viewer heartbeat arrived for
  STREAM_ABANDON_SECONDS. Stopping cancels the Agents SDK run, which closes the upstream
  HTTP stream, and records an `error` outcome so viewers learn why.
* The watcher also renews the producer's lease in the store. A viewer that waits for
  tokens and sees the lease older than STREAM_PRODUCER_LEASE_SECONDS (the process
  died) records and reports `producer_lost` (retryable) instead of hanging.
* On shutdown (chatwait/shutdown.py: after SHUTDOWN_GRACE_SECONDS, or at the lifespan's
  end) every producer still running is cancelled and records `server_shutting_down`
  (retryable); `producer_lost` is left for a process that died without a word.
* Streams are keyed by (owner, stream_id) (`StreamMeta.key`): a principal can only ever
  find, follow or cancel its own streams, and another principal's id is simply unknown.

docs/architecture.md draws the sequence diagrams.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from chatwait.auth import scoped_id
from chatwait.exceptions import (
    ChatWaitError,
    InternalError,
    ProducerLost,
    ServerShuttingDown,
    StreamCancelled,
    StreamIdInUse,
    StreamNotFound,
)
from chatwait.models.chat import TokenUsage
from chatwait.models.ids import new_conversation_id, new_stream_id
from chatwait.models.stream import StreamMeta, StreamOutcome
from chatwait.streams.store import StreamStore

logger = logging.getLogger(__name__)

# How long a viewer waits on the store before it refreshes its heartbeat. Well below
# any sensible STREAM_ABANDON_SECONDS, and the longest a viewer lingers after the store
# forgot its stream.
VIEWER_HEARTBEAT_SECONDS = 5.0
# How long stopping waits for cancelled producers to record their outcome. Running runs
# get their grace period before this (SHUTDOWN_GRACE_SECONDS, chatwait/shutdown.py).
STOP_PRODUCERS_SECONDS = 5.0


class StreamedRun(Protocol):
    """A model run as the supervisor sees it; the chat service adapts the Agents SDK."""

    def deltas(self) -> AsyncGenerator[str]:
        """The text deltas, in order; raises a ChatWaitError when the run fails."""
        ...

    def final_text(self) -> str | None:
        """The full answer once `deltas()` is exhausted (None: join the deltas)."""
        ...

    def usage(self) -> TokenUsage | None: ...

    def cancel(self) -> None:
        """Stop the run now and close its upstream connection."""
        ...

    async def aclose(self) -> None:
        """Release what the run holds (e.g. its conversation); called exactly once."""
        ...


class RunReservation(Protocol):
    """What a new run holds before it starts (its conversation, its limit slot)."""

    def start(self, message: str) -> StreamedRun:
        """Start the run; from now on the run releases what the reservation held."""
        ...

    async def release(self) -> None:
        """Give everything back: the run will not start."""
        ...


class RunLauncher(Protocol):
    """Reserves and starts runs (the chat service adapts the Agents SDK)."""

    @property
    def model_name(self) -> str: ...

    async def reserve(
        self, principal: str, conversation_id: str, stream_id: str, *, new: bool
    ) -> RunReservation:
        """Admit a run (limits) and take its conversation; raises 429 / 409 errors.
        `new`: the server has just named the conversation (it has no history)."""
        ...


@dataclass(frozen=True)
class StreamOpenRequest:
    """A request to /chat/streaming once its fields passed the request rule."""

    principal: str
    message: str | None
    conversation_id: str | None
    stream_id: str | None
    # The last token index the client saw; -1 when it saw only `start` (still a resume:
    # an unknown stream is 404, a known one is never 409).
    last_event_id: int | None
    # The client named no stream: event ids name it instead (schemas/event_ids.py).
    ids_name_stream: bool = False

    @property
    def start_index(self) -> int:
        return 0 if self.last_event_id is None else self.last_event_id + 1


@dataclass(frozen=True)
class OpenedStream:
    meta: StreamMeta
    start_index: int
    started_run: bool
    ids_name_stream: bool = False


@dataclass(frozen=True)
class Token:
    index: int
    text: str


def message_sha256(message: str) -> str:
    return hashlib.sha256(message.encode("utf-8", "surrogatepass")).hexdigest()


def error_outcome(error: ChatWaitError, token_count: int) -> StreamOutcome:
    return StreamOutcome(
        kind="error",
        token_count=token_count,
        error_code=error.code,
        error_message=error.message,
        retryable=error.retryable,
        retry_after=error.retry_after,
    )


class StreamSupervisor:
    """Owns every producer task of this process and serves viewers from the store."""

    def __init__(
        self, store: StreamStore, *, abandon_seconds: float, producer_lease_seconds: float
    ) -> None:
        self._store = store
        self._abandon_seconds = abandon_seconds
        self._lease_seconds = producer_lease_seconds
        # Viewers refresh their heartbeat several times per abandon period, so a viewer
        # waiting through a long pause of the model never looks like nobody; producers
        # renew their lease three times per lease period for the same reason.
        self._heartbeat_seconds = min(
            VIEWER_HEARTBEAT_SECONDS, abandon_seconds / 3, producer_lease_seconds / 3
        )
        self._producers: dict[str, asyncio.Task[None]] = {}
        # Why a producer was cancelled, read by the producer to word its outcome.
        self._stop_reasons: dict[str, ChatWaitError] = {}

    @property
    def store(self) -> StreamStore:
        return self._store

    async def open(self, request: StreamOpenRequest, launcher: RunLauncher) -> OpenedStream:
        """The caller's stream to follow, or a new run; raises before any byte is sent.

        * a known stream_id of the caller: follow it from `start_index` — unless a
          message is given without Last-Event-ID and differs from the one that started
          it (409 stream_id_in_use: a new question must not silently get an old answer);
        * an unknown one with Last-Event-ID, or without a message: 404;
        * otherwise reserve a run (limits, conversation lease), then claim the id. Of two
          requests claiming one id at once, the loser gives its reservation back and
          follows the winner's stream.
        """
        digest = message_sha256(request.message) if request.message is not None else None
        if request.stream_id is not None:
            existing = await self._find(request, digest)
            if existing is not None:
                return existing
            if request.last_event_id is not None or request.message is None:
                raise StreamNotFound()
        assert request.message is not None
        meta = StreamMeta(
            stream_id=request.stream_id or new_stream_id(),
            owner=request.principal,
            conversation_id=request.conversation_id or new_conversation_id(),
            model=launcher.model_name,
            created_at=time.time(),
            message_sha256=digest,
        )
        reservation = await launcher.reserve(
            request.principal,
            meta.conversation_id,
            meta.stream_id,
            new=request.conversation_id is None,
        )
        try:
            if not await self._store.create(meta):
                await reservation.release()
                existing = await self._find(request, digest)
                if existing is None:
                    raise StreamNotFound()
                return existing
            run = reservation.start(request.message)
        except BaseException:
            await reservation.release()
            raise
        self.start(meta, run)
        logger.info("stream %s started", meta.stream_id)
        return OpenedStream(meta, 0, started_run=True, ids_name_stream=request.ids_name_stream)

    async def _find(self, request: StreamOpenRequest, digest: str | None) -> OpenedStream | None:
        assert request.stream_id is not None
        meta = await self._store.get_meta(scoped_id(request.principal, request.stream_id))
        if meta is None:
            return None
        if digest is not None and request.last_event_id is None and digest != meta.message_sha256:
            raise StreamIdInUse()
        return OpenedStream(
            meta, request.start_index, started_run=False, ids_name_stream=request.ids_name_stream
        )

    def start(self, meta: StreamMeta, run: StreamedRun) -> None:
        """Drive `run` in the background; its tokens go to the store under `meta.key`."""
        task = asyncio.create_task(self._produce(meta, run), name=f"stream:{meta.key}")
        self._producers[meta.key] = task
        task.add_done_callback(lambda _: self._producers.pop(meta.key, None))

    async def cancel(self, principal: str, stream_id: str) -> None:
        """Cancel one of the caller's streams from any process; no-op once it finished."""
        key = scoped_id(principal, stream_id)
        if await self._store.get_meta(key) is None:
            raise StreamNotFound()
        await self._store.request_cancel(key)

    async def follow(self, stream_id: str, start: int) -> AsyncIterator[Token | StreamOutcome]:
        """Tokens of the stream stored under `stream_id` (a `StreamMeta.key`) from index
        `start`, live as they arrive, then the outcome."""
        index = start
        touched = -float("inf")
        while True:
            # The heartbeat once per interval, not per read (a read per token): the
            # watcher only needs it within STREAM_ABANDON_SECONDS, which is at least
            # three intervals, and a read waits at most one.
            now = time.monotonic()
            if now - touched >= self._heartbeat_seconds:
                await self._store.touch_viewer(stream_id)
                touched = now
            read = await self._store.read(stream_id, index, wait_seconds=self._heartbeat_seconds)
            for text in read.tokens:
                yield Token(index, text)
                index += 1
            if read.outcome is not None:
                yield read.outcome
                return
            if not read.tokens and await self._producer_lost(stream_id):
                lost = error_outcome(ProducerLost(), index)
                await self._store.finish(stream_id, lost)
                # Another viewer may have recorded an outcome first; report that one.
                final = await self._store.read(stream_id, index, wait_seconds=0)
                for text in final.tokens:
                    yield Token(index, text)
                    index += 1
                yield final.outcome or lost
                return

    async def _producer_lost(self, stream_id: str) -> bool:
        """True when the stream's producer has not renewed its lease in time."""
        heartbeat = await self._store.last_producer_heartbeat(stream_id)
        return heartbeat is not None and time.time() - heartbeat > self._lease_seconds

    async def stop_all(self, reason: ChatWaitError) -> None:
        """Stop every producer of this process now; each records `reason` as its outcome."""
        tasks = list(self._producers.items())
        for key, task in tasks:
            self._stop_reasons[key] = reason
            task.cancel()
        if tasks:
            await asyncio.wait([task for _, task in tasks], timeout=STOP_PRODUCERS_SECONDS)

    async def aclose(self) -> None:
        """Stop every producer still running (`server_shutting_down`)."""
        await self.stop_all(ServerShuttingDown())

    # --- producer side -------------------------------------------------------------
    async def _produce(self, meta: StreamMeta, run: StreamedRun) -> None:
        stream_id = meta.key
        this_task = asyncio.current_task()
        assert this_task is not None
        watcher = asyncio.create_task(self._watch(stream_id, this_task))
        tokens: list[str] = []
        try:
            # aclosing: a cancelled producer must also close the SDK's event iterator.
            async with contextlib.aclosing(run.deltas()) as deltas:
                async for delta in deltas:
                    await self._store.append(stream_id, len(tokens), delta)
                    tokens.append(delta)
            outcome = StreamOutcome(
                kind="done",
                response=run.final_text() or "".join(tokens),
                token_count=len(tokens),
                usage=run.usage(),
            )
        except asyncio.CancelledError:
            run.cancel()
            reason = self._stop_reasons.pop(stream_id, None)
            if reason is None:  # cancelled by something else than stop_all or the watcher
                reason = ProducerLost("The server stopped while answering; ask again.")
            else:
                this_task.uncancel()
            outcome = error_outcome(reason, len(tokens))
        except ChatWaitError as error:
            run.cancel()  # e.g. the store failed: stop the model too
            outcome = error_outcome(error, len(tokens))
        except Exception:
            logger.exception("stream %s failed", stream_id)
            run.cancel()
            outcome = error_outcome(InternalError(), len(tokens))
        finally:
            watcher.cancel()
            # A reason set while the run was already ending is no longer needed.
            self._stop_reasons.pop(stream_id, None)
        # Release the run's conversation and limit slot before viewers hear the end:
        # history is written by now, and a client that asks its next question the
        # moment it sees `done` must not find the conversation still busy.
        try:
            await run.aclose()
        except Exception:
            logger.exception("stream %s: releasing its run failed", stream_id)
        try:
            await self._store.finish(stream_id, outcome)
        except ChatWaitError:
            logger.warning("stream %s: could not record its outcome", stream_id)
        except Exception:
            # Viewers then report producer_lost once the lease lapses, not hang.
            logger.exception("stream %s: could not record its outcome", stream_id)

    async def _watch(self, stream_id: str, producer: asyncio.Task[None]) -> None:
        """Renew the producer's lease; cancel it on request or when nobody watches.

        A store outage does not end the watch: it retries every heartbeat, so the lease
        and the cancel subscription come back with the store.
        """
        cancel_requested: asyncio.Task[None] | None = None
        reason: ChatWaitError | None = None
        try:
            while reason is None:
                if cancel_requested is None or cancel_requested.done():
                    cancel_requested = asyncio.create_task(
                        self._store.wait_cancel_requested(stream_id)
                    )
                try:
                    await self._store.heartbeat_producer(stream_id)
                    done, _ = await asyncio.wait(
                        {cancel_requested}, timeout=self._heartbeat_seconds
                    )
                    if done and cancel_requested.exception() is None:
                        reason = StreamCancelled()
                    elif done:
                        logger.warning("stream %s: cancel subscription failed, retrying", stream_id)
                        await asyncio.sleep(self._heartbeat_seconds)
                    elif await self._abandoned(stream_id):
                        reason = StreamCancelled(
                            f"Nobody watched this stream for {self._abandon_seconds:g} s, "
                            "so its run was cancelled."
                        )
                except ChatWaitError:
                    logger.warning("stream %s: store unavailable, watcher retrying", stream_id)
                    await asyncio.sleep(self._heartbeat_seconds)
        finally:
            if cancel_requested is not None:
                cancel_requested.cancel()
        logger.info("stream %s: stopping run (%s)", stream_id, reason.message)
        self._stop_reasons[stream_id] = reason
        producer.cancel()

    async def _abandoned(self, stream_id: str) -> bool:
        last_viewed = await self._store.last_viewed(stream_id)
        return last_viewed is not None and time.time() - last_viewed > self._abandon_seconds
