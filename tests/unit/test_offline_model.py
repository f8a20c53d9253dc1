"""The offline demo model, driven by the real Agents SDK Runner."""

from __future__ import annotations

import re

from agents import Agent, ModelSettings, Runner
from openai.types.responses import ResponseTextDeltaEvent

from chatwait.config import Settings
from chatwait.services.offline_model import (
    PARAGRAPH_PAUSE_WORDS,
    SENTENCE_PAUSE_WORDS,
    OfflineDemoModel,
    compose_offline_reply,
    pause_after,
)


def offline_agent() -> Agent:
    return Agent(
        name="t",
        instructions="x",
        model=OfflineDemoModel(token_delay_seconds=0),
        model_settings=ModelSettings(include_usage=True),
    )


async def test_reply_says_offline_quotes_the_user_and_explains_gemini() -> None:
    result = await Runner.run(offline_agent(), "what time is it?")

    assert "offline demo mode" in result.final_output
    assert "what time is it?" in result.final_output
    assert "GEMINI_API_KEY" in result.final_output


async def test_streamed_deltas_join_to_the_final_output_with_usage() -> None:
    result = Runner.run_streamed(offline_agent(), "stream me")
    deltas = [
        event.data.delta
        async for event in result.stream_events()
        if event.type == "raw_response_event" and isinstance(event.data, ResponseTextDeltaEvent)
    ]

    assert len(deltas) > 10
    assert "".join(deltas) == result.final_output
    assert result.context_wrapper.usage.output_tokens == len(deltas)


def test_turn_count_follows_the_history() -> None:
    history = [
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "reply"},
        {"role": "user", "content": "two"},
    ]

    assert "message 2 of this conversation" in compose_offline_reply(history)  # type: ignore[arg-type]


def test_long_messages_are_shortened_in_the_quote() -> None:
    reply = compose_offline_reply("y" * 1000)

    assert "y" * 300 + "…" in reply
    assert "y" * 301 not in reply


def test_pauses_are_longer_after_a_sentence_and_longest_after_a_paragraph() -> None:
    assert pause_after("word ") == 1
    assert pause_after("done. ") == SENTENCE_PAUSE_WORDS
    assert pause_after("works:\n\n") == PARAGRAPH_PAUSE_WORDS
    assert 1 < SENTENCE_PAUSE_WORDS < PARAGRAPH_PAUSE_WORDS


def test_default_pace_leaves_time_to_watch_stop_or_see_the_wait_counter_tick() -> None:
    """Regression: the demo answer used to finish in about 3 s, before a newcomer could
    press stop or see wait mode's counter (which ticks once a second) move."""
    default_delay = Settings.model_fields["offline_token_delay_seconds"].default
    reply = compose_offline_reply("hi")
    pieces = [m for m in re.findall(r"\S+\s*|\s+", reply)]

    planned_seconds = default_delay * sum(pause_after(piece) for piece in pieces)

    assert planned_seconds >= 8
    assert "stop button" in reply
    assert "**Wait** mode" in reply
