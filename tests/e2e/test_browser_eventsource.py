"""A browser's own EventSource against ChatWait, through a proxy that cuts connections.

Regression tests of issue 11 ("Browser EventSource"), in real Chromium:
(a) a plain `new EventSource("/chat/streaming?message=…")` cut mid-answer lost the answer
    (its reconnect got 422 while the run went on);
(b) after `done` the EventSource reconnected every `retry` ms and rendered start + done
    again, for the whole resume window;
(c) with API keys configured a page could not stream at all (EventSource cannot send
    Authorization, and keys must not go in URLs).

The page is served by a small server of its own whose origin is in CORS_ORIGINS, so the
API sees a real cross-origin browser (Origin header, CORS). The EventSource goes through
tests/support/tcp_proxy.py, which resets the first connection after some bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Page
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatwait.app import create_app
from tests.support.backend import backend_settings
from tests.support.servers import ServerThread
from tests.support.tcp_proxy import CuttingProxy
from tests.support.upstream_emulator import Scenario, UpstreamEmulator

KEY = "sk-page-owner-0123456789abcdef"
CHUNKS = [f"word{i} " for i in range(30)]
ANSWER = "".join(CHUNKS)
# Response headers and the `start` event come to about 500 bytes, each token about 80:
# the cut falls a few tokens into the answer.
CUT_AFTER_BYTES = 900
WAIT_MS = 20_000

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>EventSource test page</title></head>
<body><pre id="answer"></pre>
<script>
window.seen = {events: [], tokens: [], starts: 0, dones: 0, done: null};
window.startStream = (url, closeOnDone) => {
  const source = new EventSource(url);
  window.source = source;
  const note = (name, e) => seen.events.push([name, e.lastEventId || null]);
  source.addEventListener("start", (e) => { seen.starts++; note("start", e); });
  source.addEventListener("token", (e) => {
    note("token", e);
    const token = JSON.parse(e.data);
    seen.tokens.push(token.index);
    document.getElementById("answer").textContent += token.text;
  });
  source.addEventListener("done", (e) => {
    note("done", e);
    seen.dones++;
    seen.done = JSON.parse(e.data);
    if (closeOnDone) source.close();
  });
  source.onerror = () => seen.events.push(["onerror", source.readyState]);
};
window.mintAndStream = async (apiBase, streamBase, key, message) => {
  const response = await fetch(apiBase + "/chat/tickets", {
    method: "POST",
    headers: {"Authorization": "Bearer " + key, "Content-Type": "application/json"},
    body: JSON.stringify({}),
  });
  const minted = await response.json();
  const url = new URL(streamBase + "/chat/streaming");
  url.searchParams.set("message", message);
  url.searchParams.set("stream_id", minted.stream_id);
  url.searchParams.set("ticket", minted.ticket);
  window.startStream(url.toString(), true);
  return minted.stream_id;
};
</script></body></html>
"""


