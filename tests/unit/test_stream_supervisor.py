"""StreamSupervisor with the memory store and a scripted run (no model involved here)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator

import pytest

from chatwait.auth import scoped_id
from chatwait.exceptions import StreamNotFound, UpstreamRateLimited
from chatwait.models.chat import TokenUsage
from chatwait.models.stream import StreamMeta, StreamOutcome
from chatwait.streams.lifecycle import StreamSupervisor, Token
from chatwait.streams.memory import MemoryStreamStore


class ScriptedRun:
    """A StreamedRun that yields given deltas at a given pace, then maybe fails."""

    def __init__(
        self, deltas: list[str], *, delay: float = 0.0, error: Exception | None = None
    ) -> None:
        self._deltas = deltas
        self._delay = delay
        self._error = error
        self.cancelled = False
        self.closed = 0

    async def deltas(self) -> AsyncGenerator[str]:
        for delta in self._deltas:
            if self._delay:
                await asyncio.sleep(self._delay)
            yield delta
        if self._error is not None:
            raise self._error

    def final_text(self) -> str | None:
        return None

    def usage(self) -> TokenUsage | None:
        return TokenUsage(requests=1, output_tokens=len(self._deltas))

    def cancel(self) -> None:
        self.cancelled = True

    async def aclose(self) -> None:
        self.closed += 1


OWNER = "tester"


def key(stream_id: str) -> str:
    """The store key of the tester's stream `stream_id`."""
    return scoped_id(OWNER, stream_id)


def meta(stream_id: str) -> StreamMeta:
    return StreamMeta(
        stream_id=stream_id, owner=OWNER, conversation_id="c", model="m", created_at=time.time()
    )


def supervisor(abandon: float = 60, lease: float = 15) -> StreamSupervisor:
    return StreamSupervisor(
        MemoryStreamStore(ttl_seconds=60), abandon_seconds=abandon, producer_lease_seconds=lease
    )


async def follow_all(sup: StreamSupervisor, stream_id: str, start: int = 0) -> list[object]:
    return [item async for item in sup.follow(stream_id, start)]


async def test_follow_yields_every_token_then_done_with_joined_text() -> None:
    sup = supervisor()
    await sup.store.create(meta("s-done-01"))
    sup.start(meta("s-done-01"), ScriptedRun(["a", "b", "c"]))

    items = await follow_all(sup, key("s-done-01"))

    assert items[:3] == [Token(0, "a"), Token(1, "b"), Token(2, "c")]
    outcome = items[3]
    assert isinstance(outcome, StreamOutcome)
    assert (outcome.kind, outcome.response, outcome.token_count) == ("done", "abc", 3)


async def test_follow_from_a_middle_index() -> None:
    sup = supervisor()
    await sup.store.create(meta("s-mid-001"))
    sup.start(meta("s-mid-001"), ScriptedRun(["a", "b", "c"]))

    items = await follow_all(sup, key("s-mid-001"), start=2)

    assert items[0] == Token(2, "c")


async def test_failing_run_ends_with_its_error_code() -> None:
    sup = supervisor()
    await sup.store.create(meta("s-fail-01"))
    run = ScriptedRun(["a"], error=UpstreamRateLimited(retry_after="3"))
    sup.start(meta("s-fail-01"), run)

    outcome = (await follow_all(sup, key("s-fail-01")))[-1]

    assert isinstance(outcome, StreamOutcome)
    assert (outcome.error_code, outcome.retryable, outcome.token_count) == (
        "upstream_rate_limited",
        True,
        1,
    )
    assert run.closed == 1


async def test_unexpected_exception_becomes_internal_error() -> None:
    sup = supervisor()
    await sup.store.create(meta("s-bug-001"))
    sup.start(meta("s-bug-001"), ScriptedRun([], error=RuntimeError("bug")))

    outcome = (await follow_all(sup, key("s-bug-001")))[-1]

    assert isinstance(outcome, StreamOutcome)
    assert outcome.error_code == "internal_error"
    assert "bug" not in (outcome.error_message or "")


async def test_cancel_stops_the_run_and_records_cancelled() -> None:
    sup = supervisor()
    await sup.store.create(meta("s-cancel1"))
    run = ScriptedRun(["x"] * 1000, delay=0.01)
    sup.start(meta("s-cancel1"), run)
    await asyncio.sleep(0.05)

    await sup.cancel(OWNER, "s-cancel1")
    outcome = (await asyncio.wait_for(follow_all(sup, key("s-cancel1")), 5))[-1]

    assert isinstance(outcome, StreamOutcome)
    assert outcome.error_code == "cancelled"
    assert run.cancelled
    await asyncio.sleep(0.01)
    assert run.closed == 1


async def test_run_nobody_watches_is_cancelled_as_abandoned() -> None:
    sup = supervisor(abandon=0.3)
    await sup.store.create(meta("s-aband-1"))
    run = ScriptedRun(["x"] * 1000, delay=0.01)
    sup.start(meta("s-aband-1"), run)

    await asyncio.sleep(0.8)
    read = await sup.store.read(key("s-aband-1"), 0, wait_seconds=0)

    assert read.outcome is not None
    assert read.outcome.error_code == "cancelled"
    assert "Nobody watched" in (read.outcome.error_message or "")
    assert run.cancelled


async def test_a_following_viewer_keeps_the_run_alive() -> None:
    sup = supervisor(abandon=0.3)
    await sup.store.create(meta("s-watch-1"))
    sup.start(meta("s-watch-1"), ScriptedRun(["x"] * 60, delay=0.01))

    outcome = (await asyncio.wait_for(follow_all(sup, key("s-watch-1")), 5))[-1]

    assert isinstance(outcome, StreamOutcome)
    assert outcome.kind == "done"


async def test_shutdown_records_server_shutting_down_after_the_tokens() -> None:
    sup = supervisor()
    await sup.store.create(meta("s-shut-01"))
    sup.start(meta("s-shut-01"), ScriptedRun(["x"] * 1000, delay=0.01))
    await asyncio.sleep(0.03)

    await sup.aclose()
    read = await sup.store.read(key("s-shut-01"), 0, wait_seconds=0)

    assert read.outcome is not None
    assert (read.outcome.error_code, read.outcome.retryable) == ("server_shutting_down", True)
    assert read.tokens
    assert read.outcome.token_count == len(read.tokens)


async def test_viewer_reports_producer_lost_when_the_lease_lapses() -> None:
    sup = supervisor(lease=0.3)
    # A stream whose producer never heartbeats: as if its process had died.
    await sup.store.create(meta("s-lost-01"))
    await sup.store.append(key("s-lost-01"), 0, "partial")

    items = await asyncio.wait_for(follow_all(sup, key("s-lost-01")), 5)

    assert items[0] == Token(0, "partial")
    outcome = items[-1]
    assert isinstance(outcome, StreamOutcome)
    assert outcome.error_code == "producer_lost"
    stored = await sup.store.read(key("s-lost-01"), 1, wait_seconds=0)
    assert stored.outcome == outcome


async def test_cancel_of_unknown_stream_raises_not_found() -> None:
    with pytest.raises(StreamNotFound):
        await supervisor().cancel(OWNER, "never-started")
