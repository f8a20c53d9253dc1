"""Bodies of the health endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from chatwait.config import Provider


class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"
    provider: Provider
    model: str
    version: str


class ReadinessResponse(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, str]
