"""Stream tickets: how a browser's EventSource streams when API keys are configured.

An EventSource cannot send `Authorization`, and a key must never go in a URL (proxies,
browser history and Referer headers keep URLs). So a page mints a ticket with its key
(`POST /chat/tickets`, Bearer) and puts the ticket in the EventSource URL
(`GET /chat/streaming?…&ticket=…`). A ticket is good for one principal, one stream and
a short while: that stream's start and its reconnects, nothing else.

    ticket = base64url("<expires_at>:<stream_id>:<principal>") "." base64url(mac)
    mac    = HMAC-SHA256(signing key, "chatwait-ticket-v1\\n" + payload)
    signing key = HMAC-SHA256(SHA-256 of the minting API key,
                              "chatwait stream tickets" + CHATWAIT_TICKET_SECRET)

Nothing is stored: any instance that has the same key configured verifies the ticket.
Adding or removing *other* keys changes nothing; removing the minting key revokes its
tickets at once. CHATWAIT_TICKET_SECRET (optional, the same on every instance) is mixed
in so that a ticket seen in a log cannot be used to test guesses of a weak key offline;
changing it revokes every outstanding ticket. Tickets are compared with
`hmac.compare_digest` against every key of the principal, so the time taken does not
depend on which key or how much of a MAC matched.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
from dataclasses import dataclass

from chatwait.auth import ApiKeyRegistry
from chatwait.config import Settings

_MAC_CONTEXT = b"chatwait-ticket-v1\n"
_KEY_CONTEXT = b"chatwait stream tickets"
# Far above a real ticket (about 250 characters); refused before any decoding.
MAX_TICKET_CHARS = 512
TICKET_PATTERN = r"^[A-Za-z0-9_-]{1,400}\.[A-Za-z0-9_-]{43}$"
_TICKET = re.compile(TICKET_PATTERN)
_PAYLOAD = re.compile(r"^([0-9]{1,12}):([A-Za-z0-9_-]{8,128}):([A-Za-z0-9_.-]{1,64})$")
# Signs the tickets of a server without keys, which never checks them (every request
# is the principal `local` there); they exist so a page works the same on both.
_NO_KEY_DIGEST = hashlib.sha256(b"chatwait: no API keys configured").digest()


@dataclass(frozen=True)
class StreamTicket:
    principal: str
    stream_id: str
    expires_at: int  # Unix seconds


def ticket_lifetime_seconds(settings: Settings) -> float:
    """Long enough for every reconnect of the stream it names: the longest run
    (MAX_RUN_SECONDS) plus the time a finished stream stays resumable
    (STREAM_TTL_SECONDS); 15 minutes by default. After that the stream is gone anyway."""
    return (settings.max_run_seconds or 0) + settings.stream_ttl_seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TicketSigner:
    """Mints and verifies tickets with the configured keys (and CHATWAIT_TICKET_SECRET)."""

    def __init__(self, registry: ApiKeyRegistry, secret: str | None) -> None:
        self._registry = registry
        self._secret = (secret or "").encode()

    def _mac(self, key_digest: bytes, payload: bytes) -> bytes:
        signing_key = hmac.new(key_digest, _KEY_CONTEXT + self._secret, hashlib.sha256).digest()
        return hmac.new(signing_key, _MAC_CONTEXT + payload, hashlib.sha256).digest()

    def issue(
        self, principal: str, stream_id: str, key_digest: bytes | None, expires_at: int
    ) -> str:
        """A ticket for `stream_id` of `principal`, signed with the minting key's digest."""
        payload = f"{expires_at}:{stream_id}:{principal}".encode()
        return f"{_b64(payload)}.{_b64(self._mac(key_digest or _NO_KEY_DIGEST, payload))}"

    def verify(self, ticket: str, now: float) -> StreamTicket | None:
        """The ticket's claims, or None: malformed, forged, expired, or its key is gone."""
        if len(ticket) > MAX_TICKET_CHARS or not _TICKET.match(ticket):
            return None
        encoded_payload, _, encoded_mac = ticket.partition(".")
        try:
            payload = _unb64(encoded_payload)
            mac = _unb64(encoded_mac)
            match = _PAYLOAD.match(payload.decode("ascii"))
        except (binascii.Error, ValueError):
            return None
        if match is None:
            return None
        expires_at, stream_id, principal = int(match[1]), match[2], match[3]
        valid = False
        for digest in self._registry.digests_of(principal):
            # No early exit: every key of the principal is tried.
            valid |= hmac.compare_digest(self._mac(digest, payload), mac)
        if not valid or now > expires_at:
            return None
        return StreamTicket(principal, stream_id, expires_at)


def expiry(now: float, lifetime: float) -> int:
    """Unix seconds, rounded up: a ticket never expires before its stated lifetime."""
    return math.ceil(now + lifetime)
