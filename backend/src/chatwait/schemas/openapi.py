"""OpenAPI documentation of the `text/event-stream` responses of /chat/streaming."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from chatwait.schemas.chat import StreamQuery
from chatwait.schemas.events import DoneEvent, ErrorEvent, StartEvent, TokenEvent

SSE_EXAMPLE = (
    "id: start\n"
    "event: start\n"
    'data: {"stream_id":"my-stream-0001","conversation_id":"demo-1","model":"gemini-2.5-flash"}\n'
    "retry: 2000\n"
    "\n"
    "id: 0\nevent: token\n"
    'data: {"index":0,"text":"Hello"}\n'
    "\n"
    "id: 1\nevent: token\n"
    'data: {"index":1,"text":" world!\\n"}\n'
    "\n"
    ": ping - 2026-11-24 12:00:15.000000+00:00\n"
    "\n"
    "id: done\n"
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
| `start` | `start`, or the id sent | `StartEvent`: stream_id, conversation_id, model. First. |
| `token` | token index `i` | `TokenEvent`: `{"index": i, "text": delta}`, i = 0, 1, 2, … |
| `done` | `done` | `DoneEvent`: the full `response`, `token_count`, `usage`. Last. |
| `error` | `error` | `ErrorEvent`: `code`, `message`, `retryable`. Last. |

For a stream the server named (the request gave no `stream_id`), every id is prefixed
with `<stream_id>:` (`str_…:7`), so a reconnect with only `Last-Event-ID` finds it.
Comment lines (`: ping`) keep idle connections open. To resume, repeat the request with
`Last-Event-ID: <id of the last event seen>` (and the same `stream_id`, or
`last_event_id=<index>`): the tokens after it arrive exactly once, then the live ones; after
`done` or `error` the answer is 204. Headers: `X-Stream-Id`,
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
                    "schema": sse_event_schema(),
                    "example": SSE_EXAMPLE,
                }
            },
        }
    }


# Every event's `id` (schemas/event_ids.py): an optional `<stream_id>:` then its position.
_NAMED = r"^(?:[A-Za-z0-9_-]{8,128}:)?"
_EVENT_ID_PATTERNS = {
    "start": _NAMED + r"(?:start|[0-9]+)$",
    "token": _NAMED + r"[0-9]+$",
    "done": _NAMED + r"done$",
    "error": _NAMED + r"error$",
}


def _event(name: str, payload: type[BaseModel]) -> dict[str, Any]:
    """One kind of event: its name, its JSON `data` and its `id`."""
    return {
        "type": "object",
        "properties": {
            "event": {"const": name},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {"$ref": f"#/components/schemas/{payload.__name__}"},
            },
            "id": {"type": "string", "pattern": _EVENT_ID_PATTERNS[name]},
            "retry": {"type": "integer", "minimum": 0},
        },
        "required": ["event", "data", "id"],
        "additionalProperties": False,
    }


def sse_event_schema() -> dict[str, Any]:
    """The schema of each event of the stream (not of the whole body), as OpenAPI tools
    such as Schemathesis read a `text/event-stream` schema: `event`, `data` (JSON with
    the payload schema of that event), `id` and `retry`."""
    return {
        "description": "One Server-Sent Event; `data` is JSON.",
        "oneOf": [
            _event("start", StartEvent),
            _event("token", TokenEvent),
            _event("done", DoneEvent),
            _event("error", ErrorEvent),
        ],
    }


def sse_payload_schemas() -> dict[str, Any]:
    """JSON schemas of the event payloads, added to components/schemas."""
    return {
        model.__name__: model.model_json_schema(ref_template="#/components/schemas/{model}")
        for model in (StartEvent, TokenEvent, DoneEvent, ErrorEvent)
    }


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's schema with `null` taken out of its optional properties: a query string
    cannot carry null (`?last_event_id=null` is the text "null"), only leave a key out."""
    properties = {}
    for name, prop in schema.get("properties", {}).items():
        options = [option for option in prop.get("anyOf", []) if option != {"type": "null"}]
        if len(options) == 1:
            prop = {
                **{k: v for k, v in prop.items() if k not in ("anyOf", "default")},
                **options[0],
            }
        properties[name] = prop
    return {**schema, "properties": properties}


def stream_query_parameter() -> dict[str, Any]:
    """`GET /chat/streaming`'s query as one form-exploded object parameter.

    Separate query parameters cannot say "message or stream_id" (OpenAPI has no rule
    across parameters); an object parameter serialised as `?message=…&stream_id=…`
    carries StreamQuery's whole schema, rules across fields included."""
    return {
        "name": "query",
        "in": "query",
        "required": True,
        "style": "form",
        "explode": True,
        "description": "`message`, `conversation_id`, `stream_id`, `last_event_id` as "
        "query parameters (`?message=Hi&stream_id=my-stream-0001`). Unknown parameters "
        "(cache busters) are ignored.",
        "schema": _without_null(
            StreamQuery.model_json_schema(ref_template="#/components/schemas/{model}")
        ),
        "example": {"message": "Tell me a story", "stream_id": "my-stream-0001"},
    }
