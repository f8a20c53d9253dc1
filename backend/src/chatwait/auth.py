"""Who is asking: API keys, the principals they name, and how ids are kept apart.

    CHATWAIT_API_KEYS       alice:sk-alice-…,bob:sk-bob-…
    CHATWAIT_API_KEYS_FILE  one `name:key` or `name:sha256:<hex of the key>` per line

Only SHA-256 digests of the keys are kept in memory. A presented key is hashed and
compared with every digest with `hmac.compare_digest`, so the time taken depends on
neither which key matched nor how much of one did. A name may have several keys (add
the new one, move clients over, remove the old one: rotation without downtime).

With no keys configured every request is the principal `local`, as before keys existed.

Every stream and conversation is stored under `scoped_id(principal, id)`, so two
principals that choose the same id get two separate things, and one principal's lookup
can never reach another's: ownership needs no check that could be forgotten.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from chatwait.config import Settings

ANONYMOUS = "local"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MIN_KEY_CHARS = 16
_SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


class ApiKeyConfigError(ValueError):
    """A key setting cannot be read; the message names the line, never the key."""


@dataclass(frozen=True)
class Principal:
    name: str
    auth: Literal["api_key", "none"]
    # The SHA-256 of the key that authenticated the request (it signs stream tickets).
    key_digest: bytes | None = field(default=None, repr=False)
    # Set when a stream ticket (chatwait.tickets) authenticated the request: the only
    # stream it may start or resume.
    ticket_stream_id: str | None = None


def scoped_id(principal: str, item_id: str) -> str:
    """The store key of a principal's stream or conversation (names never hold '/')."""
    return f"{principal}/{item_id}"


def key_digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class ApiKeyRegistry:
    """The configured keys, as (name, SHA-256 digest) pairs."""

    def __init__(self, entries: list[tuple[str, bytes]]) -> None:
        self._entries = entries

    @property
    def enabled(self) -> bool:
        return bool(self._entries)

    def principal_for(self, key: str) -> str | None:
        """The name whose key this is, or None; constant time over all entries."""
        digest = key_digest(key)
        found: str | None = None
        for name, expected in self._entries:
            if hmac.compare_digest(digest, expected):
                found = name
        return found

    def digests_of(self, name: str) -> list[bytes]:
        """The digests of every key of `name` (several while a key is being rotated)."""
        return [digest for entry_name, digest in self._entries if entry_name == name]


def _parse_entry(entry: str, where: str, *, allow_digest: bool) -> tuple[str, bytes]:
    name, separator, secret = entry.partition(":")
    name = name.strip()
    secret = secret.strip()
    if not separator or not name or not secret:
        raise ApiKeyConfigError(f"{where}: expected name:key")
    if not NAME_PATTERN.match(name):
        raise ApiKeyConfigError(f"{where}: the name must match [A-Za-z0-9_.-]{{1,64}}")
    if allow_digest and secret.startswith("sha256:"):
        hex_digest = secret.removeprefix("sha256:")
        if not _SHA256_HEX.match(hex_digest):
            raise ApiKeyConfigError(f"{where}: sha256: must be followed by 64 hex digits")
        return name, bytes.fromhex(hex_digest)
    if len(secret) < MIN_KEY_CHARS:
        raise ApiKeyConfigError(f"{where}: the key must have at least {MIN_KEY_CHARS} characters")
    return name, key_digest(secret)


def parse_keys_setting(value: str) -> list[tuple[str, bytes]]:
    """CHATWAIT_API_KEYS: comma-separated `name:key` pairs."""
    return [
        _parse_entry(part, f"CHATWAIT_API_KEYS entry {number}", allow_digest=False)
        for number, part in enumerate((p for p in value.split(",") if p.strip()), start=1)
    ]


def parse_keys_file(text: str, source: str) -> list[tuple[str, bytes]]:
    """A keys file: `name:key` or `name:sha256:<hex>` per line; blank lines, `#` comments."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            entries.append(_parse_entry(stripped, f"{source} line {number}", allow_digest=True))
    return entries


def load_api_keys(settings: Settings) -> ApiKeyRegistry:
    """The registry for CHATWAIT_API_KEYS and CHATWAIT_API_KEYS_FILE (both may be set)."""
    entries: list[tuple[str, bytes]] = []
    if settings.chatwait_api_keys is not None:
        entries += parse_keys_setting(settings.chatwait_api_keys.get_secret_value())
    path = settings.chatwait_api_keys_file
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            raise ApiKeyConfigError(f"CHATWAIT_API_KEYS_FILE {path}: {reason}") from None
        entries += parse_keys_file(text, f"CHATWAIT_API_KEYS_FILE {path}")
    digests = [digest for _, digest in entries]
    if len(set(digests)) != len(digests):
        raise ApiKeyConfigError("the same key is configured twice; give each key one name")
    return ApiKeyRegistry(entries)


def plain_keys(settings: Settings) -> list[str]:
    """The keys configured in plain text, for the log filter that masks them."""
    if settings.chatwait_api_keys is None:
        return []
    pairs = settings.chatwait_api_keys.get_secret_value().split(",")
    return [pair.partition(":")[2].strip() for pair in pairs if ":" in pair]


def generate_key(name: str) -> tuple[str, str]:
    """A new random key for `name` and its keys-file line (a digest, not the key)."""
    if not NAME_PATTERN.match(name):
        raise ApiKeyConfigError("the name must match [A-Za-z0-9_.-]{1,64}")
    key = "sk-cw-" + secrets.token_urlsafe(32)
    return key, f"{name}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
