"""The ChatWait UI's pieces for tests: its settings, pointed at a test backend."""

from __future__ import annotations

from typing import Any

from frontend.config import UISettings


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
