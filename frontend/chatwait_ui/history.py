"""Chainlit's chat history, backed by the backend's conversations API.

A Chainlit thread *is* a backend conversation: thread id = conversation_id. The
sidebar's list, opening a chat, renaming and deleting it are `GET /conversations`,
`GET`, `PATCH` and `DELETE /conversations/{id}`, each with the asking person's key
(see accounts.py), so there is one source of truth and no second database.

What this data layer does not keep: Chainlit's steps, elements, feedback and thread
metadata (chat settings). The backend already records every user and assistant
message; a reopened chat shows those, in the default response mode.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chainlit.data.base import BaseDataLayer
from chainlit.types import (
    Feedback,
    PageInfo,
    PaginatedResponse,
    Pagination,
    ThreadDict,
    ThreadFilter,
)
from chainlit.user import PersistedUser, User
from fastapi import HTTPException

from chatwait_ui.accounts import LoginExpired, asking_identifier, keyring
from chatwait_ui.client import BackendError, ChatWaitClient, ConversationSummary, HistoryMessage

if TYPE_CHECKING:
    from chainlit.element import Element, ElementDict
    from chainlit.step import StepDict

ASSISTANT_NAME = "ChatWait"
# How long a chat started here is listed before the backend lists it (see StartedChats):
# the backend lists a conversation once its first turn ends, which takes at most the
# backend's MAX_RUN_SECONDS (300 by default).
STARTED_GRACE_SECONDS = 330.0
# A search in the sidebar reads at most this many conversations (pages of 100).
SEARCH_LIMIT = 1000
logger = logging.getLogger("chatwait_ui.history")


class StartedChats:
    """Chats whose first message was just sent, per user.

    The page reloads the sidebar when a chat's first message is sent, at about the
    moment this process sends that message to the backend, and the backend lists a
    conversation once its first turn has ended (answered, failed or stopped). Until
    the backend lists it (or for at most STARTED_GRACE_SECONDS), it is listed from here.
    """

    def __init__(self) -> None:
        self._started: dict[str, dict[str, tuple[str, float]]] = {}

    def add(self, identifier: str, thread_id: str, name: str) -> None:
        self._started.setdefault(identifier, {})[thread_id] = (name, time.monotonic())

    def on_top_of(self, identifier: str | None, listed: list[ThreadDict]) -> list[ThreadDict]:
        started = self._started.get(identifier or "", {})
        listed_ids = {thread["id"] for thread in listed}
        too_old = time.monotonic() - STARTED_GRACE_SECONDS
        for thread_id, (_, started_at) in list(started.items()):
            if thread_id in listed_ids or started_at < too_old:
                del started[thread_id]
        extra = [
            _thread(thread_id, identifier, name, _now(), [])
            for thread_id, (name, _) in started.items()
        ]
        return extra + listed


class BackendHistory(BaseDataLayer):
    """Chainlit's data layer over the backend's conversations API."""

    def __init__(self) -> None:
        self.started = StartedChats()

    # Users: Chainlit needs a persisted user for the sidebar; its id is the identifier.

    async def get_user(self, identifier: str) -> PersistedUser | None:
        return PersistedUser(id=identifier, identifier=identifier, createdAt=_now())

    async def create_user(self, user: User) -> PersistedUser | None:
        return await self.get_user(user.identifier)

    # Threads = conversations.

    async def list_threads(
        self, pagination: Pagination, filters: ThreadFilter
    ) -> PaginatedResponse[ThreadDict]:
        # Chainlit sets filters.userId to the logged-in user's id (= identifier).
        try:
            client = keyring.client_for(filters.userId)
            if filters.search:
                found = await _search(client, filters.search)
                return _page([_thread_of(item, filters.userId) for item in found], None)
            page = await client.conversations(pagination.first, pagination.cursor)
        except BackendError as error:
            raise _http_error(error) from error
        threads = [_thread_of(item, filters.userId) for item in page.conversations]
        if pagination.cursor is None:
            threads = self.started.on_top_of(filters.userId, threads)
        return _page(threads, page.next_cursor)

    async def get_thread_author(self, thread_id: str) -> str:
        # Conversations are per principal: one the asking person can read is theirs.
        thread = await self.get_thread(thread_id)
        return (thread["userIdentifier"] if thread else None) or ""

    async def get_thread(self, thread_id: str) -> ThreadDict | None:
        identifier = asking_identifier()
        if identifier is None:
            return None  # nobody logged in (a socket's first check): nothing to show
        try:
            messages = await keyring.client_for(identifier).conversation_messages(thread_id)
        except BackendError as error:
            if error.code != "conversation_not_found":
                logger.warning("cannot open conversation %s: %s", thread_id, error)
            return None
        return _thread(thread_id, identifier, _title(messages), _now(), messages)

    async def update_thread(
        self,
        thread_id: str,
        name: str | None = None,
        user_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        tags: list[str] | None = None,
    ) -> None:
        # Only the sidebar's rename sends a name alone. Chainlit also names a thread
        # after its first message (with user_id) before the backend has it, and stores
        # session metadata: the backend titles conversations itself, and keeps no metadata.
        if name is not None and user_id is not None:
            self.started.add(user_id, thread_id, _one_line(name))
        if name is None or user_id is not None or metadata is not None:
            return
        try:
            await _asking_client().rename_conversation(thread_id, name)
        except BackendError as error:
            raise _http_error(error) from error

    async def delete_thread(self, thread_id: str) -> None:
        try:
            await _asking_client().delete_conversation(thread_id)
        except BackendError as error:
            if error.code != "conversation_not_found":  # already gone: deleted
                raise _http_error(error) from error

    # Not kept: the backend records the messages themselves (see the module docstring).

    async def create_step(self, step_dict: StepDict) -> None:
        return None

    async def update_step(self, step_dict: StepDict) -> None:
        return None

    async def delete_step(self, step_id: str) -> None:
        return None

    async def get_favorite_steps(self, user_id: str) -> list[StepDict]:
        return []

    async def create_element(self, element: Element) -> None:
        return None

    async def get_element(self, thread_id: str, element_id: str) -> ElementDict | None:
        return None

    async def delete_element(self, element_id: str, thread_id: str | None = None) -> None:
        return None

    async def upsert_feedback(self, feedback: Feedback) -> str:
        return feedback.id or ""

    async def delete_feedback(self, feedback_id: str) -> bool:
        return True

    async def build_debug_url(self) -> str:
        return ""

    async def close(self) -> None:
        return None  # the shared client is closed by the app's shutdown hook


def _asking_client() -> ChatWaitClient:
    """The client of the person asking; a request of nobody's is refused like an
    expired login (Chainlit checks the login first, so this does not happen)."""
    identifier = asking_identifier()
    if identifier is None:
        raise LoginExpired()
    return keyring.client_for(identifier)


async def _search(client: ChatWaitClient, text: str) -> list[ConversationSummary]:
    """Conversations whose title contains `text` (the backend has no search)."""
    found: list[ConversationSummary] = []
    cursor: str | None = None
    for _ in range(SEARCH_LIMIT // 100):
        page = await client.conversations(100, cursor)
        found += [item for item in page.conversations if text.lower() in item.title.lower()]
        cursor = page.next_cursor
        if cursor is None:
            break
    return found


def _thread_of(item: ConversationSummary, identifier: str | None) -> ThreadDict:
    # The sidebar sorts and groups by createdAt: the last activity puts a continued
    # chat on top, in the backend's own order (most recently updated first).
    return _thread(item.conversation_id, identifier, item.title, item.updated_at, [])


def _thread(
    thread_id: str,
    identifier: str | None,
    name: str | None,
    created_at: str,
    messages: list[HistoryMessage],
) -> ThreadDict:
    return {
        "id": thread_id,
        "createdAt": created_at,
        "name": name,
        "userId": identifier,
        "userIdentifier": identifier,
        "tags": None,
        "metadata": {},
        "steps": [_step(thread_id, i, message, created_at) for i, message in enumerate(messages)],
        "elements": [],
    }


def _step(thread_id: str, index: int, message: HistoryMessage, created_at: str) -> StepDict:
    by_user = message.role == "user"
    return {
        "id": f"{thread_id}-{index}",
        "threadId": thread_id,
        "parentId": None,
        "name": "You" if by_user else ASSISTANT_NAME,
        "type": "user_message" if by_user else "assistant_message",
        "output": message.content,
        "createdAt": created_at,
        "start": created_at,
        "end": created_at,
        "streaming": False,
        "isError": False,
        "metadata": {},
    }


def _title(messages: list[HistoryMessage]) -> str | None:
    first = next((m.content for m in messages if m.role == "user"), None)
    return _one_line(first) if first else None


def _one_line(text: str) -> str:
    # As the backend titles a conversation (80 characters, one line).
    return " ".join(text.split())[:80]


def _page(threads: list[ThreadDict], next_cursor: str | None) -> PaginatedResponse[ThreadDict]:
    # The sidebar asks for the next page with pageInfo.endCursor as its cursor.
    return PaginatedResponse(
        pageInfo=PageInfo(
            hasNextPage=next_cursor is not None, startCursor=None, endCursor=next_cursor
        ),
        data=threads,
    )


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _http_error(error: BackendError) -> HTTPException:
    """A backend failure as the answer to the page's request, with the error's sentence."""
    status = error.status_code if error.status_code and error.status_code >= 400 else 502
    return HTTPException(status_code=status, detail=str(error))
