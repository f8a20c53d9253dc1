"""A real browser for end-to-end tests: Debian's Chromium driven by Playwright.

`make test` installs the `chromium` package when it is missing; Playwright never
downloads a browser here. A machine without Chromium fails these tests, never skips.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.integration.conftest import EMULATED_MODEL, UPSTREAM_KEY
from tests.support.backend import backend_settings, serve_backend
from tests.support.servers import ServerThread

CHROMIUM = "/usr/bin/chromium"
# Flags that work on this machine: no GPU, no sandbox as root, no calls home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parents[2] / "artifacts" / "screenshots"
SCREENSHOTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if shutil.which("chromium") is None:
        pytest.fail("chromium not found: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@contextmanager
def emulated_backend(data_dir: Path, upstream_url: str, **overrides: Any) -> Iterator[ServerThread]:
    """The backend the browser tests talk to: the upstream emulator as its model."""
    settings = backend_settings(
        data_dir,
        llm_base_url=f"{upstream_url}/v1",
        llm_api_key=UPSTREAM_KEY,
        llm_model=EMULATED_MODEL,
        **overrides,
    )
    with serve_backend(settings) as server:
        yield server
