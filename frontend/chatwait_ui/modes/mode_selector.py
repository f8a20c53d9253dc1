"""The "Response mode" chat setting, and the label every answer carries.

The mode lives in Chainlit's per-chat settings, so it can change between any two
messages of a conversation; the backend conversation is the same in both modes.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import chainlit as cl
from chainlit.input_widget import InputWidget, Select

RESPONSE_MODE_SETTING = "response_mode"


class ResponseMode(StrEnum):
    STREAMING = "Streaming"
    WAIT = "Wait"

    @property
    def description(self) -> str:
        if self is ResponseMode.STREAMING:
            return "tokens appear as the model writes them, and survive a dropped connection"
        return "the whole answer arrives at once, when the model has finished"


DEFAULT_MODE = ResponseMode.STREAMING


def response_mode_settings() -> cl.ChatSettings:
    """The chat settings panel: one select, Streaming first (the default)."""
    inputs: list[InputWidget] = [
        Select(
            id=RESPONSE_MODE_SETTING,
            label="Response mode",
            values=[mode.value for mode in ResponseMode],
            initial_index=0,
            description=(
                "Streaming shows the answer while it is written; Wait shows it when it is complete."
            ),
        )
    ]
    return cl.ChatSettings(inputs)


def selected_mode(chat_settings: Mapping[str, Any] | None) -> ResponseMode:
    """The mode chosen in `chat_settings`; the default when unset or unknown."""
    value = (chat_settings or {}).get(RESPONSE_MODE_SETTING)
    try:
        return ResponseMode(str(value))
    except ValueError:
        return DEFAULT_MODE


def answer_label(mode: ResponseMode) -> str:
    """The footer line under an answer, saying which mode produced it."""
    return f"\n\n*{mode.value} mode*"
