"""Bodies of the conversation list, rename and the account endpoints (/me, /usage)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

from chatwait.services.conversation_index import TITLE_MAX_CHARS, ConversationInfo


def _iso(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


class ConversationItem(BaseModel):
    conversation_id: str
    title: str = Field(description="The first message, trimmed, or the name given by PATCH.")
    created_at: datetime = Field(description="ISO 8601, UTC.")
    updated_at: datetime = Field(description="ISO 8601, UTC; the list is newest first.")
    message_count: int = Field(description="User and assistant messages.")

    @classmethod
    def of(cls, info: ConversationInfo) -> ConversationItem:
        return cls(
            conversation_id=info.conversation_id,
            title=info.title,
            created_at=_iso(info.created_at),
            updated_at=_iso(info.updated_at),
            message_count=info.message_count,
        )


class ConversationList(BaseModel):
    """Body of `GET /conversations`."""

    conversations: list[ConversationItem]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class RenameConversation(BaseModel):
    """Body of `PATCH /conversations/{conversation_id}`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"title": "Ada"}]})

    title: StrictStr = Field(min_length=1, max_length=TITLE_MAX_CHARS, pattern=r"\S")

    @field_validator("title")
    @classmethod
    def _one_line(cls, value: str) -> str:
        # Titles are shown on one line in lists; keep what a person typed otherwise.
        return " ".join(value.split())


class Me(BaseModel):
    """Body of `GET /me`."""

    principal: str
    auth: Literal["api_key", "none"]


class UsageLimits(BaseModel):
    rate_limit_per_minute: int | None
    max_concurrent_runs: int | None
    daily_token_budget: int | None


class UsageReport(BaseModel):
    """Body of `GET /usage`: the caller's runs and tokens of the current UTC day."""

    principal: str
    period_start: datetime
    runs: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    limits: UsageLimits = Field(description="null: the limit is off.")
