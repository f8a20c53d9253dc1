"""Authentication of API requests: `Authorization: Bearer <key>` → a Principal.

Routers that hold a principal's data depend on `PrincipalDep`; /health, /docs and
/openapi.json do not. `HTTPBearer` declares the scheme in OpenAPI, so the docs page has
an Authorize button whose key every operation (the streaming ones too) sends. Keys are
read from the header only, never from the query string, where proxies and browsers
would log them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from chatwait import log_context
from chatwait.auth import ANONYMOUS, ApiKeyRegistry, Principal
from chatwait.exceptions import Unauthorized

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="An API key from CHATWAIT_API_KEYS (not needed when no keys are configured).",
)


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The caller; raises Unauthorized (one body for every kind of bad key)."""
    registry: ApiKeyRegistry = request.app.state.api_keys
    if not registry.enabled:
        principal = Principal(ANONYMOUS, "none")
    else:
        name = registry.principal_for(credentials.credentials) if credentials else None
        if name is None:
            raise Unauthorized()
        principal = Principal(name, "api_key")
    # Log lines name the principal (never the key).
    request.state.principal = principal.name
    log_context.bind(principal=principal.name)
    return principal


PrincipalDep = Annotated[Principal, Depends(authenticate)]
