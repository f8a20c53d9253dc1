"""Keep Chainlit's page from calling out to the internet.

Chainlit's index.html links Google Fonts and a KaTeX stylesheet on a CDN. Offline (as
on this project's machines) each is a failed request, and online it tells third
parties who opens the UI. This middleware drops every `<link>` to another origin from
the HTML page; the UI then uses system fonts, and LaTeX rendering stays off in
`.chainlit/config.toml`.
"""

from __future__ import annotations

import gzip
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A <link> tag whose href is absolute (http:, https: or protocol-relative).
EXTERNAL_LINK = re.compile(
    rb"<link\b[^>]*\bhref=\"(?:https?:)?//[^\"]*\"[^>]*>\s*", re.IGNORECASE | re.DOTALL
)


def strip_external_links(html: bytes) -> bytes:
    return EXTERNAL_LINK.sub(b"", html)


class OfflinePageMiddleware:
    """Rewrite `text/html` responses without their external `<link>` tags."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        start: Message | None = None
        body = bytearray()

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                if not content_type.startswith(b"text/html"):
                    await send(message)
                    return
                start = message  # hold it back: the body length changes
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body", False):
                return
            html = bytes(body)
            # Chainlit gzips inside this middleware; the page is small, so it is sent
            # back uncompressed rather than compressed twice.
            if dict(start.get("headers", [])).get(b"content-encoding") == b"gzip":
                html = gzip.decompress(html)
            html = strip_external_links(html)
            headers = [
                (name, value)
                for name, value in start.get("headers", [])
                if name.lower() not in (b"content-length", b"content-encoding")
            ]
            headers.append((b"content-length", str(len(html)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": html})

        await self.app(scope, receive, rewrite)
