"""Small pure pieces of the chat UI: the mode setting, the page rewrite, the settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from frontend.client import BackendError
from frontend.config import UISettings
from frontend.modes.mode_selector import ResponseMode, selected_mode
from frontend.offline_page import strip_external_links


@pytest.mark.parametrize(
    ("chat_settings", "mode"),
    [
        (None, ResponseMode.STREAMING),
        ({}, ResponseMode.STREAMING),
        ({"response_mode": "Wait"}, ResponseMode.WAIT),
        ({"response_mode": "Streaming"}, ResponseMode.STREAMING),
        ({"response_mode": "nonsense"}, ResponseMode.STREAMING),
    ],
)
def test_selected_mode_defaults_to_streaming(
    chat_settings: dict[str, str] | None, mode: ResponseMode
) -> None:
    assert selected_mode(chat_settings) is mode


def test_page_rewrite_drops_external_links_and_keeps_local_ones() -> None:
    html = (
        b'<link rel="preconnect" href="https://fonts.googleapis.com" />\n'
        b'<link\n  href="https://fonts.googleapis.com/css2?family=Inter" rel="stylesheet"\n/>\n'
        b'<link rel="stylesheet" href="//cdn.example.com/x.css">'
        b'<link rel="stylesheet" crossorigin href="/assets/index.css">'
        b'<link rel="icon" href="/favicon" />'
    )

    assert strip_external_links(html) == (
        b'<link rel="stylesheet" crossorigin href="/assets/index.css">'
        b'<link rel="icon" href="/favicon" />'
    )


def test_api_url_must_be_http_and_loses_its_trailing_slash() -> None:
    settings = UISettings(_env_file=None, chatwait_api_url="http://api:8000/")
    assert settings.chatwait_api_url == "http://api:8000"
    with pytest.raises(ValidationError, match="must start with http"):
        UISettings(_env_file=None, chatwait_api_url="api:8000")


@pytest.mark.parametrize(
    ("payload", "header", "shown"),
    [
        (
            {"code": "upstream_rate_limited", "details": {"retry_after": "30"}},
            None,
            "The model provider is rate limiting ChatWait right now. Try again in 30 seconds.",
        ),
        (
            {"code": "upstream_rate_limited"},
            "2.5",
            "The model provider is rate limiting ChatWait right now. Try again in 2.5 seconds.",
        ),
        (
            {"code": "upstream_rate_limited", "retry_after": "not a number"},
            None,
            "The model provider is rate limiting ChatWait right now.",
        ),
        (
            {"code": "brand_new_code", "message": "Something new."},
            None,
            "The backend refused the request (brand_new_code): Something new.",
        ),
    ],
)
def test_backend_errors_read_as_sentences(
    payload: dict[str, object], header: str | None, shown: str
) -> None:
    assert str(BackendError.from_payload(payload, retry_after_header=header)) == shown


def test_env_example_configures_the_ui_with_its_defaults() -> None:
    example = Path(__file__).parents[2] / ".env.example"

    assert UISettings(_env_file=example) == UISettings(_env_file=None)
