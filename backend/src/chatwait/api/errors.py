"""Every error becomes the same JSON body, here and nowhere else.

    {"error": {"code": "...", "message": "...", "request_id": "...", "details": ...}}

Routes raise ChatWaitError subclasses (chatwait.exceptions); FastAPI's own validation
errors, Starlette's HTTP errors (404 route, 405 method) and anything unexpected are
mapped here too, so a client never sees a traceback or an HTML page.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope

from chatwait import metrics
from chatwait.api.validation import invalid_request
from chatwait.exceptions import ChatWaitError, InternalError, InvalidJSON
from chatwait.schemas.errors import ErrorBody, ErrorDetail
from chatwait.schemas.text import well_formed_json

logger = logging.getLogger(__name__)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 406: "not_acceptable"}


def request_id_of(scope: Scope) -> str:
    """The id the request-context middleware gave this request (or a fresh one)."""
    state = scope.get("state") or {}
    request_id = state.get("request_id")
    return request_id if isinstance(request_id, str) else uuid.uuid4().hex


def error_response(
    scope: Scope,
    *,
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    request_id = request_id_of(scope)
    metrics.ERROR_RESPONSES.labels(code=code, status=str(status_code)).inc()
    body = ErrorBody(
        error=ErrorDetail(code=code, message=message, request_id=request_id, details=details)
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status_code,
        headers={**(headers or {}), "X-Request-ID": request_id},
    )


def chatwait_error_response(scope: Scope, error: ChatWaitError) -> JSONResponse:
    return error_response(
        scope,
        status_code=error.status_code,
        code=error.code,
        message=error.message,
        details=error.details,
        headers=error.headers,
    )


def _field_errors(errors: Any) -> list[dict[str, str]]:
    """FastAPI's validation errors without the rejected input (it may be huge or secret)."""
    fields = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        field = {
            "location": location[0] if location else "request",
            "field": ".".join(location[1:]) or (location[0] if location else ""),
            # "Value error, must not be blank" reads better without Pydantic's prefix.
            "message": str(error.get("msg", "invalid")).removeprefix("Value error, "),
            "type": str(error.get("type", "invalid")),
        }
        # An unknown JSON key is echoed as the field name and may hold a lone surrogate.
        fields.append(well_formed_json(field))
    return fields


async def _handle_chatwait_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ChatWaitError)
    return chatwait_error_response(request.scope, error)


async def _handle_validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = error.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return chatwait_error_response(request.scope, InvalidJSON())
    return chatwait_error_response(request.scope, invalid_request(_field_errors(errors)))


def _undecodable_body(error: StarletteHTTPException) -> InvalidJSON | None:
    """FastAPI answers a body that json.loads refuses with something other than a
    JSONDecodeError as a bare 400 "There was an error parsing the body"; the cause says
    what it was."""
    cause = error.__cause__
    if error.status_code != 400 or cause is None:
        return None
    if isinstance(cause, UnicodeDecodeError):
        return InvalidJSON("The request body is not valid JSON: it is not UTF-8 text.")
    if isinstance(cause, RecursionError):
        return InvalidJSON("The request body is not valid JSON: it is nested too deeply.")
    if isinstance(cause, ValueError):
        # CPython refuses integers of more than 4300 digits (sys.get_int_max_str_digits).
        return InvalidJSON("The request body is not valid JSON: a number in it is too long.")
    return None


_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path. Starlette's 405 names only the
    methods of the first route that matched the path (`GET` of GET /chat/streaming),
    although POST /chat/streaming is another route of the same path."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in _HTTP_METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]
    return ", ".join(allowed)


async def _handle_http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    invalid_json = _undecodable_body(error)
    if invalid_json is not None:
        return chatwait_error_response(request.scope, invalid_json)
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return error_response(
        request.scope,
        status_code=error.status_code,
        code=_HTTP_CODES.get(error.status_code, "http_error"),
        message=str(error.detail),
        headers=headers,
    )


async def _handle_unexpected(request: Request, error: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return chatwait_error_response(request.scope, InternalError())


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ChatWaitError, _handle_chatwait_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_error)
    app.add_exception_handler(Exception, _handle_unexpected)


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the error body for these statuses."""
    descriptions = {
        400: "Malformed JSON (`invalid_json`) or a bad Last-Event-ID (`invalid_last_event_id`).",
        401: "No valid API key (`unauthorized`); send `Authorization: Bearer <key>`.",
        403: "A browser page of an origin outside CORS_ORIGINS (`origin_not_allowed`).",
        404: "Unknown or expired stream (`stream_not_found`) or conversation "
        "(`conversation_not_found`); another principal's ids are unknown too.",
        409: "The conversation is answering another message (`conversation_busy`), or the "
        "stream_id belongs to another message (`stream_id_in_use`).",
        413: "Body over MAX_BODY_BYTES (`payload_too_large`).",
        415: "Body is not JSON (`unsupported_media_type`).",
        422: "Invalid fields (`validation_error`), with per-field `details`.",
        429: "A limit of yours (`rate_limited`, `too_many_runs`, `quota_exceeded`) or of the "
        "model provider (`upstream_rate_limited`); see Retry-After.",
        502: "Model provider failed (`upstream_error`), rejected the key "
        "(`upstream_auth_failed`) or refused the request (`upstream_rejected`).",
        503: "A store is unreachable (`store_unavailable`), this server is at its limit of "
        "runs or streams (`server_busy`) or is shutting down (`server_shutting_down`); "
        "see Retry-After.",
        504: "Model provider timed out (`upstream_timeout`).",
    }
    return {
        code: {"model": ErrorBody, "description": descriptions.get(code, "Error.")}
        for code in status_codes
    }
