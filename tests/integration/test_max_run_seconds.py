"""MAX_RUN_SECONDS ends a whole run with `upstream_timeout`, however steadily it trickles.

Before the fix only LLM_TIMEOUT_SECONDS applied, and only to the gap between chunks: a
provider sending a chunk every few seconds held a run, and its cost, for ever.
"""

from __future__ import annotations

import httpx

from tests.integration.conftest import BackendFactory
from tests.support.sse import collect_sse, token_texts
from tests.support.upstream_emulator import Scenario, UpstreamEmulator
from tests.support.waiting import eventually

# 40 chunks 0.25 s apart take 10 s; each gap is far below LLM_TIMEOUT_SECONDS (5 s in
# tests), and the whole answer is far beyond MAX_RUN_SECONDS.
DRIBBLE = Scenario(chunks=[f"w{i} " for i in range(40)], chunk_delay=0.25)
MAX_RUN_SECONDS = 1.5
# Wait mode asks for a whole answer at once: one that takes 4 s, just under the test
# backend's LLM_TIMEOUT_SECONDS (5 s), is also beyond MAX_RUN_SECONDS.
SLOW_WHOLE_ANSWER = Scenario(text="late", first_byte_delay=4.0)


async def test_wait_that_runs_past_max_run_seconds_is_upstream_timeout(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(SLOW_WHOLE_ANSWER)
    with make_backend(max_run_seconds=MAX_RUN_SECONDS) as backend:
        async with httpx.AsyncClient(base_url=backend.url, timeout=30) as http:
            response = await http.post("/chat/wait", json={"message": "slowly"})

            assert response.status_code == 504
            assert response.json()["error"]["code"] == "upstream_timeout"
            assert "MAX_RUN_SECONDS" in response.json()["error"]["message"]


async def test_stream_past_max_run_seconds_ends_with_upstream_timeout_after_its_tokens(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(DRIBBLE)
    with make_backend(max_run_seconds=MAX_RUN_SECONDS) as backend:
        async with httpx.AsyncClient(base_url=backend.url, timeout=30) as http:
            response, events = await collect_sse(
                http, "GET", "/chat/streaming", params={"message": "slowly"}
            )
            # The run was stopped, so the upstream stream was closed from our side.
            await eventually(
                lambda: upstream.streams_closed_by_client == 1, what="the upstream stream closed"
            )

    assert response.status_code == 200
    assert events[-1].event == "error"
    assert events[-1].json()["code"] == "upstream_timeout"
    tokens = token_texts(events)
    assert tokens, "the tokens produced before the deadline are sent first"
    assert tokens == [f"w{i} " for i in range(len(tokens))]
    assert len(tokens) < len(DRIBBLE.chunks or [])


async def test_max_run_seconds_zero_means_no_deadline(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=["a ", "b ", "c"], chunk_delay=0.3))
    with make_backend(max_run_seconds=0) as backend:
        async with httpx.AsyncClient(base_url=backend.url, timeout=30) as http:
            response = await http.post("/chat/wait", json={"message": "fine"})

    assert response.status_code == 200
    assert response.json()["response"] == "a b c"
