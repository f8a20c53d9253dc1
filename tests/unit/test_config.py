"""Settings: names, defaults, provider detection, validation, secrecy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from chatwait.config import GEMINI_BASE_URL, Settings


def settings(**values: Any) -> Settings:
    values.setdefault("gemini_api_key", None)
    values.setdefault("llm_api_key", None)
    values.setdefault("llm_base_url", None)
    return Settings(_env_file=None, **values)


def test_no_key_and_no_base_url_runs_offline() -> None:
    assert settings().provider == "offline"
    assert settings().model_name == "offline-demo"


def test_gemini_key_with_default_url_is_gemini() -> None:
    configured = settings(gemini_api_key="g-key")

    assert configured.provider == "gemini"
    assert configured.base_url == GEMINI_BASE_URL
    assert configured.model_name == "gemini-2.5-flash"


def test_custom_base_url_is_openai_compatible_even_without_key() -> None:
    assert settings(llm_base_url="http://localhost:11434/v1").provider == "openai-compatible"


def test_llm_api_key_wins_over_gemini_api_key() -> None:
    assert settings(gemini_api_key="g-key", llm_api_key="l-key").api_key == "l-key"


def test_blank_base_url_counts_as_unset() -> None:
    assert settings(llm_base_url="  ").llm_base_url is None


def test_environment_variables_use_the_documented_names(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "GEMINI_API_KEY": "g",
        "LLM_MODEL": "some-model",
        "LLM_TIMEOUT_SECONDS": "12.5",
        "AGENT_INSTRUCTIONS": "Be brief.",
        "CORS_ORIGINS": "http://a.test,http://b.test",
        "STREAM_TTL_SECONDS": "30",
        "STREAM_ABANDON_SECONDS": "5",
        "SESSION_STORE_URL": "sqlite:///tmp.db",
        "MAX_MESSAGE_CHARS": "100",
        "MAX_BODY_BYTES": "2048",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LLM_API_KEY", raising=False)
    monkeypatch.delenv("LLM_BASE_URL", raising=False)

    loaded = Settings(_env_file=None)

    assert loaded.api_key == "g"
    assert loaded.llm_model == "some-model"
    assert loaded.llm_timeout_seconds == 12.5
    assert loaded.agent_instructions == "Be brief."
    assert loaded.cors_origins == ["http://a.test", "http://b.test"]
    assert (loaded.stream_ttl_seconds, loaded.stream_abandon_seconds) == (30, 5)
    assert (loaded.max_message_chars, loaded.max_body_bytes) == (100, 2048)


def test_cors_origins_accept_a_json_list() -> None:
    assert settings(cors_origins='["http://x.test"]').cors_origins == ["http://x.test"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("stream_store_url", "postgres://x", "STREAM_STORE_URL"),
        ("session_store_url", "mysql://x", "SESSION_STORE_URL"),
        ("llm_base_url", "ftp://x", "LLM_BASE_URL"),
        ("stream_ttl_seconds", -1, "greater than 0"),
        ("max_body_bytes", 0, "greater than 0"),
    ],
)
def test_nonsense_configuration_is_refused_with_a_clear_message(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        settings(**{field: value})


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///data/chatwait.db", Path("data/chatwait.db")),
        ("sqlite:////var/lib/chatwait.db", Path("/var/lib/chatwait.db")),
    ],
)
def test_sqlite_url_gives_relative_or_absolute_path(url: str, path: Path) -> None:
    assert settings(session_store_url=url).sqlite_session_path == path


def test_keys_never_appear_in_the_settings_repr() -> None:
    configured = settings(gemini_api_key="sk-very-secret", llm_api_key="sk-other-secret")

    assert "sk-very-secret" not in repr(configured)
    assert "sk-other-secret" not in str(configured)


def test_env_example_copied_to_env_loads_and_runs_offline() -> None:
    """Regression: the comma-separated CORS_ORIGINS of .env.example crashed Settings.

    pydantic-settings JSON-decodes list fields from env sources, so the documented
    `a,b` form raised a SettingsError at startup for anyone who copied the example.
    """
    example = Path(__file__).parents[2] / ".env.example"

    loaded = Settings(_env_file=example)

    assert loaded.provider == "offline"
    assert loaded.cors_origins == ["http://localhost:8001", "http://127.0.0.1:8001"]
