"""The ChatWait UI's pieces for tests: its settings, pointed at a test backend, and a
check of the UI process's log."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from chatwait_ui.config import UISettings
from tests.support.servers import (
    ServerProcess,
    api_environment,
    chatwait_ui_command,
    free_port,
)


def ui_settings(api_url: str, **overrides: Any) -> UISettings:
    """UI settings for tests: short timeouts, and no `.env` from the developer."""
    values: dict[str, Any] = {
        "chatwait_api_url": api_url,
        "chatwait_connect_timeout_seconds": 2.0,
        "chatwait_wait_timeout_seconds": 20.0,
        "chatwait_stream_idle_timeout_seconds": 5.0,
        "chatwait_resume_attempts": 3,
    }
    values.update(overrides)
    return UISettings(_env_file=None, **values)


# What a UI process must never print: an exception it did not handle (Python prints
# "Traceback"; "Exception ignored in" is how a failing async-generator cleanup shows up)
# and asyncio/anyio's complaints about a stream closed in the wrong task.
_LOG_PROBLEM = re.compile(r"Traceback|RuntimeError|Exception ignored in|cancel scope")


def assert_clean_ui_log(log: str) -> None:
    """Fail with the offending lines when the UI process logged an error or traceback."""
    problems = [line for line in log.splitlines() if _LOG_PROBLEM.search(line)]
    assert not problems, "the UI process logged errors:\n" + log[-4000:]


def ui_environment(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment for a `chatwait-ui` child process: no login secret of the
    developer's, and the one it makes kept in `data_dir` (so a restart keeps it)."""
    env = api_environment(data_dir, **settings)
    env.pop("CHAINLIT_AUTH_SECRET", None)
    env["CHATWAIT_UI_SECRET_FILE"] = str(data_dir / "chainlit-auth-secret")
    return env


class RestartableUI:
    """`chatwait-ui` on one port, stopped and started again as a test needs; every
    run's log is checked for tracebacks at the end."""

    def __init__(self, api_url: str, data_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._command = chatwait_ui_command("--port", str(self.port), "--api-url", api_url)
        self._env = ui_environment(data_dir)
        self._runs: list[ServerProcess] = []
        self._logs: list[str] = []

    @property
    def current(self) -> ServerProcess:
        return self._runs[-1]

    def start(self) -> None:
        self._runs.append(
            ServerProcess(self._command, port=self.port, env=self._env, health_path="/")
        )
        self.current.start()

    def stop(self) -> None:
        self.current.stop()
        self._logs.append(self.current.read_logs())
        self.current.__exit__(None, None, None)

    def restart(self) -> None:
        self.stop()
        self.start()

    def logs(self) -> str:
        """What every run printed (the current one's so far, when it still runs)."""
        running = self._runs and len(self._logs) < len(self._runs)
        return "".join(self._logs) + (self.current.read_logs() if running else "")
