"""Conversation history and the rule that one conversation answers one message at a time.

History lives in an Agents SDK `Session` (SQLite by default); the Runner reads it before
a turn and appends the turn after it. Two turns of one conversation at once would
interleave their items, so a turn first takes the conversation's lease and a second one
is refused with `conversation_busy` (409) rather than queued invisibly.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from pathlib import Path

from agents import SQLiteSession
from agents.memory import Session

from chatwait.exceptions import ConversationBusy, StoreUnavailable


def new_conversation_id() -> str:
    return "conv_" + secrets.token_urlsafe(16)


class ConversationLease:
    """Held while one turn of a conversation runs; `release()` is idempotent."""

    def __init__(self, store: ConversationStore, conversation_id: str) -> None:
        self._store = store
        self.conversation_id = conversation_id
        self._released = False

    async def release(self) -> None:
        if not self._released:
            self._released = True
            self._store._busy.discard(self.conversation_id)


class ConversationStore:
    """Sessions in one SQLite file, and the in-process leases that serialise turns."""

    def __init__(self, db_path: Path) -> None:
        self._db_path = db_path
        self._busy: set[str] = set()

    async def open(self) -> None:
        if str(self._db_path) != ":memory:":
            self._db_path.parent.mkdir(parents=True, exist_ok=True)

    def session(self, conversation_id: str) -> Session:
        """The history of one conversation; hand it back to `close_session` after the turn."""
        return SQLiteSession(conversation_id, self._db_path)

    def close_session(self, session: Session) -> None:
        # SQLiteSession keeps one connection per worker thread until closed.
        if isinstance(session, SQLiteSession):
            session.close()

    async def acquire(self, conversation_id: str) -> ConversationLease:
        # Check-and-add with no await in between: atomic on the event loop.
        if conversation_id in self._busy:
            raise ConversationBusy()
        self._busy.add(conversation_id)
        return ConversationLease(self, conversation_id)

    async def ping(self) -> None:
        def query() -> None:
            with sqlite3.connect(self._db_path, timeout=2) as connection:
                connection.execute("SELECT 1")

        try:
            await asyncio.to_thread(query)
        except sqlite3.Error as error:
            raise StoreUnavailable("The conversation store (SQLite) does not answer.") from error

    async def aclose(self) -> None:
        self._busy.clear()
