"""The one exception hierarchy of ChatWait.

Routes and services raise these; `chatwait.api.errors` turns every one of them into the
same JSON body (`{"error": {"code", "message", "request_id", "details"?}}`), and
`chatwait.streams` turns them into an SSE `event: error` inside a stream. Each class
carries its HTTP status, its stable `code` and whether retrying the same request can help;
an error that knows when a retry can succeed carries `retry_after` (seconds), sent as the
`Retry-After` header and as `details.retry_after`.

    ChatWaitError
    ├── BadRequest (400)
    │   ├── InvalidJSON                  invalid_json
    │   └── InvalidLastEventId           invalid_last_event_id
    ├── Unauthorized (401)               unauthorized
    ├── ValidationFailed (422)           validation_error
    ├── OriginNotAllowed (403)           origin_not_allowed
    ├── UnsupportedMediaType (415)       unsupported_media_type
    ├── PayloadTooLarge (413)            payload_too_large
    ├── NotFound (404)
    │   ├── StreamNotFound               stream_not_found
    │   └── ConversationNotFound         conversation_not_found
    ├── ConversationBusy (409)           conversation_busy
    ├── StreamIdInUse (409)              stream_id_in_use
    ├── RateLimited (429)                rate_limited          per-principal limits
    │   ├── TooManyRuns                  too_many_runs
    │   └── QuotaExceeded                quota_exceeded
    ├── StreamCancelled (499 in streams) cancelled
    ├── ClientDisconnected (499)         client_closed_request
    ├── ServerBusy (503)                 server_busy           per-process admission
    ├── ServerShuttingDown (503)         server_shutting_down
    ├── StoreUnavailable (503)           store_unavailable
    ├── ProducerLost (503 in streams)    producer_lost
    ├── InternalError (500)              internal_error
    └── UpstreamError (502)              upstream_error
        ├── UpstreamRateLimited (429)    upstream_rate_limited
        ├── UpstreamAuthFailed (502)     upstream_auth_failed
        ├── UpstreamRejected (502)       upstream_rejected
        └── UpstreamTimeout (504)        upstream_timeout
"""

from __future__ import annotations

from typing import Any, ClassVar


