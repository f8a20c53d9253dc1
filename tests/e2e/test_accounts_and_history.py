"""Logging in with an API key and the chat history sidebar, in Chromium, against a
backend that requires keys (alice and bob) and the upstream emulator.

One backend and one UI process serve the whole module; each test logs its people in
with browser contexts of their own (own cookies), as separate browsers would.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.e2e.conftest import SCREENSHOTS, emulated_backend
from tests.support.servers import ServerThread
from tests.support.ui import RestartableUI, assert_clean_ui_log
from tests.support.upstream_emulator import Scenario, UpstreamEmulator

TIMEOUT_MS = 20_000
ALICE = ("alice", "sk-alice-0123456789abcdef")
BOB = ("bob", "sk-bob-fedcba9876543210")
CAROL = ("carol", "sk-carol-55aa55aa55aa55aa")
API_KEYS = ",".join(f"{name}:{key}" for name, key in (ALICE, BOB, CAROL))
# Chainlit's sidebar asks for this many conversations at a time.
SIDEBAR_PAGE = 35


@pytest.fixture(scope="module")
def backend(
    tmp_path_factory: pytest.TempPathFactory,
    upstream_server: tuple[ServerThread, UpstreamEmulator],
) -> Iterator[ServerThread]:
    with emulated_backend(
        tmp_path_factory.mktemp("backend"), upstream_server[0].url, chatwait_api_keys=API_KEYS
    ) as server:
        yield server


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory, backend: ServerThread) -> Iterator[RestartableUI]:
    ui = RestartableUI(backend.url, tmp_path_factory.mktemp("ui"))
    ui.start()
    yield ui
    ui.stop()
    logs = ui.logs()
    assert_clean_ui_log(logs)
    # The keys never reach the UI's log (nor, see test_login, the page).
    assert ALICE[1] not in logs
    assert BOB[1] not in logs


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    """Browser contexts a test opens (one per person); closed after it."""
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def open_ui(browser: Browser, contexts: list[BrowserContext], ui: RestartableUI) -> Page:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    contexts.append(context)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(ui.url)
    return page


def log_in(page: Page, name: str, key: str) -> None:
    page.locator("#email").fill(name)
    page.locator("#password").fill(key)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_text("Welcome to ChatWait")).to_be_visible()


def logged_in(
    browser: Browser, contexts: list[BrowserContext], ui: RestartableUI, person: tuple[str, str]
) -> Page:
    page = open_ui(browser, contexts, ui)
    log_in(page, *person)
    return page


def send(page: Page, text: str, answer: str) -> None:
    page.locator("#chat-input").fill(text)
    page.locator("#chat-input").press("Enter")
    expect(page.locator(".ai-message").last).to_contain_text(answer)


def sidebar(page: Page) -> list[str]:
    return page.locator("#thread-history li").all_inner_texts()


def sidebar_item(page: Page, title: str) -> Locator:
    return page.locator("#thread-history li").filter(has_text=title)


def backend_titles(backend: ServerThread, key: str) -> list[str]:
    response = httpx.get(
        f"{backend.url}/conversations",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {key}"},
    )
    response.raise_for_status()
    return [item["title"] for item in response.json()["conversations"]]


def test_login_with_a_wrong_key_fails_and_the_right_key_keeps_the_key_off_the_page(
    browser: Browser,
    contexts: list[BrowserContext],
    ui: RestartableUI,
    backend: ServerThread,
    upstream: UpstreamEmulator,
) -> None:
    page = open_ui(browser, contexts, ui)
    expect(page.get_by_role("button", name="Sign In")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "login.png"))

    # Bob's key is a real key, but not alice's: the name must match the key's principal.
    page.locator("#email").fill("alice")
    page.locator("#password").fill(BOB[1])
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_text("Unable to sign in")).to_be_visible()
    page.locator("#password").fill("sk-not-a-key-at-all")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_text("Unable to sign in")).to_be_visible()
    expect(page.get_by_text("Welcome to ChatWait")).to_have_count(0)

    log_in(page, *ALICE)
    upstream.enqueue(Scenario(text="Hello alice."))
    send(page, "Hi, I am alice.", "Hello alice.")
    # The backend saw alice's key on the chat request (the emulator cannot tell, so
    # ask the backend: the conversation is alice's).
    assert "Hi, I am alice." in backend_titles(backend, ALICE[1])

    user = page.evaluate("() => fetch('/user').then(r => r.text())")
    seen_by_page = [
        page.content(),
        user,
        page.evaluate("() => document.cookie"),
        page.evaluate("() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage)"),
        page.url,
    ]
    assert '"identifier":"alice"' in user
    assert not [text for text in seen_by_page if ALICE[1] in text]
    # Chainlit's login cookie is a signed, not encrypted, JWT: read what it says.
    (token,) = [c["value"] for c in page.context.cookies() if c["name"] == "access_token"]
    claims = base64.urlsafe_b64decode(token.split(".")[1] + "==").decode()
    assert '"identifier": "alice"' in claims or '"identifier":"alice"' in claims
    assert ALICE[1] not in claims


def test_each_person_sees_only_their_own_chats(
    browser: Browser,
    contexts: list[BrowserContext],
    ui: RestartableUI,
    upstream: UpstreamEmulator,
) -> None:
    alice = logged_in(browser, contexts, ui, ALICE)
    send(alice, "Alice's plan for Tuesday", "Echo: Alice's plan for Tuesday")
    expect(sidebar_item(alice, "Alice's plan for Tuesday")).to_be_visible()
    alice_chat = alice.url

    bob = logged_in(browser, contexts, ui, BOB)
    send(bob, "Bob's shopping list", "Echo: Bob's shopping list")
    expect(sidebar_item(bob, "Bob's shopping list")).to_be_visible()
    assert not [title for title in sidebar(bob) if "Alice" in title]
    # Nor can bob open alice's chat by its address.
    bob.goto(alice_chat)
    expect(bob.get_by_text("Echo: Alice's plan for Tuesday")).to_have_count(0)

    alice.reload()
    expect(sidebar_item(alice, "Alice's plan for Tuesday")).to_be_visible()
    assert not [title for title in sidebar(alice) if "Bob" in title]


def test_reopened_chat_shows_its_messages_and_the_model_sees_the_earlier_turns(
    browser: Browser,
    contexts: list[BrowserContext],
    ui: RestartableUI,
    upstream: UpstreamEmulator,
) -> None:
    upstream.enqueue(Scenario(text="Nice to meet you, Ada."), Scenario(text="Your name is Ada."))
    page = logged_in(browser, contexts, ui, ALICE)
    send(page, "My name is Ada.", "Nice to meet you, Ada.")

    # Later, in a new tab: the chat is in the sidebar; opening it shows its messages.
    page = open_ui(browser, contexts, ui)  # a new person's browser would log in first
    log_in(page, *ALICE)
    expect(page.get_by_text("Nice to meet you, Ada.")).to_have_count(0)
    sidebar_item(page, "My name is Ada.").click()
    expect(page.get_by_text("Nice to meet you, Ada.")).to_be_visible()
    expect(page.get_by_text("My name is Ada.").last).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "chat-reopened.png"))

    send(page, "What is my name?", "Your name is Ada.")
    messages = upstream.requests[-1].body["messages"]
    said = [(m["role"], m["content"]) for m in messages if m["role"] in ("user", "assistant")]
    assert said == [
        ("user", "My name is Ada."),
        ("assistant", "Nice to meet you, Ada."),
        ("user", "What is my name?"),
    ]


def test_rename_and_delete_from_the_sidebar_change_the_backend_conversation(
    browser: Browser,
    contexts: list[BrowserContext],
    ui: RestartableUI,
    backend: ServerThread,
    upstream: UpstreamEmulator,
) -> None:
    page = logged_in(browser, contexts, ui, ALICE)
    send(page, "Plans for the trip", "Echo: Plans for the trip")
    item = sidebar_item(page, "Plans for the trip")

    item.hover()
    item.locator("#thread-options").click()
    page.get_by_role("menuitem", name="Rename").click()
    page.get_by_role("dialog").locator("#name").fill("Trip to Lisbon")
    page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    expect(sidebar_item(page, "Trip to Lisbon")).to_be_visible()
    titles = backend_titles(backend, ALICE[1])
    assert "Trip to Lisbon" in titles
    assert "Plans for the trip" not in titles

    item = sidebar_item(page, "Trip to Lisbon")
    item.hover()
    item.locator("#thread-options").click()
    page.get_by_role("menuitem", name="Delete").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Confirm").click()
    expect(sidebar_item(page, "Trip to Lisbon")).to_have_count(0)
    assert "Trip to Lisbon" not in backend_titles(backend, ALICE[1])
    page.reload()
    expect(page.get_by_text("Welcome to ChatWait")).to_be_visible()
    expect(sidebar_item(page, "Trip to Lisbon")).to_have_count(0)


def test_history_survives_a_ui_restart_and_the_old_login_is_asked_again(
    browser: Browser,
    contexts: list[BrowserContext],
    ui: RestartableUI,
    upstream: UpstreamEmulator,
) -> None:
    page = logged_in(browser, contexts, ui, ALICE)
    send(page, "Remember this across restarts", "Echo: Remember this across restarts")

    ui.restart()

    # The cookie is still signed by the same secret, but the restarted UI holds no
    # key for it: the login form comes back, and after it, the history.
    page.goto(ui.url)
    expect(page.get_by_role("button", name="Sign In")).to_be_visible()
    log_in(page, *ALICE)
    sidebar_item(page, "Remember this across restarts").click()
    expect(page.get_by_text("Echo: Remember this across restarts")).to_be_visible()


def test_sidebar_loads_more_conversations_on_scroll(
    browser: Browser,
    contexts: list[BrowserContext],
    ui: RestartableUI,
    backend: ServerThread,
    upstream: UpstreamEmulator,
) -> None:
    for i in range(SIDEBAR_PAGE + 5):
        httpx.post(
            f"{backend.url}/chat/wait",
            json={"message": f"Carol's chat {i:02d}", "conversation_id": f"carol-{i:02d}"},
            headers={"Authorization": f"Bearer {CAROL[1]}"},
            timeout=20,
        ).raise_for_status()

    page = logged_in(browser, contexts, ui, CAROL)
    expect(sidebar_item(page, "Carol's chat 39")).to_be_visible()
    expect(page.locator("#thread-history li")).to_have_count(SIDEBAR_PAGE)
    assert "Carol's chat 04" not in sidebar(page)  # the oldest five are on the next page

    sidebar_item(page, "Carol's chat 05").scroll_into_view_if_needed()
    expect(page.locator("#thread-history li")).to_have_count(SIDEBAR_PAGE + 5)
    expect(sidebar_item(page, "Carol's chat 00")).to_be_visible()
