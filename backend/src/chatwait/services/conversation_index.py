"""The list of a principal's conversations: title, times and message count of each.

History itself stays in the Agents SDK session; this index sits beside it and is kept
current by each `Turn` (services/turn.py): when a turn writes its items, the index
adds their user and assistant messages to the count and moves the conversation to the
top, in the same write; when a conversation is deleted, the entry goes too. So the
list never needs a scan of history, and costs a turn one small write.

    ConversationIndex
    ├── SQLiteConversationIndex   a table in the session store's SQLite file, on its
    │                             one connection
    └── RedisConversationIndex    a hash per conversation, a sorted set per principal

Pages are ordered by (updated_at, conversation_id), newest first, and the cursor is the
last item's pair: a conversation written to while a client pages moves to the top
(it was either already listed or is now first) and shifts no other item, so a page is
never repeated or skipped.
"""

from __future__ import annotations

import abc
import base64
import binascii
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from agents.memory import Session
from redis.asyncio import Redis

from chatwait.api.validation import field_error
from chatwait.auth import scoped_id
from chatwait.redis_client import guarded
from chatwait.services.sqlite_session import SQLiteSessionStore, SQLiteStoreSession

TITLE_MAX_CHARS = 80
UNTITLED = "New conversation"


@dataclass(frozen=True)
class ConversationInfo:
    conversation_id: str
    title: str
    created_at: float
    updated_at: float
    message_count: int


@dataclass(frozen=True)
class ConversationPage:
    conversations: list[ConversationInfo]
    next_cursor: str | None


def make_title(text: str) -> str:
    """A one-line title of at most TITLE_MAX_CHARS characters; never empty."""
    line = " ".join(text.split())
    if len(line) > TITLE_MAX_CHARS:
        line = line[: TITLE_MAX_CHARS - 1].rstrip() + "…"
    return line or UNTITLED


def encode_cursor(info: ConversationInfo) -> str:
    raw = f"{info.updated_at!r}:{info.conversation_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    """(updated_at, conversation_id) of the item a page ended with; 422 when mangled."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        updated_at, _, conversation_id = raw.partition(":")
        value = float(updated_at)
        if not conversation_id or value != value:  # NaN never comes from a real page
            raise ValueError(cursor)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise field_error(
            "cursor", "not a cursor from a previous page", "value_error", "query"
        ) from None
    return value, conversation_id


def _page(items: list[ConversationInfo], limit: int) -> ConversationPage:
    more = len(items) > limit
    items = items[:limit]
    return ConversationPage(items, encode_cursor(items[-1]) if more and items else None)


class ConversationIndex(abc.ABC):
    async def open(self) -> None:  # noqa: B027 - optional hook
        """Create tables or connect."""

    @abc.abstractmethod
    async def record(
        self, owner: str, conversation_id: str, added_messages: int, first_text: str | None
    ) -> None:
        """A turn wrote `added_messages` messages; the first write names the conversation."""

    async def add_items(
        self,
        session: Session,
        items: list[Any],
        owner: str,
        conversation_id: str,
        added_messages: int,
        first_text: str | None,
    ) -> None:
        """Append `items` to `session`, then `record` them (a store may do both at once)."""
        await session.add_items(items)
        await self.record(owner, conversation_id, added_messages, first_text)

    @abc.abstractmethod
    async def get(self, owner: str, conversation_id: str) -> ConversationInfo | None: ...

    @abc.abstractmethod
    async def page(self, owner: str, limit: int, cursor: str | None) -> ConversationPage: ...

    @abc.abstractmethod
    async def rename(self, owner: str, conversation_id: str, title: str) -> bool: ...

    @abc.abstractmethod
    async def remove(self, owner: str, conversation_id: str) -> None: ...

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Close connections."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS chatwait_conversations (
    owner TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    message_count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (owner, conversation_id)
);
CREATE INDEX IF NOT EXISTS chatwait_conversations_recent
    ON chatwait_conversations (owner, updated_at DESC, conversation_id DESC);
