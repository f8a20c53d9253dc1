"""The scenarios of `make bench`, run against both servers alternately, and the rows of
the report they fill. `bench.py` starts and stops the processes; this module says what
load each scenario puts on them and which number it reports."""

from __future__ import annotations

import resource
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from benchmarks import footprint, load
from benchmarks.process_stats import CpuMeter, cpu_seconds
from benchmarks.report import Report, Row
from tests.support.servers import ServerProcess

SIDES = ("chatwait", "relay")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Sizes:
    """How much load each scenario puts on; `--quick` shrinks every number."""

    rounds: int = 5
    ttft_streams: int = 20
    burst_streams: int = 100
    stream_tokens: int = 20
    wait_requests: int = 200
    wait_concurrency: int = 10
    curve_levels: tuple[int, ...] = (1, 5, 10, 20, 40)
    curve_requests: int = 100
    curve_rounds: int = 3
    # CPU comes from /proc in 10 ms ticks: 5000 tokens make a tick 2 µs per token (a
    # 2000-token stream moved the ratio by 0.05 per tick, the whole target's margin).
    long_tokens: int = 5000
    slow_rounds: int = 3
    slow_streams: int = 200
    slow_tokens: int = 100
    slow_delay: float = 0.06
    footprint_streams: int = 200
    footprint_hold: float = 3.0
    workers_rounds: int = 3
    workers_requests: int = 300
    workers_concurrency: int = 20


QUICK = Sizes(
    rounds=1,
    ttft_streams=3,
    burst_streams=10,
    wait_requests=20,
    curve_levels=(1, 10),
    curve_requests=10,
    curve_rounds=1,
    long_tokens=200,
    slow_rounds=1,
    slow_streams=10,
    slow_tokens=10,
    slow_delay=0.02,
    footprint_streams=10,
    footprint_hold=1.0,
    workers_rounds=1,
    workers_requests=20,
    workers_concurrency=10,
)


class Ledger:
    """Per scenario: why requests failed on each side, and how busy the emulator and
    this load generator kept their core (near 1.0 means the servers waited for load,
    so the scenario measured the helpers, not the servers)."""

    def __init__(self, emulator_pid: int) -> None:
        self._emulator_pid = emulator_pid
        self.failures: dict[str, Counter[str]] = {}
        self.helper_cores: dict[str, float] = {}
        self._scenario = ""
        self._mark = (time.monotonic(), self._helper_cpu())

    def _helper_cpu(self) -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        return cpu_seconds(self._emulator_pid) + own.ru_utime + own.ru_stime

    def scenario(self, name: str) -> None:
        """Close the previous scenario's books and open `name`'s."""
        now, cpu = time.monotonic(), self._helper_cpu()
        if self._scenario:
            started, cpu_before = self._mark
            self.helper_cores[self._scenario] = (cpu - cpu_before) / max(now - started, 1e-9)
        self._scenario, self._mark = name, (now, cpu)
        load.take_failures()

    def helper_cores_now(self) -> float:
        """The helpers' cores in the scenario running now (so far)."""
        started, cpu_before = self._mark
        return (self._helper_cpu() - cpu_before) / max(time.monotonic() - started, 1e-9)

    def record(self, side: str) -> None:
        taken = load.take_failures()
        if taken:
            self.failures.setdefault(f"{self._scenario} ({side})", Counter()).update(taken)

    def notes(self) -> list[str]:
        self.scenario("")
        busiest = max(self.helper_cores, key=self.helper_cores.__getitem__, default=None)
        notes = []
        if busiest is not None:
            notes.append(
                "Emulator + load generator CPU per scenario (cores; 1.0 = their core was "
                "saturated): "
                + ", ".join(f"{k} {v:.2f}" for k, v in self.helper_cores.items())
                + "."
            )
        for where, reasons in self.failures.items():
            notes.append(
                f"Failures in {where}: "
                + "; ".join(f"{count}× {reason}" for reason, count in reasons.items())
            )
        return notes


async def alternate[T](
    servers: dict[str, ServerProcess],
    rounds: int,
    measure: Callable[[str, int], Awaitable[T]],
    ledger: Ledger,
) -> dict[str, list[T]]:
    """`measure(url, pid)` for each server, `rounds` times, swapping who goes first
    each round so neither always runs on a machine the other just warmed or heated."""
    results: dict[str, list[T]] = {side: [] for side in servers}
    for number in range(rounds):
        order = list(servers) if number % 2 == 0 else list(reversed(servers))
        for side in order:
            server = servers[side]
            results[side].append(await measure(server.url, server.pid))
            ledger.record(side)
    return results


