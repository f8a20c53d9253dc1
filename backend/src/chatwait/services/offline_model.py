"""The offline demo model: an Agents SDK `Model` that needs no key and no network.

It runs when neither an API key nor LLM_BASE_URL is configured, so a fresh checkout can
try every feature (wait, streaming, resume, cancel, history). It says plainly that it is
offline, repeats what the user wrote, counts the conversation's turns (so history is
visible), and streams word by word at OFFLINE_TOKEN_DELAY_SECONDS so that streaming and
resuming can be watched in the UI.
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
        f"This is message {turn} of this conversation, so history works. "
        "To talk to Gemini, set `GEMINI_API_KEY` in `.env` (or `LLM_API_KEY` and "
        "`LLM_BASE_URL` for any OpenAI-compatible endpoint) and restart ChatWait."
    )


def _split_tokens(text: str) -> list[str]:
    # Word pieces keep their trailing whitespace, so the pieces join back exactly.
    return re.findall(r"\S+\s*|\s+", text)


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
        response = self._response(compose_offline_reply(input), input)
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
            await asyncio.sleep(self._token_delay)
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
        # The Runner takes the final answer from this event; without it the run fails
        # with "Model did not produce a final response!".
        yield ResponseCompletedEvent(
            type="response.completed", response=response, sequence_number=sequence + 1
        )
