"""The ChatWait backend served over real HTTP for tests.

`backend_settings()` builds an isolated Settings (no `.env`, a temporary SQLite file,
short intervals), and `serve_backend()` runs `create_app(settings)` with uvicorn on a
free port in a thread, via ServerThread.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from chatwait.app import create_app
from chatwait.config import Settings
from tests.support.servers import ServerThread


def backend_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test backend: offline model unless `llm_base_url` is given."""
    values: dict[str, Any] = {
        # Explicit Nones beat the environment: a developer's key must not reach tests.
        "gemini_api_key": None,
        "llm_api_key": None,
        "llm_base_url": None,
        "chatwait_api_keys": None,
        "chatwait_api_keys_file": None,
        "session_store_url": f"sqlite:///{tmp_path / 'sessions.db'}",
        "offline_token_delay_seconds": 0.0,
        "sse_ping_seconds": 1.0,
        "llm_timeout_seconds": 5.0,
        "llm_max_retries": 0,
    }
    values.update(overrides)
    # _env_file=None: a developer's .env must not leak into tests.
    return Settings(_env_file=None, **values)


@contextmanager
def serve_backend(settings: Settings) -> Iterator[ServerThread]:
    with ServerThread(create_app(settings)) as server:
        yield server
