"""The upstream emulator for the benchmark: each request says what answer it wants.

Runs `tests.support.upstream_emulator` unchanged, except that the scenario comes from
the user's message, e.g. `bench tokens=100 delay=0.06`, so one emulator process serves
every scenario of the run (short answers, a long one, slow ones) to both servers.

    python -m benchmarks.emulator --port 8900
"""

from __future__ import annotations

import argparse
import re

import uvicorn

from tests.support.upstream_emulator import RecordedRequest, Scenario, UpstreamEmulator

_PARAMETER = re.compile(r"(tokens|delay)=([0-9.]+)")


def bench_message(tokens: int, delay: float = 0.0) -> str:
    """The message that asks the emulator for `tokens` chunks, `delay` seconds apart."""
    return f"bench tokens={tokens} delay={delay}"


def scenario_for(message: str) -> Scenario:
    """The answer a benchmark message asks for (20 instant tokens by default)."""
    parameters = dict(_PARAMETER.findall(message))
    tokens = int(parameters.get("tokens", 20))
    return Scenario(
        chunks=[f"word{i} " for i in range(tokens)],
        chunk_delay=float(parameters.get("delay", 0)),
    )


class BenchEmulator(UpstreamEmulator):
    """Answers from the last user message; records nothing (a long run would grow)."""

    def _next(self, request: RecordedRequest) -> Scenario:
        for message in reversed(request.body.get("messages", [])):
            if message.get("role") == "user":
                return scenario_for(str(message.get("content") or ""))
        return scenario_for("")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the benchmark's upstream emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    args = parser.parse_args(argv)
    uvicorn.run(
        BenchEmulator().app(), host=args.host, port=args.port, log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
