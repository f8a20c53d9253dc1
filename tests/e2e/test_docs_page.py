"""The OpenAPI docs page as a person sees it: a real Chromium, no internet.

Regression: /docs first served Swagger UI 4 from swagger-ui-bundle, which cannot read
the OpenAPI 3.1 that FastAPI generates; the page said "Unable to render this
definition" while every HTTP-level check passed. Only a browser shows that.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.e2e.conftest import SCREENSHOTS
from tests.support.backend import backend_settings, serve_backend
from tests.support.servers import ServerThread


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[ServerThread]:
    with serve_backend(backend_settings(tmp_path)) as server:
        yield server


def test_docs_page_renders_every_endpoint_offline(browser: Browser, backend: ServerThread) -> None:
    page = browser.new_page()
    external: list[str] = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(backend.url) else external.append(request.url)
        ),
    )

    page.goto(f"{backend.url}/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "docs.png"), full_page=True)

    paths = set(page.locator(".opblock-summary-path").all_inner_texts())
    assert "Unable to render" not in page.content()
    assert {"/chat/wait", "/chat/streaming", "/chat/streaming/{stream_id}"} <= {
        p.replace("\u200b", "") for p in paths
    }
    assert external == [], f"the docs page fetched from outside: {external}"
    page.close()
