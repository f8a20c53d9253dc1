"""The one way ChatWait talks to Redis, shared by the stream, conversation and limits stores.

Every Redis failure is raised as StoreUnavailable (503 `store_unavailable`): clients
time out after a second or two and retry once at most, so requests fail fast while
Redis is down, and pooled connections reconnect by themselves once it is back.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from chatwait.exceptions import StoreUnavailable
from chatwait.metrics import STORE_ERRORS

T = TypeVar("T")

# Client timeouts: fail fast on a dead Redis. Blocking reads wait up to the viewer
# heartbeat (5 s), so their connection may stay silent a little longer.
CONNECT_TIMEOUT_SECONDS = 1.0
COMMAND_TIMEOUT_SECONDS = 2.0
BLOCKING_TIMEOUT_SECONDS = 10.0


def is_redis_url(url: str) -> bool:
    return url.startswith(("redis://", "rediss://"))


def redis_client(url: str, *, socket_timeout: float = COMMAND_TIMEOUT_SECONDS) -> Redis:
    """A client that fails fast."""
    client: Redis = Redis.from_url(
        url,
        decode_responses=True,
        # Keep whatever text a model sent (even a lone surrogate) instead of failing the
        # write; the SSE renderer decides what a client gets.
        encoding_errors="surrogatepass",
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=socket_timeout,
        # One immediate retry: after Redis restarts, each pooled connection fails once
        # before it reconnects; a Redis that is really down still fails within seconds.
        retry=Retry(NoBackoff(), retries=1),
        health_check_interval=10,
    )
    return client


async def guarded[T](awaitable: Awaitable[T]) -> T:
    """Await a Redis call, turning every Redis failure into StoreUnavailable."""
    try:
        return await awaitable
    except (RedisError, OSError) as error:
        STORE_ERRORS.inc()
        raise StoreUnavailable() from error
