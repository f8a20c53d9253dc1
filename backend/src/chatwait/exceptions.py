"""The one exception hierarchy of ChatWait.

Routes and services raise these; `chatwait.api.errors` turns every one of them into the
same JSON body (`{"error": {"code", "message", "request_id", "details"?}}`), and
`chatwait.streams` turns them into an SSE `event: error` inside a stream. Each class
carries its HTTP status, its stable `code` and whether retrying the same request can help.

    ChatWaitError
    ├── BadRequest (400)
    │   ├── InvalidJSON                  invalid_json
    │   └── InvalidLastEventId           invalid_last_event_id
    ├── ValidationFailed (422)           validation_error
    ├── OriginNotAllowed (403)           origin_not_allowed
    ├── UnsupportedMediaType (415)       unsupported_media_type
    ├── PayloadTooLarge (413)            payload_too_large
    ├── NotFound (404)
    │   ├── StreamNotFound               stream_not_found
    │   └── ConversationNotFound         conversation_not_found
    ├── ConversationBusy (409)           conversation_busy
    ├── StreamCancelled (499 in streams) cancelled
    ├── ClientDisconnected (499)         client_closed_request
    ├── StoreUnavailable (503)           store_unavailable
    ├── ProducerLost (503 in streams)    producer_lost
    ├── InternalError (500)              internal_error
    └── UpstreamError (502)              upstream_error
        ├── UpstreamRateLimited (429)    upstream_rate_limited
        ├── UpstreamAuthFailed (502)     upstream_auth_failed
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
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        self.headers = headers or {}
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

    def __init__(self, message: str | None = None, *, retry_after: str | None = None) -> None:
        headers = {"Retry-After": retry_after} if retry_after else None
        details = {"retry_after": retry_after} if retry_after else None
        super().__init__(message, details=details, headers=headers)
        self.retry_after = retry_after


class UpstreamAuthFailed(UpstreamError):
    code = "upstream_auth_failed"
    default_message = (
        "The language model service rejected our credentials; "
        "check LLM_API_KEY / GEMINI_API_KEY on the server."
    )
    retryable = False


class UpstreamTimeout(UpstreamError):
    status_code = 504
    code = "upstream_timeout"
    default_message = "The language model service did not answer in time."
