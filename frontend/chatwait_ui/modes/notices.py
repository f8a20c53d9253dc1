"""Short messages about the chat itself (errors, reconnects), kept apart from answers."""

from __future__ import annotations

import chainlit as cl

from chatwait_ui.client import BackendError


async def show_error(error: BackendError) -> None:
    """A failure as one human sentence; the chat stays usable afterwards."""
    await cl.ErrorMessage(content=str(error), author="ChatWait").send()
