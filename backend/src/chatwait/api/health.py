"""Liveness (`/health`) and readiness (`/health/ready`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from chatwait import __version__
from chatwait.deps import ServicesDep, SettingsDep
from chatwait.exceptions import ChatWaitError
from chatwait.schemas.health import HealthResponse, ReadinessResponse

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse, summary="Liveness and model in use")
async def health(settings: SettingsDep) -> HealthResponse:
    """Always 200 while the process runs; says which provider and model answer."""
    return HealthResponse(
        provider=settings.provider, model=settings.model_name, version=__version__
    )


@router.get(
    "/health/ready",
    response_model=ReadinessResponse,
    summary="Readiness: do the stores answer?",
    responses={503: {"model": ReadinessResponse, "description": "A store does not answer."}},
)
async def ready(services: ServicesDep) -> JSONResponse:
    checks: dict[str, str] = {}
    for name, store in (
        ("stream_store", services.stream_store),
        ("conversation_store", services.conversations),
    ):
        try:
            await store.ping()
            checks[name] = "ok"
        except ChatWaitError as error:
            checks[name] = error.message
    if services.admission.draining:
        # A load balancer polling on a kept-alive connection takes this instance out.
        checks["server"] = "shutting down"
    ok = all(value == "ok" for value in checks.values())
    body = ReadinessResponse(status="ready" if ok else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
