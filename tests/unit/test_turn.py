"""Turn: a new conversation is not read, and a turn's question goes with its answer."""

from __future__ import annotations

from typing import Any

import pytest
from agents import TResponseInputItem
from agents.memory import SessionSettings

from chatwait.services.conversation_index import ConversationIndex, ConversationInfo
from chatwait.services.turn import Turn


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
        raise NotImplementedError


QUESTION = {"content": "Who am I?", "role": "user"}
ANSWER: TResponseInputItem = {"role": "assistant", "content": "Ada.", "type": "message"}
EARLIER = [{"role": "user", "content": "I am Ada."}, {"role": "assistant", "content": "Hi."}]


def turn(stored: StoredSession, index: RecordingIndex, *, new: bool = False) -> Turn:
    return Turn(stored, index, "alice", "conv", "Who am I?", new=new)


async def test_the_question_is_the_input_item_the_runner_would_make() -> None:
    assert turn(StoredSession(), RecordingIndex()).question == [QUESTION]


async def test_a_new_conversation_is_not_read() -> None:
    stored = StoredSession(EARLIER)

    assert await turn(stored, RecordingIndex(), new=True).history() == []
    assert stored.reads == 0
    assert await turn(stored, RecordingIndex()).history() == EARLIER


async def test_question_and_answer_are_one_write_with_the_list_update() -> None:
    stored, index = StoredSession(EARLIER), RecordingIndex()
    asked = turn(stored, index)

    await asked.save([ANSWER])
    await asked.save([ANSWER])  # once only

    assert stored.writes == [[QUESTION, ANSWER]]
    assert index.recorded == [(2, "Who am I?")]


async def test_a_turn_without_an_answer_saves_its_question() -> None:
    stored, index = StoredSession(), RecordingIndex()

    await turn(stored, index, new=True).save()

    assert stored.items == [QUESTION]
    assert index.recorded == [(1, "Who am I?")]


async def test_a_failed_write_is_not_tried_again() -> None:
    stored = StoredSession(fail_writes=True)
    asked = turn(stored, RecordingIndex())

    with pytest.raises(OSError, match="store is down"):
        await asked.save([ANSWER])
    await asked.save()

    assert stored.writes == [[QUESTION, ANSWER]]
