"""The request rule of /chat/streaming, in one place for GET (query) and POST (body).

message            starts a run (or, with a known stream_id, joins it)
stream_id          follows or resumes a stream
Last-Event-ID      resumes after that token; needs the stream_id, since without one
                   a reconnect would start a second run. The header wins over the
                   `last_event_id` field (for clients that cannot set headers).
"""

from __future__ import annotations

from chatwait.api.validation import ensure_message_length, field_error, parse_last_event_id
from chatwait.auth import Principal
from chatwait.schemas.chat import StreamRequest
from chatwait.streams.lifecycle import StreamOpenRequest


def stream_open_request(
    principal: Principal,
    fields: StreamRequest,
    last_event_id_header: str | None,
    location: str,
    max_message_chars: int,
) -> StreamOpenRequest:
    """Validated fields of one /chat/streaming request; raises 400 / 422 errors."""
    ensure_message_length(fields.message, max_message_chars, location)
    if fields.message is None and fields.stream_id is None:
        raise field_error(
            "message",
            "give a message to start a stream, or a stream_id to follow or resume one",
            "missing",
            location,
        )
    raw = last_event_id_header if last_event_id_header is not None else fields.last_event_id
    last_event_id = parse_last_event_id(raw)
    if last_event_id is not None and fields.stream_id is None:
        raise field_error(
            "stream_id", "Last-Event-ID needs the stream_id to resume", "missing", location
        )
    return StreamOpenRequest(
        principal=principal.name,
        message=fields.message,
        conversation_id=fields.conversation_id,
        stream_id=fields.stream_id,
        last_event_id=last_event_id,
    )
