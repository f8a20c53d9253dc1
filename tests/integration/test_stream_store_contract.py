"""One StreamStore semantics suite, run against the memory store and a real Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from chatwait.auth import scoped_id
from chatwait.exceptions import StreamNotFound
from chatwait.models.stream import StreamMeta, StreamOutcome
from chatwait.streams.memory import MemoryStreamStore
from chatwait.streams.redis import RedisStreamStore
from chatwait.streams.store import StreamStore
from tests.support.redis_server import RedisServer

DONE = StreamOutcome(kind="done", response="ab", token_count=2)
StoreFactory = Callable[[float], StreamStore]


@pytest.fixture(params=["memory", "redis"])
async def make_store(request: pytest.FixtureRequest) -> AsyncIterator[StoreFactory]:
    """Builds stores of one kind; two Redis stores are two "processes" on one Redis."""
    stores: list[StreamStore] = []

    def make(ttl: float = 60) -> StreamStore:
        if request.param == "memory":
            if stores:  # one process: every "instance" is the same store
                return stores[0]
            store: StreamStore = MemoryStreamStore(ttl_seconds=ttl)
        else:
            redis: RedisServer = request.getfixturevalue("redis_server")
            store = RedisStreamStore(redis.url, ttl_seconds=ttl)
        stores.append(store)
        return store

    yield make
    for store in stores:
        await store.aclose()


OWNER = "tester"


def key(stream_id: str) -> str:
    """The store key of the tester's stream `stream_id`."""
    return scoped_id(OWNER, stream_id)


def meta(stream_id: str = "stream-0001") -> StreamMeta:
    return StreamMeta(
        stream_id=stream_id, owner=OWNER, conversation_id="c", model="m", created_at=time.time()
    )


async def test_create_claims_an_id_once(make_store: StoreFactory) -> None:
    first, second = make_store(60), make_store(60)

    assert await first.create(meta()) is True
    assert await second.create(meta()) is False
    assert await second.get_meta(key("stream-0001")) == meta().model_copy(
        update={"created_at": (await first.get_meta(key("stream-0001"))).created_at}  # type: ignore[union-attr]
    )


async def test_read_returns_tokens_from_any_index(make_store: StoreFactory) -> None:
    store = make_store(60)
    await store.create(meta())
    for index, text in enumerate(["a", "b\n", "ç 🌍"]):
        await store.append(key("stream-0001"), index, text)

    assert (await store.read(key("stream-0001"), 0, wait_seconds=0)).tokens == ["a", "b\n", "ç 🌍"]
    assert (await store.read(key("stream-0001"), 2, wait_seconds=0)).tokens == ["ç 🌍"]
    assert (await store.read(key("stream-0001"), 3, wait_seconds=0)).tokens == []


async def test_read_waits_for_the_next_token_from_another_instance(
    make_store: StoreFactory,
) -> None:
    producer, viewer = make_store(60), make_store(60)
    await producer.create(meta())
    reader = asyncio.create_task(viewer.read(key("stream-0001"), 0, wait_seconds=5))
    await asyncio.sleep(0.05)

    await producer.append(key("stream-0001"), 0, "first")

    assert (await asyncio.wait_for(reader, 2)).tokens == ["first"]


async def test_read_returns_empty_when_nothing_arrives_in_time(make_store: StoreFactory) -> None:
    store = make_store(60)
    await store.create(meta())

    read = await store.read(key("stream-0001"), 0, wait_seconds=0.05)

    assert (read.tokens, read.outcome) == ([], None)


async def test_finish_delivers_the_outcome_after_the_remaining_tokens(
    make_store: StoreFactory,
) -> None:
    store = make_store(60)
    await store.create(meta())
    await store.append(key("stream-0001"), 0, "a")
    await store.append(key("stream-0001"), 1, "b")
    await store.finish(key("stream-0001"), DONE)

    read = await store.read(key("stream-0001"), 1, wait_seconds=0)

    assert read.tokens == ["b"]
    assert read.outcome == DONE


async def test_waiting_reader_wakes_up_for_the_outcome(make_store: StoreFactory) -> None:
    store = make_store(60)
    await store.create(meta())
    reader = asyncio.create_task(store.read(key("stream-0001"), 0, wait_seconds=5))
    await asyncio.sleep(0.05)

    await store.finish(key("stream-0001"), DONE)

    assert (await asyncio.wait_for(reader, 2)).outcome == DONE


async def test_first_outcome_wins(make_store: StoreFactory) -> None:
    store = make_store(60)
    await store.create(meta())
    await store.finish(key("stream-0001"), DONE)
    await store.finish(key("stream-0001"), StreamOutcome(kind="error", error_code="producer_lost"))

    assert (await store.read(key("stream-0001"), 0, wait_seconds=0)).outcome == DONE


async def test_finished_stream_expires_after_ttl(make_store: StoreFactory) -> None:
    store = make_store(1)
    await store.create(meta())
    await store.append(key("stream-0001"), 0, "a")
    await store.finish(key("stream-0001"), DONE)
    await asyncio.sleep(1.3)

    assert await store.get_meta(key("stream-0001")) is None
    with pytest.raises(StreamNotFound):
        await store.read(key("stream-0001"), 0, wait_seconds=0)


async def test_cancel_request_from_another_instance_wakes_the_producer(
    make_store: StoreFactory,
) -> None:
    producer, api = make_store(60), make_store(60)
    await producer.create(meta())
    waiter = asyncio.create_task(producer.wait_cancel_requested(key("stream-0001")))
    await asyncio.sleep(0.1)

    await api.request_cancel(key("stream-0001"))

    await asyncio.wait_for(waiter, 2)


async def test_cancel_requested_before_waiting_is_not_missed(make_store: StoreFactory) -> None:
    store = make_store(60)
    await store.create(meta())
    await store.request_cancel(key("stream-0001"))

    await asyncio.wait_for(store.wait_cancel_requested(key("stream-0001")), 2)


async def test_heartbeats_are_shared_between_instances(make_store: StoreFactory) -> None:
    one, other = make_store(60), make_store(60)
    await one.create(meta())
    before = time.time()

    await one.touch_viewer(key("stream-0001"))
    await one.heartbeat_producer(key("stream-0001"))

    assert (await other.last_viewed(key("stream-0001")) or 0) >= before
    assert (await other.last_producer_heartbeat(key("stream-0001")) or 0) >= before


async def test_unknown_stream_is_not_found(make_store: StoreFactory) -> None:
    store = make_store(60)

    assert await store.get_meta(key("nope-nope")) is None
    assert await store.last_viewed(key("nope-nope")) is None
    with pytest.raises(StreamNotFound):
        await store.read(key("nope-nope"), 0, wait_seconds=0)
