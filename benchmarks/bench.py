"""`make bench`: ChatWait against the bare Agents SDK relay, side by side, in a report.

Starts the upstream emulator (`benchmarks.emulator`), ChatWait (`chatwait-api`, the
defaults as shipped: no keys, limits off) and the relay (`benchmarks.bare_relay`) as
processes on loopback. With `taskset` both servers share core 0 and the emulator and
this load generator get core 1, so the servers' CPU is what limits them. Every scenario
runs the two servers alternately, round after round, and reports the median of the
rounds. Then ChatWait on a private redis-server: the stores' cost per token, and
`--workers 2` against 1 worker. Writes reports/benchmark.{md,json} and two PNG plots.

    python -m benchmarks.bench            # a few minutes
    python -m benchmarks.bench --quick    # small sizes, for the smoke test
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

from benchmarks.plan import QUICK, Sizes, run_relay_phase
from benchmarks.redis_phase import run_redis_phase
from benchmarks.report import Report, write
from tests.support.redis_server import RedisServer
from tests.support.servers import ServerProcess, api_environment, chatwait_api_command, free_port

ROOT = Path(__file__).resolve().parents[1]


class Progress:
    """One line per scenario, with the time since the start."""

    def __init__(self) -> None:
        self._started = time.monotonic()

    def __call__(self, message: str) -> None:
        print(f"[bench {time.monotonic() - self._started:6.1f} s] {message}", flush=True)


def _pin(core: str | None) -> list[str]:
    return ["taskset", "-c", core] if core is not None else []


def _machine(pinning: str) -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor() or "unknown CPU",
    )
    meminfo = Path("/proc/meminfo").read_text().split()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": (commit or "unknown") + ("+changes" if dirty else ""),
        "cpu": model,
        "cpus": os.cpu_count(),
        "memory_gb": round(int(meminfo[meminfo.index("MemTotal:") + 1]) / 1e6, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "pinning": pinning,
    }


def _redis_pid(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return int(client.info("server")["process_id"])
    finally:
        client.close()


def _chatwait(tmp: Path, upstream: str, core: str | None, *args: str, **env: str) -> ServerProcess:
    port = free_port()
    directory = Path(tempfile.mkdtemp(dir=tmp))
    return ServerProcess(
        _pin(core) + chatwait_api_command("--port", str(port), *args),
        port=port,
        env=api_environment(directory, LLM_BASE_URL=upstream, LLM_MODEL="emulated-model", **env),
    )


def run(sizes: Sizes, out: Path, docs_img: Path | None = None) -> Report:
    """Run every scenario and write the report under `out`."""
    progress = Progress()
    pinned = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
    server_core, helper_core = ("0", "1") if pinned else (None, None)
    report = Report(
        machine=_machine(
            "servers on core 0, emulator and load generator on core 1" if pinned else "no"
        ),
        parameters=asdict(sizes),
    )
    affinity = os.sched_getaffinity(0)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        emulator_port = free_port()
        progress("starting the upstream emulator, ChatWait and the bare relay")
        emulator = stack.enter_context(
            ServerProcess(
                [
                    *_pin(helper_core),
                    sys.executable,
                    "-m",
                    "benchmarks.emulator",
                    "--port",
                    str(emulator_port),
                ],
                port=emulator_port,
                cwd=ROOT,
                health_path="/v1/models",
            )
        )
        upstream = f"http://127.0.0.1:{emulator_port}/v1"
        relay_port = free_port()
        servers = {
            "chatwait": stack.enter_context(_chatwait(Path(tmp), upstream, server_core)),
            "relay": stack.enter_context(
                ServerProcess(
                    [
                        *_pin(server_core),
                        sys.executable,
                        "-m",
                        "benchmarks.bare_relay",
                        "--port",
                        str(relay_port),
                        "--upstream",
                        upstream,
                    ],
                    port=relay_port,
                    cwd=ROOT,
                )
            ),
        }
        try:
            if pinned:
                os.sched_setaffinity(0, {int(helper_core or 1)})
            asyncio.run(run_relay_phase(servers, emulator.pid, sizes, report, progress))
        finally:
            os.sched_setaffinity(0, affinity)
        for server in servers.values():
            server.stop()

        progress("starting redis-server and ChatWait with 1 and 2 workers on it")
        redis_server = RedisServer()
        redis_server.start()
        stack.callback(redis_server.stop)
        on_redis = {"STREAM_STORE_URL": redis_server.url, "SESSION_STORE_URL": redis_server.url}
        workers = {
            count: stack.enter_context(
                _chatwait(Path(tmp), upstream, None, "--workers", str(count), **on_redis)
            )
            for count in (1, 2)
        }
        redis_pid = _redis_pid(redis_server.url)
        asyncio.run(
            run_redis_phase(
                workers, redis_server.url, redis_pid, emulator.pid, sizes, report, progress
            )
        )

    plots = write(report, out)
    if docs_img is not None:
        docs_img.mkdir(parents=True, exist_ok=True)
        for plot in plots:
            shutil.copy(plot, docs_img / plot.name)
    progress(f"wrote {out / 'benchmark.md'}, {out / 'benchmark.json'} and {len(plots)} plots")
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="ChatWait vs the bare Agents SDK relay.")
    parser.add_argument("--quick", action="store_true", help="small sizes (for the smoke test)")
    parser.add_argument("--rounds", type=int, help="rounds per scenario (default 5; quick 1)")
    parser.add_argument("--out", type=Path, default=Path("reports"))
    parser.add_argument("--docs-img", type=Path, help="also copy the plots here (docs/img)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    if args.rounds:
        sizes = replace(sizes, rounds=args.rounds)
    run(sizes, args.out, args.docs_img)
    print((args.out / "benchmark.md").read_text())


if __name__ == "__main__":
    main()
