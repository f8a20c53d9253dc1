"""Odd and hostile text over real HTTP: refused at the edge, harmless if it slips in.

Regression tests of issue 11: a lone UTF-16 surrogate (`"\\ud800"`, valid JSON) gave a
500, cut the stream on every resume and poisoned its conversation for good.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.contract.errors import assert_error
from tests.support.sse import collect_sse
from tests.support.upstream_emulator import Scenario, UpstreamEmulator

JSON = {"content-type": "application/json"}

# Raw JSON text: json.dumps would refuse nothing, but spelling the escapes out keeps
# the bytes on the wire exactly what a hostile client sends.
HOSTILE_TEXT = {
    "lone-surrogate": "hi \\ud800 there",
    "low-surrogate": "\\udfff",
    "nul": "a\\u0000b",
}


def _body(**fields: str) -> bytes:
    members = ", ".join(f'"{name}": "{value}"' for name, value in fields.items())
    return ("{" + members + "}").encode()


@pytest.mark.parametrize("store_kind", ["memory"])
@pytest.mark.parametrize("text", HOSTILE_TEXT.values(), ids=HOSTILE_TEXT.keys())
@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/chat/wait", "message"),
        ("/chat/wait", "conversation_id"),
        ("/chat/streaming", "message"),
        ("/chat/streaming", "conversation_id"),
        ("/chat/streaming", "stream_id"),
    ],
)
async def test_lone_surrogate_or_nul_in_request_text_is_422_naming_the_field(
    client: httpx.AsyncClient, upstream: UpstreamEmulator, path: str, field: str, text: str
) -> None:
    """A lone surrogate in `message` used to reach the model client and fail there
    with a 500 (UnicodeEncodeError); NUL was passed on to the model and the stores."""
    fields = {"message": "hello", field: text}

    response = await client.post(path, content=_body(**fields), headers=JSON)

    error = assert_error(response, 422, "validation_error")
    assert [detail["field"] for detail in error["details"]] == [field]
    assert f"Invalid request: {field}: " in error["message"]
    assert upstream.requests == []


@pytest.mark.parametrize("store_kind", ["memory"])
async def test_nul_in_query_text_is_422_naming_the_field(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    """Query strings cannot carry lone surrogates (they decode to U+FFFD), but NUL
    (`%00`) reached the model like in a JSON body."""
    response = await client.get("/chat/streaming", params={"message": "a\x00b"})

    error = assert_error(response, 422, "validation_error")
    assert [detail["field"] for detail in error["details"]] == ["message"]
    assert upstream.requests == []


async def test_lone_surrogate_from_the_model_ends_the_stream_with_an_error_on_every_resume(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    """A model delta holding a lone surrogate made every viewer's stream break off
    without `done` or `error` (the event could not be encoded), on every resume."""
    upstream.enqueue(Scenario(chunks=["Hi ", "\ud800", " there"]))
    params = {"message": "hi", "stream_id": "surrogate-stream-1"}

    _, first = await collect_sse(client, "GET", "/chat/streaming", params=params)
    _, resumed = await collect_sse(
        client,
        "GET",
        "/chat/streaming",
        params={"stream_id": "surrogate-stream-1"},
        headers={"Last-Event-ID": "0"},
    )

    assert [e.event for e in first] == ["start", "token", "error"]
    assert first[1].json()["text"] == "Hi "
    assert first[-1].json()["code"] == "upstream_error"
    assert [e.event for e in resumed] == ["start", "error"]
    assert resumed[-1].json()["code"] == "upstream_error"


async def test_stream_whose_answer_holds_a_lone_surrogate_still_records_its_end(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    """Regression: on Redis the outcome (its full answer held the surrogate) could not
    be stored as JSON, so a viewer resuming after the bad token waited for an end that
    never came, and got producer_lost once the lease lapsed."""
    upstream.enqueue(Scenario(chunks=["Hi ", "\ud800", " there"]))
    params = {"message": "hi", "stream_id": "surrogate-stream-2"}
    await collect_sse(client, "GET", "/chat/streaming", params=params)

    _, after_bad_token = await collect_sse(
        client,
        "GET",
        "/chat/streaming",
        params={"stream_id": "surrogate-stream-2"},
        headers={"Last-Event-ID": "2"},
        timeout=5,
    )

    assert [e.event for e in after_bad_token] == ["start", "error"]
    assert after_bad_token[-1].json()["code"] == "upstream_error"


async def test_conversation_holding_a_lone_surrogate_stays_readable_and_usable(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    """The model's lone surrogate was stored in the history; afterwards the answer,
    `GET /conversations/{id}` and every later turn of that conversation were 500s."""
    upstream.enqueue(Scenario(chunks=["Hi ", "\ud800"]), Scenario(text="Still here."))

    first = await client.post(
        "/chat/wait", json={"message": "hello", "conversation_id": "poisoned-1"}
    )
    history = await client.get("/conversations/poisoned-1")
    second = await client.post(
        "/chat/wait", json={"message": "again", "conversation_id": "poisoned-1"}
    )

    assert first.status_code == 200, first.text
    assert first.json()["response"] == "Hi \ufffd"
    assert history.status_code == 200, history.text
    assert history.json()["messages"][1] == {"role": "assistant", "content": "Hi \ufffd"}
    assert second.status_code == 200, second.text
    assert second.json()["response"] == "Still here."
    sent_history = json.dumps(upstream.requests[1].body["messages"], ensure_ascii=False)
    assert "Hi \ufffd" in sent_history


MALFORMED_BODIES = {
    "invalid-utf8": b'{"message": "\xff\xfe"}',
    "5000-digit-number": b'{"message": "hi", "n": ' + b"1" * 5000 + b"}",
    "10000-nested-arrays": b"[" * 10_000 + b"]" * 10_000,
}


@pytest.mark.parametrize("store_kind", ["memory"])
@pytest.mark.parametrize("path", ["/chat/wait", "/chat/streaming"])
@pytest.mark.parametrize("body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
async def test_undecodable_json_body_is_400_invalid_json(
    client: httpx.AsyncClient, upstream: UpstreamEmulator, path: str, body: bytes
) -> None:
    """Bodies that json.loads refuses with something other than JSONDecodeError
    (UnicodeDecodeError, the int digit limit, RecursionError) answered `http_error`."""
    response = await client.post(path, content=body, headers=JSON)

    assert_error(response, 400, "invalid_json")
    assert upstream.requests == []


@pytest.mark.parametrize("store_kind", ["memory"])
async def test_last_event_id_of_4301_digits_is_400_not_500(client: httpx.AsyncClient) -> None:
    """int() of more than 4300 digits raises ValueError (CPython's limit): a 500."""
    response = await client.get(
        "/chat/streaming",
        params={"stream_id": "long-last-id-1"},
        headers={"Last-Event-ID": "1" * 4301},
    )

    assert_error(response, 400, "invalid_last_event_id")


async def test_malformed_sse_json_from_the_model_is_upstream_error(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    """The openai client's JSONDecodeError was not translated and ended as internal_error."""
    upstream.enqueue(Scenario(raw_data=['{"id": "x", "choices": [']))

    _, events = await collect_sse(client, "GET", "/chat/streaming", params={"message": "hi"})

    assert [e.event for e in events] == ["start", "error"]
    assert events[-1].json()["code"] == "upstream_error"


async def test_json_answer_to_a_streaming_request_is_upstream_error_not_empty_done(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    """A 200 with a plain JSON completion has no SSE events: the run ended in a silent,
    empty `done` instead of an error."""
    upstream.enqueue(Scenario(text="Whole answer at once.", ignore_stream=True))

    _, events = await collect_sse(client, "GET", "/chat/streaming", params={"message": "hi"})

    assert [e.event for e in events] == ["start", "error"]
    assert events[-1].json()["code"] == "upstream_error"
    assert len(upstream.requests) == 1, "a broken upstream is not asked again"


@pytest.mark.parametrize("store_kind", ["memory"])
async def test_sse_answer_to_a_wait_request_is_502_upstream_error(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    """An SSE body to a non-streaming request reached the Agents SDK as text, which
    failed with an AttributeError: a 500 internal_error."""
    upstream.enqueue(Scenario(raw_data=["{not json"]))

    response = await client.post("/chat/wait", json={"message": "hi"})

    assert_error(response, 502, "upstream_error")
