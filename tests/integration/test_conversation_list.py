"""GET /conversations, PATCH and DELETE /conversations/{id}, on SQLite and on Redis."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.integration.test_conversations import start_long_turn
from tests.support.upstream_emulator import Scenario, UpstreamEmulator


async def turn(client: httpx.AsyncClient, message: str, conversation_id: str) -> None:
    response = await client.post(
        "/chat/wait", json={"message": message, "conversation_id": conversation_id}
    )
    assert response.status_code == 200, response.text


async def listed(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/conversations", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(page: dict[str, Any]) -> list[str]:
    return [c["conversation_id"] for c in page["conversations"]]


async def test_list_has_title_times_and_message_count_newest_first(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.default_scenario = Scenario(text="ok")
    await turn(client, "  What is\nSSE?  ", "conv-a")
    await turn(client, "x" * 200, "conv-b")
    await turn(client, "and more", "conv-a")

    page = await listed(client)

    assert ids(page) == ["conv-a", "conv-b"]
    first, second = page["conversations"]
    assert first["title"] == "What is SSE?"
    assert first["message_count"] == 4
    assert second["title"] == "x" * 79 + "…"
    assert second["message_count"] == 2
    created = datetime.fromisoformat(first["created_at"])
    updated = datetime.fromisoformat(first["updated_at"])
    assert created.tzinfo is not None
    assert created.utcoffset() == timedelta(0)
    assert updated >= created
    assert page["next_cursor"] is None


async def test_streamed_turns_are_listed_too(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=["a", "b"]))
    async with client.stream(
        "GET", "/chat/streaming", params={"message": "streamed", "conversation_id": "conv-s"}
    ) as response:
        await response.aread()

    page = await listed(client)

    assert ids(page) == ["conv-s"]
    assert page["conversations"][0]["message_count"] == 2


async def test_pages_follow_the_cursor_without_repeats_while_conversations_change(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.default_scenario = Scenario(text="ok")
    for n in range(5):
        await turn(client, f"message {n}", f"conv-{n}")

    first = await listed(client, limit=2)
    assert ids(first) == ["conv-4", "conv-3"]
    # A conversation already seen moves to the top meanwhile; the rest do not shift.
    await turn(client, "again", "conv-3")
    second = await listed(client, limit=2, cursor=first["next_cursor"])
    third = await listed(client, limit=2, cursor=second["next_cursor"])

    assert ids(second) == ["conv-2", "conv-1"]
    assert ids(third) == ["conv-0"]
    assert third["next_cursor"] is None
    assert ids(await listed(client, limit=1)) == ["conv-3"]


async def test_a_mangled_cursor_is_a_validation_error(client: httpx.AsyncClient) -> None:
    for cursor in ("not-a-cursor", "!!!", "bm90aGluZw"):
        response = await client.get("/conversations", params={"cursor": cursor})
        assert response.status_code == 422, cursor
        assert response.json()["error"]["code"] == "validation_error"


async def test_patch_renames_and_answers_the_list_item(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(text="ok"))
    await turn(client, "original", "conv-r")

    response = await client.patch("/conversations/conv-r", json={"title": "  Trip\n plans "})

    assert response.status_code == 200
    assert response.json()["title"] == "Trip plans"
    assert response.json()["conversation_id"] == "conv-r"
    assert (await listed(client))["conversations"][0]["title"] == "Trip plans"
    for bad in ({"title": ""}, {"title": "   "}, {"title": "x" * 81}, {"name": "x"}):
        refused = await client.patch("/conversations/conv-r", json=bad)
        assert refused.status_code == 422, bad


async def test_delete_while_a_turn_runs_is_busy_with_the_running_stream(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    running = await start_long_turn(client, upstream, "conv-busy")

    response = await client.delete("/conversations/conv-busy")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conversation_busy"
    assert response.json()["error"]["details"]["stream_id"].startswith("str_")
    await asyncio.wait_for(running, 10)


async def test_after_delete_the_id_starts_a_new_conversation_without_history(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.default_scenario = Scenario(text="ok")
    await turn(client, "remember me", "conv-d")

    assert (await client.delete("/conversations/conv-d")).status_code == 204
    assert ids(await listed(client)) == []
    await turn(client, "fresh start", "conv-d")

    sent = [m["content"] for m in upstream.requests[-1].body["messages"] if m["role"] == "user"]
    assert sent == ["fresh start"]
    page = await listed(client)
    assert page["conversations"][0]["title"] == "fresh start"
    assert page["conversations"][0]["message_count"] == 2


async def test_concurrent_turns_of_many_conversations_all_reach_history_and_list(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    """Regression (issue 10): on SQLite the list index wrote through its own connection
    and held the file's write lock across an await (execute, then commit), while the
    SDK's per-run sessions waited for that lock on worker threads and the event loop
    waited for them (`SQLiteSession.close()` runs on the loop). Under concurrent turns
    the server stalled for SQLite's busy timeout and turns failed. History and list now
    share one connection, each write one transaction on its thread."""
    upstream.default_scenario = Scenario(text="ok")
    conversations = [f"concurrent-{i:02d}" for i in range(100)]

    responses = await asyncio.gather(
        *(
            client.post("/chat/wait", json={"message": f"hi {cid}", "conversation_id": cid})
            for cid in conversations
        )
    )

    assert [r.status_code for r in responses] == [200] * len(conversations)
    page = await listed(client, limit=100)
    counts = {c["conversation_id"]: c["message_count"] for c in page["conversations"]}
    assert counts == dict.fromkeys(conversations, 2)
    history = await client.get(f"/conversations/{conversations[7]}")
    assert [m["role"] for m in history.json()["messages"]] == ["user", "assistant"]
