"""Expiry in Redis: CONVERSATION_TTL_DAYS, and unfinished streams under MAX_RUN_SECONDS.

A conversation's history (the SDK's RedisSession keys) and its entry in the list (the
index hash and the sorted-set member) expire together, renewed by each turn; with no
TTL nothing expires. An unfinished stream's keys live for STREAM_TTL_SECONDS plus
MAX_RUN_SECONDS, so an operator's long limit does not lose a live stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from chatwait.models.stream import StreamMeta
from chatwait.streams.redis import RedisStreamStore
from tests.integration.conftest import EMULATED_MODEL, UPSTREAM_KEY
from tests.support.backend import backend_settings, serve_backend
from tests.support.redis_server import RedisServer
from tests.support.servers import ServerThread
from tests.support.upstream_emulator import Scenario, UpstreamEmulator

DAY = 86_400


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    await client.aclose()


TtlBackend = Callable[[float | None], AbstractContextManager[ServerThread]]


@pytest.fixture
def api_with_ttl(tmp_path: Path, redis_server: RedisServer, upstream_base_url: str) -> TtlBackend:
    """A backend on Redis with CONVERSATION_TTL_DAYS set to the argument."""

    def start(ttl_days: float | None) -> AbstractContextManager[ServerThread]:
        settings = backend_settings(
            tmp_path,
            llm_base_url=upstream_base_url,
            llm_api_key=UPSTREAM_KEY,
            llm_model=EMULATED_MODEL,
            stream_store_url=redis_server.url,
            session_store_url=redis_server.url,
            conversation_ttl_days=ttl_days,
        )
        return serve_backend(settings)

    return start


async def turn(http: httpx.AsyncClient, conversation_id: str) -> None:
    response = await http.post(
        "/chat/wait", json={"message": "hello", "conversation_id": conversation_id}
    )
    assert response.status_code == 200, response.text


async def conversation_keys(redis: Redis) -> list[str]:
    return sorted(
        [key async for key in redis.scan_iter("chatwait:conversation*")]
        + [key async for key in redis.scan_iter("chatwait:conversations:*")]
    )


async def test_each_turn_renews_the_expiry_of_history_and_list_entry(
    api_with_ttl: TtlBackend, redis: Redis, upstream: UpstreamEmulator
) -> None:
    upstream.default_scenario = Scenario(text="ok")
    with api_with_ttl(1) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            await turn(http, "conv-ttl-1")
            keys = await conversation_keys(redis)
            first = {key: await redis.pttl(key) for key in keys}
            await turn(http, "conv-ttl-1")
            second = {key: await redis.pttl(key) for key in keys}

    # History (session hash, messages, counter), the index hash and the list: all expire.
    assert len(keys) == 5, keys
    assert all(0 < ttl <= DAY * 1000 for ttl in first.values()), first
    # The second turn set every expiry back to a whole day.
    assert all(second[key] >= first[key] for key in keys), (first, second)


async def test_an_expired_conversation_leaves_the_list_with_its_history(
    api_with_ttl: TtlBackend, redis: Redis, upstream: UpstreamEmulator
) -> None:
    upstream.default_scenario = Scenario(text="ok")
    with api_with_ttl(2 / DAY) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            await turn(http, "conv-gone-1")
            listed = (await http.get("/conversations")).json()["conversations"]
            assert [c["conversation_id"] for c in listed] == ["conv-gone-1"]

            deadline = time.monotonic() + 15
            while (await http.get("/conversations")).json()["conversations"]:
                assert time.monotonic() < deadline, "the conversation never left the list"
                await asyncio.sleep(0.1)
            history = await http.get("/conversations/conv-gone-1")
    assert history.status_code == 404
    assert await conversation_keys(redis) == []
    assert await conversation_keys(redis) == []


async def test_listing_prunes_members_older_than_the_ttl(
    api_with_ttl: TtlBackend, redis: Redis, upstream: UpstreamEmulator
) -> None:
    upstream.default_scenario = Scenario(text="ok")
    with api_with_ttl(1) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            await turn(http, "conv-new-1")
            # A member last updated two days ago: its hash and history have expired.
            await redis.zadd("chatwait:conversations:local", {"conv-old-1": time.time() - 2 * DAY})
            listed = (await http.get("/conversations")).json()["conversations"]

    assert [c["conversation_id"] for c in listed] == ["conv-new-1"]
    assert await redis.zscore("chatwait:conversations:local", "conv-old-1") is None
    assert await redis.zscore("chatwait:conversations:local", "conv-new-1") is not None


async def test_without_a_ttl_conversations_do_not_expire(
    api_with_ttl: TtlBackend, redis: Redis, upstream: UpstreamEmulator
) -> None:
    upstream.default_scenario = Scenario(text="ok")
    with api_with_ttl(None) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            await turn(http, "conv-keep-1")
    keys = await conversation_keys(redis)
    assert keys
    assert all([await redis.pttl(key) == -1 for key in keys])


@pytest.mark.parametrize(("max_run_seconds", "longest_run"), [(7200.0, 7200), (None, 3600)])
async def test_unfinished_stream_keys_outlive_max_run_seconds(
    redis_server: RedisServer, redis: Redis, max_run_seconds: float | None, longest_run: int
) -> None:
    store = RedisStreamStore(redis_server.url, ttl_seconds=60, max_run_seconds=max_run_seconds)
    meta = StreamMeta(
        stream_id="ttl-run-01", owner="o", conversation_id="c", model="m", created_at=time.time()
    )
    try:
        assert await store.create(meta)
        ttl_ms = await redis.pttl(f"chatwait:stream:{meta.key}:meta")
    finally:
        await store.aclose()
    assert (longest_run + 60 - 5) * 1000 < ttl_ms <= (longest_run + 60) * 1000
