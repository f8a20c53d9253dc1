"""A turn that is cancelled while it saves its question still gives its conversation
and its run slot back (the wait run's client disconnected at that moment)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from agents import Model
from agents.exceptions import ModelBehaviorError

from chatwait.config import Settings
from chatwait.services.admission import Admission
from chatwait.services.chat_agent import ChatAgentService
from chatwait.services.conversations import SQLiteConversationStore
from chatwait.services.limits import create_limits
from chatwait.services.llm_service import LanguageModel
from chatwait.services.turn import Turn


class FailingModel(Model):
    async def get_response(self, *args: Any, **kwargs: Any) -> Any:
        raise ModelBehaviorError("the model failed")

    def stream_response(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


class SlowToEndStore(SQLiteConversationStore):
    """Ending a turn (saving the failed turn's question) takes until cancelled."""

    def __init__(self, db_path: Path) -> None:
        super().__init__(db_path)
        self.ending = asyncio.Event()

    async def end_turn(self, turn: Turn) -> None:
        self.ending.set()
        await asyncio.sleep(30)


async def test_a_cancel_while_the_turn_ends_still_frees_conversation_and_slot(
    tmp_path: Path,
) -> None:
    settings = Settings(_env_file=None)
    store = SlowToEndStore(tmp_path / "sessions.db")
    await store.open()
    admission = Admission(None, None)
    service = ChatAgentService(
        settings,
        LanguageModel(model=FailingModel(), name="failing"),
        store,
        create_limits(settings),
        admission,
    )
    try:
        reply = asyncio.create_task(service.reply("alice", "hello", "conv-1"))
        await store.ending.wait()
        reply.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reply

        assert admission.active_runs == 0
        lease = await store.acquire("alice", "conv-1")  # not conversation_busy
        await lease.release()
    finally:
        await store.aclose()