"""
_COLUMNS = "conversation_id, title, created_at, updated_at, message_count"


class SQLiteConversationIndex(ConversationIndex):
    """A table in the sessions' SQLite file, on the session store's one connection and
    thread: a turn's index write is one more short statement there, not a second
    connection (and thread) contending for the same file's write lock."""

    def __init__(self, store: SQLiteSessionStore) -> None:
        self._store = store

    async def open(self) -> None:
        """Create the table (once); the session store must be open."""
        await self._store.write(lambda connection: connection.executescript(_SCHEMA))

    @staticmethod
    def _upsert(
        owner: str, conversation_id: str, added_messages: int, first_text: str | None
    ) -> Callable[[sqlite3.Connection], object]:
        """The statement that records a turn's write, to run inside a transaction."""
        now = time.time()
        row = (owner, conversation_id, make_title(first_text or ""), now, now, added_messages)
        return lambda connection: connection.execute(
            "INSERT INTO chatwait_conversations VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (owner, conversation_id) DO UPDATE SET "
            "updated_at = excluded.updated_at, "
            "message_count = message_count + excluded.message_count",
            row,
        )

    async def record(
        self, owner: str, conversation_id: str, added_messages: int, first_text: str | None
    ) -> None:
        upsert = self._upsert(owner, conversation_id, added_messages, first_text)

        def in_transaction(connection: sqlite3.Connection) -> None:
            with connection:
                upsert(connection)

        await self._store.write(in_transaction)

    async def add_items(
        self,
        session: Session,
        items: list[Any],
        owner: str,
        conversation_id: str,
        added_messages: int,
        first_text: str | None,
    ) -> None:
        """History and list in one transaction when the session is on this store: they
        never disagree, and the turn pays one thread hop and one commit, not two."""
        if not isinstance(session, SQLiteStoreSession) or not items:
            await super().add_items(
                session, items, owner, conversation_id, added_messages, first_text
            )
            return
        upsert = self._upsert(owner, conversation_id, added_messages, first_text)
        await session.add_items_and(items, upsert)

    async def get(self, owner: str, conversation_id: str) -> ConversationInfo | None:
        row = await self._store.submit(
            lambda connection: connection.execute(
                f"SELECT {_COLUMNS} FROM chatwait_conversations "  # noqa: S608 - constant columns
                "WHERE owner = ? AND conversation_id = ?",
                (owner, conversation_id),
            ).fetchone()
        )
        return ConversationInfo(*row) if row else None

    async def page(self, owner: str, limit: int, cursor: str | None) -> ConversationPage:
        after = decode_cursor(cursor) if cursor else (float("inf"), "")
        rows = await self._store.submit(
            lambda connection: connection.execute(
                f"SELECT {_COLUMNS} FROM chatwait_conversations "  # noqa: S608 - constant columns
                "WHERE owner = ? AND (updated_at < ? OR (updated_at = ? AND conversation_id < ?)) "
                "ORDER BY updated_at DESC, conversation_id DESC LIMIT ?",
                (owner, after[0], after[0], after[1] or "\U0010ffff", limit + 1),
            ).fetchall()
        )
        return _page([ConversationInfo(*row) for row in rows], limit)

    async def rename(self, owner: str, conversation_id: str, title: str) -> bool:
        def update(connection: sqlite3.Connection) -> bool:
            with connection:
                cursor = connection.execute(
                    "UPDATE chatwait_conversations SET title = ? "
                    "WHERE owner = ? AND conversation_id = ?",
                    (title, owner, conversation_id),
                )
            return cursor.rowcount > 0

        return await self._store.write(update)

    async def remove(self, owner: str, conversation_id: str) -> None:
        def delete(connection: sqlite3.Connection) -> None:
            with connection:
                connection.execute(
                    "DELETE FROM chatwait_conversations WHERE owner = ? AND conversation_id = ?",
                    (owner, conversation_id),
                )

        await self._store.write(delete)


