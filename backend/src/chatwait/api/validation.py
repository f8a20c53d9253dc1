"""Checks of request input that a Pydantic field cannot express on its own.

They raise ChatWait errors, so bad input is refused before it reaches the model.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from chatwait.exceptions import UnsupportedMediaType, ValidationFailed
from chatwait.schemas.chat import StreamQuery
from chatwait.schemas.event_ids import parse_last_event_id

__all__ = [
    "ensure_message_length",
    "field_error",
    "invalid_request",
    "parse_last_event_id",
    "require_json_body",
    "stream_query",
]


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


async def require_json_body(request: Request) -> None:
    """Refuse a body that is not declared as JSON, rather than guessing."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType()


async def stream_query(request: Request) -> StreamQuery:
    """The query parameters of `GET /chat/streaming`, validated as one object.

    Read here rather than as separate FastAPI query parameters, so that the OpenAPI
    schema can describe them as one object (schemas/openapi.py) with the rules across
    fields: a message or a stream_id, and a stream_id with last_event_id. `async` so
    that FastAPI runs it on the loop, not in its thread pool (a thread hop per stream)."""
    try:
        return StreamQuery.model_validate(dict(request.query_params))
    except ValidationError as error:
        raise RequestValidationError(
            [
                {**detail, "loc": ("query", *detail["loc"])}
                for detail in error.errors(include_input=False, include_url=False)
            ]
        ) from error
