"""Refuse request bodies over MAX_BODY_BYTES before the application reads them.

A declared Content-Length over the limit is refused without reading anything; one
within it passes through untouched, since the server reads exactly that many bytes. A
body without one (chunked) is read by the middleware itself, stopping at the limit, and
answered with 413 when it is too large, or else replayed to the app.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatwait.api.errors import chatwait_error_response
from chatwait.exceptions import PayloadTooLarge

_METHODS_WITH_BODY = {"POST", "PUT", "PATCH"}


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"The request body is larger than {self.max_body_bytes} bytes.",
            details={"max_body_bytes": self.max_body_bytes},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _METHODS_WITH_BODY:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit():
            if int(declared) > self.max_body_bytes:
                await chatwait_error_response(scope, self._too_large())(scope, receive, send)
                return
            # The server reads exactly the declared length as the body (HTTP/1.1
            # framing): nothing more can arrive, so the body passes through unread.
            await self.app(scope, receive, send)
            return

        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await chatwait_error_response(scope, self._too_large())(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break

        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
