"""Every upstream failure mode maps to its stable error code, in both modes."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.integration.conftest import UPSTREAM_KEY, BackendFactory
from tests.support.sse import collect_sse, token_texts
from tests.support.upstream_emulator import Scenario, UpstreamEmulator

CASES = [
    pytest.param(
        Scenario(status=429, retry_after="7"), 429, "upstream_rate_limited", True, id="429"
    ),
    pytest.param(Scenario(status=401), 502, "upstream_auth_failed", False, id="401"),
    pytest.param(Scenario(status=403), 502, "upstream_auth_failed", False, id="403"),
    pytest.param(Scenario(status=500), 502, "upstream_error", True, id="500"),
    pytest.param(Scenario(status=503), 502, "upstream_error", True, id="503"),
]


@pytest.mark.parametrize(("scenario", "status", "code", "retryable"), CASES)
async def test_wait_maps_upstream_status_to_error_code(
    client: httpx.AsyncClient,
    upstream: UpstreamEmulator,
    scenario: Scenario,
    status: int,
    code: str,
    retryable: bool,
) -> None:
    upstream.enqueue(scenario)

    response = await client.post("/chat/wait", json={"message": "hi"})

    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert error["request_id"] == response.headers["x-request-id"]
    assert UPSTREAM_KEY not in response.text


@pytest.mark.parametrize(("scenario", "status", "code", "retryable"), CASES)
async def test_stream_maps_upstream_status_to_error_event(
    client: httpx.AsyncClient,
    upstream: UpstreamEmulator,
    scenario: Scenario,
    status: int,
    code: str,
    retryable: bool,
) -> None:
    upstream.enqueue(scenario)

    response, events = await collect_sse(client, "GET", "/chat/streaming", params={"message": "hi"})

    assert response.status_code == 200
    assert events[0].event == "start"
    assert events[-1].event == "error"
    assert events[-1].json()["code"] == code
    assert events[-1].json()["retryable"] is retryable
    assert UPSTREAM_KEY not in events[-1].data


async def test_rate_limit_forwards_retry_after(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(status=429, retry_after="7"))

    response = await client.post("/chat/wait", json={"message": "hi"})

    assert response.headers["retry-after"] == "7"
    assert response.json()["error"]["details"] == {"retry_after": "7"}


async def test_rate_limit_in_a_stream_carries_retry_after_in_the_error_event(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(status=429, retry_after="7"))

    _, events = await collect_sse(client, "GET", "/chat/streaming", params={"message": "hi"})

    assert events[-1].event == "error"
    assert events[-1].json()["retry_after"] == "7"


async def test_auth_failure_says_check_the_key_without_echoing_it(
    client: httpx.AsyncClient, upstream: UpstreamEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    upstream.enqueue(Scenario(status=401))

    response = await client.post("/chat/wait", json={"message": "hi"})

    message = response.json()["error"]["message"]
    assert "key" in message.lower()
    assert UPSTREAM_KEY not in response.text
    assert UPSTREAM_KEY not in caplog.text


async def test_stream_cut_midway_keeps_partial_tokens_then_upstream_error(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    # The pause lets each delta reach the backend before the cut: a delta still in
    # flight when the connection dies may be lost by the client, which is fine.
    upstream.enqueue(
        Scenario(chunks=["one ", "two ", "three ", "four"], cut_after=2, chunk_delay=0.1)
    )

    _, events = await collect_sse(client, "GET", "/chat/streaming", params={"message": "hi"})

    assert token_texts(events) == ["one ", "two "]
    assert events[-1].event == "error"
    assert events[-1].json()["code"] == "upstream_error"
    assert events[-1].json()["retryable"] is True


async def test_wait_times_out_as_504(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(hang=True))
    with make_backend(llm_timeout_seconds=0.5) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            response = await http.post("/chat/wait", json={"message": "hi"})

    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"


async def test_stream_that_hangs_midway_ends_with_timeout_error(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=["a ", "b ", "c"], hang_after=1))
    with make_backend(llm_timeout_seconds=0.5) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            _, events = await collect_sse(http, "GET", "/chat/streaming", params={"message": "hi"})

    assert token_texts(events) == ["a "]
    assert events[-1].json()["code"] == "upstream_timeout"


async def test_unreachable_upstream_is_upstream_error(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    with make_backend(llm_base_url="http://127.0.0.1:9/v1") as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            response = await http.post("/chat/wait", json={"message": "hi"})

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_error"


async def test_service_keeps_working_after_an_upstream_failure(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(status=500), Scenario(text="fine again"))

    failed = await client.post("/chat/wait", json={"message": "hi"})
    recovered = await client.post("/chat/wait", json={"message": "hi"})

    assert failed.status_code == 502
    assert recovered.json()["response"] == "fine again"


async def test_bad_input_never_reaches_the_model(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    bad_requests = [
        client.post(
            "/chat/wait", content=b'{"message": ', headers={"content-type": "application/json"}
        ),
        client.post("/chat/wait", json={"message": "   "}),
        client.post("/chat/wait", json={"message": "x" * 16001}),
        client.get("/chat/streaming", params={"message": ""}),
        client.post("/chat/streaming", json={"message": 5}),
    ]
    for request in bad_requests:
        response = await request
        assert 400 <= response.status_code < 500

    assert upstream.requests == []
