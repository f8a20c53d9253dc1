"""`/chat/streaming` as a service: open (start or find) a stream, then render it as SSE.

Opening (this process's admission, then streams/lifecycle.py) does every check that can
fail with an HTTP status (404, 409, 429, 503) before the response starts; once the
`200 text/event-stream` is sent, failures can only arrive as `event: error`.
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
from chatwait.schemas.event_ids import event_id, same_stream_id, start_event_position
from chatwait.schemas.events import DoneEvent, ErrorEvent, StartEvent
from chatwait.services.admission import Slot
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

    async def open(self, request: StreamOpenRequest) -> tuple[OpenedStream, Slot]:
        """Take an open-stream slot of this process (503 server_busy), then find the
        caller's stream or start a run (streams/lifecycle.py decides). The caller hands
        the slot to the response, which releases it when it ends."""
        slot = self._chat.admission.admit_stream()
        try:
            return await self._supervisor.open(request, self._chat), slot
        except BaseException:
            slot.release()
            raise

    async def cancel(self, principal: str, stream_id: str) -> None:
        await self._supervisor.cancel(principal, stream_id)

    @metrics.counts_stream_viewer
    async def events(self, opened: OpenedStream) -> AsyncIterator[bytes]:
        """The SSE events of one viewer: start, tokens from its index, done or error."""
        meta = opened.meta
        log_context.bind(stream_id=meta.stream_id, conversation_id=meta.conversation_id)
        # Ids name the stream when the client did not (schemas/event_ids.py).
        named = meta.stream_id if opened.ids_name_stream else None
        start = StartEvent(
            stream_id=meta.stream_id, conversation_id=meta.conversation_id, model=meta.model
        )
        yield render_event(
            "start",
            start,
            id=event_id(start_event_position(opened.start_index), named),
            retry=self._settings.sse_retry_ms,
        )
        items = self._supervisor.follow(meta.key, opened.start_index)
        try:
            async for item in items:
                if not isinstance(item, Token):
                    yield _final_event(meta, item, named)
                    continue
                try:
                    event = render_token(item.index, item.text, named)
                except UnicodeEncodeError:  # a lone surrogate from the model
                    yield _unencodable_event("token", event_id(str(item.index), named))
                    return
                yield event
        except ChatWaitError as error:
            yield _error_event(error_outcome(error, token_count=0), named)
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


def render_event(name: str, payload: BaseModel, *, id: str, retry: int | None = None) -> bytes:
    """One SSE event as bytes; an event whose text cannot be encoded as UTF-8 (a lone
    surrogate from the model) becomes an `error` event, so the stream never breaks off.

    Every event has an `id` (schemas/event_ids.py): a browser's reconnect sends the last
    one back, and an event without one would leave it pointing at an earlier event."""
    try:
        return ServerSentEvent(
            event=name,
            id=id,
            data=payload.model_dump_json(exclude_none=True),
            retry=retry,
            sep=SSE_LINE_SEPARATOR,
        ).encode()
    except (PydanticSerializationError, UnicodeEncodeError):
        return _unencodable_event(name, id)


def _unencodable_event(name: str, id: str) -> bytes:
    """The error event that ends a stream in place of an event that cannot be encoded
    (`id` is that event's: the error keeps the stream's id form)."""
    logger.warning("an SSE %s event could not be encoded; ending the stream", name)
    error = ErrorEvent(code=UpstreamError.code, message=UNENCODABLE_TEXT, retryable=True)
    return render_event("error", error, id=same_stream_id(id, "error"))


def render_token(index: int, text: str, named: str | None = None) -> bytes:
    """`render_event("token", TokenEvent(index=index, text=text), id=event_id(…))`,
    byte for byte, without a model per token: the per-token path of every stream.

    Raises UnicodeEncodeError when `text` cannot be encoded (a lone surrogate); the
    caller sends the unencodable-text error event instead, as render_event would.
    """
    # encode_basestring is json's C escaper with ensure_ascii=False: the same escapes
    # as pydantic's JSON (\", \\, \n, \uXXXX for other controls, UTF-8 otherwise).
    data = f'{{"index":{index},"text":{encode_basestring(text)}}}'
    return f"id: {event_id(str(index), named)}\nevent: token\ndata: {data}\n\n".encode()


def _final_event(meta: StreamMeta, outcome: StreamOutcome, named: str | None) -> bytes:
    if outcome.kind == "done":
        done = DoneEvent(
            stream_id=meta.stream_id,
            conversation_id=meta.conversation_id,
            response=outcome.response,
            token_count=outcome.token_count,
            usage=outcome.usage,
        )
        return render_event("done", done, id=event_id("done", named))
    return _error_event(outcome, named)


def _error_event(outcome: StreamOutcome, named: str | None) -> bytes:
    metrics.STREAM_ERROR_EVENTS.labels(code=outcome.error_code or "internal_error").inc()
    error = ErrorEvent(
        code=outcome.error_code or "internal_error",
        message=outcome.error_message or "The stream failed.",
        retryable=outcome.retryable,
        retry_after=outcome.retry_after,
    )
    return render_event("error", error, id=event_id("error", named))
