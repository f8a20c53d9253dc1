"""Conversation history in SQLite over one long-lived connection on one dedicated thread.

The Agents SDK's `SQLiteSession` is built per run: each one opens a connection, sets WAL
and creates the schema (partly on the event loop, under a process-wide lock), then reads
and writes through `asyncio.to_thread` on a new connection per worker thread, with an
fsync per commit. `SQLiteSessionStore` does that work once:

    SQLiteSessionStore(path)      open() at startup, aclose() at shutdown
    ├── one sqlite3 connection    WAL, synchronous=NORMAL, schema created once
    ├── one thread                every statement runs there, never on the event loop;
    │                             results come back by call_soon_threadsafe
    └── session(conversation_id)  a cheap `SQLiteStoreSession` (Agents SDK `Session`)

The tables and the JSON in them are the SDK's (`agent_sessions`, `agent_messages`), so
files written by `SQLiteSession` read here and the other way round. synchronous=NORMAL
in WAL mode keeps the database consistent after a crash; a power cut can lose the last
commits, never corrupt the file. One thread serialises statements of all conversations;
each is a short indexed query, and a turn of one conversation never waits for another
conversation's turn, only for its statements.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from agents.items import TResponseInputItem
from agents.memory import SessionABC, SessionSettings
from agents.memory.session_settings import resolve_session_limit

T = TypeVar("T")

# The SDK's table names (SQLiteSession's defaults), written out in the SQL below.
# Another process (a backup, the SDK's SQLiteSession) may hold the write lock briefly.
BUSY_TIMEOUT_MS = 5000

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS agent_sessions (
        session_id TEXT PRIMARY KEY,
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
    )""",
    """CREATE TABLE IF NOT EXISTS agent_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL,
        message_data TEXT NOT NULL,
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        FOREIGN KEY (session_id) REFERENCES agent_sessions (session_id) ON DELETE CASCADE
    )""",
    """CREATE INDEX IF NOT EXISTS idx_agent_messages_session_id
        ON agent_messages (session_id, id)""",
)


def _decode(rows: list[tuple[str]]) -> list[TResponseInputItem]:
    """The items of `rows`, skipping rows that are not valid JSON (as the SDK does)."""
    items: list[TResponseInputItem] = []
    for (data,) in rows:
        try:
            items.append(json.loads(data))
        except (json.JSONDecodeError, TypeError):
            continue
    return items


async def _finish_even_if_cancelled[T](future: asyncio.Future[T]) -> T:
    """Await a write to its end even when the caller is cancelled meanwhile.

    The statement runs on the store's thread regardless; a caller cancelled mid-write
    must not go on believing the write did not happen. Re-raises the cancellation after.
    """
    try:
        # shield: a cancelled caller must not cancel `future`, which reports the write.
        return await asyncio.shield(future)
    except asyncio.CancelledError as error:
        cancelled = error
    while not future.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait({future})
    future.result()
    raise cancelled


