"""What a log line knows about the request it belongs to: ids, principal, stream.

The request-context middleware starts a fresh set of fields per request in a
ContextVar; code deeper down adds to it with `bind()`. The fields are one mutable dict
shared by reference: tasks started during the request (the SSE sender, a stream's
producer) copy the context, so the dict they see is the same one, and what they bind
shows in the request's own access line too.
"""

from __future__ import annotations

from contextvars import ContextVar

FIELD_NAMES = ("request_id", "principal", "stream_id", "conversation_id")

_fields: ContextVar[dict[str, str] | None] = ContextVar("chatwait_log_fields", default=None)


def start_request(request_id: str) -> None:
    """Begin the fields of a new request (called by the request-context middleware)."""
    # api/auth.py binds the principal once the request is authenticated.
    _fields.set({"request_id": request_id})


def bind(**fields: str | None) -> None:
    """Add fields (e.g. `stream_id=...`) to this request's log lines; None is ignored."""
    current = _fields.get()
    if current is None:
        current = {}
        _fields.set(current)
    current.update({name: value for name, value in fields.items() if value is not None})


def current_fields() -> dict[str, str]:
    """A copy of the fields bound in this context (empty outside a request)."""
    return dict(_fields.get() or {})
