"""The chat endpoints: wait for a whole answer, or stream it as resumable SSE."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response, status
from pydantic import WithJsonSchema
from sse_starlette import EventSourceResponse

from chatwait.api.auth import PrincipalDep, StreamPrincipalDep
from chatwait.api.disconnect import unless_client_disconnects
from chatwait.api.errors import error_responses
from chatwait.api.origin import refuse_foreign_origin
from chatwait.api.sse_response import ViewerResponse
from chatwait.api.stream_request import stream_open_request
from chatwait.api.validation import ensure_message_length, require_json_body, stream_query
from chatwait.auth import Principal
from chatwait.deps import ChatServiceDep, SettingsDep, StreamingServiceDep
from chatwait.schemas.chat import (
    STREAM_ID_PATTERN,
    ChatRequest,
    StreamQuery,
    StreamRequest,
    WaitResponse,
)
from chatwait.schemas.event_ids import LAST_EVENT_ID_PATTERN
from chatwait.schemas.openapi import sse_response_doc, stream_query_parameter
from chatwait.services.streaming_service import SSE_LINE_SEPARATOR

router = APIRouter(prefix="/chat", tags=["chat"])

LastEventIdHeader = Annotated[
    str | None,
    Header(
        alias="Last-Event-ID",
        description="Resume after this event: the `id:` of the last event seen (a token "
        "index, `start`, `done` or `error`, prefixed with `<stream_id>:` for a stream the "
        "server named). `done`/`error` answer 204. A bare id needs `stream_id`.",
    ),
    # A header is a string or absent, never null.
    WithJsonSchema({"type": "string", "pattern": LAST_EVENT_ID_PATTERN}),
]


@router.post(
    "/wait",
    response_model=WaitResponse,
    summary="Answer a message and return the whole reply",
    dependencies=[Depends(refuse_foreign_origin), Depends(require_json_body)],
    responses=error_responses(400, 401, 403, 409, 413, 415, 422, 429, 502, 503, 504),
)
async def chat_wait(
    request: Request,
    principal: PrincipalDep,
    body: ChatRequest,
    chat: ChatServiceDep,
) -> WaitResponse:
    """Runs the agent to completion (`Runner.run`) and returns the reply as JSON.

    Closing the connection before the reply cancels the run."""
    ensure_message_length(body.message, chat.max_message_chars)
    reply = await unless_client_disconnects(
        request, chat.reply(principal.name, body.message, body.conversation_id)
    )
    return WaitResponse(
        response=reply.text,
        conversation_id=reply.conversation_id,
        model=reply.model,
        usage=reply.usage,
    )


async def _stream(
    principal: Principal,
    fields: StreamRequest,
    location: str,
    last_event_id_header: str | None,
    streaming: StreamingServiceDep,
    settings: SettingsDep,
) -> Response:
    request = stream_open_request(
        principal, fields, last_event_id_header, location, settings.max_message_chars
    )
    if request is None:
        # The client saw `done` or `error`: 204 is how the HTML standard stops an
        # EventSource, which otherwise takes the end of the response for a drop.
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    opened, slot = await streaming.open(request)
    return ViewerResponse(
        streaming.events(opened),
        slot=slot,
        stream_id=opened.meta.stream_id,
        send_timeout=settings.sse_send_timeout_seconds,
        ping=settings.sse_ping_seconds,
        sep=SSE_LINE_SEPARATOR,
        headers={
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
            "X-Stream-Id": opened.meta.stream_id,
        },
    )


_STREAM_DOC = (
    "Starts a run (`Runner.run_streamed`) and streams its tokens, or follows / resumes "
    "an existing stream. The run belongs to the server, not to the connection: "
    "disconnecting does not stop it, and the same principal can resume it by `stream_id`."
)
_STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    **sse_response_doc(),
    204: {
        "description": "The Last-Event-ID was the stream's `done` or `error`: nothing is "
        "left to send (this stops a browser's EventSource from reconnecting)."
    },
    **error_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
}


@router.get(
    "/streaming",
    summary="Stream an answer as Server-Sent Events (query parameters)",
    description=_STREAM_DOC,
    response_class=EventSourceResponse,
    dependencies=[Depends(refuse_foreign_origin)],
    responses=_STREAM_RESPONSES,
    openapi_extra={"parameters": [stream_query_parameter()]},
)
async def chat_streaming_get(
    principal: StreamPrincipalDep,
    params: Annotated[StreamQuery, Depends(stream_query)],
    streaming: StreamingServiceDep,
    settings: SettingsDep,
    last_event_id: LastEventIdHeader = None,
) -> Response:
    return await _stream(principal, params, "query", last_event_id, streaming, settings)


@router.post(
    "/streaming",
    summary="Stream an answer as Server-Sent Events (JSON body)",
    description=_STREAM_DOC,
    response_class=EventSourceResponse,
    dependencies=[Depends(refuse_foreign_origin), Depends(require_json_body)],
    responses=_STREAM_RESPONSES,
)
async def chat_streaming_post(
    principal: PrincipalDep,
    body: StreamRequest,
    streaming: StreamingServiceDep,
    settings: SettingsDep,
    last_event_id: LastEventIdHeader = None,
) -> Response:
    return await _stream(principal, body, "body", last_event_id, streaming, settings)


@router.delete(
    "/streaming/{stream_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Cancel a stream's run",
    responses=error_responses(401, 404, 422),
)
async def cancel_stream(
    principal: PrincipalDep,
    stream_id: Annotated[str, Path(pattern=STREAM_ID_PATTERN)],
    streaming: StreamingServiceDep,
) -> Response:
    """Stops the run (closing its upstream stream); viewers get `event: error`, code
    `cancelled`. Cancelling a finished stream changes nothing."""
    await streaming.cancel(principal.name, stream_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
