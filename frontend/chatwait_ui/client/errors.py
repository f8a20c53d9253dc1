"""The client's errors. Each one's text is a sentence that can be shown to people as is
(chatwait_ui/error_messages.py says what each backend code means).

    BackendError                 the backend answered with an error (code, status)
     ├── BackendUnreachable      no connection, or no answer in time
     ├── StreamExpired           a broken stream can no longer be resumed
     └── StreamLost              the stream broke more often than we retry

`ConnectionBroken` and `RetryableStatus` never leave the client: they make it resume.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from chatwait_ui.error_messages import describe_error

# Errors after which the same request may succeed shortly (Redis restarting, this
# backend instance shutting down while another takes over): the stream is resumed.
RESUMABLE_CODES = frozenset({"store_unavailable", "server_shutting_down"})
# Inside a stream, `server_shutting_down` is the stream's stored end (the run was
# stopped), so resuming would only replay it: the person is told to ask again instead.
RESUMABLE_EVENT_CODES = frozenset({"store_unavailable"})


class BackendError(Exception):
    """The backend (or the way to it) failed; `str(error)` is a sentence for people."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status_code: int | None = None,
        retry_after_seconds: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status_code = status_code
        self.retry_after_seconds = retry_after_seconds

    @classmethod
    def from_payload(
        cls,
        payload: Mapping[str, Any],
        *,
        status_code: int | None = None,
        retry_after_header: str | None = None,
    ) -> BackendError:
        """An error from the backend's `{"code", "message", ...}` (body or SSE event)."""
        code = str(payload.get("code") or "unknown_error")
        details = payload.get("details")
        # Retry-After: a header on HTTP errors, a field of the SSE error event, or in details.
        retry_after = _seconds(retry_after_header) or _seconds(payload.get("retry_after"))
        if retry_after is None and isinstance(details, Mapping):
            retry_after = _seconds(details.get("retry_after"))
        message = describe_error(code, payload, retry_after)
        error_class = StreamExpired if code == "stream_not_found" else BackendError
        return error_class(
            message, code=code, status_code=status_code, retry_after_seconds=retry_after
        )


class BackendUnreachable(BackendError):
    """No connection to the backend, or no answer in time."""


class StreamExpired(BackendError):
    """The stream is unknown to the backend: its TTL ended, or it never started."""


class StreamLost(BackendError):
    """The connection kept breaking; the run may still finish on the server."""


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def error_from_response(response: httpx.Response, body: bytes) -> BackendError:
    try:
        payload = json.loads(body)["error"]
        if not isinstance(payload, Mapping):
            raise TypeError("error is not an object")
    except (ValueError, KeyError, TypeError):
        # Not our JSON error body: a proxy or another server answered.
        return BackendError(
            f"The backend answered with HTTP {response.status_code}. Please try again.",
            code="unexpected_response",
            status_code=response.status_code,
        )
    return BackendError.from_payload(
        payload,
        status_code=response.status_code,
        retry_after_header=response.headers.get("retry-after"),
    )


class ConnectionBroken(Exception):
    """The stream ended before `done` or `error`; resuming may continue it."""


class RetryableStatus(Exception):
    """A status that says "try again shortly" (e.g. a proxy's 502, Redis restarting)."""
