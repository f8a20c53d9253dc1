"""LOG_FORMAT=json: one JSON object per record, with the request's fields, keys masked."""

from __future__ import annotations

import contextvars
import json
import logging
import sys

from chatwait import log_context
from chatwait.middleware.logging import (
    JsonFormatter,
    RedactingFormatter,
    SecretRedactingFilter,
)

SECRET = "sk-json-SECRET-42"


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("chatwait.test", logging.WARNING, __file__, 1, message, args, None)
    for name, value in extra.items():
        setattr(record, name, value)
    return record


def test_json_line_has_the_standard_fields_and_the_bound_request_fields() -> None:
    def format_in_a_request() -> str:
        log_context.start_request("req-1")
        log_context.bind(principal="alice", stream_id="str-1", conversation_id="conv-1")
        return JsonFormatter().format(_record("hello %s", "world", status=200))

    # A context of its own, so the bound fields do not leak into other tests.
    entry = json.loads(contextvars.copy_context().run(format_in_a_request))

    assert entry["message"] == "hello world"
    assert (entry["level"], entry["logger"]) == ("WARNING", "chatwait.test")
    assert entry["timestamp"].endswith("+00:00")
    assert entry["request_id"] == "req-1"
    assert entry["principal"] == "alice"
    assert (entry["stream_id"], entry["conversation_id"]) == ("str-1", "conv-1")
    assert entry["status"] == 200


def test_json_line_masks_the_key_in_message_and_traceback() -> None:
    secrets = SecretRedactingFilter([SECRET])
    formatter = RedactingFormatter(JsonFormatter(), secrets)
    try:
        raise RuntimeError(f"upstream said: bad key {SECRET}")
    except RuntimeError:
        record = _record("key was %s", SECRET)
        record.exc_info = sys.exc_info()
    secrets.filter(record)

    line = formatter.format(record)

    assert SECRET not in line
    assert "\n" not in line
    assert "***" in json.loads(line)["exception"]
