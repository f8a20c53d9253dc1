"""`BackendRequests`: the client's connection pool, its timeouts and API key, and every
request that is not a stream: health, who am I, and the conversation history.

`ChatWaitClient` (backend_client.py) adds the chat requests on top of it.
"""

from __future__ import annotations

import copy
import time
from typing import Any, Self

import httpx

from chatwait_ui.client.errors import BackendError, BackendUnreachable, error_from_response
from chatwait_ui.client.events import (
    BackendHealth,
    ConversationPage,
    ConversationSummary,
    HistoryMessage,
    Principal,
)
from chatwait_ui.config import UISettings

# How long `probe_backend_auth` waits for a backend that is still starting.
PROBE_SECONDS = 10.0


class BackendRequests:
    """The plain JSON requests; one instance per process, `with_key` for each person."""

    def __init__(
        self,
        settings: UISettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = settings.chatwait_api_url
        self._settings = settings
        connect = settings.chatwait_connect_timeout_seconds
        self._wait_timeout = httpx.Timeout(settings.chatwait_wait_timeout_seconds, connect=connect)
        self._stream_timeout = httpx.Timeout(
            settings.chatwait_stream_idle_timeout_seconds, connect=connect
        )
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(10.0, connect=connect),
            transport=transport,
            headers={"User-Agent": "chatwait-ui"},
        )
        # Per request, not on the pool: people share the pool, never each other's key.
        self._auth_headers: dict[str, str] = {}

    def with_key(self, api_key: str | None) -> Self:
        """This client sending `api_key` with every request (None: no key), sharing
        the connection pool. Closing the original closes both."""
        view = copy.copy(self)
        view._auth_headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        return view

    async def aclose(self) -> None:
        await self._http.aclose()

    async def health(self) -> BackendHealth:
        body = await self._request_json("GET", "/health")
        return BackendHealth(
            provider=str(body.get("provider", "unknown")),
            model=str(body.get("model", "unknown")),
            version=str(body.get("version", "unknown")),
        )

    async def me(self) -> Principal:
        """GET /me: the principal this client's key names (`local` without keys).
        A wrong key raises BackendError with code `unauthorized`."""
        body = await self._request_json("GET", "/me")
        return Principal(name=str(body["principal"]), auth=str(body.get("auth", "none")))

    async def conversations(self, limit: int, cursor: str | None = None) -> ConversationPage:
        """GET /conversations: one page, most recently updated first."""
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        body = await self._request_json("GET", "/conversations", params=params)
        return ConversationPage(
            conversations=[_summary(item) for item in body.get("conversations", [])],
            next_cursor=body.get("next_cursor") or None,
        )

    async def conversation_messages(self, conversation_id: str) -> list[HistoryMessage]:
        """GET /conversations/{id}: its messages, oldest first."""
        body = await self._request_json("GET", f"/conversations/{conversation_id}")
        return [
            HistoryMessage(role=str(message["role"]), content=str(message["content"]))
            for message in body.get("messages", [])
        ]

    async def rename_conversation(self, conversation_id: str, title: str) -> ConversationSummary:
        body = await self._request_json(
            "PATCH", f"/conversations/{conversation_id}", json={"title": title}
        )
        return _summary(body)

    async def delete_conversation(self, conversation_id: str) -> None:
        await self._request_json("DELETE", f"/conversations/{conversation_id}")

    async def _request_json(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        http_timeout: httpx.Timeout | None = None,
    ) -> dict[str, Any]:
        request = self._http.build_request(
            method,
            path,
            json=json,
            params=params,
            headers=self._auth_headers,
            timeout=http_timeout or self._http.timeout,
        )
        response = await self._send(request)
        if response.status_code >= 400:
            raise error_from_response(response, response.content)
        if response.status_code == 204:
            return {}
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise BackendError(
                "The backend sent an answer ChatWait cannot read.", code="unexpected_response"
            )
        return body

    async def _send(self, request: httpx.Request) -> httpx.Response:
        """One plain request; a failure to get an answer becomes `BackendUnreachable`.
        (Streams do not come here: their broken connections are resumed instead.)"""
        try:
            return await self._http.send(request)
        except httpx.TimeoutException as exc:
            raise BackendUnreachable(
                f"The backend at {self.base_url} did not answer in time. Please try again.",
                code="backend_timeout",
            ) from exc
        except httpx.TransportError as exc:
            raise self._unreachable() from exc

    def _unreachable(self) -> BackendUnreachable:
        return BackendUnreachable(
            f"Cannot reach the ChatWait backend at {self.base_url}. Is it running?",
            code="backend_unreachable",
        )


def _summary(item: dict[str, Any]) -> ConversationSummary:
    return ConversationSummary(
        conversation_id=str(item["conversation_id"]),
        title=str(item.get("title") or ""),
        created_at=str(item.get("created_at") or ""),
        updated_at=str(item.get("updated_at") or ""),
        message_count=int(item.get("message_count") or 0),
    )


def probe_backend_auth(settings: UISettings, wait_seconds: float = PROBE_SECONDS) -> str | None:
    """Whether the backend wants keys, asked once when the UI starts: "api_key" (GET /me
    without a key is refused), "none" (it answers), or None when it does not answer
    within `wait_seconds` (it may still be starting)."""
    deadline = time.monotonic() + wait_seconds
    timeout = httpx.Timeout(5.0, connect=settings.chatwait_connect_timeout_seconds)
    while True:
        try:
            response = httpx.get(f"{settings.chatwait_api_url}/me", timeout=timeout)
        except httpx.HTTPError:
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.5)
            continue
        if response.status_code == 401:
            return "api_key"
        if response.status_code == 200:
            return "none"
        return None
