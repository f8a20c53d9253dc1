"""Request and response bodies of the chat endpoints."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from chatwait.models.chat import TokenUsage
from chatwait.schemas.event_ids import MAX_TOKEN_INDEX, parse_last_event_id
from chatwait.schemas.text import PlainText, well_formed

ID_CHARSET = r"[A-Za-z0-9_-]"
STREAM_ID_PATTERN = rf"^{ID_CHARSET}{{8,128}}$"
CONVERSATION_ID_PATTERN = rf"^{ID_CHARSET}{{1,128}}$"
ConversationId = Annotated[
    str,
    Field(
        pattern=CONVERSATION_ID_PATTERN,
        description="Conversation to continue; letters, digits, `_` and `-`, 1–128 chars. "
        "Omit it to start a new conversation.",
        examples=["demo-conversation-1"],
    ),
]
StreamId = Annotated[
    str,
    Field(
        pattern=STREAM_ID_PATTERN,
        description="Stream to start (when unknown and `message` is given) or to follow/resume; "
        "letters, digits, `_` and `-`, 8–128 chars.",
        examples=["my-stream-0001"],
    ),
]


# What the validators below enforce, said in the OpenAPI schema too, so clients and
# fuzzers know a valid message before sending it: not blank (one character that is not
# whitespace) and no NUL (lone surrogates cannot be written in a JSON Schema pattern).
MESSAGE_RULES: dict[str, Any] = {
    "minLength": 1,
    "pattern": r"^[^\u0000]*[^\s\u0000][^\u0000]*$",
}
# StreamRequest's rules across fields: a message or a stream_id; a resume by index
# (last_event_id) names its stream.
_STREAM_REQUEST_RULES: dict[str, Any] = {
    "anyOf": [
        {"required": ["message"], "properties": {"message": {"type": "string"}}},
        {"required": ["stream_id"], "properties": {"stream_id": {"type": "string"}}},
    ],
    "if": {"required": ["last_event_id"], "properties": {"last_event_id": {"type": "integer"}}},
    "then": {"required": ["stream_id"], "properties": {"stream_id": {"type": "string"}}},
}


def _not_blank(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("must not be empty or blank")
    return value


class ChatRequest(BaseModel):
    """Body of `POST /chat/wait`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"message": "What is Server-Sent Events?", "conversation_id": "demo-1"}]
        },
    )

    message: PlainText = Field(
        description="The user's message (not blank).", json_schema_extra=MESSAGE_RULES
    )
    conversation_id: ConversationId | None = None

    _check_message = field_validator("message")(_not_blank)


class StreamRequest(BaseModel):
    """Body of `POST /chat/streaming` (the query parameters of `GET /chat/streaming`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            **_STREAM_REQUEST_RULES,
            "examples": [
                {"message": "Tell me a story", "stream_id": "my-stream-0001"},
                {"stream_id": "my-stream-0001", "last_event_id": 41},
            ],
        },
    )

    message: PlainText | None = Field(
        default=None,
        description="The user's message; needed to start a stream, optional to resume.",
        json_schema_extra=MESSAGE_RULES,
    )
    conversation_id: ConversationId | None = None
    stream_id: StreamId | None = None
    # Accepted loosely, documented as what it is: a bad value (`true`, `-1`, `"x"`) is
    # answered with 400 invalid_last_event_id (api/validation.py), like the
    # Last-Event-ID header, rather than coerced (`true` to 1) or refused with a 422.
    last_event_id: Annotated[
        bool | int | float | str | None,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "integer", "minimum": 0, "maximum": MAX_TOKEN_INDEX},
                    {"type": "null"},
                ]
            }
        ),
    ] = Field(
        default=None,
        description="Resume after this token index (same as the Last-Event-ID header).",
    )

    _check_message = field_validator("message")(_not_blank)
    # Checked even when a Last-Event-ID header wins over it: a bad value is never
    # accepted silently. Raises InvalidLastEventId (400), which Pydantic passes on.
    _check_last_event_id = field_validator("last_event_id")(parse_last_event_id)


class WaitResponse(BaseModel):
    """The complete answer of `POST /chat/wait`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "response": "Server-Sent Events is a one-way HTTP streaming protocol…",
                    "conversation_id": "demo-1",
                    "model": "gemini-2.5-flash",
                    "usage": {
                        "requests": 1,
                        "input_tokens": 12,
                        "output_tokens": 40,
                        "total_tokens": 52,
                    },
                }
            ]
        }
    )

    response: str
    conversation_id: str
    model: str
    usage: TokenUsage | None = None

    # The model's text may hold a lone surrogate, which JSON cannot carry as UTF-8.
    _encodable_response = field_validator("response")(well_formed)


class StreamQuery(StreamRequest):
    """Query parameters of `GET /chat/streaming`: unknown parameters (cache busters) pass."""

    model_config = ConfigDict(extra="ignore")


class ChatMessage(BaseModel):
    role: Literal["user", "assistant"]
    content: str

    # History written before the input rules (or by the model) may hold a lone
    # surrogate: show it as U+FFFD rather than failing every read of the conversation.
    _encodable_content = field_validator("content")(well_formed)


class ConversationHistory(BaseModel):
    """Body of `GET /conversations/{conversation_id}`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "conversation_id": "demo-1",
                    "messages": [
                        {"role": "user", "content": "I am Ada."},
                        {"role": "assistant", "content": "Nice to meet you, Ada."},
                    ],
                }
            ]
        }
    )

    conversation_id: str
    messages: list[ChatMessage]
