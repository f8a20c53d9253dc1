"""The Chainlit handlers: a few lines each, everything else lives in `modes/` and
`client/`. Run it with `chatwait-ui` (see cli.py), not by importing it."""

from __future__ import annotations

from typing import Any

import chainlit as cl

from chatwait_ui.client import BackendError, ChatWaitClient
from chatwait_ui.config import UISettings
from chatwait_ui.conversation import new_conversation_id, welcome_text
from chatwait_ui.modes.mode_selector import ResponseMode, response_mode_settings, selected_mode
from chatwait_ui.modes.streaming_mode import answer_with_streaming
from chatwait_ui.modes.wait_mode import answer_with_wait

CONVERSATION_ID = "conversation_id"


class BackendConnection:
    """The process-wide client, opened by the first chat and shared by every chat."""

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


@cl.on_app_shutdown
async def close_backend() -> None:
    await backend.close()


@cl.on_chat_start
async def start_chat() -> None:
    # One backend conversation per Chainlit chat: "New chat" starts a new one.
    cl.user_session.set(CONVERSATION_ID, new_conversation_id())
    await response_mode_settings().send()
    try:
        health = await backend.client.health()
    except BackendError as error:
        await cl.Message(content=welcome_text(None, backend.client.base_url, error)).send()
        return
    await cl.Message(content=welcome_text(health, backend.client.base_url, None)).send()


@cl.on_settings_update
async def switch_mode(chat_settings: dict[str, Any]) -> None:
    mode = selected_mode(chat_settings)
    await cl.Message(
        content=f"Response mode: **{mode.value}**: {mode.description}.", author="ChatWait"
    ).send()


@cl.on_message
async def answer(message: cl.Message) -> None:
    conversation_id = cl.user_session.get(CONVERSATION_ID) or new_conversation_id()
    cl.user_session.set(CONVERSATION_ID, conversation_id)
    mode = selected_mode(cl.user_session.get("chat_settings"))
    if mode is ResponseMode.WAIT:
        await answer_with_wait(backend.client, message.content, conversation_id)
    else:
        await answer_with_streaming(backend.client, message.content, conversation_id)
