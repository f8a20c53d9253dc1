"""The offline demo model: an Agents SDK `Model` that needs no key and no network.

It runs when neither an API key nor LLM_BASE_URL is configured, so a fresh checkout can
try every feature (wait, streaming, resume, cancel, history). It says plainly that it is
offline, repeats what the user wrote, counts the conversation's turns (so history is
visible), and says what to try while it answers.

It answers at a reading pace: one word every OFFLINE_TOKEN_DELAY_SECONDS (0.04 s by
default), with a short pause after each sentence and a longer one between paragraphs, so
an answer takes about ten seconds. That is long enough for a newcomer to watch it
stream, press stop half-way, or watch wait mode's counter tick (a wait-mode answer
takes as long as the streamed one would). Tests set the delay to 0 or 0.01 s.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

from agents import Model, ModelResponse, ModelSettings, ModelTracing, Usage
from agents.items import TResponseInputItem, TResponseStreamEvent
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseTextDeltaEvent,
    ResponseUsage,
)
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails

from chatwait.models.chat import message_text

OFFLINE_MODEL_NAME = "offline-demo"
_QUOTE_LIMIT = 300
# Pauses, in units of the per-word delay: the breath a reader takes at a full stop and
# at a new paragraph.
SENTENCE_PAUSE_WORDS = 6
PARAGRAPH_PAUSE_WORDS = 12


def _user_messages(input: str | list[TResponseInputItem]) -> list[str]:
    if isinstance(input, str):
        return [input]
    return [
        message_text(item.get("content"))
        for item in input
        if isinstance(item, dict) and item.get("role") == "user"
    ]


def compose_offline_reply(input: str | list[TResponseInputItem]) -> str:
    """The demo answer: what runs, what the user said, and how to get a real model."""
    messages = _user_messages(input)
    latest = messages[-1].strip() if messages else ""
    quoted = latest if len(latest) <= _QUOTE_LIMIT else latest[:_QUOTE_LIMIT] + "…"
    words = len(latest.split())
    turn = len(messages)
    return (
        "ChatWait is running in **offline demo mode**: no language model is configured, "
        "so this answer comes from a built-in demo model, not from Gemini.\n\n"
        f"You wrote ({words} word{'s' if words != 1 else ''}): “{quoted}”\n\n"
        f"This is message {turn} of this conversation, so history works: send another "
        "message and the count goes up.\n\n"
        "While this answer is being written, try the two response modes. In **Streaming** "
        "mode the words appear one by one as the model writes them. Press the stop button "
        "now, and the answer ends where it is, keeping what was already written. If the "
        "connection breaks, the chat reconnects and goes on with the next word, without "
        "losing or repeating one. In **Wait** mode (switch it in the chat settings) "
        "nothing appears until the whole answer is ready, and a counter shows how many "
        "seconds you have been waiting.\n\n"
        "To talk to Gemini, set `GEMINI_API_KEY` in `.env` (or `LLM_API_KEY` and "
        "`LLM_BASE_URL` for any OpenAI-compatible endpoint) and restart ChatWait."
    )


def _split_tokens(text: str) -> list[str]:
    # Word pieces keep their trailing whitespace, so the pieces join back exactly.
    return re.findall(r"\S+\s*|\s+", text)


def pause_after(piece: str) -> int:
    """How many word delays to wait after `piece`: a new paragraph and the end of a
    sentence take longer than a word."""
    if piece.endswith("\n\n"):
        return PARAGRAPH_PAUSE_WORDS
    if piece.rstrip().endswith((".", "!", "?", ":")):
        return SENTENCE_PAUSE_WORDS
    return 1


class OfflineDemoModel(Model):
    """A deterministic local `Model`; `Runner.run` and `run_streamed` drive it as any other."""

    def __init__(self, token_delay_seconds: float = 0.04) -> None:
        self._token_delay = token_delay_seconds

    def _response(self, text: str, input: str | list[TResponseInputItem]) -> Response:
        input_tokens = sum(len(m.split()) for m in _user_messages(input))
        output_tokens = len(_split_tokens(text))
        return Response(
            id="offline-response",
            created_at=0,
            model=OFFLINE_MODEL_NAME,
            object="response",
            output=[
                ResponseOutputMessage(
                    id="offline-message",
                    type="message",
                    role="assistant",
                    status="completed",
                    content=[ResponseOutputText(type="output_text", text=text, annotations=[])],
                )
            ],
            tool_choice="none",
            tools=[],
            parallel_tool_calls=False,
            status="completed",
            usage=ResponseUsage(
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                total_tokens=input_tokens + output_tokens,
                input_tokens_details=InputTokensDetails(cached_tokens=0, cache_write_tokens=0),
                output_tokens_details=OutputTokensDetails(reasoning_tokens=0),
            ),
        )

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Any],
        output_schema: Any,
        handoffs: list[Any],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: Any,
    ) -> ModelResponse:
        text = compose_offline_reply(input)
        # A wait-mode answer takes as long as the streamed one: the wait is what it shows.
        await asyncio.sleep(self._token_delay * sum(map(pause_after, _split_tokens(text))))
        response = self._response(text, input)
        usage = response.usage
        assert usage is not None
        return ModelResponse(
            output=list(response.output),
            usage=Usage(
                requests=1,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                total_tokens=usage.total_tokens,
            ),
            response_id=response.id,
        )

    async def stream_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Any],
        output_schema: Any,
        handoffs: list[Any],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: Any,
    ) -> AsyncIterator[TResponseStreamEvent]:
        text = compose_offline_reply(input)
        response = self._response(text, input)
        sequence = 0
        yield ResponseCreatedEvent(
            type="response.created",
            response=response.model_copy(update={"output": [], "status": "in_progress"}),
            sequence_number=sequence,
        )
        for piece in _split_tokens(text):
            sequence += 1
            yield ResponseTextDeltaEvent(
                type="response.output_text.delta",
                item_id="offline-message",
                output_index=0,
                content_index=0,
                delta=piece,
                logprobs=[],
                sequence_number=sequence,
            )
            await asyncio.sleep(self._token_delay * pause_after(piece))
        # The Runner takes the final answer from this event; without it the run fails
        # with "Model did not produce a final response!".
        yield ResponseCompletedEvent(
            type="response.completed", response=response, sequence_number=sequence + 1
        )
