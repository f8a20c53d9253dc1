"""The ChatWait UI's pieces for tests: its settings, pointed at a test backend, and a
check of the UI process's log."""

from __future__ import annotations

import re
from typing import Any

from chatwait_ui.config import UISettings


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