def _ms(seconds: list[float]) -> list[float]:
    return [s * 1000 for s in seconds]


@dataclass
class _Timed:
    """A load outcome and the server CPU seconds it cost."""

    outcome: load.Outcome
    cpu: float


def _with_cpu(run: Callable[[str], Awaitable[load.Outcome]]) -> Callable[[str, int], Any]:
    async def measure(url: str, pid: int) -> _Timed:
        meter = CpuMeter(pid)
        meter.start()
        outcome = await run(url)
        return _Timed(outcome, meter.stop())

    return measure


def _median_of(rounds: list[_Timed], pick: Callable[[_Timed], float]) -> float:
    return load.median([pick(r) for r in rounds])


async def run_relay_phase(
    servers: dict[str, ServerProcess],
    emulator_pid: int,
    sizes: Sizes,
    report: Report,
    progress: Progress,
) -> None:
    """The one-worker scenarios, ChatWait vs the relay; fills `report.rows`."""
    errors = dict.fromkeys(SIDES, 0)

    def count(results: dict[str, list[_Timed]]) -> None:
        for side, rounds in results.items():
            errors[side] += sum(r.outcome.errors for r in rounds)

    ledger = Ledger(emulator_pid)

    async def timed(
        name: str, what: str, rounds: int, run: Callable[[str], Awaitable[load.Outcome]]
    ) -> dict[str, list[_Timed]]:
        """One scenario of load runs on both servers, each with its server CPU."""
        ledger.scenario(name)
        progress(f"{name}: {what}")
        results = await alternate(servers, rounds, _with_cpu(run), ledger)
        count(results)
        return results

    def samples_ms(results: dict[str, list[_Timed]]) -> dict[str, list[float]]:
        return {s: _ms([v for r in results[s] for v in r.outcome.values]) for s in SIDES}

    progress("warming up both servers")
    for server in servers.values():
        await load.warm_up(server.url)

    ledger.scenario("footprint")
    progress(
        f"footprint (first, on fresh heaps): {sizes.footprint_streams} finished streams, "
        "then as many idle open ones"
    )
    prints = await alternate(
        servers,
        1,
        lambda url, pid: footprint.stream_footprint(
            url, pid, sizes.footprint_streams, sizes.footprint_hold
        ),
        ledger,
    )
    for side in SIDES:
        errors[side] += prints[side][0].errors

    one = await timed(
        "ttft_one",
        f"{sizes.ttft_streams} streams one at a time × {sizes.rounds} rounds",
        sizes.rounds,
        lambda url: load.sequential_ttft(url, sizes.ttft_streams, sizes.stream_tokens),
    )
    report.samples["ttft_one"] = samples_ms(one)

    burst = await timed(
        "burst",
        f"{sizes.burst_streams} new streams at once × {sizes.rounds} rounds",
        sizes.rounds,
        lambda url: load.burst_ttft(url, sizes.burst_streams, sizes.stream_tokens),
    )
    report.samples["burst"] = samples_ms(burst)

    wait = await timed(
        "wait",
        f"{sizes.wait_requests} POST /chat/wait at concurrency {sizes.wait_concurrency}"
        f" × {sizes.rounds} rounds",
        sizes.rounds,
        lambda url: load.wait_throughput(
            url, sizes.wait_requests, sizes.wait_concurrency, sizes.stream_tokens
        ),
    )

    ledger.scenario("curve")
    progress(
        f"curve: throughput at concurrency {list(sizes.curve_levels)} × {sizes.curve_rounds} rounds"
    )
    for level in sizes.curve_levels:

        def at_level(url: str, level: int = level) -> Awaitable[load.Outcome]:
            return load.wait_throughput(url, sizes.curve_requests, level, sizes.stream_tokens)

        curve = await alternate(servers, sizes.curve_rounds, _with_cpu(at_level), ledger)
        count(curve)
        for side in SIDES:
            rates = [r.outcome.values[0] for r in curve[side]]
            report.throughput_curve.setdefault(side, {})[level] = load.median(rates)

    ledger.scenario("per_token")
    progress(f"per_token: one stream of {sizes.long_tokens} tokens × {sizes.rounds} rounds")
    long = await alternate(
        servers,
        sizes.rounds,
        lambda url, pid: footprint.long_stream_cost(url, pid, sizes.long_tokens),
        ledger,
    )
    for side in SIDES:
        errors[side] += sum(r.errors for r in long[side])

    slow = await timed(
        "slow",
        f"{sizes.slow_streams} streams of {sizes.slow_tokens} tokens at "
        f"{sizes.slow_delay * 1000:.0f} ms × {sizes.slow_rounds} rounds",
        sizes.slow_rounds,
        lambda url: load.slow_stream_gaps(
            url, sizes.slow_streams, sizes.slow_tokens, sizes.slow_delay
        ),
    )

    def both(results: dict[str, list[_Timed]], pick: Callable[[_Timed], float]) -> dict[str, float]:
        return {side: _median_of(results[side], pick) for side in SIDES}

    def row(key: str, scenario: str, unit: str, values: dict[str, float], **kw: Any) -> None:
        report.rows.append(Row(key, scenario, unit, values["chatwait"], values["relay"], **kw))

    p50 = lambda r: load.percentile(r.outcome.values, 0.5) * 1000  # noqa: E731
    p99 = lambda r: load.percentile(r.outcome.values, 0.99) * 1000  # noqa: E731
    row(
        "ttft_one_p50",
        "one stream, time to first token p50",
        "ms",
        both(one, p50),
        bound=1.3,
        target_text="≤ 1.3×",
    )
    row(
        "burst_ttft_p50",
        f"burst of {sizes.burst_streams} new streams, TTFT p50",
        "ms",
        both(burst, p50),
        bound=1.2,
        target_text="≤ 1.2×",
    )
    row(
        "burst_ttft_p99",
        f"burst of {sizes.burst_streams} new streams, TTFT p99",
        "ms",
        both(burst, p99),
        bound=1.25,
        target_text="≤ 1.25×",
    )
    row(
        "wait_throughput",
        f"POST /chat/wait throughput, concurrency {sizes.wait_concurrency}",
        "req/s",
        both(wait, lambda r: r.outcome.values[0]),
        bound=0.9,
        direction="min",
        target_text="≥ 0.9×",
    )
    row(
        "token_cpu",
        f"per token, one stream of {sizes.long_tokens} (server CPU)",
        "µs",
        {s: load.median([r.cpu_us_per_token for r in long[s]]) for s in SIDES},
        bound=1.05,
        target_text="≤ 1.05×",
    )
    row(
        "slow_gap_p99",
        f"{sizes.slow_streams} slow streams ({sizes.slow_tokens} tokens at "
        f"{sizes.slow_delay * 1000:.0f} ms): gap between tokens p99",
        "ms",
        both(slow, p99),
        bound=1.2,
        target_text="≤ 1.2×",
    )
    row(
        "cpu_per_wait",
        "server CPU per POST /chat/wait",
        "ms",
        both(wait, lambda r: r.cpu / sizes.wait_requests * 1000),
    )
    row(
        "cpu_per_stream",
        f"server CPU per {sizes.stream_tokens}-token stream (burst)",
        "ms",
        both(burst, lambda r: r.cpu / sizes.burst_streams * 1000),
    )
    row(
        "token_wall",
        f"per token, one stream of {sizes.long_tokens} (wall time)",
        "µs",
        {s: load.median([r.wall_us_per_token for r in long[s]]) for s in SIDES},
    )
    row(
        "idle_stream_bytes",
        "memory (RSS) per idle open stream",
        "bytes",
        {s: prints[s][0].idle_bytes_per_stream for s in SIDES},
    )
    row(
        "idle_stream_fds",
        "open fds per idle open stream",
        "fds",
        {s: prints[s][0].idle_fds_per_stream for s in SIDES},
    )
    row(
        "finished_stream_bytes",
        "memory (RSS) per finished buffered stream",
        "bytes",
        {s: prints[s][0].finished_bytes_per_stream for s in SIDES},
    )
    report.notes.extend(ledger.notes())
    report.rows.append(
        Row(
            "errors",
            "errors (all scenarios above)",
            "count",
            None,
            None,
            target_text="0",
            errors_chatwait=errors["chatwait"],
            errors_relay=errors["relay"],
        )
    )
