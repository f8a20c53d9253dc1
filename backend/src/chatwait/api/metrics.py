"""`GET /metrics`: the Prometheus text format of `chatwait.metrics`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import CONTENT_TYPE_LATEST

from chatwait.api.auth import authenticate, bearer_scheme
from chatwait.api.errors import error_responses
from chatwait.config import Settings
from chatwait.metrics import exposition

router = APIRouter(tags=["operations"])


async def metrics_access(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> None:
    """Any valid API key may scrape, unless METRICS_PUBLIC=true opens the endpoint.

    The figures are totals with no principal names, but they tell a stranger how busy
    the service is and how it fails; with keys configured that is not for everyone.
    """
    settings: Settings = request.app.state.settings
    if not settings.metrics_public:
        await authenticate(request, credentials)


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    dependencies=[Depends(metrics_access)],
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Text format."},
        **error_responses(401),
    },
)
async def metrics() -> Response:
    """Runs, streams, tokens, latencies and errors, summed over all workers."""
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
