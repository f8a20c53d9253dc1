"""Input checks: Last-Event-ID, message length, media type, text rules, event rendering."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from starlette.requests import Request

from chatwait.api.validation import (
    ensure_message_length,
    parse_last_event_id,
    require_json_body,
)
from chatwait.exceptions import InvalidLastEventId, UnsupportedMediaType, ValidationFailed
from chatwait.schemas.chat import ChatRequest, StreamRequest
from chatwait.schemas.events import TokenEvent
from chatwait.schemas.text import well_formed
from chatwait.services.streaming_service import render_event, render_token


@pytest.mark.parametrize(
    ("value", "expected"), [("0", 0), ("41", 41), (41, 41), (41.0, 41), (None, None)]
)
def test_last_event_id_accepts_non_negative_integers(
    value: int | str | None, expected: int | None
) -> None:
    assert parse_last_event_id(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        *["-1", "abc", "1.5", " 1", "+1", "", "9" * 17, "1" * 4301],
        *[True, -1, 1.5, -1.0, float("inf"), float("nan"), 2**60],
    ],
)
def test_last_event_id_refuses_anything_else(value: object) -> None:
    with pytest.raises(InvalidLastEventId):
        parse_last_event_id(value)  # type: ignore[arg-type]


def test_message_length_limit_is_inclusive() -> None:
    ensure_message_length("x" * 10, 10)
    with pytest.raises(ValidationFailed) as raised:
        ensure_message_length("x" * 11, 10)

    assert raised.value.details[0]["field"] == "message"


def request_with(content_type: str | None) -> Request:
    headers = [] if content_type is None else [(b"content-type", content_type.encode())]
    return Request({"type": "http", "method": "POST", "headers": headers})


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/merge-patch+json"],
)
async def test_json_media_types_are_accepted(content_type: str) -> None:
    await require_json_body(request_with(content_type))


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data", None])
async def test_other_media_types_are_refused(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType):
        await require_json_body(request_with(content_type))


@pytest.mark.parametrize("message", ["", "   ", "\n\t"])
def test_chat_request_refuses_blank_messages(message: str) -> None:
    with pytest.raises(ValidationError, match="blank"):
        ChatRequest(message=message)


@pytest.mark.parametrize("message", [5, None, ["a"], {"text": "a"}])
def test_chat_request_refuses_non_string_messages(message: object) -> None:
    with pytest.raises(ValidationError):
        ChatRequest.model_validate({"message": message})


@pytest.mark.parametrize(("length", "valid"), [(0, False), (1, True), (128, True), (129, False)])
def test_conversation_id_length_bounds(length: int, valid: bool) -> None:
    body = {"message": "x", "conversation_id": "c" * length}
    if valid:
        assert ChatRequest.model_validate(body).conversation_id == "c" * length
    else:
        with pytest.raises(ValidationError):
            ChatRequest.model_validate(body)


@pytest.mark.parametrize(
    ("stream_id", "valid"),
    [
        ("abcdefgh", True),
        ("abc-DEF_123", True),
        ("s" * 128, True),
        ("short", False),
        ("s" * 129, False),
        ("has space1", False),
        ("ünïcode-id", False),
    ],
)
def test_stream_id_charset_and_length(stream_id: str, valid: bool) -> None:
    if valid:
        assert StreamRequest(stream_id=stream_id).stream_id == stream_id
    else:
        with pytest.raises(ValidationError):
            StreamRequest(stream_id=stream_id)


@pytest.mark.parametrize("text", ["hi \ud800", "\udfff", "a\x00b"])
def test_request_text_refuses_lone_surrogates_and_nul(text: str) -> None:
    """Regression (issue 11): such text reached the model client and the stores."""
    with pytest.raises(ValidationError, match="surrogate"):
        ChatRequest(message=text)
    with pytest.raises(ValidationError, match="surrogate"):
        StreamRequest(message=text)


def test_well_formed_replaces_lone_surrogates_and_joins_split_pairs() -> None:
    assert well_formed("ok é 😀") == "ok é 😀"
    assert well_formed("a\ud800b") == "a\ufffdb"
    assert well_formed("\ud83d" + "\ude00") == "😀"


def test_event_that_cannot_be_encoded_becomes_an_error_event() -> None:
    """Regression (issue 11): the event raised while encoding and the stream broke off."""
    rendered = render_event("token", TokenEvent(index=3, text="\ud800"), id="str_abcdefgh:3")

    # The error keeps the stream's id form, so a reconnect after it gets 204.
    assert rendered.startswith(b"id: str_abcdefgh:error\nevent: error\n")
    assert b'"code":"upstream_error"' in rendered


# Every ASCII character (controls, quote, backslash, DEL), separators JSON treats
# specially in JavaScript, non-BMP text and empty text.
_TOKEN_TEXTS = [
    "".join(map(chr, range(128))),
    "\u2028\u2029",
    "é ünïcode 😀 \u00a0\ufeff",
    "",
    "line\r\nbreak\tand </script>",
]


@pytest.mark.parametrize("text", _TOKEN_TEXTS)
@pytest.mark.parametrize("index", [0, 7, 123456])
def test_token_fast_path_renders_exactly_what_render_event_does(index: int, text: str) -> None:
    """The per-token fast path skips the pydantic model: its bytes must stay the model's."""
    expected = render_event("token", TokenEvent(index=index, text=text), id=str(index))

    assert render_token(index, text) == expected


def test_token_fast_path_names_a_server_named_stream_in_the_id() -> None:
    expected = render_event("token", TokenEvent(index=3, text="x"), id="str_abc:3")

    assert render_token(3, "x", "str_abc") == expected


def test_token_fast_path_refuses_text_that_cannot_be_encoded() -> None:
    """The caller turns this into the unencodable-text error event (test above)."""
    with pytest.raises(UnicodeEncodeError):
        render_token(3, "a\ud800b")
