"""The login callbacks and the history data layer (accounts.py, history.py) against a
real backend with keys for alice and bob: what Chainlit gets back for each call."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from chainlit.types import Pagination, ThreadFilter
from fastapi import HTTPException

from chatwait_ui import accounts
from chatwait_ui.accounts import LoginExpired, keyring, log_in_as_local, log_in_with_key
from chatwait_ui.client import ChatWaitClient
from chatwait_ui.connection import backend as connection
from chatwait_ui.history import BackendHistory
from tests.integration.conftest import BackendFactory
from tests.support.servers import ServerThread
from tests.support.ui import ui_settings

ALICE_KEY = "sk-alice-0123456789abcdef"
BOB_KEY = "sk-bob-fedcba9876543210"


@pytest.fixture
def keyed_backend(make_backend: BackendFactory) -> Iterator[ServerThread]:
    with make_backend(chatwait_api_keys=f"alice:{ALICE_KEY},bob:{BOB_KEY}") as server:
        yield server


@pytest.fixture
async def ui_connected(keyed_backend: ServerThread) -> AsyncIterator[ChatWaitClient]:
    client = ChatWaitClient(ui_settings(keyed_backend.url))
    connection.use(client)
    yield client
    await client.aclose()
    keyring._keys.clear()


def as_user(identifier: str) -> None:
    """What `current_user_with_key` records for an HTTP request of this user."""
    accounts._http_user.set(identifier)


async def chat(client: ChatWaitClient, key: str, conversation_id: str, text: str) -> None:
    await client.with_key(key).wait(text, conversation_id)


async def test_login_needs_the_key_of_the_named_principal(ui_connected: ChatWaitClient) -> None:
    assert await log_in_with_key("alice", BOB_KEY) is None
    assert await log_in_with_key("alice", "sk-wrong") is None
    assert not keyring.knows("alice")
    assert await log_in_as_local() is None  # the backend has keys: no automatic login

    user = await log_in_with_key("alice", ALICE_KEY)

    assert user is not None
    assert user.identifier == "alice"
    assert user.metadata == {}  # the page reads metadata: the key is not there
    assert keyring.knows("alice")


async def test_sidebar_lists_only_the_asking_persons_conversations_newest_first(
    ui_connected: ChatWaitClient,
) -> None:
    await log_in_with_key("alice", ALICE_KEY)
    await log_in_with_key("bob", BOB_KEY)
    await chat(ui_connected, ALICE_KEY, "alice-1", "First of alice")
    await chat(ui_connected, ALICE_KEY, "alice-2", "Second of alice")
    await chat(ui_connected, BOB_KEY, "bob-1", "Only bob's")
    history = BackendHistory()

    first = await history.list_threads(Pagination(first=1), ThreadFilter(userId="alice"))
    rest = await history.list_threads(
        Pagination(first=1, cursor=first.pageInfo.endCursor), ThreadFilter(userId="alice")
    )

    assert [t["name"] for t in first.data + rest.data] == ["Second of alice", "First of alice"]
    assert first.pageInfo.hasNextPage
    assert not rest.pageInfo.hasNextPage
    assert {t["userIdentifier"] for t in first.data + rest.data} == {"alice"}
    bobs = await history.list_threads(Pagination(first=20), ThreadFilter(userId="bob"))
    assert [t["id"] for t in bobs.data] == ["bob-1"]


async def test_another_persons_conversation_cannot_be_opened_renamed_or_deleted(
    ui_connected: ChatWaitClient,
) -> None:
    await log_in_with_key("alice", ALICE_KEY)
    await log_in_with_key("bob", BOB_KEY)
    await chat(ui_connected, ALICE_KEY, "alice-private", "Alice's secret")
    history = BackendHistory()

    as_user("bob")
    assert await history.get_thread("alice-private") is None
    assert await history.get_thread_author("alice-private") == ""
    with pytest.raises(HTTPException) as refused:
        await history.update_thread("alice-private", name="Bob's now")
    assert refused.value.status_code == 404
    await history.delete_thread("alice-private")  # bob's "delete" finds nothing

    as_user("alice")
    thread = await history.get_thread("alice-private")
    assert thread is not None
    assert thread["name"] == "Alice's secret"
    assert [(s["type"], s["output"]) for s in thread["steps"]][:1] == [
        ("user_message", "Alice's secret")
    ]


async def test_rename_and_delete_reach_the_backend_but_chainlits_own_naming_does_not(
    ui_connected: ChatWaitClient,
) -> None:
    await log_in_with_key("alice", ALICE_KEY)
    await chat(ui_connected, ALICE_KEY, "alice-trip", "Plans for the trip")
    history = BackendHistory()
    as_user("alice")

    # Chainlit names a thread after its first message, with the user id: ignored.
    await history.update_thread("alice-trip", name="Chainlit's name", user_id="alice")
    await history.update_thread("alice-trip", metadata={"chat_settings": {}})
    page = await ui_connected.with_key(ALICE_KEY).conversations(20)
    assert [c.title for c in page.conversations] == ["Plans for the trip"]

    await history.update_thread("alice-trip", name="Trip to Lisbon")
    page = await ui_connected.with_key(ALICE_KEY).conversations(20)
    assert [c.title for c in page.conversations] == ["Trip to Lisbon"]

    await history.delete_thread("alice-trip")
    await history.delete_thread("alice-trip")  # already gone: nothing to do
    page = await ui_connected.with_key(ALICE_KEY).conversations(20)
    assert page.conversations == []


async def test_a_login_this_process_holds_no_key_for_is_expired(
    ui_connected: ChatWaitClient,
) -> None:
    """After a UI restart the keyring is empty: the person must log in again."""
    with pytest.raises(LoginExpired) as expired:
        keyring.client_for("alice")
    assert "log in again" in str(expired.value)
    history = BackendHistory()
    with pytest.raises(HTTPException) as refused:
        await history.list_threads(Pagination(first=20), ThreadFilter(userId="alice"))
    assert refused.value.status_code == 401


async def test_a_chat_just_started_is_listed_before_the_backend_has_it_and_then_once(
    ui_connected: ChatWaitClient,
) -> None:
    """Regression: the page reloads the sidebar as a chat's first message is sent; that
    list could come before the backend had the conversation, and the new chat was
    missing from the sidebar until the next reload."""
    await log_in_with_key("alice", ALICE_KEY)
    await log_in_with_key("bob", BOB_KEY)
    history = BackendHistory()
    alice = ThreadFilter(userId="alice")

    # What Chainlit does on a chat's first message, before on_message runs.
    await history.update_thread("alice-new", name="Brand  new\nchat", user_id="alice")
    early = await history.list_threads(Pagination(first=20), alice)
    await chat(ui_connected, ALICE_KEY, "alice-new", "Brand new chat")
    later = await history.list_threads(Pagination(first=20), alice)

    assert [(t["id"], t["name"]) for t in early.data] == [("alice-new", "Brand new chat")]
    assert [t["id"] for t in later.data] == ["alice-new"]
    bobs = await history.list_threads(Pagination(first=20), ThreadFilter(userId="bob"))
    assert bobs.data == []
