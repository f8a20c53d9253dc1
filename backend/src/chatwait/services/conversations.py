"""Conversation history, and the rule that one conversation answers one message at a time.

History lives in an Agents SDK `Session`; a `Turn` (services/turn.py) reads it before a
run and appends the turn after it. Two turns of one conversation at once would
interleave their items, so a turn first takes the conversation's lease, and a second
one is refused with `conversation_busy` (409) rather than queued invisibly.

Every conversation belongs to a principal: sessions and leases are keyed by
`scoped_id(owner, conversation_id)`, so the same id chosen by two principals names two
conversations, and one principal cannot read, continue or delete another's. The list
of a principal's conversations is the index in services/conversation_index.py.

    ConversationStore                 session(), lease, history, list, rename, delete, ping
    ├── SQLiteConversationStore       SESSION_STORE_URL=sqlite:///… (default); leases in
    │                                 this process — one worker
    └── RedisConversationStore        SESSION_STORE_URL=redis://…; the SDK's RedisSession
                                      and leases in Redis — any number of workers
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import secrets
import sqlite3
from pathlib import Path
from typing import Any

from agents.extensions.memory.redis_session import RedisSession
from agents.memory import Session
from redis.exceptions import RedisError

from chatwait.auth import scoped_id
from chatwait.config import Settings
from chatwait.exceptions import ChatWaitError, ConversationBusy, StoreUnavailable
from chatwait.models.chat import chat_messages
from chatwait.redis_client import guarded, is_redis_url, redis_client
from chatwait.services.conversation_index import (
    ConversationIndex,
    ConversationInfo,
    ConversationPage,
    RedisConversationIndex,
    SQLiteConversationIndex,
)
from chatwait.services.sqlite_session import SQLiteSessionStore
from chatwait.services.turn import Turn

logger = logging.getLogger(__name__)

# A Redis lease outlives a crashed worker by at most this long; the holder renews it.
REDIS_LEASE_SECONDS = 30


class ConversationLease(abc.ABC):
    """Held while one turn of a conversation runs; `release()` is idempotent."""

    def __init__(self, owner: str, conversation_id: str) -> None:
        self.owner = owner
        self.conversation_id = conversation_id

    @abc.abstractmethod
    async def release(self) -> None: ...


class ConversationStore(abc.ABC):
    """Sessions (history) of conversations, the leases that serialise their turns, and
    the index that lists them."""

    index: ConversationIndex

    async def open(self) -> None:
        """Prepare the store (create files, connect)."""
        await self.index.open()

    @abc.abstractmethod
    def _session(self, key: str) -> Session:
        """The SDK session stored under `key` (a scoped id)."""

    def turn(self, owner: str, conversation_id: str, message: str, *, new: bool = False) -> Turn:
        """A turn asking `message` (`new`: in a conversation the server has just named,
        which has no history); hand it to `end_turn` when its run ends."""
        session = self._session(scoped_id(owner, conversation_id))
        return Turn(session, self.index, owner, conversation_id, message, new=new)

    async def end_turn(self, turn: Turn) -> None:
        """Save the question of a turn whose run ended without saving its answer. A store
        failure here is logged, not raised: the turn has already failed or been
        cancelled, and that is what its caller must hear."""
        try:
            await turn.save()
        except Exception as error:
            if self.store_error(error) is None:
                raise
            # The type only: a Redis error's text can carry the store's URL.
            logger.warning(
                "the message of a failed turn could not be saved: %s", type(error).__name__
            )

    @abc.abstractmethod
    async def acquire(
        self, owner: str, conversation_id: str, stream_id: str | None = None
    ) -> ConversationLease:
        """The conversation's lease; raises ConversationBusy when a turn holds it.

        `stream_id` names the stream that will run the turn, so that a refused client
        learns which stream to join (`details.stream_id` of conversation_busy).
        """

    async def get_messages(self, owner: str, conversation_id: str) -> list[dict[str, str]] | None:
        """The conversation's text messages, or None when it has none (unknown)."""
        items = await self.call(self._session(scoped_id(owner, conversation_id)).get_items())
        return chat_messages(items) if items else None

    async def list(self, owner: str, limit: int, cursor: str | None) -> ConversationPage:
        page: ConversationPage = await self.call(self.index.page(owner, limit, cursor))
        return page

    async def rename(self, owner: str, conversation_id: str, title: str) -> ConversationInfo | None:
        if not await self.call(self.index.rename(owner, conversation_id, title)):
            return None
        info: ConversationInfo | None = await self.call(self.index.get(owner, conversation_id))
        return info

    async def delete(self, owner: str, conversation_id: str) -> bool:
        """Forget a conversation's history; False when it had none. Refused while busy."""
        lease = await self.acquire(owner, conversation_id)
        session = self._session(scoped_id(owner, conversation_id))
        try:
            had_history = bool(await self.call(session.get_items(limit=1)))
            if had_history:
                await self.call(session.clear_session())
            # Without history, an index entry may still be there (a turn whose write failed).
            await self.call(self.index.remove(owner, conversation_id))
            return had_history
        finally:
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

    async def aclose(self) -> None:
        """Close connections."""
        await self.index.aclose()


