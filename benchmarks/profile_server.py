"""Profile one server under the benchmark's load with py-spy, and sum where its CPU goes.

    pip install py-spy            # into your own venv only; it is not a locked dependency
    python -m benchmarks.profile_server --server chatwait --load wait --out /tmp/prof

Starts the benchmark emulator and the server (`chatwait` or `relay`, pinned like
`make bench`), warms it up, attaches `py-spy record --format raw` (CPU samples only,
no idle; `--gil`: only the thread holding the GIL), puts the chosen load on it (`wait`:
POST /chat/wait at concurrency 10; `stream`: bursts of new 20-token streams; `long`:
1000-token streams one at a time, `--requests` counting tokens), stops it, and prints
the share of samples and the CPU-ms per request (per token for `long`) spent under each
of a list of suspects (inclusive: a frame of it on the stack; own: the sampled frame).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks import load
from benchmarks.bench import ROOT, _chatwait, _pin
from benchmarks.process_stats import cpu_seconds
from tests.support.servers import ServerProcess, free_port

# Frames read "function (package/module.py:line)", stacks root first, joined by ";".
SUSPECTS = {
    "SQLite session (agents/memory/sqlite_session.py)": r"agents/memory/sqlite_session\.py",
    "  SQLiteSession() construction (open, WAL, schema)": r"SQLiteSession\.__init__",
    "  SQLiteSession.close()": r"SQLiteSession\.close",
    "threads other than the event loop's (to_thread, anyio pool)": r"^thread \(\d+\): (?!Main)",
    "  anyio worker threads (sync dependencies, run_sync)": r"^thread \(\d+\): AnyIO",
    "stream supervisor (chatwait/streams/lifecycle.py)": r"chatwait/streams/lifecycle\.py",
    "memory stream store (chatwait/streams/memory.py)": r"chatwait/streams/memory\.py",
    "streaming service (chatwait/services/streaming_service.py)": r"streaming_service\.py",
    "chat agent service (chatwait/services/chat_agent.py)": r"chatwait/services/chat_agent\.py",
    "conversation store (chatwait/services/conversations.py)": r"services/conversations\.py",
    "chatwait deps.py": r"chatwait/deps\.py",
    "chatwait middleware/": r"chatwait/middleware/",
    "starlette BaseHTTPMiddleware": r"starlette/middleware/base\.py",
    "fastapi dependency solving": r"fastapi/dependencies/utils\.py",
    "logging": r"logging/__init__\.py",
    "pydantic (validation, serialisation)": r"pydantic",
    "id generation (secrets, uuid)": r"\(secrets\.py|\(uuid\.py",
    "sse_starlette": r"sse_starlette/",
    "Agents SDK (agents/)": r"\(agents/",
    "  Runner with a session (agents/run_internal session code)": r"session_persistence|"
    r"save_result_to_session|prepare_input_with_session",
    "openai client": r"\(openai/",
    "httpx + httpcore (client side, to the model)": r"\(httpx/|\(httpcore",
    # Leaf frame only: everything runs under uvicorn's and asyncio's frames.
    "uvicorn + h11/httptools, own code": r"\((uvicorn|h11|httptools)/[^;]*$",
    "asyncio, own code (loop, tasks, events, futures)": r"\(asyncio/[^;]*$",
    "json (encode/decode), own code": r"\(json/[^;]*$",
}


def _frames(line: str) -> tuple[str, int]:
    stack, _, count = line.rpartition(" ")
    return stack, int(count)


def summarise(raw: Path, cpu_seconds_total: float, requests: int) -> list[str]:
    """The suspects' share of samples and CPU-ms per request, as lines of a table."""
    counts: Counter[str] = Counter()
    own: Counter[str] = Counter()  # the leaf frame itself matches: the code's own time
    total = 0
    for line in raw.read_text().splitlines():
        if not line.strip():
            continue
        stack, count = _frames(line)
        if "_find_and_load" in stack or ";" not in stack:
            # Start-up imports are not requests; a stack with no Python frame is a
            # thread parked in native code (uvloop's epoll), not CPU we can place.
            continue
        total += count
        leaf = stack.rsplit(";", 1)[-1]
        for name, pattern in SUSPECTS.items():
            if re.search(pattern, stack):
                counts[name] += count
                if re.search(pattern, leaf):
                    own[name] += count
    lines = [
        f"samples {total}; server CPU {cpu_seconds_total:.2f} s over {requests} requests "
        f"= {cpu_seconds_total / requests * 1000:.2f} CPU-ms per request",
        "inclusive: a frame of it anywhere on the stack; own: the sampled frame is its own",
        f"{'suspect':60} {'incl.':>6} {'CPU-ms/req':>10} {'own':>6} {'CPU-ms/req':>10}",
    ]
    per_request = cpu_seconds_total / requests * 1000 / (total or 1)
    for name in SUSPECTS:
        lines.append(
            f"{name:60} {counts[name] / (total or 1):6.1%} {counts[name] * per_request:10.3f} "
            f"{own[name] / (total or 1):6.1%} {own[name] * per_request:10.3f}"
        )
    return lines


