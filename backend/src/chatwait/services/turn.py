"""One turn of a conversation: the history it is asked in, and the one write it makes.

ChatWait manages history around the Runner the way the Agents SDK documents for manual
conversation management: it reads the conversation's `Session`, passes the model the
trimmed history plus the new message as the run's input, and appends the new message
and the run's items (`RunItem.to_input_item()`) to the session when the run ends. Rows
are the same as the SDK's own session handling writes. Doing it here rather than
handing the Runner the session saves a turn:

* the read of a conversation the server has just named (it has no history);
* a write: the SDK saves the question before calling the model and the answer after
  it, two writes; a `Turn` writes both at once, and the conversation list's update
  rides in that write (services/conversation_index.py);
* the SDK's generic session bookkeeping (signature checks of the session's methods,
  fingerprints and copies of items for retries and compaction ChatWait does not use):
  nearly half of what history cost a short run (in-process, one core: 918 µs per run
  with the SDK's session handling, 755 with a `Turn`, 561 without history).

A turn that ends without an answer (an error, a cancel, shutdown) writes its question
alone, so history holds whole turns, or a question whose answer never came.

    turn = conversations.turn(owner, conversation_id, message, new=…)
    input = trimmer(await turn.history(), turn.question)  services/history.py
    result = Runner.run(agent, input)                     or Runner.run_streamed(…)
    await turn.save(answer_items(result))                 the run completed
    await conversations.end_turn(turn)                    always: saves a lone question
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agents import ItemHelpers, TResponseInputItem
from agents.memory import Session
from agents.result import RunResultBase

from chatwait.models.chat import chat_messages
from chatwait.services.conversation_index import ConversationIndex


def answer_items(result: RunResultBase) -> list[TResponseInputItem]:
    """What a run added (answer, tool calls and results) as session items."""
    return [item.to_input_item() for item in result.new_items]


class Turn:
    """One turn of one conversation; save it once, when its run ends."""

    def __init__(
        self,
        session: Session,
        index: ConversationIndex,
        owner: str,
        conversation_id: str,
        message: str,
        *,
        new: bool = False,
    ) -> None:
        self._session = session
        self._index = index
        self._owner = owner
        self._conversation_id = conversation_id
        # The input items of a plain message, as the Runner itself makes them.
        self.question: list[TResponseInputItem] = ItemHelpers.input_to_new_input_list(message)
        self._new = new
        self.saved = False

    async def history(self) -> list[TResponseInputItem]:
        """The conversation's stored items (a conversation the server has just named has
        none, and is not read)."""
        return [] if self._new else await self._session.get_items()

    async def save(self, answer: Sequence[TResponseInputItem] = ()) -> None:
        """Append the question and `answer` (`answer_items(result)`) in one write, once.

        Marked saved before the write: a write that fails or is cancelled part-way is
        not tried again, which could store the question twice."""
        if self.saved:
            return
        self.saved = True
        items: list[Any] = [*self.question, *answer]
        messages = chat_messages(items)
        first_user = next((m["content"] for m in messages if m["role"] == "user"), None)
        await self._index.add_items(
            self._session, items, self._owner, self._conversation_id, len(messages), first_user
        )
