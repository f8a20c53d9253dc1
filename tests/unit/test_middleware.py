"""Body limit, request id + access log, and key redaction in logs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from chatwait.middleware.body_limit import BodyLimitMiddleware
from chatwait.middleware.logging import SecretRedactingFilter
from chatwait.middleware.request_context import RequestContextMiddleware


class EchoApp:
    """Answers with the size of the body it received, and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        body = await Request(scope, receive).body()
        await JSONResponse({"size": len(body)})(scope, receive, send)


def client_for(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app.test")  # type: ignore[arg-type]


async def test_declared_content_length_over_limit_is_413_without_calling_the_app() -> None:
    app = EchoApp()
    async with client_for(BodyLimitMiddleware(app, max_body_bytes=10)) as client:
        response = await client.post("/", content=b"x" * 11)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert app.calls == 0


async def test_chunked_body_over_limit_is_413() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"x" * 6
        yield b"x" * 6

    app = EchoApp()
    async with client_for(BodyLimitMiddleware(app, max_body_bytes=10)) as client:
        response = await client.post("/", content=chunks())

    assert response.status_code == 413
    assert app.calls == 0


async def test_body_within_limit_reaches_the_app_intact() -> None:
    async with client_for(BodyLimitMiddleware(EchoApp(), max_body_bytes=10)) as client:
        response = await client.post("/", content=b"x" * 10)

    assert response.json() == {"size": 10}


async def ok_app(scope: Scope, receive: Receive, send: Send) -> None:
    await Response("ok")(scope, receive, send)


async def test_valid_client_request_id_is_echoed() -> None:
    async with client_for(RequestContextMiddleware(ok_app)) as client:
        response = await client.get("/", headers={"X-Request-ID": "client-id-1"})

    assert response.headers["x-request-id"] == "client-id-1"


@pytest.mark.parametrize("bad", ["has space", "x" * 300, "semi;colon"])
async def test_invalid_client_request_id_is_replaced(bad: str) -> None:
    async with client_for(RequestContextMiddleware(ok_app)) as client:
        response = await client.get("/", headers={"X-Request-ID": bad})

    assert response.headers["x-request-id"] != bad
    assert len(response.headers["x-request-id"]) == 32


async def test_one_access_line_per_request_without_query_string(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="chatwait.access")
    async with client_for(RequestContextMiddleware(ok_app)) as client:
        await client.get("/chat/streaming?message=private-words", headers={"X-Request-ID": "r1"})

    lines = [r.getMessage() for r in caplog.records if r.name == "chatwait.access"]
    assert len(lines) == 1
    assert "method=GET path=/chat/streaming status=200" in lines[0]
    assert "duration_ms=" in lines[0]
    assert "request_id=r1" in lines[0]
    assert "private-words" not in lines[0]


def test_redacting_filter_masks_the_key_in_message_and_args() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "sent %s to %s", ("sk-SECRET-1", "upstream"), None
    )

    SecretRedactingFilter(["sk-SECRET-1"]).filter(record)

    assert record.getMessage() == "sent *** to upstream"
