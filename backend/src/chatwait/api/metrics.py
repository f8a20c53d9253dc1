"""`GET /metrics`: the Prometheus text format of `chatwait.metrics`."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from chatwait.metrics import exposition

router = APIRouter(tags=["operations"])


# TODO(lead): auth — protect with the API-key dependency unless settings.metrics_public;
# until API keys exist, /metrics is open (its labels hold no principals or ids).
@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Text format."}},
)
async def metrics() -> Response:
    """Runs, streams, tokens, latencies and errors, summed over all workers."""
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
