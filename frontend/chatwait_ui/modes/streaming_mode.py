"""Streaming mode: render tokens as they arrive, ride out broken connections, and let the
stop button cancel the run on the server.

The client resumes a broken stream by itself (same stream_id, Last-Event-ID); this
module only shows what happens: a notice while reconnecting, the same answer message
continuing afterwards, and the partial answer marked as stopped or failed.
"""

from __future__ import annotations

import asyncio
import contextlib

import chainlit as cl

from chatwait_ui.client import (
    BackendError,
    ChatWaitClient,
    Reconnecting,
    StreamFinished,
    StreamStarted,
    TokenReceived,
    new_stream_id,
)
from chatwait_ui.modes.mode_selector import ResponseMode, answer_label
from chatwait_ui.modes.notices import show_error


async def answer_with_streaming(
    client: ChatWaitClient, question: str, conversation_id: str
) -> None:
    # Chosen here, not by the server, so the stop button can cancel the run even
    # before the first byte of the answer has arrived.
    stream_id = new_stream_id()
    answer = cl.Message(content="")
    reconnect_notice: cl.Message | None = None
    try:
        # aclosing: a stop button press lands between two events, and the stream (with
        # its HTTP response) must then be closed here, in the task that opened it.
        events = client.stream(question, conversation_id, stream_id=stream_id)
        async with contextlib.aclosing(events):
            async for event in events:
                if isinstance(event, TokenReceived):
                    await answer.stream_token(event.text)
                elif isinstance(event, Reconnecting):
                    reconnect_notice = await _show_reconnecting(reconnect_notice, event)
                elif isinstance(event, StreamStarted) and reconnect_notice is not None:
                    await reconnect_notice.remove()
                    reconnect_notice = None
                elif isinstance(event, StreamFinished):
                    # The server's full text is the reference: tokens joined equal it.
                    answer.content = event.response + answer_label(ResponseMode.STREAMING)
                    await answer.send()
    except asyncio.CancelledError:
        # The stop button cancelled this task: stop the run on the server too, and
        # keep what was already written. If the backend cannot be reached now, the run
        # stops by itself once nobody has watched it for STREAM_ABANDON_SECONDS.
        with contextlib.suppress(BackendError):
            await client.cancel_stream(stream_id)
        await _close_partial_answer(answer, stopped=True)
        raise
    except BackendError as error:
        await _close_partial_answer(answer, stopped=False)
        await show_error(error)
    finally:
        if reconnect_notice is not None:
            await reconnect_notice.remove()


async def _show_reconnecting(notice: cl.Message | None, event: Reconnecting) -> cl.Message:
    text = (
        f"Connection lost, reconnecting (attempt {event.attempt} of {event.max_attempts})… "
        "The answer will continue where it stopped."
    )
    if notice is None:
        notice = cl.Message(content=text, author="ChatWait")
        await notice.send()
    else:
        notice.content = text
        await notice.update()
    return notice


async def _close_partial_answer(answer: cl.Message, *, stopped: bool) -> None:
    """Keep the tokens that arrived. A stopped answer needs no notice of its own:
    Chainlit's stop handler posts "Task manually stopped." right under it, and it
    offers no hook to replace that text."""
    if not answer.content:
        return
    if stopped:
        answer.content += answer_label(ResponseMode.STREAMING)
    else:
        answer.content += "\n\n*Incomplete: the answer broke off (see below).*"
    await answer.send()
