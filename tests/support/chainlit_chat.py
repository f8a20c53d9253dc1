"""A Chainlit chat without a browser: the real handlers, a recording emitter.

Chainlit sends everything the browser sees through its emitter (steps, tokens, chat
settings). `ChainlitChat` installs a Chainlit context whose emitter records those
calls and keeps each message's current state, so a test reads the chat the way a
person would: the messages in order, with their final text.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import chainlit as cl
from chainlit.config import config
from chainlit.context import ChainlitContext, context_var
from chainlit.emitter import BaseChainlitEmitter
from chainlit.session import HTTPSession

from chatwait_ui.modes.mode_selector import RESPONSE_MODE_SETTING


@dataclass
class ShownStep:
    """A message or step as the browser would show it now."""

    id: str
    type: str
    name: str
    content: str
    is_error: bool
    streamed_tokens: list[str] = field(default_factory=list)
    removed: bool = False


class RecordingEmitter(BaseChainlitEmitter):
    def __init__(self, session: HTTPSession) -> None:
        super().__init__(session)
        self.steps: dict[str, ShownStep] = {}
        self.events: list[tuple[str, Any]] = []
        self.chat_settings_widgets: list[dict[str, Any]] = []

    def _show(self, step_dict: Any) -> None:
        shown = self.steps.get(step_dict["id"])
        content = step_dict.get("output") or ""
        if shown is None:
            self.steps[step_dict["id"]] = ShownStep(
                id=step_dict["id"],
                type=step_dict["type"],
                name=step_dict.get("name") or "",
                content=content,
                is_error=bool(step_dict.get("isError")),
            )
        else:
            shown.content = content
            shown.is_error = bool(step_dict.get("isError"))

    async def emit(self, event: str, data: Any) -> None:
        self.events.append((event, data))
        if event == "chat_settings":
            self.chat_settings_widgets = data

    async def send_step(self, step_dict: Any) -> None:
        self.events.append(("new_message", step_dict))
        self._show(step_dict)

    async def update_step(self, step_dict: Any) -> None:
        self.events.append(("update_message", step_dict))
        self._show(step_dict)

    async def delete_step(self, step_dict: Any) -> None:
        self.events.append(("delete_message", step_dict))
        self.steps[step_dict["id"]].removed = True

    async def stream_start(self, step_dict: Any) -> None:
        self.events.append(("stream_start", step_dict))
        self._show(step_dict)
        self.steps[step_dict["id"]].streamed_tokens.append(step_dict.get("output") or "")

    async def send_token(
        self, id: str, token: str, is_sequence: bool = False, is_input: bool = False
    ) -> None:
        self.events.append(("stream_token", token))
        shown = self.steps[id]
        shown.streamed_tokens.append(token)
        shown.content = token if is_sequence else shown.content + token

    # Synchronous, like Chainlit's real emitter: ChatSettings.send() calls it without await.
    def set_chat_settings(self, settings: dict[str, Any]) -> None:  # type: ignore[override]
        self.session.chat_settings = settings


class ChainlitChat:
    """One Chainlit chat (one session), driven through the app's registered handlers."""

    def __init__(self) -> None:
        self.session = HTTPSession(
            id=str(uuid.uuid4()), thread_id=str(uuid.uuid4()), client_type="webapp"
        )
        self.emitter = RecordingEmitter(self.session)

    def activate(self) -> ChainlitChat:
        """Make this chat the current Chainlit context (of this task and its children)."""
        context_var.set(ChainlitContext(self.session, self.emitter))
        return self

    async def start(self) -> None:
        self.activate()
        assert config.code.on_chat_start is not None
        await config.code.on_chat_start()

    async def send(self, text: str) -> None:
        """What Chainlit does with a message typed in the browser."""
        self.activate()
        message = cl.Message(content=text, type="user_message", author="User")
        assert config.code.on_message is not None
        await config.code.on_message(message)

    async def choose_mode(self, mode: str) -> None:
        """What Chainlit does when the settings panel is confirmed."""
        self.activate()
        self.session.chat_settings[RESPONSE_MODE_SETTING] = mode
        assert config.code.on_settings_update is not None
        await config.code.on_settings_update({RESPONSE_MODE_SETTING: mode})

    def messages(self, *, include_removed: bool = False) -> list[ShownStep]:
        """The assistant's messages, oldest first (errors included)."""
        return [
            step
            for step in self.emitter.steps.values()
            if step.type == "assistant_message" and (include_removed or not step.removed)
        ]
