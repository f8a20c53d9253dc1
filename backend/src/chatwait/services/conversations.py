"""Conversation history, and the rule that one conversation answers one message at a time.

History lives in an Agents SDK `Session`; the Runner reads it before a turn and appends
the turn after it. Two turns of one conversation at once would interleave their items,
so a turn first takes the conversation's lease, and a second one is refused with
`conversation_busy` (409) rather than queued invisibly.

    ConversationStore                 session(), lease, history, delete, ping
    ├── SQLiteConversationStore       SESSION_STORE_URL=sqlite:///… (default); leases in
    │                                 this process — one worker
    └── RedisConversationStore        SESSION_STORE_URL=redis://…; the SDK's RedisSession
                                      and leases in Redis — any number of workers
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import secrets
import sqlite3
from pathlib import Path
from typing import Any

from agents import SQLiteSession
from agents.extensions.memory.redis_session import RedisSession
from agents.memory import Session
from redis.exceptions import RedisError

from chatwait.config import Settings
from chatwait.exceptions import ChatWaitError, ConversationBusy, StoreUnavailable
from chatwait.models.chat import message_text
from chatwait.streams.redis import guarded, redis_client

# A Redis lease outlives a crashed worker by at most this long; the holder renews it.
REDIS_LEASE_SECONDS = 30


def new_conversation_id() -> str:
    return "conv_" + secrets.token_urlsafe(16)


def chat_messages(items: list[Any]) -> list[dict[str, str]]:
    """The user and assistant text messages of a session's items, in order."""
    messages = []
    for item in items:
        if (
            isinstance(item, dict)
            and item.get("role") in ("user", "assistant")
            and item.get("type", "message") == "message"
        ):
            messages.append(
                {"role": str(item["role"]), "content": message_text(item.get("content"))}
            )
    return messages


class ConversationLease(abc.ABC):
    """Held while one turn of a conversation runs; `release()` is idempotent."""

    def __init__(self, conversation_id: str) -> None:
        self.conversation_id = conversation_id

    @abc.abstractmethod
    async def release(self) -> None: ...


