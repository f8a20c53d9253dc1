"""Request and response bodies of `POST /chat/tickets`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from chatwait.schemas.chat import StreamId
from chatwait.tickets import TICKET_PATTERN


class TicketRequest(BaseModel):
    """The stream the ticket is for; omit `stream_id` and the server makes one."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{}, {"stream_id": "my-stream-0001"}]}
    )

    stream_id: StreamId | None = None


class TicketResponse(BaseModel):
    """A stream ticket: put it in the EventSource URL as `ticket=`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ticket": "MTc5NTYzMDQwMDpteS1zdHJlYW0tMDAwMTphbGljZQ.5b0Ck…",
                    "stream_id": "my-stream-0001",
                    "expires_at": "2026-11-25T14:17:00Z",
                }
            ]
        }
    )

    ticket: str = Field(pattern=TICKET_PATTERN)
    stream_id: str
    expires_at: datetime = Field(description="When the ticket stops being accepted (UTC).")
