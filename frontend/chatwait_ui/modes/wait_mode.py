"""Wait mode: POST /chat/wait, and one message that counts the seconds while the backend
works, then becomes the whole answer.

A message, not a Chainlit step: Chainlit titles every step "Using …" / "Used …", which
reads like a tool call, not like a chat waiting for its answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import chainlit as cl

from chatwait_ui.client import BackendError, ChatWaitClient
from chatwait_ui.modes.mode_selector import ResponseMode, answer_label
from chatwait_ui.modes.notices import show_error

WAITING_TEXT = "⏳ Waiting for the whole answer…"
# How often the elapsed time in the waiting message is refreshed.
TICK_SECONDS = 1.0


def waiting_text(elapsed_seconds: float) -> str:
    return f"{WAITING_TEXT} {elapsed_seconds:.0f} s"


async def answer_with_wait(client: ChatWaitClient, question: str, conversation_id: str) -> None:
    started = time.monotonic()
    answer = cl.Message(content=waiting_text(0))
    await answer.send()
    ticker = asyncio.create_task(_show_elapsed(answer, started))
    try:
        reply = await client.wait(question, conversation_id)
    except asyncio.CancelledError:
        # Stop button: the cancelled request closes its connection, and the backend
        # cancels a wait run whose client has gone. Chainlit itself posts "Task manually
        # stopped.", so the counter just goes away.
        await _stop(ticker)
        await answer.remove()
        raise
    except BackendError as error:
        await _stop(ticker)
        await answer.remove()
        await show_error(error)
        return
    await _stop(ticker)
    answer.content = reply.response + answer_label(ResponseMode.WAIT)
    await answer.update()


async def _show_elapsed(answer: cl.Message, started: float) -> None:
    while True:
        await asyncio.sleep(TICK_SECONDS)
        answer.content = waiting_text(time.monotonic() - started)
        await answer.update()


async def _stop(ticker: asyncio.Task[None]) -> None:
    ticker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await ticker
