"""The load generator: httpx clients that drive one server and time what they see.

Every function takes a server's base URL and returns plain numbers (seconds, counts);
errors (a non-200, an `error` event, a cut stream, a client exception) are counted,
never raised, so one bad run shows up in the report instead of ending the benchmark.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
from httpx_sse import aconnect_sse

from benchmarks.emulator import bench_message

TIMEOUT = httpx.Timeout(120.0)
_ids = itertools.count()
# Why requests failed since the last `take_failures()`, e.g. {"HTTP 503": 2}.
_failures: Counter[str] = Counter()


def take_failures() -> Counter[str]:
    """The failure reasons counted since the last call, and start counting afresh."""
    taken = _failures.copy()
    _failures.clear()
    return taken


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (`fraction` 0.5 = median) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def median(values: list[float]) -> float:
    return statistics.median(values)


def client(connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(timeout=TIMEOUT, limits=limits)


@dataclass
class StreamResult:
    """One stream as a client saw it: when its first token came, all token arrivals."""

    first_token: float | None = None
    token_times: list[float] = field(default_factory=list)
    ok: bool = False

    @property
    def gaps(self) -> list[float]:
        return [b - a for a, b in itertools.pairwise(self.token_times)]


async def one_stream(
    http: httpx.AsyncClient,
    base_url: str,
    message: str,
    *,
    opened: asyncio.Event | None = None,
) -> StreamResult:
    """Start a new stream and read it to `done`; `opened` is set at the first token."""
    result = StreamResult()
    params = {"message": message, "stream_id": f"bench-{next(_ids):08d}-{time.time_ns()}"}
    started = time.perf_counter()
    try:
        async with aconnect_sse(http, "GET", base_url + "/chat/streaming", params=params) as source:
            if source.response.status_code != 200:
                _failures[f"stream: HTTP {source.response.status_code}"] += 1
                return result
            async for event in source.aiter_sse():
                if event.event == "token":
                    now = time.perf_counter() - started
                    result.token_times.append(now)
                    if result.first_token is None:
                        result.first_token = now
                        if opened is not None:
                            opened.set()
                elif event.event == "done":
                    result.ok = True
                    break
                elif event.event == "error":
                    _failures[f"stream: error event {event.data[:80]}"] += 1
                    break
            else:
                _failures["stream: ended without done"] += 1
    except httpx.HTTPError as error:
        _failures[f"stream: {type(error).__name__}"] += 1
    finally:
        if opened is not None:
            opened.set()
    return result


async def one_wait(http: httpx.AsyncClient, base_url: str, message: str) -> bool:
    try:
        response = await http.post(base_url + "/chat/wait", json={"message": message})
    except httpx.HTTPError as error:
        _failures[f"wait: {type(error).__name__}"] += 1
        return False
    if response.status_code != 200 or not response.json().get("response"):
        _failures[f"wait: HTTP {response.status_code} {response.text[:80]}"] += 1
        return False
    return True


@dataclass
class Outcome:
    """The numbers of one scenario run against one server."""

    values: list[float]
    errors: int = 0
    elapsed: float = 0.0


async def sequential_ttft(base_url: str, streams: int, tokens: int) -> Outcome:
    """Time to first token of `streams` streams, one after the other."""
    async with client(4) as http:
        results = [await one_stream(http, base_url, bench_message(tokens)) for _ in range(streams)]
    return Outcome(
        values=[r.first_token for r in results if r.first_token is not None],
        errors=sum(not r.ok for r in results),
    )


async def concurrent_streams(
    base_url: str, streams: int, tokens: int, delay: float = 0.0
) -> tuple[list[StreamResult], float]:
    """`streams` new streams started at once; their results and the wall time."""
    async with client(streams + 4) as http:
        started = time.perf_counter()
        results = await asyncio.gather(
            *(one_stream(http, base_url, bench_message(tokens, delay)) for _ in range(streams))
        )
        return list(results), time.perf_counter() - started


async def burst_ttft(base_url: str, streams: int, tokens: int) -> Outcome:
    results, elapsed = await concurrent_streams(base_url, streams, tokens)
    return Outcome(
        values=[r.first_token for r in results if r.first_token is not None],
        errors=sum(not r.ok for r in results),
        elapsed=elapsed,
    )


async def slow_stream_gaps(base_url: str, streams: int, tokens: int, delay: float) -> Outcome:
    """Every gap between two tokens of `streams` concurrent slow streams."""
    results, elapsed = await concurrent_streams(base_url, streams, tokens, delay)
    return Outcome(
        values=[gap for r in results for gap in r.gaps],
        errors=sum(not r.ok for r in results),
        elapsed=elapsed,
    )


async def wait_throughput(base_url: str, requests: int, concurrency: int, tokens: int) -> Outcome:
    """`requests` POST /chat/wait calls by `concurrency` clients; values = [requests/s]."""
    remaining = iter(range(requests))
    errors = 0

    async def worker(http: httpx.AsyncClient) -> None:
        nonlocal errors
        for _ in remaining:
            errors += not await one_wait(http, base_url, bench_message(tokens))

    async with client(concurrency + 4) as http:
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Outcome(values=[requests / elapsed], errors=errors, elapsed=elapsed)


async def warm_up(base_url: str) -> None:
    """A few runs of each kind: lazy imports and pools are not what we measure."""
    async with client(4) as http:
        for _ in range(3):
            await one_wait(http, base_url, bench_message(5))
            await one_stream(http, base_url, bench_message(5))
