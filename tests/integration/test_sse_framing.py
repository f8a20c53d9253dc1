"""The bytes of an SSE response: every line ends with a bare LF.

Regression test of issue 11: lines ended with CRLF. A proxy may split `\\r` from `\\n`
across reads, and clients that split each read into lines (requests-sse uses
`bytes.splitlines()`) then see an empty line between a field and its CR and lose every
event type.
"""

from __future__ import annotations

import httpx
import pytest

from tests.support.upstream_emulator import Scenario, UpstreamEmulator


@pytest.mark.parametrize("store_kind", ["memory"])
async def test_sse_lines_end_with_lf_only_in_events_and_pings(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    """The first byte comes after a ping interval (1 s in tests), so a ping is framed too."""
    upstream.enqueue(Scenario(chunks=["Hel", "lo"], first_byte_delay=1.5))

    params = {"message": "hi", "stream_id": "lf-framing-01"}
    async with client.stream("GET", "/chat/streaming", params=params) as response:
        raw = await response.aread()

    assert b"\r" not in raw
    blocks = raw.decode().split("\n\n")
    assert blocks[-1] == ""
    assert blocks[0].startswith("id: start\nevent: start\ndata: {")
    assert any(block.startswith(": ping") for block in blocks), "a ping comment block"
    assert blocks[-2].startswith("id: done\nevent: done\ndata: {")
    assert [b for b in blocks if b.startswith("id: ") and "event: token" in b] == [
        'id: 0\nevent: token\ndata: {"index":0,"text":"Hel"}',
        'id: 1\nevent: token\ndata: {"index":1,"text":"lo"}',
    ]
