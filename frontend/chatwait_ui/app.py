"""The Chainlit handlers: a few lines each, everything else lives in `modes/`, `client/`,
accounts.py (login) and history.py (the history sidebar). Run it with `chatwait-ui`
(see cli.py), not by importing it."""

from __future__ import annotations

import os
from typing import Any

import chainlit as cl
from chainlit.auth import get_current_user
from chainlit.server import app as chainlit_server
from chainlit.types import ThreadDict
from starlette.datastructures import Headers

from chatwait_ui.accounts import (
    LoginExpired,
    client_for_asking_user,
    current_user_with_key,
    log_in_as_local,
    log_in_with_key,
)
from chatwait_ui.cli import BACKEND_AUTH_VARIABLE
from chatwait_ui.client import BackendError
from chatwait_ui.connection import backend
from chatwait_ui.conversation import welcome_text
from chatwait_ui.history import BackendHistory
from chatwait_ui.modes.mode_selector import ResponseMode, response_mode_settings, selected_mode
from chatwait_ui.modes.notices import show_error
from chatwait_ui.modes.streaming_mode import answer_with_streaming
from chatwait_ui.modes.wait_mode import answer_with_wait

# Set by cli.py from the backend's GET /me at start: "api_key", "none", or unset when
# the backend did not answer (then both ways to log in are offered).
backend_auth = os.environ.get(BACKEND_AUTH_VARIABLE)

__all__ = ["backend"]


@cl.data_layer
def history() -> BackendHistory:
    return BackendHistory()


if backend_auth != "none":

    @cl.password_auth_callback
    async def log_in(username: str, password: str) -> cl.User | None:
        return await log_in_with_key(username, password)


if backend_auth != "api_key":

    @cl.header_auth_callback
    async def log_in_automatically(headers: Headers) -> cl.User | None:
        return await log_in_as_local()


# Chainlit's HTTP routes find their user through this dependency: ours also refuses a
# login whose key this process no longer holds (see accounts.py).
chainlit_server.dependency_overrides[get_current_user] = current_user_with_key


@cl.on_app_shutdown
async def close_backend() -> None:
    await backend.close()


@cl.on_chat_start
async def start_chat() -> None:
    # The chat's thread id is its backend conversation_id: the history sidebar lists it.
    await response_mode_settings().send()
    try:
        health = await backend.client.health()
    except BackendError as error:
        await cl.Message(content=welcome_text(None, backend.client.base_url, error)).send()
        return
    await cl.Message(content=welcome_text(health, backend.client.base_url, None)).send()


@cl.on_chat_resume
async def resume_chat(thread: ThreadDict) -> None:
    # Chainlit shows the thread's messages; the next message continues the conversation.
    await response_mode_settings().send()


@cl.on_settings_update
async def switch_mode(chat_settings: dict[str, Any]) -> None:
    mode = selected_mode(chat_settings)
    await cl.Message(
        content=f"Response mode: **{mode.value}**: {mode.description}.", author="ChatWait"
    ).send()


@cl.on_message
async def answer(message: cl.Message) -> None:
    conversation_id = cl.context.session.thread_id
    mode = selected_mode(cl.user_session.get("chat_settings"))
    try:
        client = client_for_asking_user()
    except LoginExpired as error:
        await show_error(error)
        return
    if mode is ResponseMode.WAIT:
        await answer_with_wait(client, message.content, conversation_id)
    else:
        await answer_with_streaming(client, message.content, conversation_id)
