"""UI tests: the UI's client and handlers against a real backend and the emulator.

The UI sees the backend only over HTTP, so one store kind is enough here; the store
kinds are covered by the backend's own integration tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from chatwait_ui.client import ChatWaitClient
from tests.support.servers import ServerThread
from tests.support.ui import ui_settings


@pytest.fixture
def store_kind() -> str:
    return "memory"


@pytest.fixture
async def ui_client(backend: ServerThread) -> AsyncIterator[ChatWaitClient]:
    client = ChatWaitClient(ui_settings(backend.url))
    yield client
    await client.aclose()
