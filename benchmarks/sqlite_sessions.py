"""Micro-benchmark: CPU per conversation turn, the SDK's SQLiteSession vs SQLiteSessionStore.

A "turn" does what a run does to its history: the SDK's way builds a SQLiteSession
(as ChatWait's conversation store did per run), reads the history, appends the user
message and then the reply, and closes; the store's way takes a session from the one
open store and does the same reads and writes; `store_with_index` is a ChatWait turn
(services/turn.py): a read of history, then the message and reply in one write through
`SQLiteConversationStore`, which also updates the conversation list.
CPU is the whole process's (all threads); wall time is reported too, since the SDK's
fsync per commit waits on disk.

    python -m benchmarks.sqlite_sessions [--turns 400]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from agents import SQLiteSession

from chatwait.services.conversations import SQLiteConversationStore
from chatwait.services.sqlite_session import SQLiteSessionStore

CONVERSATIONS = 20


def _items(turn: int) -> tuple[list[Any], list[Any]]:
    user = [{"role": "user", "content": f"question {turn} " * 5}]
    reply = [{"role": "assistant", "content": f"answer {turn} " * 30}]
    return user, reply


async def _sdk_turn(path: Path, conversation_id: str, turn: int) -> None:
    session = SQLiteSession(conversation_id, path)
    try:
        user, reply = _items(turn)
        await session.get_items()
        await session.add_items(user)
        await session.add_items(reply)
    finally:
        session.close()


async def _timed(turns: int, run_turn: Callable[[int], Awaitable[None]]) -> dict[str, float]:
    for turn in range(20):  # warm-up: imports, first connections, the file's pages
        await run_turn(turn)
    cpu, wall = time.process_time(), time.perf_counter()
    for turn in range(turns):
        await run_turn(turn)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"cpu_ms_per_turn": cpu / turns * 1000, "wall_ms_per_turn": wall / turns * 1000}


async def measure(turns: int, directory: Path) -> dict[str, dict[str, float]]:
    sdk_path = directory / "sdk.db"
    sdk = await _timed(turns, lambda t: _sdk_turn(sdk_path, f"conv-{t % CONVERSATIONS}", t))

    store = SQLiteSessionStore(directory / "store.db")
    await store.open()

    async def store_turn(turn: int) -> None:
        session = store.session(f"conv-{turn % CONVERSATIONS}")
        user, reply = _items(turn)
        await session.get_items()
        await session.add_items(user)
        await session.add_items(reply)

    try:
        ours = await _timed(turns, store_turn)
    finally:
        await store.aclose()

    # What a ChatWait turn does (services/turn.py): read history, then one write of the
    # question and answer, which also keeps the conversation list (index) current.
    conversations = SQLiteConversationStore(directory / "conversations.db")
    await conversations.open()

    async def indexed_turn(turn: int) -> None:
        _, reply = _items(turn)
        chat_turn = conversations.turn("bench", f"conv-{turn % CONVERSATIONS}", "question")
        await chat_turn.history()
        await chat_turn.save(reply)

    try:
        indexed = await _timed(turns, indexed_turn)
    finally:
        await conversations.aclose()
    return {"sdk_sqlite_session": sdk, "sqlite_session_store": ours, "store_with_index": indexed}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    runs = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(asyncio.run(measure(args.turns, Path(tmp))))
    for name in runs[0]:
        cpu = statistics.median(r[name]["cpu_ms_per_turn"] for r in runs)
        wall = statistics.median(r[name]["wall_ms_per_turn"] for r in runs)
        print(f"{name:22} CPU {cpu:6.3f} ms/turn   wall {wall:6.3f} ms/turn")


if __name__ == "__main__":
    main()
