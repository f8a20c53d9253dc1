"""A finished chat turn and the tokens it cost."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def message_text(content: Any) -> str:
    """The text of a Responses-format message `content`: a string or a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def chat_messages(items: list[Any]) -> list[dict[str, str]]:
    """The user and assistant text messages of a session's items, in order."""
    messages = []
    for item in items:
        if (
            isinstance(item, dict)
            and item.get("role") in ("user", "assistant")
            and item.get("type", "message") == "message"
        ):
            messages.append(
                {"role": str(item["role"]), "content": message_text(item.get("content"))}
            )
    return messages


class TokenUsage(BaseModel):
    """Token counts reported by the model for one run (all model requests added up)."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0


class ChatReply(BaseModel):
    """The complete answer to one message."""

    text: str
    conversation_id: str
    model: str
    usage: TokenUsage | None = None
