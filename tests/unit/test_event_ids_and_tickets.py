"""The Last-Event-ID parser (schemas/event_ids.py) and stream tickets (chatwait/tickets.py)."""

from __future__ import annotations

import re

import pytest

from chatwait.auth import ApiKeyRegistry, key_digest
from chatwait.exceptions import InvalidLastEventId
from chatwait.schemas.event_ids import (
    LAST_EVENT_ID_PATTERN,
    EventPosition,
    event_id,
    parse_event_id,
    parse_last_event_id,
    same_stream_id,
    start_event_position,
)
from chatwait.tickets import TICKET_PATTERN, TicketSigner


@pytest.mark.parametrize(
    ("value", "position"),
    [
        ("0", EventPosition(None, 0)),
        ("41", EventPosition(None, 41)),
        ("start", EventPosition(None, -1)),
        ("done", EventPosition(None, -1, saw_final_event=True)),
        ("error", EventPosition(None, -1, saw_final_event=True)),
        ("str_abcdefgh:7", EventPosition("str_abcdefgh", 7)),
        ("str_abcdefgh:start", EventPosition("str_abcdefgh", -1)),
        ("str_abcdefgh:done", EventPosition("str_abcdefgh", -1, saw_final_event=True)),
        (41, EventPosition(None, 41)),
        (41.0, EventPosition(None, 41)),
    ],
)
def test_every_id_the_server_sends_parses_back_to_its_position(
    value: str | int | float, position: EventPosition
) -> None:
    assert parse_event_id(value) == position
    if isinstance(value, str):
        assert re.match(LAST_EVENT_ID_PATTERN, value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "-1",
        "+2",
        "1.5",
        "0x10",
        "Done",
        "start:3",
        "short:3",
        "abcdefgh:",
        ":3",
        "abcdefgh:3:4",
        "9" * 16,
        "9" * 4301,
        "abcdefgh:" + "9" * 16,
        True,
        -1,
        1.5,
        2**53,
    ],
)
def test_anything_else_is_invalid_last_event_id(value: str | int | float) -> None:
    with pytest.raises(InvalidLastEventId):
        parse_event_id(value)


@pytest.mark.parametrize("value", ["start", "done", "error", "str_abcdefgh:3"])
def test_the_last_event_id_field_takes_a_plain_index_only(value: str) -> None:
    with pytest.raises(InvalidLastEventId):
        parse_last_event_id(value)
    assert parse_last_event_id("3") == 3


def test_ids_name_the_stream_only_when_asked() -> None:
    assert event_id("7", None) == "7"
    assert event_id("done", "str_abcdefgh") == "str_abcdefgh:done"
    assert same_stream_id("str_abcdefgh:7", "error") == "str_abcdefgh:error"
    assert same_stream_id("7", "error") == "error"
    assert start_event_position(0) == "start"
    assert start_event_position(8) == "7"


ALICE = "sk-alice-0123456789abcdef"
ALICE_NEW = "sk-alice-new-0123456789ab"
BOB = "sk-bob-fedcba9876543210"


def _signer(*entries: tuple[str, str], secret: str | None = None) -> TicketSigner:
    return TicketSigner(ApiKeyRegistry([(n, key_digest(k)) for n, k in entries]), secret)


def test_ticket_round_trips_and_matches_its_documented_pattern() -> None:
    signer = _signer(("alice", ALICE), ("bob", BOB))
    ticket = signer.issue("alice", "str_abcdefgh", key_digest(ALICE), 2_000_000_000)

    claims = signer.verify(ticket, now=1_999_999_999)

    assert re.match(TICKET_PATTERN, ticket)
    assert claims is not None
    assert (claims.principal, claims.stream_id, claims.expires_at) == (
        "alice",
        "str_abcdefgh",
        2_000_000_000,
    )
    assert signer.verify(ticket, now=2_000_000_001) is None


def test_ticket_survives_adding_a_key_and_dies_with_its_own() -> None:
    ticket = _signer(("alice", ALICE)).issue("alice", "str_abcdefgh", key_digest(ALICE), 2**31)

    assert _signer(("alice", ALICE), ("alice", ALICE_NEW)).verify(ticket, 0) is not None
    assert _signer(("alice", ALICE_NEW)).verify(ticket, 0) is None
    assert _signer(("alice", ALICE), secret="pepper").verify(ticket, 0) is None


def test_ticket_signed_with_one_principals_key_is_not_anothers() -> None:
    signer = _signer(("alice", ALICE), ("bob", BOB))
    # A ticket claiming bob but signed with alice's key.
    forged = signer.issue("bob", "str_abcdefgh", key_digest(ALICE), 2**31)

    assert signer.verify(forged, 0) is None
