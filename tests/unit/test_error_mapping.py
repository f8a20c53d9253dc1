"""Upstream exceptions → ChatWait errors, and ChatWait errors → the JSON body."""

from __future__ import annotations

import httpx
import httpx2
import openai
import pytest
from agents.exceptions import ModelBehaviorError
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from chatwait import exceptions as errors
from chatwait.api.errors import install_error_handlers
from chatwait.services.llm_service import translate_upstream_error

SECRET = "sk-unit-SECRET-123"
REQUEST = httpx2.Request("POST", "http://upstream.test/v1/chat/completions")


def status_error(cls: type[openai.APIStatusError], status: int, **headers: str) -> Exception:
    response = httpx2.Response(status, request=REQUEST, headers=headers)
    return cls(f"Incorrect API key provided: {SECRET}", response=response, body=None)


def test_rate_limit_keeps_retry_after() -> None:
    error = translate_upstream_error(
        status_error(openai.RateLimitError, 429, **{"retry-after": "9"})
    )

    assert isinstance(error, errors.UpstreamRateLimited)
    assert (error.status_code, error.code, error.retry_after) == (429, "upstream_rate_limited", "9")
    assert error.headers == {"Retry-After": "9"}


@pytest.mark.parametrize(
    ("cls", "status"),
    [(openai.AuthenticationError, 401), (openai.PermissionDeniedError, 403)],
)
def test_auth_failures_never_carry_the_upstream_message(
    cls: type[openai.APIStatusError], status: int
) -> None:
    error = translate_upstream_error(status_error(cls, status))

    assert isinstance(error, errors.UpstreamAuthFailed)
    assert (error.status_code, error.code, error.retryable) == (502, "upstream_auth_failed", False)
    assert SECRET not in error.message


@pytest.mark.parametrize("status", [500, 503, 404])
def test_other_statuses_are_upstream_error(status: int) -> None:
    error = translate_upstream_error(status_error(openai.APIStatusError, status))

    assert type(error) is errors.UpstreamError
    assert SECRET not in error.message


@pytest.mark.parametrize("status", [400, 413, 422])
def test_upstream_client_errors_are_upstream_rejected(status: int) -> None:
    error = translate_upstream_error(status_error(openai.APIStatusError, status))

    assert type(error) is errors.UpstreamRejected
    assert SECRET not in error.message


def test_timeout_is_checked_before_its_connection_error_base() -> None:
    error = translate_upstream_error(openai.APITimeoutError(request=REQUEST))

    assert isinstance(error, errors.UpstreamTimeout)
    assert (error.status_code, error.code) == (504, "upstream_timeout")


def test_connection_error_is_upstream_error() -> None:
    error = translate_upstream_error(openai.APIConnectionError(request=REQUEST))

    assert type(error) is errors.UpstreamError
    assert error.retryable is True


def test_agents_sdk_failure_is_upstream_error() -> None:
    assert type(translate_upstream_error(ModelBehaviorError("bad output"))) is errors.UpstreamError


def test_chatwait_errors_pass_through_and_others_are_re_raised() -> None:
    busy = errors.ConversationBusy()

    assert translate_upstream_error(busy) is busy
    with pytest.raises(KeyError):
        translate_upstream_error(KeyError("not ours"))


@pytest.mark.parametrize(
    ("cls", "status", "code", "retryable"),
    [
        (errors.InvalidJSON, 400, "invalid_json", False),
        (errors.InvalidLastEventId, 400, "invalid_last_event_id", False),
        (errors.ValidationFailed, 422, "validation_error", False),
        (errors.UnsupportedMediaType, 415, "unsupported_media_type", False),
        (errors.OriginNotAllowed, 403, "origin_not_allowed", False),
        (errors.PayloadTooLarge, 413, "payload_too_large", False),
        (errors.StreamNotFound, 404, "stream_not_found", False),
        (errors.ConversationBusy, 409, "conversation_busy", True),
        (errors.StreamCancelled, 499, "cancelled", False),
        (errors.ClientDisconnected, 499, "client_closed_request", False),
        (errors.StoreUnavailable, 503, "store_unavailable", True),
        (errors.ProducerLost, 503, "producer_lost", True),
        (errors.ServerShuttingDown, 503, "server_shutting_down", True),
        (errors.UpstreamError, 502, "upstream_error", True),
        (errors.UpstreamAuthFailed, 502, "upstream_auth_failed", False),
        (errors.UpstreamRejected, 502, "upstream_rejected", False),
        (errors.UpstreamTimeout, 504, "upstream_timeout", True),
        (errors.InternalError, 500, "internal_error", False),
    ],
)
def test_each_error_class_has_its_documented_status_code_and_retryability(
    cls: type[errors.ChatWaitError], status: int, code: str, retryable: bool
) -> None:
    assert (cls.status_code, cls.code, cls.retryable) == (status, code, retryable)
    assert code in (errors.__doc__ or "")


@pytest.fixture
def failing_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/busy")
    async def busy() -> None:
        raise errors.ConversationBusy()

    @app.get("/limited")
    async def limited() -> None:
        raise errors.UpstreamRateLimited(retry_after="4")

    @app.get("/bug")
    async def bug() -> None:
        raise RuntimeError(f"secret internals {SECRET}")

    @app.get("/bad-json")
    async def bad_json() -> None:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", 1), "msg": "x"}])

    return app


async def call(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as client:
        return await client.get(path)


async def test_chatwait_error_becomes_the_json_error_body(failing_app: FastAPI) -> None:
    response = await call(failing_app, "/busy")

    assert response.status_code == 409
    body = response.json()["error"]
    assert body["code"] == "conversation_busy"
    assert body["request_id"] == response.headers["x-request-id"]


async def test_rate_limit_response_forwards_retry_after(failing_app: FastAPI) -> None:
    response = await call(failing_app, "/limited")

    assert response.headers["retry-after"] == "4"


async def test_unexpected_exception_is_500_without_internals(failing_app: FastAPI) -> None:
    response = await call(failing_app, "/bug")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert SECRET not in response.text
    assert "Traceback" not in response.text


async def test_json_invalid_validation_error_is_400_invalid_json(failing_app: FastAPI) -> None:
    response = await call(failing_app, "/bad-json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