class ConversationStore(abc.ABC):
    """Sessions (history) of conversations and the leases that serialise their turns."""

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Prepare the store (create files, connect)."""

    @abc.abstractmethod
    def session(self, conversation_id: str) -> Session:
        """The history of one conversation; hand it back to `close_session` after the turn."""

    def close_session(self, session: Session) -> None:  # noqa: B027 - optional hook
        """Release what a session holds."""

    @abc.abstractmethod
    async def acquire(self, conversation_id: str) -> ConversationLease:
        """The conversation's lease; raises ConversationBusy when a turn holds it."""

    async def get_messages(self, conversation_id: str) -> list[dict[str, str]] | None:
        """The conversation's text messages, or None when it has none (unknown)."""
        session = self.session(conversation_id)
        try:
            items = await self.call(session.get_items())
        finally:
            self.close_session(session)
        return chat_messages(items) if items else None

    async def delete(self, conversation_id: str) -> bool:
        """Forget a conversation's history; False when it had none. Refused while busy."""
        lease = await self.acquire(conversation_id)
        session = self.session(conversation_id)
        try:
            if not await self.call(session.get_items(limit=1)):
                return False
            await self.call(session.clear_session())
            return True
        finally:
            self.close_session(session)
            await lease.release()

    @abc.abstractmethod
    def store_error(self, error: BaseException) -> ChatWaitError | None:
        """StoreUnavailable when `error` is this store's backend failing, else None."""

    async def call(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except Exception as error:
            translated = self.store_error(error)
            if translated is None:
                raise
            raise translated from error

    @abc.abstractmethod
    async def ping(self) -> None: ...

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Close connections."""


class _LocalLease(ConversationLease):
    def __init__(self, busy: set[str], conversation_id: str) -> None:
        super().__init__(conversation_id)
        self._busy = busy
        self._released = False

    async def release(self) -> None:
        if not self._released:
            self._released = True
            self._busy.discard(self.conversation_id)


class SQLiteConversationStore(ConversationStore):
    """Sessions in one SQLite file; leases in this process (a single worker)."""

    def __init__(self, db_path: Path) -> None:
        self._db_path = db_path
        self._busy: set[str] = set()

    async def open(self) -> None:
        if str(self._db_path) != ":memory:":
            self._db_path.parent.mkdir(parents=True, exist_ok=True)

    def session(self, conversation_id: str) -> Session:
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
        return _LocalLease(self._busy, conversation_id)

    def store_error(self, error: BaseException) -> ChatWaitError | None:
        if isinstance(error, sqlite3.Error):
            return StoreUnavailable("The conversation store (SQLite) failed.")
        return None

    async def ping(self) -> None:
        def query() -> None:
            with contextlib.closing(sqlite3.connect(self._db_path, timeout=2)) as connection:
                connection.execute("SELECT 1")

        try:
            await asyncio.to_thread(query)
        except sqlite3.Error as error:
            raise StoreUnavailable("The conversation store (SQLite) does not answer.") from error

    async def aclose(self) -> None:
        self._busy.clear()


# Release only our own lease: a lease that expired and was taken by another worker
# must survive our late release.
_RELEASE_IF_OURS = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_RENEW_IF_OURS = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


class _RedisLease(ConversationLease):
    def __init__(self, store: RedisConversationStore, conversation_id: str, token: str) -> None:
        super().__init__(conversation_id)
        self._store = store
        self._token = token
        self._renewer = asyncio.create_task(self._renew())

    async def _renew(self) -> None:
        # Keep a long turn's lease alive; a crashed worker stops renewing it.
        while True:
            await asyncio.sleep(REDIS_LEASE_SECONDS / 3)
            with contextlib.suppress(RedisError, OSError):
                await self._store.redis.eval(
                    _RENEW_IF_OURS,
                    1,
                    self._store.lease_key(self.conversation_id),
                    self._token,
                    str(REDIS_LEASE_SECONDS * 1000),
                )

    async def release(self) -> None:
        if self._renewer.done():
            return
        self._renewer.cancel()
        # Best effort: if Redis is down the lease simply expires.
        with contextlib.suppress(RedisError, OSError):
            await self._store.redis.eval(
                _RELEASE_IF_OURS, 1, self._store.lease_key(self.conversation_id), self._token
            )


class RedisConversationStore(ConversationStore):
    """Sessions and leases in Redis, shared by every worker (SESSION_STORE_URL=redis://…)."""

    def __init__(self, url: str) -> None:
        self.redis = redis_client(url)

    @staticmethod
    def lease_key(conversation_id: str) -> str:
        return f"chatwait:conversation:{conversation_id}:lease"

    def session(self, conversation_id: str) -> Session:
        return RedisSession(
            conversation_id, redis_client=self.redis, key_prefix="chatwait:conversation"
        )

    async def acquire(self, conversation_id: str) -> ConversationLease:
        token = secrets.token_hex(8)
        taken = await guarded(
            self.redis.set(
                self.lease_key(conversation_id), token, nx=True, px=REDIS_LEASE_SECONDS * 1000
            )
        )
        if not taken:
            raise ConversationBusy()
        return _RedisLease(self, conversation_id, token)

    def store_error(self, error: BaseException) -> ChatWaitError | None:
        if isinstance(error, RedisError | OSError):
            return StoreUnavailable("The conversation store (Redis) does not answer.")
        return None

    async def ping(self) -> None:
        try:
            await guarded(self.redis.ping())
        except StoreUnavailable as error:
            raise StoreUnavailable("The conversation store (Redis) does not answer.") from error

    async def aclose(self) -> None:
        await self.redis.aclose()


def create_conversation_store(settings: Settings) -> ConversationStore:
    """The store for SESSION_STORE_URL."""
    if settings.session_store_url.startswith(("redis://", "rediss://")):
        return RedisConversationStore(settings.session_store_url)
    return SQLiteConversationStore(settings.sqlite_session_path)