# A job for the store's thread: the work, and where to report its result.
_Job = tuple[Callable[[], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # a read whose caller was cancelled
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


class SQLiteSessionStore:
    """One SQLite file, one connection, one thread; hands out per-conversation sessions.

    The thread is a plain loop over a queue, not a ThreadPoolExecutor: with the server
    on one core, each statement's round trip is two thread switches whatever runs them,
    and the executor's futures, locks and idle semaphore added as much again.
    """

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = db_path
        self._connection: sqlite3.Connection | None = None
        self._jobs: queue.SimpleQueue[_Job | None] | None = None

    async def open(self) -> None:
        """Open the connection and create the schema (once), on the store's thread."""
        if self._jobs is not None:
            return
        if str(self.db_path) != ":memory:":
            Path(self.db_path).parent.mkdir(parents=True, exist_ok=True)
        jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        threading.Thread(
            target=self._serve, args=(jobs,), name="chatwait-sqlite", daemon=True
        ).start()
        self._jobs = jobs
        self._connection = await self._run(self._connect)

    @staticmethod
    def _serve(jobs: queue.SimpleQueue[_Job | None]) -> None:
        """The store's thread: run jobs in order until the None that aclose() sends."""
        while (job := jobs.get()) is not None:
            work, loop, future = job
            try:
                outcome: tuple[Any, BaseException | None] = (work(), None)
            except Exception as error:  # handed to the awaiting task
                outcome = (None, error)
            # RuntimeError: the loop closed meanwhile, and nobody is waiting.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, *outcome)

    def _run[R](self, work: Callable[[], R]) -> asyncio.Future[R]:
        if self._jobs is None:
            # A sqlite3 error, so the conversation store reports it as store_unavailable.
            raise sqlite3.ProgrammingError("the SQLite session store is not open")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._jobs.put((work, loop, future))
        return future

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread stays on: only the store's thread ever touches it.
        connection = sqlite3.connect(str(self.db_path), timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            with connection:
                for statement in _SCHEMA:
                    connection.execute(statement)
        except BaseException:
            connection.close()
            raise
        return connection

    def session(
        self, conversation_id: str, session_settings: SessionSettings | None = None
    ) -> SQLiteStoreSession:
        """The history of one conversation: no I/O, nothing to close."""
        return SQLiteStoreSession(self, conversation_id, session_settings)

    def submit(self, work: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Run `work(connection)` on the store's thread (reads; see `write` for writes)."""
        connection = self._connection
        if connection is None:
            raise sqlite3.ProgrammingError("the SQLite session store is not open")
        return self._run(lambda: work(connection))

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` on the store's thread and wait for it to end even when
        the caller is cancelled meanwhile (it commits regardless)."""
        return await _finish_even_if_cancelled(self.submit(work))

    async def aclose(self) -> None:
        """Close the connection (after queued statements) and stop the thread."""
        jobs, connection = self._jobs, self._connection
        if jobs is None or connection is None:
            return
        try:
            await _finish_even_if_cancelled(self._run(connection.close))
        finally:
            self._jobs = self._connection = None
            jobs.put(None)


class SQLiteStoreSession(SessionABC):
    """An Agents SDK `Session` for one conversation of a `SQLiteSessionStore`."""

    def __init__(
        self,
        store: SQLiteSessionStore,
        session_id: str,
        session_settings: SessionSettings | None = None,
    ) -> None:
        self._store = store
        self.session_id = session_id
        self.session_settings = session_settings or SessionSettings()

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        """The history in order; with `limit`, its latest `limit` valid items."""
        session_limit = resolve_session_limit(limit, self.session_settings)
        return await self._store.submit(lambda c: self._read(c, session_limit))

    def _read(self, connection: sqlite3.Connection, limit: int | None) -> list[TResponseInputItem]:
        if limit is None or limit < 0:  # SQLite's LIMIT -1 is "no limit", as in the SDK
            rows = connection.execute(
                "SELECT message_data FROM agent_messages WHERE session_id = ? ORDER BY id",
                (self.session_id,),
            ).fetchall()
            return _decode(rows)
        if limit == 0:
            return []
        # Widen the window while invalid rows sit among the newest, so `limit` counts
        # valid items (the SDK's rule).
        window = limit
        while True:
            rows = connection.execute(
                "SELECT message_data FROM agent_messages WHERE session_id = ? "
                "ORDER BY id DESC LIMIT ?",
                (self.session_id, window),
            ).fetchall()
            items = _decode(rows[::-1])
            if len(items) >= limit or len(rows) < window:
                return items[-limit:]
            window *= 2

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        await self.add_items_and(items, None)

    async def add_items_and(
        self,
        items: list[TResponseInputItem],
        also: Callable[[sqlite3.Connection], object] | None,
    ) -> None:
        """`add_items`, and `also(connection)` in the same transaction: the conversation
        list's update rides along with the turn's write (one thread hop, one commit)."""
        if not items:
            return
        rows = [(self.session_id, json.dumps(item)) for item in items]

        def insert(connection: sqlite3.Connection) -> None:
            with connection:  # one transaction: all items (and `also`) or none
                connection.execute(
                    "INSERT OR IGNORE INTO agent_sessions (session_id) VALUES (?)",
                    (self.session_id,),
                )
                connection.executemany(
                    "INSERT INTO agent_messages (session_id, message_data) VALUES (?, ?)",
                    rows,
                )
                connection.execute(
                    "UPDATE agent_sessions SET updated_at = CURRENT_TIMESTAMP WHERE session_id = ?",
                    (self.session_id,),
                )
                if also is not None:
                    also(connection)

        await self._store.write(insert)

    async def pop_item(self) -> TResponseInputItem | None:
        """Remove and return the newest valid item (invalid rows on top are dropped)."""

        def pop(connection: sqlite3.Connection) -> TResponseInputItem | None:
            with connection:
                while True:
                    rows = connection.execute(
                        "DELETE FROM agent_messages WHERE id = (SELECT id FROM "
                        "agent_messages WHERE session_id = ? ORDER BY id DESC LIMIT 1) "
                        "RETURNING message_data",
                        (self.session_id,),
                    ).fetchall()
                    if not rows:
                        return None
                    items = _decode(rows)
                    if items:
                        return items[0]

        return await self._store.write(pop)

    async def clear_session(self) -> None:
        def clear(connection: sqlite3.Connection) -> None:
            with connection:
                connection.execute(
                    "DELETE FROM agent_messages WHERE session_id = ?", (self.session_id,)
                )
                connection.execute(
                    "DELETE FROM agent_sessions WHERE session_id = ?", (self.session_id,)
                )

        await self._store.write(clear)


__all__ = ["SQLiteSessionStore", "SQLiteStoreSession"]
