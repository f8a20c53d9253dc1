"""CORS for browser clients (the Chainlit UI and anything at CORS_ORIGINS)."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from chatwait.config import Settings


def cors_middleware(settings: Settings) -> Middleware:
    return Middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Last-Event-ID", "X-Request-ID"],
        # Browsers hide response headers from scripts unless they are listed here.
        expose_headers=["X-Request-ID", "X-Stream-Id", "Retry-After"],
    )
