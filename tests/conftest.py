"""Fixtures every test layer shares: the upstream emulator and the network guard."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from agents import set_tracing_disabled

from tests.support.redis_server import RedisServer
from tests.support.servers import ServerThread
from tests.support.upstream_emulator import UpstreamEmulator

_GUARD_MESSAGE = (
    "test tried to reach {host!r}: tests talk only to servers on this machine. "
    "Use the `upstream` fixture (the OpenAI-compatible emulator) instead of a real API."
)


def _is_local(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host)
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _only_local_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to open a connection beyond loopback (like Polar's guard)."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            raise ConnectionRefusedError(_GUARD_MESSAGE.format(host=address[0]))

    def guarded_connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        real_connect(sock, address)

    def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_local(host):
            raise socket.gaierror(_GUARD_MESSAGE.format(host=host))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)


@pytest.fixture(autouse=True, scope="session")
def _no_agents_tracing() -> None:
    """Tests never export Agents SDK traces (there is nowhere to send them)."""
    set_tracing_disabled(True)


@pytest.fixture(scope="session")
def upstream_server() -> Iterator[tuple[ServerThread, UpstreamEmulator]]:
    emulator = UpstreamEmulator()
    with ServerThread(emulator.app()) as server:
        yield server, emulator


@pytest.fixture
def upstream(upstream_server: tuple[ServerThread, UpstreamEmulator]) -> UpstreamEmulator:
    """The emulator's state, reset for this test."""
    emulator = upstream_server[1]
    emulator.reset()
    return emulator


@pytest.fixture
def upstream_base_url(upstream_server: tuple[ServerThread, UpstreamEmulator]) -> str:
    return f"{upstream_server[0].url}/v1"


@pytest.fixture(scope="session")
def redis_server_session() -> Iterator[RedisServer]:
    try:
        server = RedisServer()
    except RuntimeError as missing:
        pytest.fail(str(missing))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_server(redis_server_session: RedisServer) -> Iterator[RedisServer]:
    """A running, empty Redis; a test that stopped it gets it started again afterwards."""
    redis_server_session.flush()
    yield redis_server_session
    if not redis_server_session.running:
        redis_server_session.start()