def busy(holder: str | None) -> ConversationBusy:
    return ConversationBusy(details={"stream_id": holder} if holder else None)


class _LocalLease(ConversationLease):
    def __init__(self, busy: dict[str, str | None], owner: str, conversation_id: str) -> None:
        super().__init__(owner, conversation_id)
        self._busy = busy
        self._released = False

    async def release(self) -> None:
        if not self._released:
            self._released = True
            self._busy.pop(scoped_id(self.owner, self.conversation_id), None)


class SQLiteConversationStore(ConversationStore):
    """Sessions in one SQLite file; leases in this process (a single worker)."""

    def __init__(self, db_path: Path) -> None:
        # One connection and one thread for every conversation's history and the index
        # (services/sqlite_session.py): a session costs nothing to make or close.
        self._sessions = SQLiteSessionStore(db_path)
        # Scoped conversation id → the stream running its turn (None: a wait request).
        self._busy: dict[str, str | None] = {}
        self.index = SQLiteConversationIndex(self._sessions)

    async def open(self) -> None:
        await self._sessions.open()
        await super().open()

    def _session(self, key: str) -> Session:
        return self._sessions.session(key)

    async def acquire(
        self, owner: str, conversation_id: str, stream_id: str | None = None
    ) -> ConversationLease:
        key = scoped_id(owner, conversation_id)
        # Check-and-add with no await in between: atomic on the event loop.
        if key in self._busy:
            raise busy(self._busy[key])
        self._busy[key] = stream_id
        return _LocalLease(self._busy, owner, conversation_id)

    def store_error(self, error: BaseException) -> ChatWaitError | None:
        if isinstance(error, sqlite3.Error):
            return StoreUnavailable("The conversation store (SQLite) failed.")
        return None

    async def ping(self) -> None:
        try:
            await self._sessions.submit(lambda connection: connection.execute("SELECT 1"))
        except sqlite3.Error as error:
            raise StoreUnavailable("The conversation store (SQLite) does not answer.") from error

    async def aclose(self) -> None:
        self._busy.clear()
        await super().aclose()
        await self._sessions.aclose()


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
    def __init__(
        self, store: RedisConversationStore, owner: str, conversation_id: str, token: str
    ) -> None:
        super().__init__(owner, conversation_id)
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
                    self._store.lease_key(self.owner, self.conversation_id),
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
                _RELEASE_IF_OURS,
                1,
                self._store.lease_key(self.owner, self.conversation_id),
                self._token,
            )


class RedisConversationStore(ConversationStore):
    """Sessions and leases in Redis, shared by every worker (SESSION_STORE_URL=redis://…)."""

    def __init__(self, url: str, ttl_seconds: int | None = None) -> None:
        self.redis = redis_client(url)
        # CONVERSATION_TTL_DAYS: the SDK session renews its keys' expiry on every turn,
        # and the index its entry, so a conversation and its list entry expire together.
        self._ttl_seconds = ttl_seconds
        self.index = RedisConversationIndex(self.redis, ttl_seconds)

    @staticmethod
    def lease_key(owner: str, conversation_id: str) -> str:
        return f"chatwait:conversation:{scoped_id(owner, conversation_id)}:lease"

    def _session(self, key: str) -> Session:
        return RedisSession(
            key, redis_client=self.redis, key_prefix="chatwait:conversation", ttl=self._ttl_seconds
        )

    async def acquire(
        self, owner: str, conversation_id: str, stream_id: str | None = None
    ) -> ConversationLease:
        # The lease's value is `token:stream_id`: only its holder releases it, and a
        # refused client learns which stream to join.
        token = f"{secrets.token_hex(8)}:{stream_id or ''}"
        key = self.lease_key(owner, conversation_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(key, token, nx=True, px=REDIS_LEASE_SECONDS * 1000)
            pipe.get(key)
            taken, holder = await guarded(pipe.execute())
        if not taken:
            raise busy(str(holder or "").partition(":")[2] or None)
        return _RedisLease(self, owner, conversation_id, token)

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
        await super().aclose()
        await self.redis.aclose()


def create_conversation_store(settings: Settings) -> ConversationStore:
    """The store for SESSION_STORE_URL."""
    if is_redis_url(settings.session_store_url):
        days = settings.conversation_ttl_days
        return RedisConversationStore(
            settings.session_store_url, round(days * 86_400) if days else None
        )
    return SQLiteConversationStore(settings.sqlite_session_path)