@dataclass
class RequestLog:
    """ASGI wrapper recording (method, path, status, Last-Event-ID) of every request."""

    app: ASGIApp
    requests: list[tuple[str, str, int, str | None]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        last_event_id = headers.get(b"last-event-id")

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.requests.append(
                    (
                        scope["method"],
                        scope["path"],
                        message["status"],
                        last_event_id.decode() if last_event_id else None,
                    )
                )
            await send(message)

        await self.app(scope, receive, record)

    def streaming(self) -> list[tuple[str, str, int, str | None]]:
        return [r for r in self.requests if r[1] == "/chat/streaming"]


@dataclass
class Site:
    page_url: str
    api_url: str
    proxy: CuttingProxy
    log: RequestLog


@contextmanager
def site(tmp_path: Path, upstream_base_url: str, *, cuts: int, **settings: Any) -> Iterator[Site]:
    """The test page's server, the API (its origin allowed) and the cutting proxy."""
    page_server = ServerThread(Starlette(routes=[Route("/", lambda _: HTMLResponse(PAGE))]))
    app_settings = backend_settings(
        tmp_path,
        llm_base_url=upstream_base_url,
        llm_api_key="sk-upstream-test-0000",
        llm_model="emulated-model",
        cors_origins=[page_server.url],
        sse_retry_ms=300,
        **settings,
    )
    log = RequestLog(create_app(app_settings))
    with (
        page_server,
        ServerThread(log) as api,
        CuttingProxy(api.port, cut_after_bytes=CUT_AFTER_BYTES, cuts=cuts) as proxy,
    ):
        yield Site(page_url=page_server.url, api_url=api.url, proxy=proxy, log=log)


def _open(browser: Browser, where: Site) -> Page:
    page = browser.new_page()
    page.goto(where.page_url)
    return page


def _seen(page: Page) -> dict[str, Any]:
    seen: dict[str, Any] = page.evaluate("window.seen")
    return seen


def test_plain_message_eventsource_cut_mid_answer_shows_the_whole_answer_once(
    browser: Browser, tmp_path: Path, upstream_base_url: str, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=CHUNKS, chunk_delay=0.03))
    with site(tmp_path, upstream_base_url, cuts=1) as where:
        page = _open(browser, where)
        url = f"{where.proxy.url}/chat/streaming?{urlencode({'message': 'tell me'})}"
        page.evaluate("([url]) => window.startStream(url, true)", [url])
        page.wait_for_function("window.seen.done !== null", timeout=WAIT_MS)
        seen = _seen(page)
        answer = page.locator("#answer").inner_text()
        page.close()
        requests = where.log.streaming()
        cuts = where.proxy.cuts_done

    assert cuts == 1
    names = [event[0] for event in seen["events"]]
    cut_at = names.index("onerror")
    assert "token" in names[:cut_at], "tokens before the cut"
    assert "token" in names[cut_at:], "tokens after the cut"
    assert answer == ANSWER
    assert seen["tokens"] == list(range(len(CHUNKS)))
    assert seen["done"]["response"] == ANSWER
    assert len(upstream.requests) == 1
    # The reconnect named the server-made stream in its Last-Event-ID.
    assert [r[2] for r in requests] == [200, 200]
    stream_id = seen["done"]["stream_id"]
    assert str(requests[1][3]).startswith(f"{stream_id}:")


@pytest.mark.parametrize("stream_id", [None, "page-chosen-0001"], ids=["server-named", "own-id"])
def test_eventsource_left_open_after_done_is_stopped_by_204(
    browser: Browser,
    tmp_path: Path,
    upstream_base_url: str,
    upstream: UpstreamEmulator,
    stream_id: str | None,
) -> None:
    """The page does not call close(): the browser reconnects once, gets 204, stops.
    Before, with its own stream_id it got start + done again every `retry` ms."""
    upstream.enqueue(Scenario(chunks=CHUNKS[:5]))
    query = {"message": "hi"} | ({"stream_id": stream_id} if stream_id else {})
    with site(tmp_path, upstream_base_url, cuts=0) as where:
        page = _open(browser, where)
        url = f"{where.proxy.url}/chat/streaming?{urlencode(query)}"
        page.evaluate("([url]) => window.startStream(url, false)", [url])
        page.wait_for_function("window.source.readyState === EventSource.CLOSED", timeout=WAIT_MS)
        seen = _seen(page)
        answer = page.locator("#answer").inner_text()
        page.close()
        requests = where.log.streaming()

    assert (seen["starts"], seen["dones"]) == (1, 1)
    assert answer == "".join(CHUNKS[:5])
    done_id = "done" if stream_id else f"{seen['done']['stream_id']}:done"
    assert [(r[2], r[3]) for r in requests] == [(200, None), (204, done_id)]
    assert len(upstream.requests) == 1


def test_page_with_an_api_key_streams_through_a_ticket_and_survives_a_cut(
    browser: Browser, tmp_path: Path, upstream_base_url: str, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=CHUNKS, chunk_delay=0.03))
    with site(tmp_path, upstream_base_url, cuts=1, chatwait_api_keys=f"owner:{KEY}") as where:
        page = _open(browser, where)
        stream_id = page.evaluate(
            "([api, proxy, key]) => window.mintAndStream(api, proxy, key, 'tell me')",
            [where.api_url, where.proxy.url, KEY],
        )
        page.wait_for_function("window.seen.done !== null", timeout=WAIT_MS)
        seen = _seen(page)
        answer = page.locator("#answer").inner_text()
        page.close()
        requests = where.log.streaming()
        cuts = where.proxy.cuts_done

    assert cuts == 1
    assert answer == ANSWER
    assert seen["tokens"] == list(range(len(CHUNKS)))
    assert seen["done"]["stream_id"] == stream_id
    assert len(upstream.requests) == 1
    # Both the start and the reconnect were accepted on the ticket alone.
    assert [r[2] for r in requests] == [200, 200]
    assert str(requests[1][3]).isdigit()
    assert not any(r[2] == 401 for r in where.log.requests)
