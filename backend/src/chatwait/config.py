"""Every setting ChatWait reads, in one class, read once from the environment and `.env`.

Tests build their own `Settings(...)` and hand it to `create_app(settings)`; nothing else
reads `os.environ`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

GEMINI_BASE_URL = "https://generativelanguage.googleapis.com/v1beta/openai/"
GEMINI_HOST = "generativelanguage.googleapis.com"
DEFAULT_INSTRUCTIONS = (
    "You are ChatWait, a helpful, friendly assistant. Answer clearly and concisely, "
    "use Markdown when it helps readability, and say so when you are not sure."
)

Provider = Literal["offline", "gemini", "openai-compatible"]


class Settings(BaseSettings):
    """ChatWait configuration; the field names are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    # --- model -----------------------------------------------------------------------
    gemini_api_key: SecretStr | None = None
    llm_api_key: SecretStr | None = None
    # None means "not configured": Gemini's URL is used when a key is set, otherwise the
    # offline demo model runs.
    llm_base_url: str | None = None
    llm_model: str = "gemini-2.5-flash"
    llm_timeout_seconds: float = Field(default=60.0, gt=0)
    # ChatWait does not retry upstream calls by default: the client sees a typed error
    # (with Retry-After and `retryable`) within LLM_TIMEOUT_SECONDS and decides itself.
    # The openai client's own default (2 retries) silently triples waiting time.
    llm_max_retries: int = Field(default=0, ge=0, le=10)
    agent_instructions: str = DEFAULT_INSTRUCTIONS
    offline_token_delay_seconds: float = Field(default=0.04, ge=0, le=5)
    # Earlier turns sent upstream with each message, newest whole turns first, estimated
    # at 4 characters per token. 8000 keeps several pages of context (plenty for a chat)
    # while a message's input cost stays bounded however long the conversation grows;
    # every model ChatWait targets accepts far more. 0 sends only the new message. The
    # stored history is never trimmed.
    history_max_tokens: int = Field(default=8000, ge=0)

    # The longest a whole run (wait or stream) may take before it ends with
    # `upstream_timeout`; LLM_TIMEOUT_SECONDS only bounds each wait for the provider, so a
    # provider dribbling chunks could otherwise hold a run (and its cost) for ever. 300 s
    # is far above a normal answer (seconds to a minute or two). 0 or unset: no limit.
    max_run_seconds: float | None = Field(default=300.0, ge=0)

    # --- HTTP ------------------------------------------------------------------------
    # NoDecode: pydantic-settings would JSON-decode a list from the environment and
    # fail on the comma-separated form that .env.example documents.
    cors_origins: Annotated[list[str], NoDecode] = [
        "http://localhost:8001",
        "http://127.0.0.1:8001",
    ]
    max_message_chars: int = Field(default=16_000, gt=0)
    max_body_bytes: int = Field(default=64 * 1024, gt=0)

    # --- streams and conversations ---------------------------------------------------
    stream_ttl_seconds: float = Field(default=600.0, gt=0)
    stream_abandon_seconds: float = Field(default=60.0, gt=0)
    # A producer renews its lease in the store a few times per period; viewers report
    # `producer_lost` when it lapses (its process died).
    stream_producer_lease_seconds: float = Field(default=15.0, gt=0)
    stream_store_url: str = "memory://"
    # Conversations in Redis (history and their list entry) expire this many days after
    # their last turn; unset: kept until deleted. SQLite keeps them until deleted.
    conversation_ttl_days: float | None = Field(default=None, gt=0)
    session_store_url: str = "sqlite:///data/chatwait.db"
    sse_ping_seconds: float = Field(default=15.0, gt=0)
    sse_retry_ms: int = Field(default=2000, ge=0)

    # --- per process: admission, slow clients, shutdown -----------------------------
    # Off (unset) by default. Over either, a new request gets 503 `server_busy` with
    # Retry-After, before the per-principal limits and before any model call. Active runs
    # are wait runs plus streams this process produces; open streams are its SSE
    # responses (every viewer, resumes included).
    max_active_runs: int | None = Field(default=None, gt=0)
    max_open_streams: int | None = Field(default=None, gt=0)
    # A viewer whose connection accepts no bytes for this long (it stopped reading, its
    # buffers are full) is dropped (within a quarter more); its client resumes with
    # Last-Event-ID. With that quarter, below STREAM_ABANDON_SECONDS, so a stuck viewer
    # is dropped before its run is abandoned.
    sse_send_timeout_seconds: float = Field(default=30.0, gt=0)
    # On SIGTERM: refuse new runs, let running ones finish for up to this long, then end
    # the remaining streams with `server_shutting_down` (their tokens stay stored).
    shutdown_grace_seconds: float = Field(default=20.0, ge=0)

    # --- clients: identity and per-principal limits ---------------------------------
    # `name:key,name:key`; with no keys every request is the principal `local`.
    chatwait_api_keys: SecretStr | None = None
    # One `name:key` or `name:sha256:<hex>` per line, `#` comments.
    chatwait_api_keys_file: Path | None = None
    # Mixed into the signing key of stream tickets (chatwait/tickets.py); optional, the
    # same on every instance. Changing it revokes every outstanding ticket.
    chatwait_ticket_secret: SecretStr | None = None
    # Serve anonymous clients on a non-loopback interface (protected mode off).
    chatwait_allow_anonymous: bool = False
    # Per principal; None (unset) turns a limit off.
    rate_limit_per_minute: int | None = Field(default=None, gt=0)
    max_concurrent_runs: int | None = Field(default=None, gt=0)
    daily_token_budget: int | None = Field(default=None, gt=0)

    log_level: str = "INFO"
    # "json": one JSON object per line with the request's ids, for log shippers.
    log_format: Literal["text", "json"] = "text"
    # /metrics without an API key. Off by default: its numbers describe the service's
    # load and failures. (Until API keys exist, /metrics is open either way.)
    metrics_public: bool = False
    # Agents SDK traces go to OpenAI's dashboard, which needs an OpenAI key of its own;
    # without one tracing stays off (with a Gemini key it would only log 401s).
    openai_tracing_api_key: SecretStr | None = None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        # Accept "a,b" as well as a JSON list, so .env files stay readable.
        if isinstance(value, str):
            if value.strip().startswith("["):
                return json.loads(value)
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator(
        "llm_base_url",
        "chatwait_api_keys_file",
        "rate_limit_per_minute",
        "max_concurrent_runs",
        "daily_token_budget",
        "max_active_runs",
        "max_open_streams",
        "conversation_ttl_days",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _check_urls(self) -> Settings:
        if self.llm_base_url is not None and urlsplit(self.llm_base_url).scheme not in (
            "http",
            "https",
        ):
            raise ValueError("LLM_BASE_URL must be an http:// or https:// URL")
        if not re.match(r"^(memory|redis|rediss)://", self.stream_store_url):
            raise ValueError("STREAM_STORE_URL must be memory:// or redis://host:port/db")
        if not re.match(r"^(sqlite|redis|rediss)://", self.session_store_url):
            raise ValueError(
                "SESSION_STORE_URL must be sqlite:///path/to/file.db or redis://host:port/db"
            )
        return self

    # --- derived values --------------------------------------------------------------
    @property
    def api_key(self) -> str | None:
        """The key sent upstream: LLM_API_KEY wins over GEMINI_API_KEY."""
        for secret in (self.llm_api_key, self.gemini_api_key):
            if secret is not None and secret.get_secret_value().strip():
                return secret.get_secret_value().strip()
        return None

    @property
    def provider(self) -> Provider:
        if self.api_key is None and self.llm_base_url is None:
            return "offline"
        if urlsplit(self.base_url).hostname == GEMINI_HOST:
            return "gemini"
        return "openai-compatible"

    @property
    def base_url(self) -> str:
        return self.llm_base_url or GEMINI_BASE_URL

    @property
    def model_name(self) -> str:
        """The model name reported to clients (the offline model has its own name)."""
        return "offline-demo" if self.provider == "offline" else self.llm_model

    @property
    def limits_store_url(self) -> str:
        """Where per-principal limits and usage live: shared Redis when streams are."""
        return self.stream_store_url

    @property
    def sqlite_session_path(self) -> Path:
        """The SQLite file of SESSION_STORE_URL: `sqlite:///relative.db`, `sqlite:////abs.db`."""
        return Path(self.session_store_url.removeprefix("sqlite://").removeprefix("/"))