class ChatWaitError(Exception):
    """Base of every error ChatWait reports to a client."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = "Something went wrong on our side."
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
        retry_after: str | int | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        self.headers = dict(headers or {})
        if isinstance(retry_after, int):
            # Our own hints are whole seconds, and never 0 (that would invite a tight loop);
            # a provider's Retry-After (a str) is forwarded as it came.
            retry_after = str(max(1, retry_after))
        self.retry_after = retry_after
        if retry_after:
            self.headers["Retry-After"] = retry_after
            if self.details is None:
                self.details = {"retry_after": retry_after}
        super().__init__(self.message)


class BadRequest(ChatWaitError):
    status_code = 400
    code = "bad_request"
    default_message = "The request is malformed."


class InvalidJSON(BadRequest):
    code = "invalid_json"
    default_message = "The request body is not valid JSON."


class InvalidLastEventId(BadRequest):
    code = "invalid_last_event_id"
    default_message = "Last-Event-ID must be a non-negative integer token index."


class Unauthorized(ChatWaitError):
    """No valid API key. One body for a missing, malformed or unknown key, so a caller
    learns nothing about which keys exist."""

    status_code = 401
    code = "unauthorized"
    default_message = "Send a valid API key as 'Authorization: Bearer <key>'."

    def __init__(self) -> None:
        super().__init__(headers={"WWW-Authenticate": "Bearer"})


class ValidationFailed(ChatWaitError):
    status_code = 422
    code = "validation_error"
    default_message = "The request is not valid."


class OriginNotAllowed(ChatWaitError):
    """A browser page on an origin outside CORS_ORIGINS asked to start a run.

    It could not read the answer anyway, but an EventSource GET needs no preflight, so
    without this check any site could spend the model budget."""

    status_code = 403
    code = "origin_not_allowed"
    default_message = (
        "Requests from this page's origin are not allowed; "
        "the server's CORS_ORIGINS setting lists the origins that are."
    )


class UnsupportedMediaType(ChatWaitError):
    status_code = 415
    code = "unsupported_media_type"
    default_message = "Send the request body as JSON with Content-Type: application/json."


class PayloadTooLarge(ChatWaitError):
    status_code = 413
    code = "payload_too_large"
    default_message = "The request body is too large."


class NotFound(ChatWaitError):
    status_code = 404
    code = "not_found"
    default_message = "Nothing is here."


class StreamNotFound(NotFound):
    code = "stream_not_found"
    default_message = "No stream with this stream_id exists (it may have expired)."


class ConversationNotFound(NotFound):
    code = "conversation_not_found"
    default_message = "No conversation with this conversation_id exists."


class ConversationBusy(ChatWaitError):
    status_code = 409
    code = "conversation_busy"
    default_message = (
        "Another message of this conversation is still being answered; "
        "wait for it to finish or cancel it."
    )
    retryable = True


class StreamIdInUse(ChatWaitError):
    status_code = 409
    code = "stream_id_in_use"
    default_message = (
        "This stream_id already belongs to a stream of another message; "
        "choose a new stream_id for a new message."
    )


class RateLimited(ChatWaitError):
    """A per-principal limit (RATE_LIMIT_PER_MINUTE here; the subclasses for the others);
    `retry_after` says when trying again can succeed."""

    status_code = 429
    code = "rate_limited"
    default_message = "Too many runs started in the last minute; try again later."
    retryable = True

    def __init__(self, message: str | None = None, *, retry_after_seconds: int) -> None:
        super().__init__(message, retry_after=retry_after_seconds)


class TooManyRuns(RateLimited):
    code = "too_many_runs"
    default_message = "Too many of your runs are in progress; wait for one to finish."


class QuotaExceeded(RateLimited):
    code = "quota_exceeded"
    default_message = "Today's token budget is used up; it renews at midnight UTC."


class StreamCancelled(ChatWaitError):
    # Only ever sent inside a stream; 499 is nginx's "client closed request".
    status_code = 499
    code = "cancelled"
    default_message = "The stream was cancelled."


class ClientDisconnected(ChatWaitError):
    """The client closed the connection before the answer was ready (nginx's 499).

    Nobody reads this response; the status shows in the access log."""

    status_code = 499
    code = "client_closed_request"
    default_message = "The client closed the connection before the answer was ready."


class ServerBusy(ChatWaitError):
    """This process is at MAX_ACTIVE_RUNS or MAX_OPEN_STREAMS (per process, for everyone);
    checked before the per-principal limits and before any model call."""

    status_code = 503
    code = "server_busy"
    default_message = "The server is too busy to take this request now; try again shortly."
    retryable = True

    def __init__(self, message: str | None = None, *, retry_after_seconds: int) -> None:
        super().__init__(message, retry_after=retry_after_seconds)


class ServerShuttingDown(ChatWaitError):
    """The process is stopping (SIGTERM): it takes no new run, and a stream it could not
    finish within SHUTDOWN_GRACE_SECONDS ends with this code (its tokens stay stored).
    Another instance, or this one after its restart, answers a new request."""

    status_code = 503
    code = "server_shutting_down"
    default_message = "The server is restarting; ask again in a moment."
    retryable = True

    def __init__(self, message: str | None = None, *, retry_after_seconds: int = 2) -> None:
        super().__init__(message, retry_after=retry_after_seconds)
        # The retry must reach another process: a new connection does.
        self.headers["Connection"] = "close"


class StoreUnavailable(ChatWaitError):
    status_code = 503
    code = "store_unavailable"
    default_message = "The stream or conversation store is unavailable; try again shortly."
    retryable = True


class ProducerLost(ChatWaitError):
    status_code = 503
    code = "producer_lost"
    default_message = "The worker producing this stream stopped; ask again."
    retryable = True


class InternalError(ChatWaitError):
    pass


class UpstreamError(ChatWaitError):
    status_code = 502
    code = "upstream_error"
    default_message = "The language model service failed; try again."
    retryable = True


class UpstreamRateLimited(UpstreamError):
    status_code = 429
    code = "upstream_rate_limited"
    default_message = "The language model service is rate limiting us; try again later."


class UpstreamAuthFailed(UpstreamError):
    code = "upstream_auth_failed"
    default_message = (
        "The language model service rejected our credentials; "
        "check LLM_API_KEY / GEMINI_API_KEY on the server."
    )
    retryable = False


class UpstreamRejected(UpstreamError):
    """The provider refused this request as such (HTTP 400/413/422), e.g. context too long.

    502 like the other upstream failures: the client's request to ChatWait was valid, the
    provider refused what ChatWait made of it. Sending the same message again fails the
    same way, so it is not retryable; a new conversation or a shorter message can help.
    """

    code = "upstream_rejected"
    default_message = (
        "The language model service rejected the request (for example, the conversation "
        "is too long for the model); sending it again will not help."
    )
    retryable = False


class UpstreamTimeout(UpstreamError):
    status_code = 504
    code = "upstream_timeout"
    default_message = "The language model service did not answer in time."