async def _load(url: str, kind: str, requests: int) -> None:
    if kind == "wait":
        await load.wait_throughput(url, requests, 10, 20)
    elif kind == "long":  # `requests` counts tokens here: streams of 1000 tokens
        for _ in range(max(1, requests // 1000)):
            await load.concurrent_streams(url, 1, 1000)
    else:
        for _ in range(requests // 50):
            await load.concurrent_streams(url, 50, 20)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--server", choices=["chatwait", "relay"], default="chatwait")
    parser.add_argument("--load", choices=["wait", "stream", "long"], default="wait")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path("reports/profile"))
    parser.add_argument(
        "--gil", action="store_true", help="sample only the thread holding the GIL (py-spy --gil)"
    )
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        raise SystemExit("py-spy is not installed: pip install py-spy (into your venv)")
    pinned = shutil.which("taskset") is not None
    args.out.mkdir(parents=True, exist_ok=True)
    name = f"{args.server}-{args.load}" + ("-gil" if args.gil else "")
    raw = args.out / f"{name}.txt"
    record = [py_spy, "record", "--format", "raw", "--nonblocking", "--rate", "250", "--threads"]
    record += ["--gil"] if args.gil else []
    emulator_port, port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        emulator = ServerProcess(
            [
                *_pin("1" if pinned else None),
                sys.executable,
                *("-m", "benchmarks.emulator", "--port", str(emulator_port)),
            ],
            port=emulator_port,
            cwd=ROOT,
            health_path="/v1/models",
        )
        upstream = f"http://127.0.0.1:{emulator_port}/v1"
        if args.server == "chatwait":
            server = _chatwait(Path(tmp), upstream, "0" if pinned else None)
        else:
            server = ServerProcess(
                [
                    *_pin("0" if pinned else None),
                    *(sys.executable, "-m", "benchmarks.bare_relay"),
                    *("--port", str(port), "--upstream", upstream),
                ],
                port=port,
                cwd=ROOT,
            )
        with emulator, server:
            # Warm up before py-spy attaches: one-off costs (lazy imports, pydantic
            # model rebuilds, pools) are not what a request costs.
            asyncio.run(load.warm_up(server.url))
            asyncio.run(_load(server.url, args.load, 100))
            spy = subprocess.Popen(
                [*record, "--pid", str(server.pid), "--output", str(raw)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1)  # py-spy attaches
            started = cpu_seconds(server.pid)
            asyncio.run(_load(server.url, args.load, args.requests))
            used = cpu_seconds(server.pid) - started
            spy.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
            spy.wait(timeout=30)
    lines = summarise(raw, used, args.requests)
    (args.out / f"{name}.summary.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
