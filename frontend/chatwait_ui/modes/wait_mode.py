"""Wait mode: POST /chat/wait, show a loading step with the elapsed time, then the whole
answer as one message."""

from __future__ import annotations

import asyncio
import contextlib
import time

import chainlit as cl
from chainlit.utils import utc_now

from chatwait_ui.client import BackendError, ChatWaitClient
from chatwait_ui.modes.mode_selector import ResponseMode, answer_label
from chatwait_ui.modes.notices import show_error

# Chainlit shows a step as "Using <name>" while it runs and "Used <name>" after.
WAITING_STEP_NAME = "Wait mode"
WAITING_TEXT = "Waiting for the full answer…"
# How often the elapsed time in the loading step is refreshed.
TICK_SECONDS = 1.0


async def answer_with_wait(client: ChatWaitClient, question: str, conversation_id: str) -> None:
    started = time.monotonic()
    # Under the current run, like the answer, so the step is shown above the answer;
    # open, so the elapsed time is visible without a click.
    current = cl.context.current_step
    step = cl.Step(
        name=WAITING_STEP_NAME,
        type="tool",
        show_input=False,
        default_open=True,
        parent_id=current.id if current else None,
    )
    step.output = f"{WAITING_TEXT} 0 s"
    await step.send()
    ticker = asyncio.create_task(_show_elapsed(step, started))
    try:
        answer = await client.wait(question, conversation_id)
    except asyncio.CancelledError:
        # Stop button: the cancelled request closes its connection, and the backend
        # cancels a wait run whose client has gone. Chainlit itself posts "Task manually
        # stopped.", so the chat gets no second notice from us.
        await _finish(step, ticker, f"Cancelled after {time.monotonic() - started:.0f} s")
        raise
    except BackendError as error:
        await _finish(step, ticker, "Failed")
        await show_error(error)
        return
    await _finish(step, ticker, f"Answer received after {time.monotonic() - started:.1f} s")
    await cl.Message(content=answer.response + answer_label(ResponseMode.WAIT)).send()


async def _show_elapsed(step: cl.Step, started: float) -> None:
    while True:
        await asyncio.sleep(TICK_SECONDS)
        step.output = f"{WAITING_TEXT} {time.monotonic() - started:.0f} s"
        await step.update()


async def _finish(step: cl.Step, ticker: asyncio.Task[None], outcome: str) -> None:
    ticker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await ticker
    step.output = outcome
    step.end = utc_now()
    await step.update()
