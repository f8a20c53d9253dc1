"""Real HTTP servers for tests: an ASGI app in a uvicorn thread, or a whole process.

Like httpx's own test suite, the servers bind 127.0.0.1 on a port the OS picks, so
tests run in parallel with anything else on the machine.
"""

from __future__ import annotations

import abc
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx
import uvicorn
from starlette.types import ASGIApp

STARTUP_TIMEOUT_SECONDS = 20.0


def free_port() -> int:
    """A port nobody listens on right now (the OS's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def api_environment(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment for a `chatwait-api` child process: this one's, minus any model
    configuration a developer has exported, plus a private SQLite file and `settings`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GEMINI_", "LLM_", "OPENAI_", "CHATWAIT_API_KEYS"))
    }
    env["SESSION_STORE_URL"] = f"sqlite:///{data_dir / 'sessions.db'}"
    env.update(settings)
    return env


def _console_script(name: str, *args: str) -> list[str]:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"the {name} console script is not installed: run `make test`")
    return [path, *args]


def chatwait_api_command(*args: str) -> list[str]:
    """`chatwait-api` with `args`, from the environment the tests run in."""
    return _console_script("chatwait-api", *args)


def chatwait_ui_command(*args: str) -> list[str]:
    """`chatwait-ui` with `args`, from the environment the tests run in."""
    return _console_script("chatwait-ui", *args)


class _Server(abc.ABC):
    """A server a test starts and stops, usable as a context manager."""

    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class ServerThread(_Server):
    """Serve `app` with uvicorn in a daemon thread on a free loopback port."""

    def __init__(self, app: ASGIApp, *, port: int | None = None) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port or 0))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", lifespan="on", access_log=False, timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the test server thread died during startup (see log)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the test server did not start in {STARTUP_TIMEOUT_SECONDS} s")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


class ServerProcess(_Server):
    """Run a server command as a child process and wait until `/health` answers."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        port: int,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        health_path: str = "/health",
    ) -> None:
        self.command = list(command)
        self.port = port
        self.env = dict(env if env is not None else os.environ)
        self.cwd = cwd
        self.health_path = health_path
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept open for the child's lifetime
            prefix="chatwait-server-", suffix=".log", delete=False
        )
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self) -> None:
        self._process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=self.cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() reaches its workers
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"{self.command[0]} exited with {self._process.returncode} during startup:\n"
                    + self.read_logs()[-3000:]
                )
            try:
                if httpx.get(self.url + self.health_path, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(
                    f"{self.command[0]} did not answer {self.health_path} in "
                    f"{STARTUP_TIMEOUT_SECONDS} s:\n" + self.read_logs()[-3000:]
                )
            time.sleep(0.1)

    def _signal_group(self, signum: int) -> None:
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signum)

    def terminate(self) -> None:
        """SIGTERM to the server's own process only, as `kill <pid>` does: a uvicorn
        --workers supervisor then stops its workers itself (signalling the whole group
        would make it respawn workers that exit before it handled its own signal)."""
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._process.pid, signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        """The exit status, once the process has exited (TimeoutExpired after `timeout`)."""
        assert self._process is not None
        return self._process.wait(timeout=timeout)

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM (graceful: running streams get their grace period), then the whole
        group, then SIGKILL after `timeout`."""
        if self._process is None:
            return
        self.terminate()
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGTERM)
            try:
                self._process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, not a shutdown."""
        if self._process is None:
            return
        self._signal_group(signal.SIGKILL)
        self._process.wait(timeout=5)

    def read_logs(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        super().__exit__(exc_type, exc, traceback)
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)
