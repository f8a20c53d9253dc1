"""`make run`'s launcher: API and UI up together, both addresses printed, and one
Ctrl-C stops both."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.servers import free_port
from tests.support.ui import ui_environment

LAUNCHER = Path(__file__).parents[3] / "scripts" / "run_chatwait.py"


def read_until(process: subprocess.Popen[str], marker: str, timeout: float) -> str:
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"{marker!r} not printed in {timeout} s:\n{''.join(seen)[-3000:]}")


def test_make_run_starts_api_and_ui_and_ctrl_c_stops_both(tmp_path: Path) -> None:
    api_port, ui_port = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, str(LAUNCHER), "--api-port", str(api_port), "--ui-port", str(ui_port)],
        env=ui_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = read_until(process, "Press Ctrl-C to stop both.", timeout=60)
        assert f"Chat UI:  http://127.0.0.1:{ui_port}" in output
        assert f"API:      http://127.0.0.1:{api_port}" in output
        assert "offline demo model" in output
        assert httpx.get(f"http://127.0.0.1:{api_port}/health").status_code == 200
        assert "<title>ChatWait</title>" in httpx.get(f"http://127.0.0.1:{ui_port}/").text

        process.send_signal(signal.SIGINT)

        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stdout is not None
        process.stdout.close()
    for port in (api_port, ui_port):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
        except httpx.ConnectError:
            continue
        raise AssertionError(f"port {port} still answers after Ctrl-C")
