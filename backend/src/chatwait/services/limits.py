"""Per-principal limits and usage: checked before a run starts, counted after it ends.

    admit(principal) ──► QuotaExceeded?  DAILY_TOKEN_BUDGET spent today (UTC)
                     ──► RateLimited?    RATE_LIMIT_PER_MINUTE runs in a moving 60 s window
                     ──► TooManyRuns?    MAX_CONCURRENT_RUNS runs in progress
                     ──► RunTicket       the run's slot; ticket.finish(usage) frees it and
                                         adds the run's tokens to today's usage

Only runs count (a wait request or a new stream); resumes, viewers and DELETE do not.
Every limit is off unless set. With STREAM_STORE_URL=redis://… the counters live in
Redis and are shared by every instance: the moving window is the `limits` library's
Redis storage, usage is one hash per principal and day, and run slots are a sorted set
scored by lease expiry, renewed while the run lives, so a crashed instance's slots free
themselves within STREAM_PRODUCER_LEASE_SECONDS (the same promise streams make).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import math
import secrets
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.storage.redis.redispy import RedispyBridge
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError as LimitsStorageError
from redis.exceptions import RedisError

from chatwait.config import Settings
from chatwait.exceptions import QuotaExceeded, RateLimited, StoreUnavailable, TooManyRuns
from chatwait.models.chat import TokenUsage
from chatwait.redis_client import (
    COMMAND_TIMEOUT_SECONDS,
    CONNECT_TIMEOUT_SECONDS,
    guarded,
    is_redis_url,
    redis_client,
)

# When a slot frees is unknowable (it is when some run ends): a short, honest hint.
TOO_MANY_RUNS_RETRY_SECONDS = 2
USAGE_FIELDS = ("runs", "input_tokens", "output_tokens", "total_tokens")


@dataclass(frozen=True)
class Usage:
    period_start: datetime
    runs: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0


def utc_day(now: float | None = None) -> datetime:
    moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def seconds_to_next_utc_day() -> int:
    return math.ceil((utc_day() + timedelta(days=1)).timestamp() - time.time())


class LimitsBackend(abc.ABC):
    """Where counters live: this process, or Redis for every instance."""

    @abc.abstractmethod
    def rate_storage(self) -> Storage: ...

    @abc.abstractmethod
    async def take_slot(self, principal: str, limit: int) -> str | None:
        """A run slot's token, or None when `limit` runs of `principal` are in progress."""

    @abc.abstractmethod
    async def release_slot(self, principal: str, token: str) -> None: ...

    async def renew_slot(self, principal: str, token: str) -> None:  # noqa: B027 - optional
        """Keep a long run's slot from expiring."""

    @abc.abstractmethod
    async def add_usage(self, principal: str, day: datetime, counts: dict[str, int]) -> None: ...

    @abc.abstractmethod
    async def get_usage(self, principal: str, day: datetime) -> dict[str, int]: ...

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Close connections."""


class MemoryLimitsBackend(LimitsBackend):
    def __init__(self) -> None:
        self._storage = MemoryStorage()
        self._slots: dict[str, set[str]] = {}
        self._usage: dict[tuple[str, datetime], dict[str, int]] = {}
        self._latest_day: datetime | None = None

    def rate_storage(self) -> Storage:
        return self._storage

    async def take_slot(self, principal: str, limit: int) -> str | None:
        slots = self._slots.setdefault(principal, set())
        if len(slots) >= limit:
            return None
        token = secrets.token_hex(8)
        slots.add(token)
        return token

    async def release_slot(self, principal: str, token: str) -> None:
        self._slots.get(principal, set()).discard(token)

    async def add_usage(self, principal: str, day: datetime, counts: dict[str, int]) -> None:
        # Yesterday's counters are no longer read: drop them once, as a new day starts
        # (not on every run: that would walk every principal's counters each time).
        if self._latest_day is None or day > self._latest_day:
            self._latest_day = day
            for key in [key for key in self._usage if key[1] < day]:
                del self._usage[key]
        usage = self._usage.setdefault((principal, day), dict.fromkeys(USAGE_FIELDS, 0))
        for field, value in counts.items():
            usage[field] += value

    async def get_usage(self, principal: str, day: datetime) -> dict[str, int]:
        return dict(self._usage.get((principal, day), {}))


# Drop expired slots, then take one if fewer than the limit are held.
_TAKE_SLOT = """
redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1])
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('zadd', KEYS[1], ARGV[3], ARGV[4])
redis.call('pexpire', KEYS[1], ARGV[5])
return 1
"""


class RedisLimitsBackend(LimitsBackend):
    def __init__(self, url: str, slot_lease_seconds: float) -> None:
        self._redis = redis_client(url)
        self._lease = slot_lease_seconds
        scheme, rest = url.split("://", 1)
        self._storage = RedisStorage(
            f"async+{scheme}://{rest}",
            implementation="redispy",
            key_prefix="chatwait:limits",
            wrap_exceptions=True,
            # Fail fast on a dead Redis, like ChatWait's own clients.
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            socket_timeout=COMMAND_TIMEOUT_SECONDS,
        )

    def rate_storage(self) -> Storage:
        return self._storage

    @staticmethod
    def _slots_key(principal: str) -> str:
        return f"chatwait:runs:{principal}"

    @staticmethod
    def _usage_key(principal: str, day: datetime) -> str:
        return f"chatwait:usage:{principal}:{day.date().isoformat()}"

    async def take_slot(self, principal: str, limit: int) -> str | None:
        now = time.time()
        token = secrets.token_hex(8)
        taken = await guarded(
            self._redis.eval(
                _TAKE_SLOT,
                1,
                self._slots_key(principal),
                str(now),
                str(limit),
                str(now + self._lease),
                token,
                str(round(self._lease * 1000)),
            )
        )
        return token if taken else None

    async def renew_slot(self, principal: str, token: str) -> None:
        await guarded(
            self._redis.zadd(
                self._slots_key(principal), {token: time.time() + self._lease}, xx=True
            )
        )

    async def release_slot(self, principal: str, token: str) -> None:
        await guarded(self._redis.zrem(self._slots_key(principal), token))

    async def add_usage(self, principal: str, day: datetime, counts: dict[str, int]) -> None:
        key = self._usage_key(principal, day)
        async with self._redis.pipeline(transaction=False) as pipe:
            for field, value in counts.items():
                pipe.hincrby(key, field, value)
            # Kept two days, so a run ending just after midnight still finds its day.
            pipe.expire(key, 2 * 86_400)
            await guarded(pipe.execute())

    async def get_usage(self, principal: str, day: datetime) -> dict[str, int]:
        raw = await guarded(self._redis.hgetall(self._usage_key(principal, day)))
        return {str(field): int(value) for field, value in raw.items()}

    async def aclose(self) -> None:
        await self._redis.aclose()
        # `limits` has no close of its own; its redis-py client is the bridge's storage.
        bridge = self._storage.bridge
        assert isinstance(bridge, RedispyBridge)
        await bridge.storage.aclose()


class RunTicket:
    """A run's admission: `finish()` records its tokens and frees its slot, once."""

    def __init__(
        self, limits: PrincipalLimits, principal: str, slot: str | None, day: datetime
    ) -> None:
        self._limits = limits
        self._principal = principal
        self._slot = slot
        self._day = day
        self._finished = False
        self._renewer = asyncio.create_task(self._renew(slot)) if slot is not None else None

    async def _renew(self, slot: str) -> None:
        while True:
            await asyncio.sleep(self._limits.slot_lease_seconds / 3)
            with contextlib.suppress(StoreUnavailable):
                await self._limits.backend.renew_slot(self._principal, slot)

    async def finish(self, usage: TokenUsage | None, estimated_output_tokens: int = 0) -> None:
        """Record the run's tokens (the model's count, else the estimate); free the slot."""
        if self._finished:
            return
        self._finished = True
        if self._renewer is not None:
            self._renewer.cancel()
        input_tokens = usage.input_tokens if usage else 0
        output_tokens = usage.output_tokens if usage else 0
        if not input_tokens and not output_tokens:
            output_tokens = estimated_output_tokens
        # Best effort: a store outage must not turn a finished answer into an error. The
        # slot is given back even when the usage could not be written; if that fails too,
        # it expires with its lease.
        with contextlib.suppress(StoreUnavailable, RedisError, OSError):
            await self._limits.backend.add_usage(
                self._principal,
                self._day,
                {
                    "input_tokens": input_tokens,
                    "output_tokens": output_tokens,
                    "total_tokens": input_tokens + output_tokens,
                },
            )
        if self._slot is not None:
            with contextlib.suppress(StoreUnavailable, RedisError, OSError):
                await self._limits.backend.release_slot(self._principal, self._slot)


