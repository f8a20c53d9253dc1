"""Checks of request input that a Pydantic field cannot express on its own.

They raise ChatWait errors, so bad input is refused before it reaches the model.
"""

from __future__ import annotations

import re

from fastapi import Request

from chatwait.exceptions import InvalidLastEventId, UnsupportedMediaType, ValidationFailed
from chatwait.schemas.chat import MAX_TOKEN_INDEX

# Checked before int(): CPython refuses more than 4300 digits with a ValueError.
_MAX_TOKEN_INDEX_DIGITS = len(str(MAX_TOKEN_INDEX))
_DIGITS = re.compile(r"^[0-9]+$")


def invalid_request(details: list[dict[str, str]]) -> ValidationFailed:
    """422 whose message names every field and its reason, as docs/api.md shows:
    `Invalid request: message: must not be empty or blank`."""
    reasons = "; ".join(f"{detail['field']}: {detail['message']}" for detail in details)
    return ValidationFailed(f"Invalid request: {reasons}" if reasons else None, details=details)


def field_error(field: str, message: str, type_: str, location: str = "body") -> ValidationFailed:
    return invalid_request(
        [{"location": location, "field": field, "message": message, "type": type_}]
    )


def ensure_message_length(message: str | None, limit: int, location: str = "body") -> None:
    if message is not None and len(message) > limit:
        raise field_error(
            "message", f"must have at most {limit} characters", "string_too_long", location
        )


def parse_last_event_id(value: bool | int | float | str | None) -> int | None:
    """The token index a client saw last; refuses anything but a non-negative integer."""
    if value is None:
        return None
    if isinstance(value, bool | float):
        raise InvalidLastEventId()
    if isinstance(value, str):
        if len(value) > _MAX_TOKEN_INDEX_DIGITS or not _DIGITS.match(value):
            raise InvalidLastEventId()
        value = int(value)
    if value < 0 or value > MAX_TOKEN_INDEX:
        raise InvalidLastEventId()
    return value


async def require_json_body(request: Request) -> None:
    """Refuse a body that is not declared as JSON, rather than guessing."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType()
