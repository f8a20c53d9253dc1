"""Authentication of API requests: `Authorization: Bearer <key>` → a Principal.

Routers that hold a principal's data depend on `PrincipalDep`; /health, /docs and
/openapi.json do not. `HTTPBearer` declares the scheme in OpenAPI, so the docs page has
an Authorize button whose key every operation (the streaming ones too) sends. Keys are
read from the header only, never from the query string, where proxies and browsers
would log them.

`GET /chat/streaming` alone also takes a stream ticket (`?ticket=`, chatwait/tickets.py)
instead, for a browser's EventSource, which cannot send headers. A ticket is not a key:
it is good for one stream of one principal, for a short while.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer

from chatwait import log_context
from chatwait.auth import ANONYMOUS, ApiKeyRegistry, Principal, key_digest
from chatwait.exceptions import Unauthorized
from chatwait.tickets import TicketSigner

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="An API key from CHATWAIT_API_KEYS (not needed when no keys are configured).",
)
ticket_scheme = APIKeyQuery(
    name="ticket",
    scheme_name="StreamTicket",
    auto_error=False,
    description="A stream ticket from `POST /chat/tickets`, for a browser's EventSource "
    "(GET /chat/streaming only; good for one stream, for a short while).",
)


def _bind(request: Request, principal: Principal) -> Principal:
    # Log lines name the principal (never the key or the ticket).
    request.state.principal = principal.name
    log_context.bind(principal=principal.name)
    return principal


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The caller; raises Unauthorized (one body for every kind of bad key)."""
    registry: ApiKeyRegistry = request.app.state.api_keys
    if not registry.enabled:
        return _bind(request, Principal(ANONYMOUS, "none"))
    name = registry.principal_for(credentials.credentials) if credentials else None
    if name is None or credentials is None:
        raise Unauthorized()
    digest = key_digest(credentials.credentials)
    return _bind(request, Principal(name, "api_key", key_digest=digest))


async def authenticate_stream(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    ticket: Annotated[str | None, Depends(ticket_scheme)],
) -> Principal:
    """A Bearer key, or else a stream ticket: the principal limited to the ticket's
    stream (checked by api/stream_request.py). A bad or expired ticket is the same 401
    as a bad key. Without keys, a ticket is not needed and not checked."""
    registry: ApiKeyRegistry = request.app.state.api_keys
    if credentials is not None or ticket is None or not registry.enabled:
        return await authenticate(request, credentials)
    signer: TicketSigner = request.app.state.tickets
    claims = signer.verify(ticket, time.time())
    if claims is None:
        raise Unauthorized()
    return _bind(request, Principal(claims.principal, "api_key", ticket_stream_id=claims.stream_id))


PrincipalDep = Annotated[Principal, Depends(authenticate)]
StreamPrincipalDep = Annotated[Principal, Depends(authenticate_stream)]
