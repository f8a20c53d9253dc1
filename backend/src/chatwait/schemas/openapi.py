"""OpenAPI documentation of the `text/event-stream` responses of /chat/streaming."""

from __future__ import annotations

from typing import Any

from chatwait.schemas.events import DoneEvent, ErrorEvent, StartEvent, TokenEvent

SSE_EXAMPLE = (
    "retry: 2000\n"
    "event: start\n"
    'data: {"stream_id":"my-stream-0001","conversation_id":"demo-1","model":"gemini-2.5-flash"}\n'
    "\n"
    "event: token\nid: 0\n"
    'data: {"index":0,"text":"Hello"}\n'
    "\n"
    "event: token\nid: 1\n"
    'data: {"index":1,"text":" world!\\n"}\n'
    "\n"
    ": ping - 2026-11-24 12:00:15.000000+00:00\n"
    "\n"
    "event: done\n"
    'data: {"stream_id":"my-stream-0001","conversation_id":"demo-1",'
    '"response":"Hello world!\\n","token_count":2,'
    '"usage":{"requests":1,"input_tokens":9,"output_tokens":2,"total_tokens":11}}\n'
    "\n"
)

SSE_DESCRIPTION = """\
A Server-Sent Events stream (`Content-Type: text/event-stream`). Every `data:` is JSON.

| event | id | data |
|---|---|---|
| `start` | – | `StartEvent`: stream_id, conversation_id, model. Always first. |
| `token` | token index `i` | `TokenEvent`: `{"index": i, "text": delta}`, i = 0, 1, 2, … |
| `done` | – | `DoneEvent`: the full `response`, `token_count`, `usage`. Last. |
| `error` | – | `ErrorEvent`: `code`, `message`, `retryable`. Last. |

Comment lines (`: ping`) keep idle connections open. To resume, repeat the request with
the same `stream_id` and `Last-Event-ID: <last index seen>` (or `last_event_id=`): the
tokens after it arrive exactly once, then the live ones. Headers: `X-Stream-Id`,
`Cache-Control: no-store`, `X-Accel-Buffering: no`.
"""


def sse_response_doc() -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": SSE_DESCRIPTION,
            "headers": {
                "X-Stream-Id": {
                    "description": "The stream's id (the client's stream_id when it gave one).",
                    "schema": {"type": "string"},
                }
            },
            "content": {
                "text/event-stream": {
                    "schema": {
                        "type": "string",
                        "description": "SSE events; payload schemas: "
                        + ", ".join(
                            m.__name__ for m in (StartEvent, TokenEvent, DoneEvent, ErrorEvent)
                        ),
                    },
                    "example": SSE_EXAMPLE,
                }
            },
        }
    }


def sse_payload_schemas() -> dict[str, Any]:
    """JSON schemas of the event payloads, added to components/schemas."""
    return {
        model.__name__: model.model_json_schema(ref_template="#/components/schemas/{model}")
        for model in (StartEvent, TokenEvent, DoneEvent, ErrorEvent)
    }
