"""Request id, the request's log fields, and the one access-log line per request.

Pure ASGI (not BaseHTTPMiddleware) so streaming responses pass through untouched. The
log line has the path without the query string: a query may carry the user's message.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatwait import log_context

access_logger = logging.getLogger("chatwait.access")

# Echo a client's id only when it is harmless in headers and logs.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        log_context.start_request(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            # The principal (set by api/auth.py) names the caller; keys are never logged.
            access_logger.info(
                "request method=%s path=%s status=%d duration_ms=%.1f request_id=%s principal=%s",
                scope["method"],
                scope["path"],
                status,
                duration_ms,
                request_id,
                state.get("principal", "-"),
                # Fields of their own in LOG_FORMAT=json.
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": duration_ms,
                },
            )
