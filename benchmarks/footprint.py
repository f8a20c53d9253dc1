"""Measurements that read the server process itself: CPU per token, memory and fds per
stream, and what the Redis stores cost per token."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from redis.asyncio import Redis

from benchmarks.emulator import bench_message
from benchmarks.load import client, one_stream
from benchmarks.process_stats import CpuMeter, cpu_seconds, open_fds, rss_bytes


@dataclass
class TokenCost:
    cpu_us_per_token: float
    wall_us_per_token: float
    errors: int


async def long_stream_cost(base_url: str, pid: int, tokens: int) -> TokenCost:
    """Server CPU and wall time per token of one stream of `tokens` instant tokens."""
    meter = CpuMeter(pid)
    async with client(4) as http:
        meter.start()
        result = await one_stream(http, base_url, bench_message(tokens))
        cpu = meter.stop()
    received = len(result.token_times) or 1
    wall = result.token_times[-1] if result.token_times else 0.0
    return TokenCost(
        cpu_us_per_token=cpu / received * 1e6,
        wall_us_per_token=wall / received * 1e6,
        errors=int(not result.ok or received != tokens),
    )


@dataclass
class Footprint:
    idle_bytes_per_stream: float
    idle_fds_per_stream: float
    finished_bytes_per_stream: float
    errors: int


async def stream_footprint(base_url: str, pid: int, streams: int, hold: float) -> Footprint:
    """Resident memory and fds per stream: finished ones (held in the server's buffer
    until their TTL) first, then idle open ones (the model pauses `hold` seconds)."""
    errors = 0
    async with client(streams + 4) as http:
        # One uncounted batch first: pools and allocator arenas grow once, not per stream.
        await asyncio.gather(*(one_stream(http, base_url, bench_message(20)) for _ in range(20)))
        rss_before = rss_bytes(pid)
        for start in range(0, streams, 20):
            batch = range(start, min(start + 20, streams))
            results = await asyncio.gather(
                *(one_stream(http, base_url, bench_message(20)) for _ in batch)
            )
            errors += sum(not r.ok for r in results)
    finished = (rss_bytes(pid) - rss_before) / streams

    await asyncio.sleep(0.5)  # the server closes the finished connections
    rss_before, fds_before = rss_bytes(pid), open_fds(pid)
    async with client(streams + 4) as http:
        opened = [asyncio.Event() for _ in range(streams)]
        # Two tokens `hold` apart: after the first, every stream sits open and idle.
        running = [
            asyncio.create_task(one_stream(http, base_url, bench_message(2, hold), opened=event))
            for event in opened
        ]
        await asyncio.gather(*(event.wait() for event in opened))
        await asyncio.sleep(0.2)  # let the server settle the last ones
        idle_rss, idle_fds = rss_bytes(pid) - rss_before, open_fds(pid) - fds_before
        results = await asyncio.gather(*running)
        errors += sum(not r.ok for r in results)
    return Footprint(
        idle_bytes_per_stream=idle_rss / streams,
        idle_fds_per_stream=idle_fds / streams,
        finished_bytes_per_stream=finished,
        errors=errors,
    )


@dataclass
class RedisCost:
    api_cpu_us_per_token: float
    redis_cpu_us_per_token: float
    redis_bytes_per_token: float
    errors: int


async def redis_token_cost(base_url: str, pid: int, redis_url: str, tokens: int) -> RedisCost:
    """One long stream on the Redis stores: API and redis-server CPU, Redis memory of
    the keys it created."""
    redis = Redis.from_url(redis_url)
    try:
        redis_pid = int((await redis.info("server"))["process_id"])
        existing = {key async for key in redis.scan_iter(count=1000)}
        redis_cpu = cpu_seconds(redis_pid)
        cost = await long_stream_cost(base_url, pid, tokens)
        redis_cpu = cpu_seconds(redis_pid) - redis_cpu
        # The keys this stream and its conversation created (stream log, meta, outcome,
        # history), by MEMORY USAGE: used_memory also moves with client buffers.
        created = [key async for key in redis.scan_iter(count=1000) if key not in existing]
        grown = 0
        for key in created:
            grown += int(await redis.memory_usage(key, samples=0) or 0)
    finally:
        await redis.aclose()
    return RedisCost(
        api_cpu_us_per_token=cost.cpu_us_per_token,
        redis_cpu_us_per_token=redis_cpu / tokens * 1e6,
        redis_bytes_per_token=grown / tokens,
        errors=cost.errors,
    )
