"""`chatwait-api --workers 2`: /metrics sums the counts of both workers.

Each uvicorn worker is its own process with its own counters; without
prometheus-client's multiprocess mode a scrape would show only the worker that
answered it. The CLI gives the workers a shared PROMETHEUS_MULTIPROC_DIR.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from tests.support.metrics import scrape
from tests.support.redis_server import RedisServer
from tests.support.servers import ServerProcess, api_environment, chatwait_api_command, free_port
from tests.support.upstream_emulator import Scenario, UpstreamEmulator
from tests.support.waiting import eventually

# Enough requests, in concurrent bursts on fresh connections, for the kernel to hand
# some to each worker; the test fails with a clear message if it never does.
BURST = 4
MAX_BURSTS = 15


@pytest.fixture
def two_workers(
    tmp_path: Path, redis_server: RedisServer, upstream_base_url: str
) -> Iterator[ServerProcess]:
    port = free_port()
    env = api_environment(
        tmp_path,
        LLM_BASE_URL=upstream_base_url,
        LLM_API_KEY="sk-metrics-workers",
        LLM_MODEL="emulated-model",
        STREAM_STORE_URL=redis_server.url,
        SESSION_STORE_URL=redis_server.url,
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = chatwait_api_command("--host", "127.0.0.1", "--port", str(port), "--workers", "2")
    with ServerProcess(command, port=port, env=env) as server:
        yield server
        _stop_supervisor(server)


def _stop_supervisor(server: ServerProcess, timeout: float = 20) -> None:
    """SIGTERM to uvicorn's supervisor alone, then wait until chatwait-api has cleaned up.

    ServerProcess.stop() signals the whole process group: the supervisor then sees its
    workers die, respawns them, and may be SIGKILLed after 5 s before it removes its
    metrics directory.
    """
    pids = _worker_pids(server)
    directory = _metrics_dir(pids[0]) if pids else None
    with contextlib.suppress(ProcessLookupError):
        os.kill(server.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while directory is not None and directory.exists() and time.monotonic() < deadline:
        time.sleep(0.1)


def _worker_pids(server: ServerProcess) -> list[int]:
    """uvicorn's worker processes: the `multiprocessing` children in the server's session."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        # Fields 3.. of /proc/pid/stat after the name: state, ppid, pgrp, session.
        if int(fields[3]) == server.pid and b"spawn_main" in command:
            pids.append(int(stat.parent.name))
    return pids


def _metrics_dir(pid: int) -> Path:
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    for entry in environ:
        if entry.startswith(b"PROMETHEUS_MULTIPROC_DIR="):
            return Path(entry.split(b"=", 1)[1].decode())
    raise AssertionError(f"worker {pid} has no PROMETHEUS_MULTIPROC_DIR")


def _runs_started_by(directory: Path, pid: int) -> float:
    """The wait runs one worker started, read from its own counter file."""
    path = directory / f"counter_{pid}.db"
    if not path.exists():
        return 0.0
    merged = MultiProcessCollector.merge([str(path)])  # type: ignore[no-untyped-call]
    return sum(
        float(sample.value)
        for metric in merged
        for sample in metric.samples
        if sample.name == "chatwait_runs_started_total" and sample.labels == {"mode": "wait"}
    )


async def _ask(base_url: str) -> None:
    # A fresh connection per request, so each one is accepted by either worker.
    async with httpx.AsyncClient(timeout=20) as http:
        response = await http.post(f"{base_url}/chat/wait", json={"message": "hi"})
        assert response.status_code == 200, response.text


async def test_metrics_of_both_workers_are_summed(
    two_workers: ServerProcess, upstream: UpstreamEmulator
) -> None:
    upstream.default_scenario = Scenario(text="ok", first_byte_delay=0.2)
    await eventually(lambda: len(_worker_pids(two_workers)) == 2, what="two workers")
    pids = _worker_pids(two_workers)
    directory = _metrics_dir(pids[0])
    sent = 0
    for _ in range(MAX_BURSTS):
        await asyncio.gather(*(_ask(two_workers.url) for _ in range(BURST)))
        sent += BURST
        if all(_runs_started_by(directory, pid) > 0 for pid in pids):
            break
    per_worker = [_runs_started_by(directory, pid) for pid in pids]
    assert all(per_worker), f"one worker answered every request: {per_worker}"

    # Whichever worker answers the scrape, it reports the sum of both.
    for _ in range(6):
        async with httpx.AsyncClient(timeout=20) as http:
            result = await scrape(http, two_workers.url)
        assert result.value("chatwait_runs_started_total", mode="wait") == sent
        assert result.value("chatwait_runs_finished_total", mode="wait", outcome="done", code="")
        assert result.value("chatwait_runs_active", mode="wait") == 0


def test_the_metrics_directory_is_removed_when_the_server_stops(
    two_workers: ServerProcess,
) -> None:
    directory = _metrics_dir(_worker_pids(two_workers)[0])
    assert directory.is_dir()

    # As `kill <pid>` would: the supervisor stops its workers, and chatwait-api removes
    # the directory on its way out.
    _stop_supervisor(two_workers)

    assert not directory.exists()
