"""Logging setup: one line per record, and API keys masked in every record."""

from __future__ import annotations

import logging

from chatwait.auth import plain_keys
from chatwait.config import Settings


class SecretRedactingFilter(logging.Filter):
    """Replace configured secrets in a record's final text with `***`.

    A second line of defence: no code logs a key on purpose, but a library's debug
    output or an exception message might carry one.
    """

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if len(secret) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        text = record.getMessage()
        redacted = text
        for secret in self._secrets:
            redacted = redacted.replace(secret, "***")
        if redacted != text:
            record.msg, record.args = redacted, None
        return True


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(SecretRedactingFilter([settings.api_key or "", *plain_keys(settings)]))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.log_level.upper())
