"""How much of a conversation's history goes upstream with a new message.

The session keeps every item; only the model input is trimmed. `HistoryTrimmer` is
called with the stored history and the new message (`ChatAgentService.model_input`),
has the shape of an Agents SDK `session_input_callback`, and what it returns is the
run's input; the turn appends only the new message and the answer to the session.

A turn is a user message and every item up to the next user message (the assistant's
answer, tool calls and their results). Turns are kept whole, newest first, while their
estimated size fits HISTORY_MAX_TOKENS; the new message is always sent. Cutting inside a
turn could drop a tool call but keep its result, which providers reject.
"""

from __future__ import annotations

import json
from typing import Any

from agents import TResponseInputItem

# A rough, provider-independent estimate: about four characters per token for English
# text and JSON. It over-counts a little (keys and quotes count too), which errs on the
# cheap side; exact counts would need each provider's tokenizer.
CHARS_PER_TOKEN = 4


def estimated_tokens(item: Any) -> int:
    """The estimated token count of one input item (its JSON form, chars / 4)."""
    return len(json.dumps(item, ensure_ascii=False, default=str)) // CHARS_PER_TOKEN + 1


def _is_user_message(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and item.get("role") == "user"
        and item.get("type", "message") == "message"
    )


def split_turns(items: list[TResponseInputItem]) -> list[list[TResponseInputItem]]:
    """Items grouped into turns, each starting at a user message (oldest first).

    Items before the first user message (rare: a session written by other code) form a
    turn of their own, so they are dropped or kept together.
    """
    turns: list[list[TResponseInputItem]] = []
    for item in items:
        if _is_user_message(item) or not turns:
            turns.append([])
        turns[-1].append(item)
    return turns


class HistoryTrimmer:
    """Keeps the newest whole turns within a token budget, then the new items."""

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens

    def recent_turns(self, history: list[TResponseInputItem]) -> list[TResponseInputItem]:
        """The newest whole turns of `history` whose estimated size fits the budget."""
        kept: list[list[TResponseInputItem]] = []
        budget = self.max_tokens
        for turn in reversed(split_turns(history)):
            size = sum(estimated_tokens(item) for item in turn)
            if size > budget:
                # Stop at the first turn that does not fit: skipping to an older, smaller
                # one would send the model a conversation with a hole in it.
                break
            budget -= size
            kept.append(turn)
        return [item for turn in reversed(kept) for item in turn]

    def __call__(
        self, history: list[TResponseInputItem], new_items: list[TResponseInputItem]
    ) -> list[TResponseInputItem]:
        return self.recent_turns(history) + new_items
