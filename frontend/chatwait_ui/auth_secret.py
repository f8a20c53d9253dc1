"""CHAINLIT_AUTH_SECRET: the key Chainlit signs its login cookies with.

Chainlit refuses to start a login-protected app without it. When it is not set, the
UI makes one once and keeps it in a file (CHATWAIT_UI_SECRET_FILE, by default
data/chainlit-auth-secret), so logins survive a restart. Several UI instances behind
one address must share one secret: set CHAINLIT_AUTH_SECRET on all of them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

SECRET_VARIABLE = "CHAINLIT_AUTH_SECRET"  # noqa: S105 - the name, not a secret


def ensure_auth_secret(secret_file: Path) -> None:
    """Set CHAINLIT_AUTH_SECRET from `secret_file` (made on first use) unless it is set."""
    if os.environ.get(SECRET_VARIABLE):
        return
    if not secret_file.exists():
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        # Readable by its owner only: whoever reads it can forge a login. O_EXCL: of two
        # instances starting at once, one writes and the other reads what it wrote.
        with contextlib.suppress(FileExistsError):
            descriptor = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(secrets.token_urlsafe(48))
    os.environ[SECRET_VARIABLE] = secret_file.read_text(encoding="ascii").strip()
