"""`SQLiteSessionStore`: one connection, one thread, the Agents SDK's tables and format."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from agents import SQLiteSession

from chatwait.services.sqlite_session import SQLiteSessionStore


def message(role: str, text: str) -> Any:
    return {"role": role, "content": text}


def texts(items: list[Any]) -> list[Any]:
    return [item["content"] for item in items]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteSessionStore]:
    opened = SQLiteSessionStore(tmp_path / "data" / "sessions.db")
    await opened.open()
    yield opened
    await opened.aclose()


async def test_items_come_back_in_order_and_limit_takes_the_latest(
    store: SQLiteSessionStore,
) -> None:
    session = store.session("conv-a")
    await session.add_items([message("user", "one"), message("assistant", "two")])
    await session.add_items([message("user", "three")])

    assert texts(await session.get_items()) == ["one", "two", "three"]
    assert texts(await session.get_items(limit=2)) == ["two", "three"]
    assert await session.get_items(limit=0) == []
    assert await store.session("conv-unknown").get_items() == []


async def test_pop_item_removes_the_newest_and_clear_forgets_the_conversation(
    store: SQLiteSessionStore,
) -> None:
    session = store.session("conv-a")
    other = store.session("conv-b")
    await session.add_items([message("user", "one"), message("assistant", "two")])
    await other.add_items([message("user", "kept")])

    assert await session.pop_item() == message("assistant", "two")
    assert await session.get_items() == [message("user", "one")]
    await session.clear_session()

    assert await session.get_items() == []
    assert await session.pop_item() is None
    assert await other.get_items() == [message("user", "kept")]


async def test_rows_that_are_not_json_are_skipped_as_the_sdk_does(
    store: SQLiteSessionStore, tmp_path: Path
) -> None:
    session = store.session("conv-a")
    await session.add_items([message("user", "one"), message("assistant", "two")])
    with sqlite3.connect(tmp_path / "data" / "sessions.db") as raw:
        raw.execute(
            "INSERT INTO agent_messages (session_id, message_data) VALUES ('conv-a', 'not json')"
        )

    assert await session.get_items(limit=1) == [message("assistant", "two")]
    assert await session.pop_item() == message("assistant", "two")


async def test_files_of_the_sdk_session_read_here_and_the_other_way_round(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.db"
    sdk = SQLiteSession("conv-a", path)
    await sdk.add_items([message("user", "from the sdk")])
    sdk.close()

    store = SQLiteSessionStore(path)
    await store.open()
    try:
        ours = store.session("conv-a")
        assert await ours.get_items() == [message("user", "from the sdk")]
        await ours.add_items([message("assistant", "from chatwait")])
    finally:
        await store.aclose()

    sdk = SQLiteSession("conv-a", path)
    try:
        assert texts(await sdk.get_items()) == ["from the sdk", "from chatwait"]
    finally:
        sdk.close()


async def test_two_conversations_written_at_once_keep_their_own_order(
    store: SQLiteSessionStore,
) -> None:
    async def turns(conversation_id: str) -> None:
        session = store.session(conversation_id)
        for turn in range(25):
            await session.add_items(
                [message("user", f"{conversation_id}-{turn}"), message("assistant", "ok")]
            )

    await asyncio.gather(turns("conv-a"), turns("conv-b"))

    for conversation_id in ("conv-a", "conv-b"):
        items = await store.session(conversation_id).get_items()
        assert texts(items[::2]) == [f"{conversation_id}-{turn}" for turn in range(25)]


async def test_every_statement_runs_on_one_thread_never_the_event_loop(
    store: SQLiteSessionStore,
) -> None:
    threads: set[str] = set()

    def record(connection: sqlite3.Connection) -> None:
        threads.add(threading.current_thread().name)

    session = store.session("conv-a")
    for _ in range(5):
        await session.add_items([message("user", "x")])
        await store.submit(record)
        await session.get_items()

    assert len(threads) == 1
    assert threading.main_thread().name not in threads


async def test_the_database_is_in_wal_mode_with_synchronous_normal(
    store: SQLiteSessionStore,
) -> None:
    def pragmas(connection: sqlite3.Connection) -> tuple[str, int]:
        mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
        synchronous = connection.execute("PRAGMA synchronous").fetchone()[0]
        return mode, synchronous

    assert await store.submit(pragmas) == ("wal", 1)  # 1 = NORMAL


async def test_a_write_cancelled_by_its_caller_still_completes(
    store: SQLiteSessionStore,
) -> None:
    session = store.session("conv-a")
    gate = threading.Event()
    # Hold the store's thread so the write is queued when its caller is cancelled.
    blocker = store.submit(lambda connection: gate.wait(5))
    write = asyncio.create_task(session.add_items([message("user", "kept")]))
    await asyncio.sleep(0.05)
    write.cancel()
    gate.set()
    await blocker

    with pytest.raises(asyncio.CancelledError):
        await write
    assert await session.get_items() == [message("user", "kept")]


async def test_a_closed_store_answers_with_a_sqlite_error(tmp_path: Path) -> None:
    store = SQLiteSessionStore(tmp_path / "closed.db")
    await store.open()
    await store.aclose()

    with pytest.raises(sqlite3.Error):
        await store.session("conv-a").get_items()
