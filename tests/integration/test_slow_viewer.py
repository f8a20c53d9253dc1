"""A viewer that stops reading is dropped with a resumable close; nobody else waits.

The slow viewer is a real socket with a tiny receive buffer that reads the response
headers and then nothing: the server's buffers fill, its sends stall, and after
SSE_SEND_TIMEOUT_SECONDS it is dropped. Meanwhile the producer finishes normally and
another viewer reads the whole answer; the dropped client reads what was buffered,
finds the connection closed without a final event, and resumes with Last-Event-ID.
"""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

import httpx

from tests.integration.conftest import BackendFactory
from tests.support.sse import SSEEvent, _parse_block, collect_sse, token_texts
from tests.support.upstream_emulator import Scenario, UpstreamEmulator

# 8 MiB of answer: more than the kernel's socket buffers can hold for a silent reader.
CHUNK = "x" * 4095 + " "
CHUNKS = 2048


def open_silent_viewer(url: str, stream_id: str) -> socket.socket:
    """Start the stream on a raw socket that reads only the response headers."""
    parts = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((parts.hostname, parts.port))
    sock.sendall(
        f"GET /chat/streaming?message=big&stream_id={stream_id} HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 200"), head
    return sock


def read_to_eof(sock: socket.socket) -> bytes:
    sock.settimeout(30)
    received = bytearray()
    while chunk := sock.recv(65536):
        received += chunk
    return bytes(received)


def sse_events(chunked_body: bytes) -> list[SSEEvent]:
    """The complete events in a (chunked) HTTP body; chunk-size lines are skipped."""
    text = chunked_body.decode("utf-8", "replace")
    events = []
    for block in text.split("\n\n"):
        lines = [line for line in block.split("\n") if ":" in line or not line.strip()]
        parsed = _parse_block([line.rstrip("\r") for line in lines if line])
        if parsed is not None and parsed.event in ("token", "done", "error"):
            events.append(parsed)
    return events


async def test_a_viewer_that_stops_reading_is_dropped_and_can_resume(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=[CHUNK] * CHUNKS, chunk_delay=0.001))
    upstream.default_scenario = Scenario(text="small")
    with make_backend(sse_send_timeout_seconds=1.0, max_open_streams=2) as server:
        silent = await asyncio.to_thread(open_silent_viewer, server.url, "slow-view-01")
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
                _, other = await collect_sse(
                    http, "GET", "/chat/streaming", params={"stream_id": "slow-view-01"}
                )
                # The producer and the reading viewer were not held up.
                assert other[-1].event == "done", other[-1]
                assert len(token_texts(other)) == CHUNKS

                # The silent viewer was dropped: its open-stream slot is free again.
                for _ in range(100):
                    response, events = await collect_sse(
                        http, "GET", "/chat/streaming", params={"message": "next"}
                    )
                    if response.status_code == 200:
                        break
                    assert response.json()["error"]["code"] == "server_busy"
                    await asyncio.sleep(0.1)
                assert events[-1].event == "done"

                # It gets what was buffered, then the connection closes without an end…
                received = sse_events(await asyncio.to_thread(read_to_eof, silent))
                assert received
                assert all(event.event == "token" for event in received)
                assert len(received) < CHUNKS
                # …and resuming after the last token it saw completes the answer.
                last_id = received[-1].id
                assert last_id is not None
                _, rest = await collect_sse(
                    http,
                    "GET",
                    "/chat/streaming",
                    params={"stream_id": "slow-view-01"},
                    headers={"Last-Event-ID": last_id},
                )
        finally:
            silent.close()
    assert len(received) + len(token_texts(rest)) == CHUNKS
    assert rest[-1].event == "done"
