"""CHAINLIT_AUTH_SECRET: made once and kept, so logins survive a UI restart."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from chatwait_ui.auth_secret import SECRET_VARIABLE, ensure_auth_secret


def test_secret_is_made_once_kept_private_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_VARIABLE, raising=False)
    secret_file = tmp_path / "data" / "chainlit-auth-secret"

    ensure_auth_secret(secret_file)
    first = secret_file.read_text()
    monkeypatch.delenv(SECRET_VARIABLE)
    ensure_auth_secret(secret_file)  # the next start

    assert os.environ[SECRET_VARIABLE] == first
    assert len(first) >= 32
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600


def test_a_secret_set_in_the_environment_wins_and_no_file_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_VARIABLE, "shared-by-every-ui-instance")
    secret_file = tmp_path / "chainlit-auth-secret"

    ensure_auth_secret(secret_file)

    assert not secret_file.exists()
