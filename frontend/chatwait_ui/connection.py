"""The process-wide backend client, shared by the chat handlers, the login callbacks
and the history data layer (Chainlit loads app.py by file path, so shared state lives
in modules it imports)."""

from __future__ import annotations

from chatwait_ui.client import ChatWaitClient
from chatwait_ui.config import UISettings


class BackendConnection:
    """The process-wide client, opened on first use and shared by every chat."""

    def __init__(self) -> None:
        self._client: ChatWaitClient | None = None

    @property
    def client(self) -> ChatWaitClient:
        if self._client is None:
            self._client = ChatWaitClient(UISettings())
        return self._client

    def use(self, client: ChatWaitClient) -> None:
        self._client = client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


backend = BackendConnection()
