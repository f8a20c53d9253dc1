"""Which browser pages may start a model run: the Origin check of the chat routes.

CORS only stops a foreign page from *reading* an answer. A GET (what `EventSource`
sends) or a simple POST goes out without a preflight, so a page on any site could start
paid runs with its visitors' browsers. Run-starting routes therefore refuse a request
whose `Origin` header is present and is neither in CORS_ORIGINS nor the API's own origin
(the /docs page). Requests without `Origin` (curl, servers, the Chainlit UI's backend
client) are not browser pages of another site and pass.
"""

from __future__ import annotations

from fastapi import Request

from chatwait.config import Settings
from chatwait.exceptions import OriginNotAllowed

_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _normalised(origin: str) -> str:
    """`scheme://host[:port]` in lower case, without the scheme's default port."""
    scheme, separator, authority = origin.strip().lower().partition("://")
    if not separator:
        return origin.strip().lower()
    host, colon, port = authority.rpartition(":")
    if colon and port == _DEFAULT_PORTS.get(scheme) and not host.endswith("]"):
        authority = host
    return f"{scheme}://{authority}"


def own_origin(request: Request) -> str | None:
    """The origin the client used to reach this API (scheme and Host header)."""
    host = request.headers.get("host")
    return _normalised(f"{request.url.scheme}://{host}") if host else None


async def refuse_foreign_origin(request: Request) -> None:
    """Raise OriginNotAllowed (403) for a browser page of an origin not allowed."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    # Not a SettingsDep: every dependency costs each request FastAPI's bookkeeping.
    settings: Settings = request.app.state.settings
    allowed = {_normalised(allowed) for allowed in settings.cors_origins}
    if (
        "*" in allowed
        or _normalised(origin) in allowed
        or _normalised(origin) == own_origin(request)
    ):
        return
    raise OriginNotAllowed()
