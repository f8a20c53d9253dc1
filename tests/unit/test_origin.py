"""The Origin rule of run-starting routes: which origins count as allowed or as our own."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from starlette.requests import Request

from chatwait.api.origin import refuse_foreign_origin
from chatwait.config import Settings
from chatwait.exceptions import OriginNotAllowed

SETTINGS = Settings(_env_file=None, cors_origins=["https://app.example"])


def request_from(
    origin: str | None, *, host: str = "api.example", scheme: str = "https"
) -> Request:
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    app = SimpleNamespace(state=SimpleNamespace(settings=SETTINGS))
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": scheme,
        "path": "/",
        "headers": headers,
        "app": app,
    }
    return Request(scope)


@pytest.mark.parametrize(
    ("origin", "host", "scheme"),
    [
        (None, "api.example", "https"),
        ("https://app.example", "api.example", "https"),
        ("HTTPS://App.Example:443", "api.example", "https"),
        ("https://api.example", "api.example", "https"),
        ("http://api.example", "api.example:80", "http"),
        ("http://127.0.0.1:8000", "127.0.0.1:8000", "http"),
    ],
    ids=["no-origin", "listed", "listed-default-port", "own", "own-default-port", "own-port"],
)
async def test_allowed_origins_pass(origin: str | None, host: str, scheme: str) -> None:
    await refuse_foreign_origin(request_from(origin, host=host, scheme=scheme))


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "null", "http://app.example", "https://api.example:8443"],
)
async def test_other_origins_are_refused(origin: str) -> None:
    with pytest.raises(OriginNotAllowed):
        await refuse_foreign_origin(request_from(origin))
