"""The Agents SDK session one turn runs on: history, the conversation list, fewer writes.

`TurnSession` wraps a conversation's stored session (SQLite or Redis) for one turn:

* it keeps the conversation list current: items the Runner adds are counted in the
  index, and a cleared session leaves the list (services/conversation_index.py);
* it knows a conversation the server has just named has no history, and answers the
  Runner's read of it without asking the store;
* it holds the turn's input back and writes it with the answer, in one write, not two.
  The Runner saves the new message before calling the model and the answer after it;
  `close()`, which the run calls when it ends however it ends, writes whatever is
  still held, so a failed or cancelled turn keeps its message as before. Until then,
  reads of this session include the held items; reads through another session do not
  (the conversation's lease keeps other turns out meanwhile).

    Runner ──get_items──► TurnSession ──(new: nothing to read)──► stored session
           ──add_items(input)──► held
           ──add_items(answer)──► index.add_items(held + answer)  one write
    run ends ──close()──► index.add_items(held)                 only if still held
"""

from __future__ import annotations

from typing import Any

from agents.memory import Session, SessionSettings

from chatwait.models.chat import chat_messages
from chatwait.services.conversation_index import ConversationIndex


class TurnSession:
    """An Agents SDK session for one turn of one conversation; `close()` when it ends."""

    def __init__(
        self,
        inner: Session,
        index: ConversationIndex,
        owner: str,
        conversation_id: str,
        *,
        new: bool = False,
    ) -> None:
        self.inner = inner
        self.session_id = inner.session_id
        self.session_settings: SessionSettings | None = inner.session_settings
        self._index = index
        self._owner = owner
        self._conversation_id = conversation_id
        # True while nothing is stored for a conversation the server has just named.
        self._known_empty = new
        # The first items added (the turn's input), until the next add or close().
        self._held: list[Any] = []
        self._added = False

    async def get_items(self, limit: int | None = None) -> list[Any]:
        stored = [] if self._known_empty else await self.inner.get_items(limit)
        items = stored + self._held
        if limit is not None and limit >= 0:
            return items[-limit:] if limit else []
        return items

    async def add_items(self, items: list[Any]) -> None:
        if not self._added:
            self._added = True
            self._held = list(items)
            return
        await self._write([*self._held, *items])

    async def _write(self, items: list[Any]) -> None:
        # Let go of the held items first: a write that fails or is cancelled part-way
        # is not tried again by close(), which could store them twice.
        self._held = []
        if not items:
            return
        messages = chat_messages(items)
        first_user = next((m["content"] for m in messages if m["role"] == "user"), None)
        self._known_empty = False
        await self._index.add_items(
            self.inner, items, self._owner, self._conversation_id, len(messages), first_user
        )

    async def pop_item(self) -> Any:
        if self._held:
            return self._held.pop()
        if self._known_empty:
            return None
        return await self.inner.pop_item()

    async def clear_session(self) -> None:
        self._held = []
        await self.inner.clear_session()
        await self._index.remove(self._owner, self._conversation_id)
        self._known_empty = True

    async def close(self) -> None:
        """Write the items still held (a turn that ended before its answer was saved)."""
        if self._held:
            await self._write(self._held)
