"""Streaming benchmark: what ChatWait adds on top of the model, measured, in a report.

Starts the upstream emulator and `chatwait-api` as separate processes on loopback (the
client, the API and the "model" do not share a GIL), then measures:

* wait: latency of `POST /chat/wait` for a fixed-size answer, sequentially;
* stream: N concurrent `/chat/streaming` clients; time to the `start` event, to the
  first token, to `done`; aggregate tokens per second;
* resume: latency of resuming a finished stream from its middle (a store read only).

The upstream answers instantly, so the numbers are ChatWait's own overhead. Writes
`reports/stream_benchmark.json` and `reports/stream_benchmark.md`. Every loop is bounded
in count; nothing here asserts a time — read the report.

    make bench            # or: python -m benchmarks.stream_benchmark --quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from chatwait import __version__
from tests.support.servers import (
    ServerProcess,
    api_environment,
    chatwait_api_command,
    free_port,
)
from tests.support.sse import iter_sse


@dataclass
class Summary:
    count: int
    p50_ms: float
    p95_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> Summary:
        ms = sorted(s * 1000 for s in seconds)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        return cls(len(ms), round(statistics.median(ms), 2), round(p95, 2), round(ms[-1], 2))


@dataclass
class StreamRound:
    concurrency: int
    tokens_per_stream: int
    to_start: Summary
    to_first_token: Summary
    to_done: Summary
    tokens_per_second: float


@dataclass
class Report:
    version: str
    machine: dict[str, Any]
    parameters: dict[str, Any]
    wait: Summary | None = None
    streams: list[StreamRound] = field(default_factory=list)
    resume: Summary | None = None


async def _one_stream(http: httpx.AsyncClient, stream_id: str) -> tuple[float, float, float, int]:
    started = time.perf_counter()
    to_start = to_first = 0.0
    tokens = 0
    async with http.stream(
        "GET", "/chat/streaming", params={"message": "bench", "stream_id": stream_id}
    ) as response:
        response.raise_for_status()
        async for event in iter_sse(response):
            now = time.perf_counter() - started
            if event.event == "start":
                to_start = now
            elif event.event == "token":
                tokens += 1
                to_first = to_first or now
            elif event.event in ("done", "error"):
                if event.event == "error":
                    raise RuntimeError(f"stream {stream_id} failed: {event.data}")
                return to_start, to_first, now, tokens
    raise RuntimeError(f"stream {stream_id} ended without done")


async def _measure(api_url: str, args: argparse.Namespace, report: Report) -> None:
    limits = httpx.Limits(max_connections=max(args.concurrency) + 10)
    async with httpx.AsyncClient(base_url=api_url, timeout=60, limits=limits) as http:
        # Warm-up: the first run of a process pays for lazy imports and connection setup.
        await _one_stream(http, "bench-warmup")
        await http.post("/chat/wait", json={"message": "warm-up"})
        durations = []
        for _ in range(args.wait_requests):
            started = time.perf_counter()
            response = await http.post("/chat/wait", json={"message": "bench"})
            response.raise_for_status()
            durations.append(time.perf_counter() - started)
        report.wait = Summary.of(durations)

        for concurrency in args.concurrency:
            started = time.perf_counter()
            results = await asyncio.gather(
                *(_one_stream(http, f"bench-{concurrency}-{i:05d}") for i in range(concurrency))
            )
            elapsed = time.perf_counter() - started
            total_tokens = sum(r[3] for r in results)
            report.streams.append(
                StreamRound(
                    concurrency=concurrency,
                    tokens_per_stream=results[0][3],
                    to_start=Summary.of([r[0] for r in results]),
                    to_first_token=Summary.of([r[1] for r in results]),
                    to_done=Summary.of([r[2] for r in results]),
                    tokens_per_second=round(total_tokens / elapsed, 1),
                )
            )

        resume_times = []
        middle = str(args.tokens // 2)
        for i in range(args.resume_requests):
            stream_id = f"bench-{args.concurrency[0]}-{i % args.concurrency[0]:05d}"
            started = time.perf_counter()
            async with http.stream(
                "GET",
                "/chat/streaming",
                params={"stream_id": stream_id},
                headers={"Last-Event-ID": middle},
            ) as response:
                async for event in iter_sse(response):
                    if event.event in ("done", "error"):
                        break
            resume_times.append(time.perf_counter() - started)
        report.resume = Summary.of(resume_times)


def _markdown(report: Report) -> str:
    lines = [
        "# ChatWait streaming benchmark",
        "",
        f"ChatWait {report.version}; {report.machine['cpus']} CPUs; Python "
        f"{report.machine['python']}; {report.machine['platform']}.",
        f"Parameters: `{json.dumps(report.parameters)}`. The upstream emulator answers "
        "instantly, so these numbers are ChatWait's overhead (API + Agents SDK + store + SSE); "
        "the whole answer is available at once, so first token and done are close together.",
        "",
        "## POST /chat/wait",
        "",
        "| requests | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|",
    ]
    if report.wait:
        w = report.wait
        lines.append(f"| {w.count} | {w.p50_ms} | {w.p95_ms} | {w.max_ms} |")
    lines += [
        "",
        "## Concurrent streams",
        "",
        "| streams | tokens each | start p50/p95 ms | first token p50/p95 ms "
        "| done p50/p95 ms | tokens/s (all) |",
        "|---|---|---|---|---|---|",
    ]
    for s in report.streams:
        lines.append(
            f"| {s.concurrency} | {s.tokens_per_stream} "
            f"| {s.to_start.p50_ms} / {s.to_start.p95_ms} "
            f"| {s.to_first_token.p50_ms} / {s.to_first_token.p95_ms} "
            f"| {s.to_done.p50_ms} / {s.to_done.p95_ms} | {s.tokens_per_second} |"
        )
    if report.resume:
        r = report.resume
        lines += [
            "",
            "## Resume a finished stream from its middle",
            "",
            "| resumes | p50 ms | p95 ms | max ms |",
            "|---|---|---|---|",
            f"| {r.count} | {r.p50_ms} | {r.p95_ms} | {r.max_ms} |",
        ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> Report:
    report = Report(
        version=__version__,
        machine={
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        parameters={
            "tokens": args.tokens,
            "concurrency": args.concurrency,
            "wait_requests": args.wait_requests,
            "resume_requests": args.resume_requests,
        },
    )
    upstream_port, api_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        upstream = ServerProcess(
            [
                sys.executable,
                "-m",
                "tests.support.upstream_emulator",
                "--port",
                str(upstream_port),
                "--chunks",
                str(args.tokens),
            ],
            port=upstream_port,
            health_path="/v1/models",
        )
        env = api_environment(
            Path(tmp),
            LLM_BASE_URL=f"http://127.0.0.1:{upstream_port}/v1",
            LLM_API_KEY="bench-key",
            LLM_MODEL="emulated-model",
            LOG_LEVEL="WARNING",
        )
        api = ServerProcess(
            chatwait_api_command("--host", "127.0.0.1", "--port", str(api_port)),
            port=api_port,
            env=env,
        )
        with upstream, api:
            asyncio.run(_measure(api.url, args, report))
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tokens", type=int, default=200, help="tokens per answer")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--wait-requests", type=int, default=30)
    parser.add_argument("--resume-requests", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("reports"))
    parser.add_argument("--quick", action="store_true", help="tiny run (for the smoke test)")
    args = parser.parse_args(argv)
    if args.quick:
        args.tokens, args.concurrency = 20, [1, 3]
        args.wait_requests = args.resume_requests = 3
    report = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "stream_benchmark.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    (args.out / "stream_benchmark.md").write_text(_markdown(report))
    print(_markdown(report))


if __name__ == "__main__":
    main()
