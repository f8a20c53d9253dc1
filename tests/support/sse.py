"""A strict little Server-Sent Events reader for tests.

It reads the raw bytes of a real HTTP response and splits them by the SSE rules
(events end at a blank line; `field: value` lines; `:` starts a comment), so tests see
exactly what a browser would, including comment pings and the `retry:` field.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class SSEEvent:
    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None
    comments: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.data)


def _parse_block(lines: list[str]) -> SSEEvent | None:
    event = SSEEvent()
    data_lines: list[str] = []
    seen_field = False
    for line in lines:
        if line.startswith(":"):
            event.comments.append(line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        seen_field = True
        if name == "event":
            event.event = value
        elif name == "data":
            data_lines.append(value)
        elif name == "id":
            event.id = value
        elif name == "retry":
            event.retry = int(value)
    event.data = "\n".join(data_lines)
    if not seen_field and not event.comments:
        return None
    return event


async def iter_sse(response: httpx.Response) -> AsyncIterator[SSEEvent]:
    """Every event and comment block of a streaming response, as it arrives."""
    buffer = ""
    async for text in response.aiter_text():
        buffer += text.replace("\r\n", "\n").replace("\r", "\n")
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            parsed = _parse_block(block.split("\n"))
            if parsed is not None:
                yield parsed


def data_events(events: list[SSEEvent]) -> list[SSEEvent]:
    """The events that carry data (pings and other comment-only blocks removed)."""
    return [e for e in events if e.data or e.event != "message"]


async def collect_sse(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    stop_after: int | None = None,
    **kwargs: Any,
) -> tuple[httpx.Response, list[SSEEvent]]:
    """Read a stream to its end (or until `stop_after` token events, then disconnect)."""
    events: list[SSEEvent] = []
    async with client.stream(method, url, **kwargs) as response:
        if response.status_code != 200:
            await response.aread()
            return response, events
        tokens = 0
        async for event in iter_sse(response):
            events.append(event)
            if event.event == "token":
                tokens += 1
                if stop_after is not None and tokens >= stop_after:
                    break
            if event.event in ("done", "error"):
                break
    return response, events


def token_texts(events: list[SSEEvent]) -> list[str]:
    return [e.json()["text"] for e in events if e.event == "token"]
