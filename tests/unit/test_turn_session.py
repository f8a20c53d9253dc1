"""TurnSession: a new conversation is not read, and a turn's input goes with its answer."""

from __future__ import annotations

from typing import Any

import pytest
from agents.memory import SessionSettings

from chatwait.services.conversation_index import ConversationIndex, ConversationInfo
from chatwait.services.turn_session import TurnSession


class StoredSession:
    """An in-memory SDK session that counts the store's reads and writes."""

    session_id = "alice:conv"
    session_settings: SessionSettings | None = None

    def __init__(self, items: list[Any] | None = None, *, fail_writes: bool = False) -> None:
        self.items = list(items or [])
        self.reads = 0
        self.writes: list[list[Any]] = []
        self.fail_writes = fail_writes

    async def get_items(self, limit: int | None = None) -> list[Any]:
        self.reads += 1
        return self.items[-limit:] if limit else list(self.items)

    async def add_items(self, items: list[Any]) -> None:
        self.writes.append(list(items))
        if self.fail_writes:
            raise OSError("the store is down")
        self.items.extend(items)

    async def pop_item(self) -> Any:
        return self.items.pop() if self.items else None

    async def clear_session(self) -> None:
        self.items.clear()


class RecordingIndex(ConversationIndex):
    def __init__(self) -> None:
        self.recorded: list[tuple[int, str | None]] = []
        self.removed = 0

    async def record(
        self, owner: str, conversation_id: str, added_messages: int, first_text: str | None
    ) -> None:
        self.recorded.append((added_messages, first_text))

    async def get(self, owner: str, conversation_id: str) -> ConversationInfo | None:
        raise NotImplementedError

    async def page(self, owner: str, limit: int, cursor: str | None) -> Any:
        raise NotImplementedError

    async def rename(self, owner: str, conversation_id: str, title: str) -> bool:
        raise NotImplementedError

    async def remove(self, owner: str, conversation_id: str) -> None:
        self.removed += 1


QUESTION = {"role": "user", "content": "Who am I?"}
ANSWER = {"role": "assistant", "content": "Ada.", "type": "message"}
EARLIER = [{"role": "user", "content": "I am Ada."}, {"role": "assistant", "content": "Hi."}]


def turn(stored: StoredSession, index: RecordingIndex, *, new: bool = False) -> TurnSession:
    return TurnSession(stored, index, "alice", "conv", new=new)


async def test_a_new_conversation_is_answered_without_reading_the_store() -> None:
    stored, index = StoredSession(), RecordingIndex()
    session = turn(stored, index, new=True)

    assert await session.get_items() == []
    assert await session.get_items(limit=3) == []
    assert await session.pop_item() is None
    assert stored.reads == 0


async def test_the_input_is_written_with_the_answer_in_one_write() -> None:
    stored, index = StoredSession(EARLIER), RecordingIndex()
    session = turn(stored, index)

    assert await session.get_items() == EARLIER
    await session.add_items([QUESTION])
    assert stored.writes == []
    # Reads through this session see the held input.
    assert await session.get_items(limit=2) == [EARLIER[-1], QUESTION]
    await session.add_items([ANSWER])
    await session.close()

    assert stored.writes == [[QUESTION, ANSWER]]
    assert index.recorded == [(2, "Who am I?")]


async def test_close_writes_the_input_of_a_turn_that_ended_without_an_answer() -> None:
    stored, index = StoredSession(), RecordingIndex()
    session = turn(stored, index, new=True)
    await session.add_items([QUESTION])

    await session.close()
    await session.close()

    assert stored.writes == [[QUESTION]]
    assert index.recorded == [(1, "Who am I?")]
    # Written, the conversation is no longer known to be empty.
    assert await session.get_items() == [QUESTION]


async def test_a_failed_write_is_not_tried_again_by_close() -> None:
    stored, index = StoredSession(fail_writes=True), RecordingIndex()
    session = turn(stored, index)
    await session.add_items([QUESTION])

    with pytest.raises(OSError, match="store is down"):
        await session.add_items([ANSWER])
    await session.close()

    assert stored.writes == [[QUESTION, ANSWER]]


async def test_pop_takes_a_held_item_first() -> None:
    stored, index = StoredSession(EARLIER), RecordingIndex()
    session = turn(stored, index)
    await session.add_items([QUESTION])

    assert await session.pop_item() == QUESTION
    await session.close()

    assert stored.writes == []
    assert stored.items == EARLIER


async def test_clear_forgets_held_items_too() -> None:
    stored, index = StoredSession(EARLIER), RecordingIndex()
    session = turn(stored, index)
    await session.add_items([QUESTION])

    await session.clear_session()
    await session.close()

    assert stored.items == []
    assert stored.writes == []
    assert index.removed == 1
