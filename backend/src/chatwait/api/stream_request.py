"""The request rule of /chat/streaming, in one place for GET (query) and POST (body).

message            starts a run (or, with a known stream_id, joins it)
stream_id          follows or resumes a stream
Last-Event-ID      resumes after that event (schemas/event_ids.py): a token index,
                   `start`, or `done`/`error` (nothing left: 204 No Content). It needs a
                   stream: the stream_id, or an id that names one (`str_…:7`, the ids of
                   a server-named stream), since without one a reconnect would start a
                   second run. The header wins over the `last_event_id` field (a plain
                   index, for clients that cannot set headers).
ticket             (GET only, chatwait/tickets.py) a stream ticket: its stream is the
                   only one the request may name, and the stream when it names none.
"""

from __future__ import annotations

from chatwait.api.validation import ensure_message_length, field_error
from chatwait.auth import Principal
from chatwait.exceptions import InvalidLastEventId, Unauthorized
from chatwait.schemas.chat import StreamRequest
from chatwait.schemas.event_ids import parse_event_id
from chatwait.streams.lifecycle import StreamOpenRequest


def stream_open_request(
    principal: Principal,
    fields: StreamRequest,
    last_event_id_header: str | None,
    location: str,
    max_message_chars: int,
) -> StreamOpenRequest | None:
    """Validated fields of one /chat/streaming request; raises 400 / 422 errors.

    None: the client already saw the stream's final event, so there is nothing to send
    (answered with 204, whether or not the stream still exists: that reveals nothing).
    """
    ensure_message_length(fields.message, max_message_chars, location)
    if fields.message is None and fields.stream_id is None:
        raise field_error(
            "message",
            "give a message to start a stream, or a stream_id to follow or resume one",
            "missing",
            location,
        )
    # The field was checked as a plain index already (StreamRequest); the header may
    # name a stream or a final event too. One parser for both.
    raw = last_event_id_header if last_event_id_header is not None else fields.last_event_id
    position = parse_event_id(raw)
    stream_id = fields.stream_id
    if position is not None and position.stream_id is not None:
        if stream_id is not None and stream_id != position.stream_id:
            raise InvalidLastEventId("Last-Event-ID names another stream than stream_id.")
        stream_id = position.stream_id
    if principal.ticket_stream_id is not None:
        # A stream ticket is good for its own stream only; any other is a bad credential.
        stream_id = stream_id or principal.ticket_stream_id
        if stream_id != principal.ticket_stream_id:
            raise Unauthorized()
    if position is not None and position.saw_final_event:
        return None
    if position is not None and stream_id is None:
        raise field_error(
            "stream_id", "Last-Event-ID needs the stream_id to resume", "missing", location
        )
    return StreamOpenRequest(
        principal=principal.name,
        message=fields.message,
        conversation_id=fields.conversation_id,
        stream_id=stream_id,
        last_event_id=None if position is None else position.last_index,
        ids_name_stream=fields.stream_id is None,
    )
