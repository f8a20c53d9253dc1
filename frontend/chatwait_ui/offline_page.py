"""Rewrite Chainlit's page: no calls out to the internet, and a ChatWait link preview.

Chainlit's index.html links Google Fonts and a KaTeX stylesheet on a CDN. Offline (as
on this project's machines) each is a failed request, and online it tells third
parties who opens the UI. This middleware drops every `<link>` to another origin from
the HTML page; the UI then uses system fonts, and LaTeX rendering stays off in
`.chainlit/config.toml`.

Chainlit's social-preview tags (what a chat app or social site shows for a pasted
link) point at Chainlit's GitHub page and banner, and it has no Twitter tags. The page
gets `og:url` = its own address, `og:image` = ChatWait's screenshot in `public/`, and
`twitter:*` tags with the same title, description and image. Title and description
come from `.chainlit/config.toml` (`name`, `description`).
"""

from __future__ import annotations

import gzip
import html as html_text
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A <link> tag whose href is absolute (http:, https: or protocol-relative).
EXTERNAL_LINK = re.compile(
    rb"<link\b[^>]*\bhref=\"(?:https?:)?//[^\"]*\"[^>]*>\s*", re.IGNORECASE | re.DOTALL
)


# ChatWait's preview image, served by Chainlit from the app root's `public/` folder.
SOCIAL_PREVIEW_IMAGE = "/public/social-preview.png"
_META_CONTENT = r'(<meta property="{name}" content=")([^"]*)(">)'


def strip_external_links(html: bytes) -> bytes:
    return EXTERNAL_LINK.sub(b"", html)


def set_social_preview(page: bytes, *, page_url: str, base_url: str) -> bytes:
    """Point og:url at this page and og:image at ChatWait's image (absolute URLs, as link
    previews need), and add Twitter's tags with the same title, description and image."""
    text = page.decode("utf-8")
    image_url = base_url + SOCIAL_PREVIEW_IMAGE
    text = _set_meta_content(text, "og:url", page_url)
    text = _set_meta_content(text, "og:image", image_url)
    title = _meta_content(text, "og:title")
    description = _meta_content(text, "og:description")
    twitter = "".join(
        f'\n    <meta name="twitter:{name}" content="{html_text.escape(value)}">'
        for name, value in [
            ("card", "summary_large_image"),
            ("title", title),
            ("description", description),
            ("image", image_url),
        ]
    )
    image_tag = re.search(_META_CONTENT.format(name="og:image"), text)
    if image_tag is not None:
        text = text[: image_tag.end()] + twitter + text[image_tag.end() :]
    return text.encode("utf-8")


def _set_meta_content(text: str, name: str, value: str) -> str:
    def with_value(tag: re.Match[str]) -> str:
        return tag[1] + html_text.escape(value) + tag[3]

    return re.sub(_META_CONTENT.format(name=re.escape(name)), with_value, text)


def _meta_content(text: str, name: str) -> str:
    found = re.search(_META_CONTENT.format(name=re.escape(name)), text)
    return html_text.unescape(found[2]) if found else ""


def _origin(scope: Scope) -> str:
    """This UI's origin as the browser sees it (a proxy's X-Forwarded-* headers count)."""
    headers: dict[str, str] = {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
    }
    scheme = headers.get("x-forwarded-proto") or str(scope.get("scheme") or "http")
    host = headers.get("x-forwarded-host") or headers.get("host") or "localhost"
    return f"{scheme.split(',')[0].strip()}://{host.split(',')[0].strip()}"


class OfflinePageMiddleware:
    """Rewrite `text/html` responses: no external `<link>` tags, ChatWait's preview tags."""

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
            origin = _origin(scope)
            html = set_social_preview(
                html,
                page_url=origin + scope["path"],
                base_url=origin + scope.get("root_path", ""),
            )
            headers = [
                (name, value)
                for name, value in start.get("headers", [])
                if name.lower() not in (b"content-length", b"content-encoding")
            ]
            headers.append((b"content-length", str(len(html)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": html})

        await self.app(scope, receive, rewrite)
