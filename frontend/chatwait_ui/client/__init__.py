"""The one client the UI uses to talk to the ChatWait backend.

It owns every HTTP detail: timeouts, reading SSE (parsed by httpx-sse), resuming a
broken stream, and turning each failure into a `BackendError` whose text can be shown
to people as is.

    plain_requests.py   BackendRequests: the pool, the API key, health, /me, history
    backend_client.py   ChatWaitClient: chat requests, and the stream resume loop
    events.py           what it returns: results and stream events
    errors.py           what it raises: BackendError and its kinds
"""

from chatwait_ui.client.backend_client import ChatWaitClient, new_stream_id
from chatwait_ui.client.errors import BackendError, BackendUnreachable, StreamExpired, StreamLost
from chatwait_ui.client.events import (
    BackendHealth,
    ConversationPage,
    ConversationSummary,
    HistoryMessage,
    Principal,
    Reconnecting,
    StreamEvent,
    StreamFinished,
    StreamStarted,
    TokenReceived,
    WaitAnswer,
)
from chatwait_ui.client.plain_requests import probe_backend_auth

__all__ = [
    "BackendError",
    "BackendHealth",
    "BackendUnreachable",
    "ChatWaitClient",
    "ConversationPage",
    "ConversationSummary",
    "HistoryMessage",
    "Principal",
    "Reconnecting",
    "StreamEvent",
    "StreamExpired",
    "StreamFinished",
    "StreamLost",
    "StreamStarted",
    "TokenReceived",
    "WaitAnswer",
    "new_stream_id",
    "probe_backend_auth",
]
