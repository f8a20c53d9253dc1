"""HISTORY_MAX_TOKENS: only the newest whole turns go upstream; all of them stay stored.

Before the fix every earlier turn went upstream with each message, so a long
conversation's input cost grew without bound (631,470 input tokens at turn 40).
"""

from __future__ import annotations

import httpx

from tests.integration.conftest import BackendFactory
from tests.support.sse import collect_sse
from tests.support.upstream_emulator import UpstreamEmulator

# Each message is ~400 characters and the emulator echoes it: a turn (user message plus
# answer, as JSON items with the SDK's extra fields) is estimated at 200 to 300 tokens,
# so 600 holds two earlier turns and never three.
PADDING = "x" * 400
BUDGET_FOR_TWO_TURNS = 600


def _user_texts(messages: list[dict[str, object]]) -> list[str]:
    return [str(m["content"]).split()[0] for m in messages if m["role"] == "user"]


async def _talk(http: httpx.AsyncClient, conversation_id: str, turns: int) -> None:
    for number in range(1, turns + 1):
        response = await http.post(
            "/chat/wait",
            json={"message": f"turn{number} {PADDING}", "conversation_id": conversation_id},
        )
        assert response.status_code == 200, response.text


async def test_wait_sends_only_the_newest_whole_turns_and_the_new_message(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    with make_backend(history_max_tokens=BUDGET_FOR_TWO_TURNS) as backend:
        async with httpx.AsyncClient(base_url=backend.url, timeout=20) as http:
            await _talk(http, "trim-wait", turns=5)
            stored = (await http.get("/conversations/trim-wait")).json()["messages"]

    sent = [m for m in upstream.requests[-1].body["messages"] if m["role"] != "system"]
    assert _user_texts(sent) == ["turn3", "turn4", "turn5"]
    # Whole turns: every user message sent is followed by its answer.
    assert [m["role"] for m in sent] == ["user", "assistant", "user", "assistant", "user"]
    assert [m["content"].split()[0] for m in stored if m["role"] == "user"] == [
        f"turn{n}" for n in range(1, 6)
    ]
    assert len(stored) == 10


async def test_stream_trims_history_like_wait(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    with make_backend(history_max_tokens=BUDGET_FOR_TWO_TURNS) as backend:
        async with httpx.AsyncClient(base_url=backend.url, timeout=20) as http:
            await _talk(http, "trim-stream", turns=4)
            _, events = await collect_sse(
                http,
                "GET",
                "/chat/streaming",
                params={"message": f"turn5 {PADDING}", "conversation_id": "trim-stream"},
            )
            stored = (await http.get("/conversations/trim-stream")).json()["messages"]

    assert events[-1].event == "done"
    sent = upstream.requests[-1].body["messages"]
    assert _user_texts(sent) == ["turn3", "turn4", "turn5"]
    assert len(stored) == 10


async def test_new_message_is_sent_even_when_it_alone_exceeds_the_budget(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    with make_backend(history_max_tokens=10) as backend:
        async with httpx.AsyncClient(base_url=backend.url, timeout=20) as http:
            await _talk(http, "trim-big", turns=2)

    sent = [m for m in upstream.requests[-1].body["messages"] if m["role"] != "system"]
    assert [(m["role"], m["content"]) for m in sent] == [("user", f"turn2 {PADDING}")]
