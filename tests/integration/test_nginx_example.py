"""deploy/nginx.conf in front of a real `chatwait-api`: the documented proxy settings work.

Streams pass through unbuffered and complete, and a half-sent request (slowloris) is
closed by nginx after client_header_timeout, while the same half request sent straight
to uvicorn is still open then (uvicorn has no header-read timeout).
"""

from __future__ import annotations

import re
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.servers import ServerProcess, api_environment, chatwait_api_command, free_port
from tests.support.sse import collect_sse, token_texts
from tests.support.upstream_emulator import Scenario, UpstreamEmulator

EXAMPLE = Path(__file__).parents[2] / "deploy" / "nginx.conf"


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        pytest.fail("nginx not found: `make test` installs it (apt-get install nginx-light)")
    return found


def header_timeout_seconds() -> float:
    match = re.search(r"client_header_timeout (\d+)s;", EXAMPLE.read_text())
    assert match is not None
    return float(match.group(1))


@pytest.fixture
def api(tmp_path: Path, upstream_base_url: str) -> Iterator[ServerProcess]:
    port = free_port()
    env = api_environment(
        tmp_path, LLM_BASE_URL=upstream_base_url, LLM_API_KEY="sk-nginx", LLM_MODEL="emulated-model"
    )
    command = chatwait_api_command("--host", "127.0.0.1", "--port", str(port))
    with ServerProcess(command, port=port, env=env) as server:
        yield server


@pytest.fixture
def nginx(tmp_path: Path, api: ServerProcess) -> Iterator[ServerProcess]:
    """nginx with the example config, only its addresses and file paths changed."""
    port = free_port()
    config = EXAMPLE.read_text()
    config = config.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{api.port};")
    config = config.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    (prefix / "nginx.conf").write_text(config)
    command = [
        nginx_binary(),
        "-p",
        str(prefix),
        "-c",
        str(prefix / "nginx.conf"),
        "-e",
        str(prefix / "error.log"),
        "-g",
        f"daemon off; pid {prefix / 'nginx.pid'};",
    ]
    with ServerProcess(command, port=port) as server:
        yield server


def half_request(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: example\r\n")  # no blank line: never ends
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """True when the server closed the connection (EOF, perhaps after a 408)."""
    sock.setblocking(False)
    try:
        data = sock.recv(4096)
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    return data == b"" or data.startswith(b"HTTP/1.1 408")


async def test_streams_pass_through_the_example_config(
    nginx: ServerProcess, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=[f"w{i} " for i in range(20)], chunk_delay=0.02))
    async with httpx.AsyncClient(base_url=nginx.url, timeout=30) as http:
        response, events = await collect_sse(
            http, "GET", "/chat/streaming", params={"message": "hi", "stream_id": "nginx-0001"}
        )
    assert response.status_code == 200
    assert token_texts(events) == [f"w{i} " for i in range(20)]
    assert events[-1].event == "done"


def test_nginx_closes_a_half_sent_request_uvicorn_would_keep(
    nginx: ServerProcess, api: ServerProcess
) -> None:
    through_nginx = half_request(nginx.port)
    direct = half_request(api.port)
    try:
        deadline = time.monotonic() + header_timeout_seconds() + 10
        while not closed_by_server(through_nginx):
            assert time.monotonic() < deadline, "nginx kept the half request open"
            time.sleep(0.2)
        # uvicorn alone still holds its half request, after the same time.
        assert not closed_by_server(direct)
    finally:
        through_nginx.close()
        direct.close()
