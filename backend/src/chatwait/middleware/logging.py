"""Logging setup: text (default) or one JSON object per line, API keys masked in both.

LOG_FORMAT=json writes each record as one JSON object with `timestamp`, `level`,
`logger`, `message`, the request's fields from `chatwait.log_context` (request_id,
principal, stream_id, conversation_id) and, on access lines, method, path, status and
duration_ms. Log shippers then need no parsing rules.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from chatwait import log_context
from chatwait.auth import plain_keys
from chatwait.config import Settings

# Attributes a record may carry through `extra=` that JSON lines show as fields.
EXTRA_FIELDS = ("method", "path", "status", "duration_ms")
# The openai client's HTTP stack (httpx2) and the UI's (httpx).
CHATTY_CLIENT_LOGGERS = ("httpx", "httpx2")


class SecretRedactingFilter(logging.Filter):
    """Replace configured secrets in a record's final text with `***`.

    A second line of defence: no code logs a key on purpose, but a library's debug
    output or an exception message might carry one.
    """

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if len(secret) >= 4]

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        text = record.getMessage()
        redacted = self.redact(text)
        if redacted != text:
            record.msg, record.args = redacted, None
        return True


class RedactingFormatter(logging.Formatter):
    """Masks secrets in the whole formatted line: tracebacks and fields included."""

    def __init__(self, inner: logging.Formatter, secrets: SecretRedactingFilter) -> None:
        super().__init__()
        self._inner = inner
        self._secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return self._secrets.redact(self._inner.format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(log_context.current_fields())
        for name in EXTRA_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # ensure_ascii keeps every line 7-bit clean; json.dumps escapes newlines.
        return json.dumps(entry, default=str)


def configure_logging(settings: Settings) -> None:
    secrets = SecretRedactingFilter([settings.api_key or "", *plain_keys(settings)])
    formatter: logging.Formatter
    if settings.log_format == "json":
        formatter = JsonFormatter()
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(formatter, secrets))
    handler.addFilter(secrets)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.log_level.upper())
    # The HTTP clients log every request to the model at INFO: a second line per run
    # beside the access line, and CPU on every request. Their warnings still show, and
    # LOG_LEVEL=DEBUG brings the request lines back.
    for client_logger in CHATTY_CLIENT_LOGGERS:
        logging.getLogger(client_logger).setLevel(
            logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING
        )
