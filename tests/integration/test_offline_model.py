"""With no key and no LLM_BASE_URL, the offline demo model answers through the Runner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.backend import backend_settings, serve_backend
from tests.support.sse import collect_sse, token_texts


@pytest.fixture
async def offline_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    with serve_backend(backend_settings(tmp_path, offline_token_delay_seconds=0.01)) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            yield http


async def test_health_reports_the_offline_provider(offline_client: httpx.AsyncClient) -> None:
    body = (await offline_client.get("/health")).json()

    assert body["provider"] == "offline"
    assert body["status"] == "ok"


async def test_offline_wait_says_it_is_offline_and_how_to_configure_gemini(
    offline_client: httpx.AsyncClient,
) -> None:
    body = (await offline_client.post("/chat/wait", json={"message": "ping pong"})).json()

    assert "offline" in body["response"]
    assert "ping pong" in body["response"]
    assert "GEMINI_API_KEY" in body["response"]
    assert body["usage"]["total_tokens"] > 0


async def test_offline_stream_is_resumable(offline_client: httpx.AsyncClient) -> None:
    params = {"message": "resume me", "stream_id": "offline-resume"}
    _, first = await collect_sse(
        offline_client, "GET", "/chat/streaming", params=params, stop_after=4
    )
    _, rest = await collect_sse(
        offline_client,
        "GET",
        "/chat/streaming",
        params={"stream_id": "offline-resume"},
        headers={"Last-Event-ID": "3"},
    )

    full = rest[-1].json()["response"]
    assert "".join(token_texts(first) + token_texts(rest)) == full
    assert "resume me" in full


async def test_offline_model_counts_turns_of_a_conversation(
    offline_client: httpx.AsyncClient,
) -> None:
    first = (await offline_client.post("/chat/wait", json={"message": "one"})).json()
    second = (
        await offline_client.post(
            "/chat/wait", json={"message": "two", "conversation_id": first["conversation_id"]}
        )
    ).json()

    assert "message 1 " in first["response"]
    assert "message 2 " in second["response"]
