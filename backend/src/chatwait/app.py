"""The application factory: settings, lifespan services, middleware, routers, errors."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.middleware import Middleware

from chatwait import __version__
from chatwait.api import health
from chatwait.api import metrics as metrics_api
from chatwait.api.docs import install_docs
from chatwait.api.errors import install_error_handlers
from chatwait.auth import load_api_keys
from chatwait.config import Settings
from chatwait.deps import Services
from chatwait.middleware.body_limit import BodyLimitMiddleware
from chatwait.middleware.cors import cors_middleware
from chatwait.middleware.request_context import RequestContextMiddleware
from chatwait.routers import account, chat, conversations, tickets
from chatwait.schemas.openapi import sse_payload_schemas
from chatwait.services.admission import Admission
from chatwait.services.chat_agent import ChatAgentService
from chatwait.services.conversations import create_conversation_store
from chatwait.services.limits import create_limits
from chatwait.services.llm_service import build_model
from chatwait.services.streaming_service import StreamingService
from chatwait.shutdown import GracefulShutdown
from chatwait.streams.lifecycle import StreamSupervisor
from chatwait.streams.store import create_stream_store
from chatwait.tickets import TicketSigner

DESCRIPTION = """\
ChatWait answers chat messages with an OpenAI Agents SDK agent (Gemini by default, any
OpenAI-compatible endpoint, or an offline demo model).

* `POST /chat/wait` waits for the whole answer and returns JSON.
* `GET`/`POST /chat/streaming` streams tokens as Server-Sent Events whose ids are token
  indexes; reconnect with the same `stream_id` and `Last-Event-ID` to resume exactly
  where you stopped, without a second model call.
* `GET /conversations` lists your conversations; `GET`/`PATCH`/`DELETE
  /conversations/{id}` reads, renames or deletes one.
* `GET /me` and `GET /usage`: who you are, and what you used today.

When the server has API keys, send yours as `Authorization: Bearer <key>` (the
Authorize button); each key sees only its own streams and conversations. A browser's
`EventSource`, which cannot send it, streams with a ticket from `POST /chat/tickets`.

Every error is `{"error": {"code", "message", "request_id", "details"?}}`.
"""


async def build_services(settings: Settings) -> Services:
    model = build_model(settings)
    conversation_store = create_conversation_store(settings)
    await conversation_store.open()
    stream_store = create_stream_store(
        settings.stream_store_url, settings.stream_ttl_seconds, settings.max_run_seconds
    )
    supervisor = StreamSupervisor(
        stream_store,
        abandon_seconds=settings.stream_abandon_seconds,
        producer_lease_seconds=settings.stream_producer_lease_seconds,
    )
    limits = create_limits(settings)
    admission = Admission(settings.max_active_runs, settings.max_open_streams)
    chat_service = ChatAgentService(settings, model, conversation_store, limits, admission)
    return Services(
        settings=settings,
        model=model,
        conversations=conversation_store,
        stream_store=stream_store,
        supervisor=supervisor,
        chat=chat_service,
        streaming=StreamingService(settings, chat_service, supervisor),
        limits=limits,
        admission=admission,
    )


async def close_services(services: Services) -> None:
    # Producers first: they record their outcome in the stream store before it closes.
    await services.supervisor.aclose()
    await services.stream_store.aclose()
    await services.conversations.aclose()
    await services.limits.aclose()
    await services.model.aclose()


def allow_anonymous(schema: dict[str, Any]) -> None:
    """Without API keys the bearer key is optional: say so (`{}` = no auth), so the
    schema stays honest and the Authorize button stays harmless."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "security" in operation:
                operation["security"] = [*operation["security"], {}]


# Collector thresholds once the app runs (default: 700, 10, 10). Cyclic garbage waits
# at most 20,000 allocations more to be freed: a few MB at most.
GC_THRESHOLDS = (20_000, 20, 20)


def create_app(settings: Settings | None = None) -> FastAPI:
    """A ChatWait API; `settings` default to the environment and `.env`."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await build_services(settings)
        app.state.services = services
        # Everything built so far (the Agents SDK, openai, pydantic: a few hundred
        # thousand objects) lives as long as the process. Freezing it takes it out of
        # the collector's full passes, which otherwise stop every stream's loop for
        # each pass over objects that are never garbage.
        gc.freeze()
        # A request makes thousands of short-lived objects, nearly all freed by their
        # reference counts; collecting the youngest every 700 allocations (Python's
        # default) spends ~7% of a /chat/wait's CPU finding almost no garbage.
        gc.set_threshold(*GC_THRESHOLDS)
        # SIGTERM drains first (chatwait/shutdown.py); uvicorn's own shutdown follows.
        graceful = GracefulShutdown(services, settings.shutdown_grace_seconds)
        graceful.install()
        try:
            yield
        finally:
            graceful.uninstall()
            await close_services(services)

    app = FastAPI(
        title="ChatWait API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by api/docs.py without a CDN
        redoc_url=None,
        middleware=[
            Middleware(RequestContextMiddleware),
            cors_middleware(settings),
            Middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes),
        ],
    )
    app.state.settings = settings
    # Read once: a bad key line fails here, before the server accepts a request.
    app.state.api_keys = load_api_keys(settings)
    ticket_secret = settings.chatwait_ticket_secret
    app.state.tickets = TicketSigner(
        app.state.api_keys, ticket_secret.get_secret_value() if ticket_secret else None
    )
    install_error_handlers(app)
    install_docs(app)
    # The chat routes first: the router tries routes in order, and these take the load.
    app.include_router(chat.router)
    app.include_router(health.router)
    app.include_router(metrics_api.router)
    app.include_router(tickets.router)
    app.include_router(conversations.router)
    app.include_router(account.router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {}).setdefault("schemas", {}).update(
                sse_payload_schemas()
            )
            if not app.state.api_keys.enabled:
                allow_anonymous(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