class RedisConversationIndex(ConversationIndex):
    """`chatwait:conversation-info:{owner}/{id}` hashes, `chatwait:conversations:{owner}`
    sorted sets scored by updated_at.

    With a TTL (CONVERSATION_TTL_DAYS) each turn renews the hash's expiry, as the SDK
    session renews its history's; a sorted-set member cannot expire on its own, so
    listing first removes the members last updated longer ago than the TTL.
    """

    def __init__(self, redis: Redis, ttl_seconds: int | None = None) -> None:
        self._redis = redis
        self._ttl_seconds = ttl_seconds

    @staticmethod
    def _info_key(owner: str, conversation_id: str) -> str:
        return f"chatwait:conversation-info:{scoped_id(owner, conversation_id)}"

    @staticmethod
    def _list_key(owner: str) -> str:
        return f"chatwait:conversations:{owner}"

    async def record(
        self, owner: str, conversation_id: str, added_messages: int, first_text: str | None
    ) -> None:
        now = time.time()
        key = self._info_key(owner, conversation_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, "title", make_title(first_text or ""))
            pipe.hsetnx(key, "created_at", repr(now))
            pipe.hset(key, "updated_at", repr(now))
            pipe.hincrby(key, "message_count", added_messages)
            pipe.zadd(self._list_key(owner), {conversation_id: now})
            if self._ttl_seconds is not None:
                pipe.expire(key, self._ttl_seconds)
                # The list outlives none of its members: renewed with the newest one.
                pipe.expire(self._list_key(owner), self._ttl_seconds)
            await guarded(pipe.execute())

    async def get(self, owner: str, conversation_id: str) -> ConversationInfo | None:
        raw = await guarded(self._redis.hgetall(self._info_key(owner, conversation_id)))
        return self._info(conversation_id, raw)

    @staticmethod
    def _info(conversation_id: str, raw: dict[Any, Any]) -> ConversationInfo | None:
        if not raw or "title" not in raw:
            return None
        return ConversationInfo(
            conversation_id=conversation_id,
            title=str(raw["title"]),
            created_at=float(raw["created_at"]),
            updated_at=float(raw["updated_at"]),
            message_count=int(raw.get("message_count", 0)),
        )

    async def page(self, owner: str, limit: int, cursor: str | None) -> ConversationPage:
        max_score, before_id = decode_cursor(cursor) if cursor else (float("inf"), "")
        if self._ttl_seconds is not None:
            # Expired conversations leave the list as their data has left Redis.
            expired_before = time.time() - self._ttl_seconds
            await guarded(
                self._redis.zremrangebyscore(self._list_key(owner), "-inf", f"({expired_before!r}")
            )
        # Members of equal score come in reverse lexical order, as the SQL ORDER BY.
        ids: list[str] = []
        offset = 0
        batch = limit + 1
        while len(ids) <= limit:
            found = await guarded(
                self._redis.zrange(
                    self._list_key(owner),
                    "+inf" if max_score == float("inf") else repr(max_score),
                    "-inf",
                    desc=True,
                    byscore=True,
                    offset=offset,
                    num=batch,
                    withscores=True,
                )
            )
            for member, score in cast(list[tuple[str, float]], found):
                if score < max_score or str(member) < before_id or not before_id:
                    ids.append(str(member))
            if len(found) < batch:
                break
            offset += batch
        ids = ids[: limit + 1]
        async with self._redis.pipeline(transaction=False) as pipe:
            for conversation_id in ids:
                pipe.hgetall(self._info_key(owner, conversation_id))
            raws = await guarded(pipe.execute())
        items = [
            info
            for conversation_id, raw in zip(ids, raws, strict=True)
            if (info := self._info(conversation_id, raw)) is not None
        ]
        return _page(items, limit)

    async def rename(self, owner: str, conversation_id: str, title: str) -> bool:
        key = self._info_key(owner, conversation_id)
        if not await guarded(self._redis.hexists(key, "title")):
            return False
        await guarded(self._redis.hset(key, "title", title))
        return True

    async def remove(self, owner: str, conversation_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._info_key(owner, conversation_id))
            pipe.zrem(self._list_key(owner), conversation_id)
            await guarded(pipe.execute())
