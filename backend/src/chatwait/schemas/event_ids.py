"""The `id:` of every SSE event of /chat/streaming, and the one parser of Last-Event-ID.

An event's id is where a client that saw it stands, so that the browser's automatic
reconnect (`Last-Event-ID: <id of the last event seen>`) resumes at the right place:

    start       nothing but `start` seen yet: resume from token 0
    <i>         token i seen (a resumed response's `start` repeats the id the client
                sent, so a drop right after it loses nothing)
    done        the final event seen: nothing is left; the reconnect gets 204 No Content
    error       likewise

For a stream the server named (the request gave no stream_id, as in a plain
`new EventSource("/chat/streaming?message=…")`), every id also names the stream,
`<stream_id>:<position>` (`str_…:7`), so that the reconnect of the same URL finds it.
Words and digits never meet: `done` can never be mistaken for a future token's id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatwait.exceptions import InvalidLastEventId

# Token indexes are stored as Redis stream ids and JSON numbers: stay within 2**53.
MAX_TOKEN_INDEX = 2**53 - 1
START_ID = "start"
FINAL_IDS = ("done", "error")
# The Last-Event-ID header as documented: an optional `<stream_id>:`, then a token index
# of at most 15 digits (< 2**53) or one of the words. Checked before int(): CPython
# refuses more than 4300 digits with a ValueError.
LAST_EVENT_ID_PATTERN = r"^(?:[A-Za-z0-9_-]{8,128}:)?(?:[0-9]{1,15}|start|done|error)$"
_LAST_EVENT_ID = re.compile(LAST_EVENT_ID_PATTERN)
# Before the first token: `start`'s position, as the index of the token "before 0".
BEFORE_FIRST_TOKEN = -1


@dataclass(frozen=True)
class EventPosition:
    """What a Last-Event-ID says: which stream (when it names one), and how far."""

    stream_id: str | None
    # The last token index seen; BEFORE_FIRST_TOKEN after `start` only.
    last_index: int
    # The final event (`done` or `error`) was seen: nothing is left to send.
    saw_final_event: bool = False

    @property
    def is_plain_index(self) -> bool:
        """A bare token index, the only form the `last_event_id` field accepts."""
        return self.stream_id is None and not self.saw_final_event and self.last_index >= 0


def parse_event_id(value: bool | int | float | str | None) -> EventPosition | None:
    """The position a Last-Event-ID (header) or `last_event_id` (field) names; raises
    InvalidLastEventId for anything that is not the id of one of our events."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidLastEventId()
    if isinstance(value, float):
        # JSON Schema counts 41.0 as an integer; 41.5, inf and nan are not.
        if not value.is_integer():
            raise InvalidLastEventId()
        value = int(value)
    if isinstance(value, int):
        if value < 0 or value > MAX_TOKEN_INDEX:
            raise InvalidLastEventId()
        return EventPosition(None, value)
    if len(value) > 200 or not _LAST_EVENT_ID.match(value):
        raise InvalidLastEventId()
    stream_id, _, position = value.rpartition(":")
    named = stream_id or None
    if position == START_ID:
        return EventPosition(named, BEFORE_FIRST_TOKEN)
    if position in FINAL_IDS:
        return EventPosition(named, BEFORE_FIRST_TOKEN, saw_final_event=True)
    index = int(position)
    if index > MAX_TOKEN_INDEX:
        raise InvalidLastEventId()
    return EventPosition(named, index)


def parse_last_event_id(value: bool | int | float | str | None) -> int | None:
    """The `last_event_id` field: a plain token index only, through the same parser."""
    position = parse_event_id(value)
    if position is None:
        return None
    if not position.is_plain_index:
        raise InvalidLastEventId()
    return position.last_index


def event_id(position: str, stream_id: str | None) -> str:
    """The `id:` of an event at `position` (`start`, a token index, `done`, `error`),
    naming `stream_id` when the stream is server-named."""
    return position if stream_id is None else f"{stream_id}:{position}"


def start_event_position(start_index: int) -> str:
    """The `start` event's position: `start`, or on a resume the last token already seen."""
    return START_ID if start_index <= 0 else str(start_index - 1)


def same_stream_id(id_: str, position: str) -> str:
    """The id of the event at `position` of the stream whose event has id `id_`."""
    stream_id, _, _ = id_.rpartition(":")
    return event_id(position, stream_id or None)
