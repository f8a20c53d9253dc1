"""MemoryStreamStore: the StreamStore semantics, in one process."""

from __future__ import annotations

import asyncio
import time

import pytest

from chatwait.exceptions import StreamNotFound
from chatwait.models.stream import StreamMeta, StreamOutcome
from chatwait.streams.memory import MemoryStreamStore

DONE = StreamOutcome(kind="done", response="ab", token_count=2)


def meta(stream_id: str = "stream-0001") -> StreamMeta:
    return StreamMeta(stream_id=stream_id, conversation_id="c", model="m", created_at=time.time())


async def test_create_claims_an_id_once() -> None:
    store = MemoryStreamStore(ttl_seconds=60)

    assert await store.create(meta()) is True
    assert await store.create(meta()) is False


async def test_read_returns_tokens_from_any_index() -> None:
    store = MemoryStreamStore(ttl_seconds=60)
    await store.create(meta())
    for index, text in enumerate(["a", "b", "c"]):
        await store.append("stream-0001", index, text)

    assert (await store.read("stream-0001", 0, wait_seconds=0)).tokens == ["a", "b", "c"]
    assert (await store.read("stream-0001", 2, wait_seconds=0)).tokens == ["c"]


async def test_read_waits_for_the_next_token() -> None:
    store = MemoryStreamStore(ttl_seconds=60)
    await store.create(meta())
    reader = asyncio.create_task(store.read("stream-0001", 0, wait_seconds=5))
    await asyncio.sleep(0.01)

    await store.append("stream-0001", 0, "first")

    assert (await asyncio.wait_for(reader, 1)).tokens == ["first"]


async def test_read_returns_empty_when_nothing_arrives_in_time() -> None:
    store = MemoryStreamStore(ttl_seconds=60)
    await store.create(meta())

    read = await store.read("stream-0001", 0, wait_seconds=0.02)

    assert read.tokens == []
    assert read.outcome is None


async def test_finish_delivers_the_outcome_with_remaining_tokens() -> None:
    store = MemoryStreamStore(ttl_seconds=60)
    await store.create(meta())
    await store.append("stream-0001", 0, "a")
    await store.append("stream-0001", 1, "b")
    await store.finish("stream-0001", DONE)

    read = await store.read("stream-0001", 1, wait_seconds=0)

    assert read.tokens == ["b"]
    assert read.outcome == DONE


async def test_first_outcome_wins() -> None:
    store = MemoryStreamStore(ttl_seconds=60)
    await store.create(meta())
    await store.finish("stream-0001", DONE)
    await store.finish("stream-0001", StreamOutcome(kind="error", error_code="producer_lost"))

    assert (await store.read("stream-0001", 0, wait_seconds=0)).outcome == DONE


async def test_finished_stream_expires_after_ttl() -> None:
    store = MemoryStreamStore(ttl_seconds=0.05)
    await store.create(meta())
    await store.finish("stream-0001", DONE)
    await asyncio.sleep(0.08)

    assert await store.get_meta("stream-0001") is None
    with pytest.raises(StreamNotFound):
        await store.read("stream-0001", 0, wait_seconds=0)


async def test_out_of_order_append_is_refused() -> None:
    store = MemoryStreamStore(ttl_seconds=60)
    await store.create(meta())

    with pytest.raises(ValueError, match="out of order"):
        await store.append("stream-0001", 1, "skipped zero")


async def test_cancel_request_wakes_the_waiting_producer() -> None:
    store = MemoryStreamStore(ttl_seconds=60)
    await store.create(meta())
    waiter = asyncio.create_task(store.wait_cancel_requested("stream-0001"))
    await asyncio.sleep(0.01)

    await store.request_cancel("stream-0001")

    await asyncio.wait_for(waiter, 1)


async def test_heartbeats_record_wall_clock_times() -> None:
    store = MemoryStreamStore(ttl_seconds=60)
    await store.create(meta())
    before = time.time()

    await store.touch_viewer("stream-0001")
    await store.heartbeat_producer("stream-0001")

    assert (await store.last_viewed("stream-0001") or 0) >= before
    assert (await store.last_producer_heartbeat("stream-0001") or 0) >= before
    assert await store.last_viewed("unknown-stream") is None


async def test_unknown_stream_is_not_found() -> None:
    store = MemoryStreamStore(ttl_seconds=60)

    assert await store.get_meta("nope-nope") is None
    with pytest.raises(StreamNotFound):
        await store.read("nope-nope", 0, wait_seconds=0)
