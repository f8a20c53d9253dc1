"""`make run`: the API and the chat UI together, until Ctrl-C.

Starts `chatwait-api`, waits until it answers, starts `chatwait-ui` pointed at it,
prints both addresses and which model answers, and stops both when either one exits
or when it gets Ctrl-C (SIGINT) or SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import httpx

# The console scripts of the environment this runs in (uv's .venv), whatever PATH says.
BIN = Path(sys.executable).parent
STARTUP_TIMEOUT_SECONDS = 60.0
# Above the API's SHUTDOWN_GRACE_SECONDS (20): Ctrl-C lets running answers finish.
STOP_TIMEOUT_SECONDS = 25.0


class Stop(Exception):
    """A signal asked us to stop."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def wait_until_up(url: str, process: subprocess.Popen[bytes], name: str) -> httpx.Response:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with status {process.returncode} while starting")
        with contextlib.suppress(httpx.HTTPError):
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return response
        if time.monotonic() > deadline:
            raise SystemExit(f"{name} did not answer {url} within {STARTUP_TIMEOUT_SECONDS:.0f} s")
        time.sleep(0.2)


def describe_model(health: dict[str, str]) -> str:
    if health.get("provider") == "offline":
        return (
            "offline demo model (no GEMINI_API_KEY or LLM_API_KEY set; "
            "put one in .env for real answers)"
        )
    return f"{health.get('model')} via {health.get('provider')}"


def stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--ui-port", type=int, default=8001)
    args = parser.parse_args()
    api_url = f"http://{args.host}:{args.api_port}"
    ui_url = f"http://{args.host}:{args.ui_port}"

    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        # Each child gets its own process group, so stopping one stops its workers too.
        api = subprocess.Popen(
            [str(BIN / "chatwait-api"), "--host", args.host, "--port", str(args.api_port)],
            start_new_session=True,
        )
        processes.append(api)
        health = wait_until_up(f"{api_url}/health", api, "chatwait-api").json()
        ui_command = [str(BIN / "chatwait-ui"), "--host", args.host, "--port", str(args.ui_port)]
        ui = subprocess.Popen(
            [*ui_command, "--api-url", api_url],
            start_new_session=True,
        )
        processes.append(ui)
        wait_until_up(ui_url, ui, "chatwait-ui")
        print(
            "\nChatWait is running\n"
            f"  Chat UI:  {ui_url}\n"
            f"  API:      {api_url}  (docs: {api_url}/docs)\n"
            f"  Model:    {describe_model(health)}\n"
            "Press Ctrl-C to stop both.\n",
            flush=True,
        )
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        exited = next(process for process in processes if process.poll() is not None)
        name = "chatwait-api" if exited is api else "chatwait-ui"
        print(f"{name} exited with status {exited.returncode}; stopping both", flush=True)
        return exited.returncode or 1
    except Stop:
        print("\nStopping ChatWait…", flush=True)
        return 0
    finally:
        # One Ctrl-C often arrives twice (the terminal signals uv and us; uv forwards
        # it): the shutdown already under way must not be interrupted.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all(processes)


if __name__ == "__main__":
    sys.exit(main())
