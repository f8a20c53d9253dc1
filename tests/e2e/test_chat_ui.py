"""The chat UI as a person uses it: Chromium, the Chainlit UI process, the backend,
and the upstream emulator, all real and on this machine.

Screenshots land in artifacts/screenshots/ (git-ignored); `make screenshot` copies
one into docs/img/ for the README.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from chatwait_ui.modes.wait_mode import waiting_text
from tests.e2e.conftest import SCREENSHOTS, emulated_backend
from tests.integration.conftest import EMULATED_MODEL
from tests.integration.ui.test_ui_client import TRICKY_CHUNKS, TRICKY_TEXT
from tests.support.servers import (
    ServerProcess,
    ServerThread,
    chatwait_ui_command,
    free_port,
)
from tests.support.ui import assert_clean_ui_log, ui_environment
from tests.support.upstream_emulator import Scenario, UpstreamEmulator

TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def backend(
    tmp_path_factory: pytest.TempPathFactory,
    upstream_server: tuple[ServerThread, UpstreamEmulator],
) -> Iterator[ServerThread]:
    with emulated_backend(tmp_path_factory.mktemp("backend"), upstream_server[0].url) as server:
        yield server


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory, backend: ServerThread) -> Iterator[ServerProcess]:
    port = free_port()
    command = chatwait_ui_command("--port", str(port), "--api-url", backend.url)
    env = ui_environment(tmp_path_factory.mktemp("ui"))
    with ServerProcess(command, port=port, env=env, health_path="/") as server:
        yield server
        # Also what it printed after the last test, and while shutting down.
        server.stop()
        assert_clean_ui_log(server.read_logs())


@pytest.fixture
def page(browser: Browser, ui: ServerProcess) -> Iterator[Page]:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    external: list[str] = []
    page.on(
        "request",
        lambda request: None if request.url.startswith(ui.url) else external.append(request.url),
    )
    log_start = len(ui.read_logs())
    page.goto(ui.url)
    expect(page.get_by_text("Welcome to ChatWait")).to_be_visible()
    expect(page.get_by_text(f"{EMULATED_MODEL}")).to_be_visible()
    yield page
    page.close()
    assert external == [], f"the UI fetched from outside this machine: {external}"
    # Each test's own part of the UI log: a streamed or stopped answer whose HTTP stream
    # was closed in another task shows up here as "async generator ignored GeneratorExit".
    time.sleep(0.5)  # cleanup the garbage collector runs soon after the answer
    assert_clean_ui_log(ui.read_logs()[log_start:])


def send(page: Page, text: str) -> None:
    page.locator("#chat-input").fill(text)
    page.locator("#chat-input").press("Enter")


def last_answer(page: Page) -> str:
    return page.locator(".ai-message").last.inner_text()


def choose_mode(page: Page, mode: str) -> None:
    page.locator("#chat-settings-open-modal").click()
    page.get_by_role("combobox").click()
    page.get_by_role("option", name=mode).click()
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text(f"Response mode: {mode}")).to_be_visible()


def test_streaming_then_wait_mode_in_one_conversation(
    page: Page, upstream: UpstreamEmulator
) -> None:
    answer = (
        "Nice to meet you, Ada! Server-Sent Events keep one HTTP response open and send "
        "text as it is written, so you read the first words while the rest is still on "
        "its way. If the connection drops, ChatWait resumes at the last word it showed."
    )
    chunks = answer.split(" ")
    chunks = [word + " " for word in chunks[:-1]] + [chunks[-1]]
    upstream.enqueue(
        Scenario(chunks=chunks, chunk_delay=0.08),
        Scenario(text="Your name is Ada.", first_byte_delay=1.5),
    )

    send(page, "My name is Ada. How does streaming work?")
    # While streaming, the answer grows in place before it is complete.
    expect(page.locator(".ai-message").last).to_contain_text("Nice to meet you")
    partial = last_answer(page)
    assert "last word it showed" not in partial
    assert "Streaming mode" not in partial
    expect(page.locator(".ai-message").last).to_contain_text("Streaming mode")
    assert last_answer(page).startswith(answer)
    page.screenshot(path=str(SCREENSHOTS / "chat-streaming.png"))

    choose_mode(page, "Wait")
    send(page, "What is my name?")
    # The counter ticks while the backend works (the answer takes 1.5 s).
    expect(page.get_by_text(waiting_text(1))).to_be_visible()
    expect(page.get_by_text("Your name is Ada.")).to_be_visible()
    expect(page.locator(".ai-message").last).to_contain_text("Wait mode")
    page.screenshot(path=str(SCREENSHOTS / "chat-wait.png"))
    # One conversation: the second question reached the model with the first one.
    history = [m["content"] for m in upstream.requests[1].body["messages"] if m["role"] == "user"]
    assert history == ["My name is Ada. How does streaming work?", "What is my name?"]


def test_stop_button_cancels_a_long_answer_and_keeps_what_was_written(
    page: Page, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=[f"w{i} " for i in range(400)], chunk_delay=0.05))

    send(page, "Tell me a very long story.")
    expect(page.locator(".ai-message").last).to_contain_text("w5")
    page.locator("#stop-button").click()

    expect(page.get_by_text("Task manually stopped.")).to_be_visible()
    stopped_answer = page.locator(".ai-message").filter(has_text="w5")
    expect(stopped_answer).to_contain_text("Streaming mode")
    upstream.wait_until(lambda: upstream.streams_closed_by_client == 1, timeout=10)
    # One stop notice (Chainlit's), not a second one from ChatWait on the answer.
    expect(page.locator(".ai-message").filter(has_text=re.compile("stopped", re.I))).to_have_count(
        1
    )
    stopped = stopped_answer.inner_text()
    assert stopped.startswith("w0 w1 w2 w3 w4 w5")
    assert "w399" not in stopped
    page.screenshot(path=str(SCREENSHOTS / "chat-stopped.png"))
    # The chat keeps working after a stop.
    upstream.enqueue(Scenario(text="Still here."))
    time.sleep(0.5)  # the stopped turn releases its conversation on the server
    send(page, "Are you still there?")
    expect(page.get_by_text("Still here.")).to_be_visible()


@pytest.mark.parametrize("mode", ["Streaming", "Wait"])
def test_answer_with_line_separators_and_sse_lookalikes_shows_the_exact_text(
    page: Page, upstream: UpstreamEmulator, mode: str
) -> None:
    """Regression: U+2028, U+2029 and NEL in a token cut the old SSE reader's lines, and
    the streamed answer stopped half-way with "reconnecting… attempt 5 of 5".

    The text is a code block, the one place where markdown shows characters as they
    are (blank lines and line breaks included)."""
    upstream.enqueue(Scenario(chunks=["```\n", *TRICKY_CHUNKS, "\n```"], chunk_delay=0.02))
    if mode == "Wait":
        choose_mode(page, "Wait")

    send(page, "Show me some tricky text.")

    answer = page.locator(".ai-message").last
    expect(answer).to_contain_text(f"{mode} mode")
    expect(page.get_by_text("reconnecting")).to_have_count(0)
    shown = answer.locator("code").evaluate("code => code.textContent")
    assert shown.removesuffix("\n") == TRICKY_TEXT


def test_link_preview_names_chatwait_not_chainlit(page: Page, ui: ServerProcess) -> None:
    """What a chat app or social site shows for a pasted link to the UI."""
    # The first visit went through /login (the automatic `local` login): load the chat
    # page itself, as a link to it would.
    page.goto(ui.url)
    expect(page.get_by_text("Welcome to ChatWait")).to_be_visible()
    meta = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('meta')]
            .map(m => [m.getAttribute('property') || m.getAttribute('name'), m.content]))"""
    )
    image = f"{ui.url}/public/social-preview.png"

    assert meta["og:title"] == meta["twitter:title"] == "ChatWait"
    assert meta["og:description"] == meta["twitter:description"]
    assert meta["og:description"].startswith("ChatWait")
    assert meta["og:url"] == f"{ui.url}/"
    assert meta["og:image"] == meta["twitter:image"] == image
    assert meta["twitter:card"] == "summary_large_image"
    assert not [value for value in meta.values() if "chainlit" in (value or "").lower()]
    preview = httpx.get(image)
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "image/png"
