"""Parsing API keys: plain and sha256 lines, and errors that name the line, not the key."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from chatwait.auth import (
    ApiKeyConfigError,
    generate_key,
    load_api_keys,
    parse_keys_file,
    parse_keys_setting,
)
from chatwait.config import Settings

KEY = "sk-alice-0123456789abcdef"


def settings(**values: object) -> Settings:
    # Explicit Nones beat a developer's environment.
    defaults: dict[str, object] = {"chatwait_api_keys": None, "chatwait_api_keys_file": None}
    return Settings(_env_file=None, **{**defaults, **values})  # type: ignore[arg-type]


def test_setting_pairs_map_each_key_to_its_name() -> None:
    registry = load_api_keys(
        settings(chatwait_api_keys=f"alice:{KEY}, bob:sk-bob-fedcba9876543210")
    )

    assert registry.principal_for(KEY) == "alice"
    assert registry.principal_for("sk-bob-fedcba9876543210") == "bob"
    assert registry.principal_for("sk-alice-0123456789abcdeX") is None
    assert registry.principal_for("") is None


def test_file_accepts_plain_and_sha256_lines_comments_and_blanks(tmp_path: Path) -> None:
    digest = hashlib.sha256(b"sk-carol-secret-value-1").hexdigest()
    path = tmp_path / "keys"
    path.write_text(f"# team keys\n\nalice:{KEY}\ncarol:sha256:{digest}\n", encoding="utf-8")

    registry = load_api_keys(settings(chatwait_api_keys_file=path))

    assert registry.principal_for(KEY) == "alice"
    assert registry.principal_for("sk-carol-secret-value-1") == "carol"


def test_a_name_may_hold_two_keys_while_rotating() -> None:
    registry = load_api_keys(
        settings(chatwait_api_keys=f"alice:{KEY},alice:sk-alice-new-key-00000001")
    )

    assert registry.principal_for(KEY) == registry.principal_for("sk-alice-new-key-00000001")


def test_no_keys_means_the_registry_is_off() -> None:
    assert not load_api_keys(settings()).enabled


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("no-colon-here", "expected name:key"),
        ("alice:", "expected name:key"),
        ("al ice:" + KEY, "the name must match"),
        ("alice:short-key", "at least 16 characters"),
        ("alice:sha256:abc", "64 hex digits"),
    ],
)
def test_bad_file_line_names_its_number_never_the_key(line: str, reason: str) -> None:
    with pytest.raises(ApiKeyConfigError) as raised:
        parse_keys_file(f"# header\nbob:sk-bob-fedcba9876543210\n{line}\n", "keys.txt")

    message = str(raised.value)
    assert message.startswith("keys.txt line 3: ")
    assert reason in message
    assert "short-key" not in message
    assert KEY not in message


def test_bad_setting_entry_names_its_position() -> None:
    with pytest.raises(ApiKeyConfigError, match="CHATWAIT_API_KEYS entry 2: ") as raised:
        parse_keys_setting(f"alice:{KEY},bob:tiny")
    assert "tiny" not in str(raised.value)


def test_sha256_lines_are_not_allowed_in_the_plain_setting() -> None:
    # In the setting, everything after the name is the key itself.
    entries = parse_keys_setting("alice:sha256:" + "a" * 64)
    assert entries[0][1] == hashlib.sha256(("sha256:" + "a" * 64).encode()).digest()


def test_the_same_key_under_two_names_is_refused() -> None:
    with pytest.raises(ApiKeyConfigError, match="configured twice"):
        load_api_keys(settings(chatwait_api_keys=f"alice:{KEY},bob:{KEY}"))


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ApiKeyConfigError, match="CHATWAIT_API_KEYS_FILE"):
        load_api_keys(settings(chatwait_api_keys_file=tmp_path / "missing"))


def test_keygen_line_stores_only_the_digest_and_loads_back(tmp_path: Path) -> None:
    key, line = generate_key("dave")
    path = tmp_path / "keys"
    path.write_text(line + "\n", encoding="utf-8")

    assert key not in line
    assert len(key) >= 40
    assert load_api_keys(settings(chatwait_api_keys_file=path)).principal_for(key) == "dave"
