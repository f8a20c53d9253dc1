"""`/chat/streaming` as a service: open (start or find) a stream, then render it as SSE.

Opening (streams/lifecycle.py) does every check that can fail with an HTTP status
(404, 409, 429) before the response starts; once the `200 text/event-stream` is sent,
failures can only arrive as `event: error`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from sse_starlette import ServerSentEvent

from chatwait import log_context, metrics
from chatwait.config import Settings
from chatwait.exceptions import ChatWaitError
from chatwait.models.stream import StreamMeta, StreamOutcome
from chatwait.schemas.events import DoneEvent, ErrorEvent, StartEvent, TokenEvent
from chatwait.services.chat_agent import ChatAgentService
from chatwait.streams.lifecycle import (
    OpenedStream,
    StreamOpenRequest,
    StreamSupervisor,
    Token,
    error_outcome,
)

logger = logging.getLogger(__name__)


class StreamingService:
    def __init__(
        self, settings: Settings, chat: ChatAgentService, supervisor: StreamSupervisor
    ) -> None:
        self._settings = settings
        self._chat = chat
        self._supervisor = supervisor

    async def open(self, request: StreamOpenRequest) -> OpenedStream:
        """Find the caller's stream or start a run (streams/lifecycle.py decides)."""
        return await self._supervisor.open(request, self._chat)

    async def cancel(self, principal: str, stream_id: str) -> None:
        await self._supervisor.cancel(principal, stream_id)

    @metrics.counts_stream_viewer
    async def events(self, opened: OpenedStream) -> AsyncIterator[ServerSentEvent]:
        """The SSE events of one viewer: start, tokens from its index, done or error."""
        meta = opened.meta
        log_context.bind(stream_id=meta.stream_id, conversation_id=meta.conversation_id)
        yield ServerSentEvent(
            event="start",
            data=StartEvent(
                stream_id=meta.stream_id, conversation_id=meta.conversation_id, model=meta.model
            ).model_dump_json(),
            retry=self._settings.sse_retry_ms,
        )
        try:
            async for item in self._supervisor.follow(meta.key, opened.start_index):
                if isinstance(item, Token):
                    yield ServerSentEvent(
                        event="token",
                        id=str(item.index),
                        data=TokenEvent(index=item.index, text=item.text).model_dump_json(),
                    )
                else:
                    yield self._final_event(meta, item)
        except ChatWaitError as error:
            yield _error_event(error_outcome(error, token_count=0))

    @staticmethod
    def _final_event(meta: StreamMeta, outcome: StreamOutcome) -> ServerSentEvent:
        if outcome.kind == "done":
            return ServerSentEvent(
                event="done",
                data=DoneEvent(
                    stream_id=meta.stream_id,
                    conversation_id=meta.conversation_id,
                    response=outcome.response,
                    token_count=outcome.token_count,
                    usage=outcome.usage,
                ).model_dump_json(exclude_none=True),
            )
        return _error_event(outcome)


def _error_event(outcome: StreamOutcome) -> ServerSentEvent:
    metrics.STREAM_ERROR_EVENTS.labels(code=outcome.error_code or "internal_error").inc()
    error = ErrorEvent(
        code=outcome.error_code or "internal_error",
        message=outcome.error_message or "The stream failed.",
        retryable=outcome.retryable,
        retry_after=outcome.retry_after,
    )
    return ServerSentEvent(event="error", data=error.model_dump_json(exclude_none=True))
