"""An upstream 400 (e.g. context too long) is `upstream_rejected`, not retryable.

Before the fix it was a generic, retryable `upstream_error`, so clients retried a
request that could only fail again.
"""

from __future__ import annotations

import httpx
import pytest

from tests.integration.conftest import UPSTREAM_KEY
from tests.support.sse import collect_sse
from tests.support.upstream_emulator import Scenario, UpstreamEmulator


@pytest.mark.parametrize("status", [400, 413, 422])
async def test_wait_answers_upstream_rejected_for_an_upstream_client_error(
    client: httpx.AsyncClient, upstream: UpstreamEmulator, status: int
) -> None:
    upstream.enqueue(Scenario(status=status))

    response = await client.post("/chat/wait", json={"message": "a very long conversation"})

    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "upstream_rejected"
    assert "Emulated upstream error" not in error["message"]
    assert UPSTREAM_KEY not in response.text


async def test_stream_ends_with_a_non_retryable_upstream_rejected_event(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(status=400))

    response, events = await collect_sse(client, "GET", "/chat/streaming", params={"message": "x"})

    assert response.status_code == 200
    assert events[-1].event == "error"
    assert events[-1].json()["code"] == "upstream_rejected"
    assert events[-1].json()["retryable"] is False
