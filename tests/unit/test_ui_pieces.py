"""Small pure pieces of the chat UI: the mode setting, the page rewrite, the settings."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from httpx_sse import ServerSentEvent
from pydantic import ValidationError

from chatwait import exceptions
from chatwait.api import errors as api_errors
from chatwait_ui.client import BackendError
from chatwait_ui.client.errors import ConnectionBroken
from chatwait_ui.client.events import parse_stream_event
from chatwait_ui.config import UISettings
from chatwait_ui.error_messages import HUMAN_MESSAGES
from chatwait_ui.modes.mode_selector import ResponseMode, selected_mode
from chatwait_ui.offline_page import set_social_preview, strip_external_links


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


def test_social_preview_points_at_this_page_and_chatwaits_image() -> None:
    chainlit_tags = (
        b"<title>ChatWait</title>\n"
        b'    <meta property="og:title" content="ChatWait">\n'
        b'    <meta property="og:description" content="ChatWait: chat &amp; wait.">\n'
        b'    <meta property="og:image" content="https://chainlit-cloud.s3.amazonaws.com/b.png">\n'
        b'    <meta property="og:url" content="https://github.com/Chainlit/chainlit">'
    )

    page = set_social_preview(
        chainlit_tags, page_url="https://chat.example/", base_url="https://chat.example"
    ).decode()

    assert '<meta property="og:url" content="https://chat.example/">' in page
    image = "https://chat.example/public/social-preview.png"
    assert f'<meta property="og:image" content="{image}">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    assert '<meta name="twitter:title" content="ChatWait">' in page
    assert '<meta name="twitter:description" content="ChatWait: chat &amp; wait.">' in page
    assert f'<meta name="twitter:image" content="{image}">' in page
    assert "chainlit" not in page.lower()


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
            "The model provider is rate limiting ChatWait right now. Try again in 3 seconds.",
        ),
        (
            {"code": "upstream_rate_limited", "retry_after": "not a number"},
            None,
            "The model provider is rate limiting ChatWait right now.",
        ),
        (
            {"code": "rate_limited"},
            "1",
            "You are sending messages faster than this ChatWait server allows. "
            "Try again in 1 second.",
        ),
        (
            {"code": "too_many_runs", "details": {"retry_after": 12}},
            None,
            "You already have as many answers running as this ChatWait server allows. "
            "Wait for one to finish, or stop it. Try again in 12 seconds.",
        ),
        (
            {"code": "quota_exceeded"},
            "3600",
            "You have used up your ChatWait quota for now. Try again in 3600 seconds.",
        ),
        (
            {"code": "server_busy"},
            "5",
            "The ChatWait server is too busy to answer right now. Try again in 5 seconds.",
        ),
        (
            {"code": "unauthorized", "message": "The API key was revoked."},
            None,
            "Your ChatWait key is no longer accepted. Please log out and log in again.",
        ),
        (
            {"code": "upstream_rejected"},
            None,
            "The model refused this request, for example because the conversation has grown "
            "too long for it. Start a new chat or send a shorter message.",
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


def _backend_error_codes() -> set[str]:
    """Every `code` the backend can send: its error classes, and the codes it gives
    Starlette's own HTTP errors (unknown route, method)."""
    codes: set[str] = set()
    pending: list[type[exceptions.ChatWaitError]] = [exceptions.ChatWaitError]
    while pending:
        error_class = pending.pop()
        codes.add(error_class.code)
        pending.extend(error_class.__subclasses__())
    return codes | set(api_errors._HTTP_CODES.values())


def _documented_error_codes() -> set[str]:
    """The codes in the first column of docs/api.md's error tables."""
    api_doc = (Path(__file__).parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    errors_section = api_doc.split("\n## Errors", 1)[1].split("\n## ", 1)[0]
    codes: set[str] = set()
    for line in errors_section.splitlines():
        if line.startswith("|"):
            first_cell = line.split("|")[1]
            codes.update(re.findall(r"`([a-z_]+)`", first_cell))
    return codes


def test_every_backend_error_code_has_a_ui_sentence() -> None:
    """The three lists (backend classes, docs/api.md, UI sentences) cannot drift apart:
    a new backend code fails this test until the UI can say what it means."""
    missing = _backend_error_codes() - HUMAN_MESSAGES.keys()
    assert not missing, f"add a sentence to chatwait_ui/error_messages.py for: {sorted(missing)}"


def test_every_backend_error_code_has_a_row_in_the_api_docs() -> None:
    missing = _backend_error_codes() - _documented_error_codes()
    assert not missing, f"add a row to docs/api.md's error tables for: {sorted(missing)}"


@pytest.mark.parametrize(
    "code",
    [
        "rate_limited",
        "too_many_runs",
        "quota_exceeded",
        "unauthorized",
        "server_busy",
        "server_shutting_down",
        "upstream_rejected",
        "stream_id_in_use",
        "origin_not_allowed",
    ],
)
def test_codes_of_the_multi_user_backend_have_ui_sentences(code: str) -> None:
    assert str(BackendError.from_payload({"code": code})) == HUMAN_MESSAGES[code]


def test_the_api_never_imports_chainlit_or_the_ui() -> None:
    """An API-only install (`pip install chatwait`, no `[ui]`) has no Chainlit: building
    the API must not import it, nor the UI package."""
    program = (
        "import sys\n"
        "from chatwait.app import create_app\n"
        "from chatwait.cli import main\n"
        "from chatwait.config import Settings\n"
        "create_app(Settings(_env_file=None))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('chainlit', 'chatwait_ui')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=60
    )

    assert result.stdout.strip() == "[]"


def test_no_api_module_imports_a_ui_library() -> None:
    """httpx-sse is in an API-only install anyway (the Agents SDK's `mcp` needs it), so
    the runtime check above cannot see an API import of it; this one reads the source."""
    ui_only = {"chainlit", "httpx_sse", "chatwait_ui"}
    api_source = Path(__file__).parents[2] / "backend" / "src" / "chatwait"
    offenders: list[str] = []
    for module in sorted(api_source.rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{module.name}: {n}" for n in names if n.split(".")[0] in ui_only]
    assert offenders == []


def test_a_streamed_server_shutting_down_is_told_not_resumed() -> None:
    """The stream's stored end is that error: resuming would replay it until the UI gave
    up, so the person is told to ask again (a 503 on opening is still retried)."""
    shutting = ServerSentEvent(
        event="error",
        data='{"code":"server_shutting_down","message":"stopping","retryable":true}',
    )
    store_down = ServerSentEvent(
        event="error",
        data='{"code":"store_unavailable","message":"down","retryable":true}',
    )

    with pytest.raises(BackendError) as told:
        parse_stream_event(shutting, resumed=False)
    with pytest.raises(ConnectionBroken):
        parse_stream_event(store_down, resumed=False)

    assert not isinstance(told.value, ConnectionBroken)
    assert "restarting" in str(told.value)
