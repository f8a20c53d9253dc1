"""The offline demo as `make run` starts it: a backend without keys and with the
offline model. Nobody logs in (everyone is `local`), and the history sidebar works,
through restarts of the UI and of the backend (its SQLite file keeps the history)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from chatwait.config import Settings
from tests.support.backend import backend_settings
from tests.support.servers import ServerThread, free_port
from tests.support.ui import RestartableUI, assert_clean_ui_log

TIMEOUT_MS = 20_000


class RestartableBackend:
    """The backend app on one port, in a thread, started again on the same settings."""

    def __init__(self, settings: Settings) -> None:
        from chatwait.app import create_app

        self._create_app = create_app
        self._settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ServerThread(create_app(settings), port=self.port)

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def restart(self) -> None:
        self.stop()
        self._server = ServerThread(self._create_app(self._settings), port=self.port)
        self.start()


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestartableBackend]:
    backend = RestartableBackend(backend_settings(tmp_path_factory.mktemp("backend")))
    backend.start()
    yield backend
    backend.stop()


@pytest.fixture(scope="module")
def ui(
    tmp_path_factory: pytest.TempPathFactory, backend: RestartableBackend
) -> Iterator[RestartableUI]:
    ui = RestartableUI(backend.url, tmp_path_factory.mktemp("ui"))
    ui.start()
    yield ui
    ui.stop()
    assert_clean_ui_log(ui.logs())


def open_chat(browser: Browser, ui: RestartableUI) -> Page:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(ui.url)
    expect(page.get_by_text("Welcome to ChatWait")).to_be_visible()
    expect(page.locator("#password")).to_have_count(0)
    return page


def sidebar_item(page: Page, title: str) -> Locator:
    return page.locator("#thread-history li").filter(has_text=title)


def test_offline_demo_keeps_history_without_a_login_across_restarts(
    browser: Browser, ui: RestartableUI, backend: RestartableBackend
) -> None:
    page = open_chat(browser, ui)
    page.locator("#chat-input").fill("Hello offline demo")
    page.locator("#chat-input").press("Enter")
    expect(page.locator(".ai-message").last).to_contain_text("This is message 1")
    expect(sidebar_item(page, "Hello offline demo")).to_be_visible()
    page.close()

    ui.restart()
    backend.restart()

    page = open_chat(browser, ui)
    sidebar_item(page, "Hello offline demo").click()
    expect(page.get_by_text("This is message 1")).to_be_visible()
    # The offline model counts the conversation's messages: the reopened chat goes on.
    page.locator("#chat-input").fill("And a second one")
    page.locator("#chat-input").press("Enter")
    expect(page.get_by_text("This is message 2")).to_be_visible()
    page.close()