class PrincipalLimits:
    """RATE_LIMIT_PER_MINUTE, MAX_CONCURRENT_RUNS and DAILY_TOKEN_BUDGET, per principal."""

    def __init__(self, settings: Settings, backend: LimitsBackend) -> None:
        self.backend = backend
        self.slot_lease_seconds = settings.stream_producer_lease_seconds
        self.rate_limit_per_minute = settings.rate_limit_per_minute
        self.max_concurrent_runs = settings.max_concurrent_runs
        self.daily_token_budget = settings.daily_token_budget
        self._rate = (
            RateLimitItemPerMinute(self.rate_limit_per_minute)
            if self.rate_limit_per_minute
            else None
        )
        self._limiter = MovingWindowRateLimiter(backend.rate_storage())

    async def admit(self, principal: str) -> RunTicket:
        """Admit one new run of `principal`, or raise the limit it is over."""
        day = utc_day()
        if self.daily_token_budget is not None:
            spent = (await self.backend.get_usage(principal, day)).get("total_tokens", 0)
            if spent >= self.daily_token_budget:
                raise QuotaExceeded(retry_after_seconds=seconds_to_next_utc_day())
        if self._rate is not None and not await self._rate_test(principal):
            raise RateLimited(retry_after_seconds=await self._rate_reset_seconds(principal))
        slot = None
        if self.max_concurrent_runs is not None:
            slot = await self.backend.take_slot(principal, self.max_concurrent_runs)
            if slot is None:
                raise TooManyRuns(retry_after_seconds=TOO_MANY_RUNS_RETRY_SECONDS)
        try:
            if self._rate is not None and not await self._rate_hit(principal):
                # Another run took the last place between test and hit.
                raise RateLimited(retry_after_seconds=await self._rate_reset_seconds(principal))
            await self.backend.add_usage(principal, day, {"runs": 1})
        except BaseException:
            if slot is not None:
                await self.backend.release_slot(principal, slot)
            raise
        return RunTicket(self, principal, slot, day)

    async def usage(self, principal: str) -> Usage:
        day = utc_day()
        counts = await self.backend.get_usage(principal, day)
        return Usage(period_start=day, **{f: counts.get(f, 0) for f in USAGE_FIELDS})

    async def _rate_test(self, principal: str) -> bool:
        assert self._rate is not None
        return await self._store_call(self._limiter.test(self._rate, principal))

    async def _rate_hit(self, principal: str) -> bool:
        assert self._rate is not None
        return await self._store_call(self._limiter.hit(self._rate, principal))

    async def _rate_reset_seconds(self, principal: str) -> int:
        assert self._rate is not None
        stats = await self._store_call(self._limiter.get_window_stats(self._rate, principal))
        return math.ceil(stats.reset_time - time.time())

    @staticmethod
    async def _store_call[T](awaitable: Awaitable[T]) -> T:
        try:
            return await awaitable
        except (LimitsStorageError, RedisError, OSError) as error:
            raise StoreUnavailable("The limits store (Redis) does not answer.") from error

    async def aclose(self) -> None:
        await self.backend.aclose()


def create_limits(settings: Settings) -> PrincipalLimits:
    url = settings.limits_store_url
    backend: LimitsBackend = (
        RedisLimitsBackend(url, settings.stream_producer_lease_seconds)
        if is_redis_url(url)
        else MemoryLimitsBackend()
    )
    return PrincipalLimits(settings, backend)
