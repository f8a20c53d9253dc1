"""Every setting the UI reads, in one class, read once from the environment and `.env`."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_URL = "http://127.0.0.1:8000"


class UISettings(BaseSettings):
    """ChatWait UI configuration; the field names are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    # The backend every request goes to.
    chatwait_api_url: str = DEFAULT_API_URL
    # Connecting is quick on a healthy network; a backend that does not accept a
    # connection in this time is reported as down instead of leaving the user waiting.
    chatwait_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    # A wait-mode answer arrives in one piece, so the read timeout covers a whole run.
    chatwait_wait_timeout_seconds: float = Field(default=300.0, gt=0)
    # The backend pings an idle stream every SSE_PING_SECONDS (15 s by default); a
    # stream silent for longer than this is treated as a dead connection and resumed.
    chatwait_stream_idle_timeout_seconds: float = Field(default=45.0, gt=0)
    # Reconnects after a broken stream, then the user is told the answer was lost.
    chatwait_resume_attempts: int = Field(default=5, ge=0, le=50)
    # Where the UI keeps the CHAINLIT_AUTH_SECRET it made, when that is not set.
    chatwait_ui_secret_file: Path = Path("data/chainlit-auth-secret")

    @field_validator("chatwait_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("CHATWAIT_API_URL must start with http:// or https://")
        return value
