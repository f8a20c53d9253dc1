"""What each backend error code means to someone chatting: the one code → sentence table.

Every code the backend can send (its `ChatWaitError` classes, listed in docs/api.md)
has a sentence here; tests/unit/test_ui_pieces.py checks that none is missing. A code
the UI does not know yet still reads as a sentence, with the backend's own message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

# The UI built a request the backend refused: nothing the person typed can fix it.
_UI_FAULT = "ChatWait's UI sent a request the backend did not accept. Please reload the page."

HUMAN_MESSAGES: dict[str, str] = {
    # Limits of this ChatWait server (429s); the time to wait is added when known.
    "rate_limited": "You are sending messages faster than this ChatWait server allows.",
    "too_many_runs": (
        "You already have as many answers running as this ChatWait server allows. "
        "Wait for one to finish, or stop it."
    ),
    "quota_exceeded": "You have used up your ChatWait quota for now.",
    "server_busy": "The ChatWait server is too busy to answer right now.",
    "server_shutting_down": ("The ChatWait server is restarting. Please try again in a moment."),
    # Who may ask.
    "unauthorized": "Your ChatWait key is no longer accepted. Please log out and log in again.",
    "origin_not_allowed": (
        "The backend does not accept requests from this UI's address. Its administrator "
        "needs to add the UI's origin to CORS_ORIGINS."
    ),
    # The model provider.
    "upstream_rate_limited": "The model provider is rate limiting ChatWait right now.",
    "upstream_auth_failed": (
        "The model provider rejected the backend's API key. The backend's administrator "
        "needs to fix its configuration."
    ),
    "upstream_rejected": (
        "The model refused this request, for example because the conversation has grown "
        "too long for it. Start a new chat or send a shorter message."
    ),
    "upstream_error": "The model provider failed to answer. Please try again.",
    "upstream_timeout": "The model took too long to answer. Please try again.",
    # Conversations and streams.
    "conversation_busy": (
        "This conversation is still answering your previous message. "
        "Send again once it has finished."
    ),
    "conversation_not_found": "This conversation no longer exists on the server.",
    "stream_not_found": "This answer is no longer available on the server. Please ask again.",
    "stream_id_in_use": "This answer's id is already taken on the server. Please ask again.",
    "producer_lost": "The server that was writing this answer stopped. Please ask again.",
    "cancelled": "The answer was cancelled on the server.",
    "client_closed_request": "The answer was cancelled because the connection closed.",
    "store_unavailable": "The backend's storage is unavailable. Please try again in a moment.",
    # The message itself.
    "payload_too_large": "Your message is too large to send.",
    "validation_error": "Your message was not accepted.",
    # Requests the UI itself got wrong.
    "bad_request": _UI_FAULT,
    "invalid_json": _UI_FAULT,
    "invalid_last_event_id": _UI_FAULT,
    "unsupported_media_type": _UI_FAULT,
    "not_found": _UI_FAULT,
    "method_not_allowed": _UI_FAULT,
    "not_acceptable": _UI_FAULT,
    "internal_error": "The backend hit an unexpected error. Please try again.",
    # The UI's own: it restarted since this person logged in, and keeps keys in memory only.
    "login_expired": "Your login has expired. Please log out and log in again.",
}

# Codes whose sentence ends with the time to wait (Retry-After) when the backend sends one.
WAIT_TIME_CODES = frozenset(
    {"rate_limited", "too_many_runs", "quota_exceeded", "server_busy", "upstream_rate_limited"}
)


def describe_error(code: str, payload: Mapping[str, Any], retry_after: float | None) -> str:
    """One sentence (or two) for an error body or SSE `error` event with this `code`."""
    if code == "validation_error":
        return _describe_validation_error(payload)
    if code not in HUMAN_MESSAGES:
        backend_message = str(payload.get("message") or "no details")
        return f"The backend refused the request ({code}): {backend_message}"
    sentence = HUMAN_MESSAGES[code]
    if code in WAIT_TIME_CODES and retry_after is not None:
        return f"{sentence} Try again in {_seconds_text(retry_after)}."
    return sentence


def _seconds_text(seconds: float) -> str:
    # Retry-After is whole seconds; a fraction is rounded up so nobody retries too early.
    whole = max(1, math.ceil(seconds))
    return "1 second" if whole == 1 else f"{whole} seconds"


def _describe_validation_error(payload: Mapping[str, Any]) -> str:
    details = payload.get("details")
    for detail in details if isinstance(details, list) else []:
        if not isinstance(detail, Mapping) or detail.get("field") != "message":
            continue
        if detail.get("type") == "string_too_long":
            # The backend says "Must have at most N characters."
            limit = str(detail.get("message", "")).rstrip(".")
            return f"Your message is too long: it {limit[:1].lower()}{limit[1:]}."
        return f"Your message was not accepted: {detail.get('message', 'invalid')}."
    return f"The request was not accepted: {payload.get('message', 'invalid input')}"
