"""ChatWait on the Redis stores: what they cost per token, and 2 workers against 1.

Both `chatwait-api` processes (1 and 2 workers) run unpinned against one private
redis-server, so they have the same cores available; the throughput runs alternate.
"""

from __future__ import annotations

import os

from benchmarks import footprint, load
from benchmarks.plan import Ledger, Progress, Sizes, alternate
from benchmarks.process_stats import cpu_seconds
from benchmarks.report import Report, Row
from tests.support.servers import ServerProcess


async def run_redis_phase(
    workers: dict[int, ServerProcess],
    redis_url: str,
    redis_pid: int,
    emulator_pid: int,
    sizes: Sizes,
    report: Report,
    progress: Progress,
) -> None:
    """ChatWait on Redis: the stores' cost per token, and 2 workers against 1."""
    one, two = workers[1], workers[2]
    ledger = Ledger(emulator_pid)
    await load.warm_up(one.url)
    await load.warm_up(two.url)
    ledger.scenario("redis_token")
    progress(f"redis_token: one stream of {sizes.long_tokens} tokens on the Redis stores")
    costs = [
        await footprint.redis_token_cost(one.url, one.pid, redis_url, sizes.long_tokens)
        for _ in range(sizes.rounds)
    ]
    ledger.record("chatwait")
    relay_token = report.row("token_cpu").relay
    errors = sum(c.errors for c in costs)
    report.rows.append(
        Row(
            "redis_token_cpu",
            "per token on the Redis stores (API server CPU)",
            "µs",
            load.median([c.api_cpu_us_per_token for c in costs]),
            relay_token,
            errors_chatwait=errors,
        )
    )
    report.rows.append(
        Row(
            "redis_server_token_cpu",
            "per token on the Redis stores (redis-server CPU)",
            "µs",
            load.median([c.redis_cpu_us_per_token for c in costs]),
        )
    )
    report.rows.append(
        Row(
            "redis_token_bytes",
            "Redis memory per streamed token (stream buffer + history)",
            "bytes",
            load.median([c.redis_bytes_per_token for c in costs]),
        )
    )

    progress(
        f"workers: {sizes.workers_requests} POST /chat/wait at concurrency "
        f"{sizes.workers_concurrency}, 1 vs 2 workers × {sizes.workers_rounds} rounds"
    )
    ledger.scenario("workers")
    by_count = {"1": one, "2": two}
    # Cores used during each run by: the API's workers, redis-server, everything else.
    cores_used: dict[str, list[tuple[float, float]]] = {"1": [], "2": []}

    async def measure(url: str, pid: int) -> load.Outcome:
        api, redis = cpu_seconds(pid), cpu_seconds(redis_pid)
        outcome = await load.wait_throughput(
            url, sizes.workers_requests, sizes.workers_concurrency, sizes.stream_tokens
        )
        api, redis = cpu_seconds(pid) - api, cpu_seconds(redis_pid) - redis
        side = next(k for k, s in by_count.items() if s.pid == pid)
        cores_used[side].append((api / outcome.elapsed, redis / outcome.elapsed))
        return outcome

    results = await alternate(by_count, sizes.workers_rounds, measure, ledger)
    rate = {k: load.median([r.values[0] for r in v]) for k, v in results.items()}
    cores = {k: load.median([api for api, _ in v]) for k, v in cores_used.items()}
    redis_cores = {k: load.median([redis for _, redis in v]) for k, v in cores_used.items()}
    report.rows.append(
        Row(
            "workers_throughput",
            "POST /chat/wait throughput on Redis: 2 workers (vs 1 worker)",
            "req/s",
            rate["2"],
            rate["1"],
            target_text="reported (no target on 2 cores)",
            errors_chatwait=sum(r.errors for v in results.values() for r in v),
        )
    )
    helpers = ledger.helper_cores_now()
    cores_total = os.cpu_count() or 1
    spare = cores_total - (cores["1"] + redis_cores["1"] + helpers)
    report.notes.append(
        f"Workers (Redis stores, no pinning, {cores_total} cores): 1 worker "
        f"{rate['1']:.1f} req/s with the API using {cores['1']:.2f} cores and redis-server "
        f"{redis_cores['1']:.2f}; 2 workers {rate['2']:.1f} req/s, API {cores['2']:.2f} "
        f"cores, redis-server {redis_cores['2']:.2f} ({rate['2'] / rate['1']:.2f}×); the "
        f"emulator and the load generator {helpers:.2f} cores. One worker can use at most "
        "one core; a second adds only what the other processes leave: during the 1-worker "
        f"runs {spare:.2f} cores were left to other work on the machine (load average "
        f"{os.getloadavg()[0]:.2f}). On 4 dedicated cores with 2 for the workers, expect "
        "about 1.8× (each worker runs at one core's speed; Redis round trips cost the rest)."
    )
    report.notes.append(
        "Redis rows: the ratio compares ChatWait's API CPU per token on Redis with the "
        "relay's CPU per token (no store at all)."
    )
    report.notes.append(
        "Error counts of the Redis rows: "
        f"{errors + sum(r.errors for v in results.values() for r in v)}."
    )
    report.notes.extend(ledger.notes())
