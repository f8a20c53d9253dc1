"""`/chat/streaming` as a service: open (start or find) a stream, then render it as SSE.

Opening (streams/lifecycle.py) does every check that can fail with an HTTP status
(404, 409, 429) before the response starts; once the `200 text/event-stream` is sent,
failures can only arrive as `event: error`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator
from json.encoder import encode_basestring

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError
from sse_starlette import ServerSentEvent

from chatwait import log_context, metrics
from chatwait.config import Settings
from chatwait.exceptions import ChatWaitError, UpstreamError
from chatwait.models.stream import StreamMeta, StreamOutcome
from chatwait.schemas.events import DoneEvent, ErrorEvent, StartEvent
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
    async def events(self, opened: OpenedStream) -> AsyncIterator[bytes]:
        """The SSE events of one viewer: start, tokens from its index, done or error."""
        meta = opened.meta
        log_context.bind(stream_id=meta.stream_id, conversation_id=meta.conversation_id)
        start = StartEvent(
            stream_id=meta.stream_id, conversation_id=meta.conversation_id, model=meta.model
        )
        yield render_event("start", start, retry=self._settings.sse_retry_ms)
        items = self._supervisor.follow(meta.key, opened.start_index)
        try:
            async for item in items:
                if not isinstance(item, Token):
                    yield _final_event(meta, item)
                    continue
                try:
                    event = render_token(item.index, item.text)
                except UnicodeEncodeError:  # a lone surrogate from the model
                    yield _unencodable_event("token")
                    return
                yield event
        except ChatWaitError as error:
            yield _error_event(error_outcome(error, token_count=0))
        finally:
            # Leaving early closes the follower now, not whenever the loop finalises it.
            if isinstance(items, AsyncGenerator):
                await items.aclose()


# SSE lines end with a bare LF: a proxy may split CR from LF across reads, and clients
# that split each read into lines (requests-sse uses bytes.splitlines) then lose events.
SSE_LINE_SEPARATOR = "\n"
UNENCODABLE_TEXT = (
    "The language model service sent text that cannot be encoded (invalid Unicode); try again."
)


def render_event(
    name: str, payload: BaseModel, *, id: str | None = None, retry: int | None = None
) -> bytes:
    """One SSE event as bytes; an event whose text cannot be encoded as UTF-8 (a lone
    surrogate from the model) becomes an `error` event, so the stream never breaks off."""
    try:
        return ServerSentEvent(
            event=name,
            id=id,
            data=payload.model_dump_json(exclude_none=True),
            retry=retry,
            sep=SSE_LINE_SEPARATOR,
        ).encode()
    except (PydanticSerializationError, UnicodeEncodeError):
        return _unencodable_event(name)


def _unencodable_event(name: str) -> bytes:
    logger.warning("an SSE %s event could not be encoded; ending the stream", name)
    error = ErrorEvent(code=UpstreamError.code, message=UNENCODABLE_TEXT, retryable=True)
    return render_event("error", error)


def render_token(index: int, text: str) -> bytes:
    """`render_event("token", TokenEvent(index=index, text=text), id=str(index))`, byte
    for byte, without a model per token: the per-token path of every stream.

    Raises UnicodeEncodeError when `text` cannot be encoded (a lone surrogate); the
    caller sends the unencodable-text error event instead, as render_event would.
    """
    # encode_basestring is json's C escaper with ensure_ascii=False: the same escapes
    # as pydantic's JSON (\", \\, \n, \uXXXX for other controls, UTF-8 otherwise).
    data = f'{{"index":{index},"text":{encode_basestring(text)}}}'
    return f"id: {index}\nevent: token\ndata: {data}\n\n".encode()


def _final_event(meta: StreamMeta, outcome: StreamOutcome) -> bytes:
    if outcome.kind == "done":
        done = DoneEvent(
            stream_id=meta.stream_id,
            conversation_id=meta.conversation_id,
            response=outcome.response,
            token_count=outcome.token_count,
            usage=outcome.usage,
        )
        return render_event("done", done)
    return _error_event(outcome)


def _error_event(outcome: StreamOutcome) -> bytes:
    metrics.STREAM_ERROR_EVENTS.labels(code=outcome.error_code or "internal_error").inc()
    error = ErrorEvent(
        code=outcome.error_code or "internal_error",
        message=outcome.error_message or "The stream failed.",
        retryable=outcome.retryable,
        retry_after=outcome.retry_after,
    )
    return render_event("error", error)
