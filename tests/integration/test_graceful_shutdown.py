"""SIGTERM with streams in flight, on real `chatwait-api` processes.

Every client gets `done` or `event: error` `server_shutting_down` (never a cut), a
request on a kept-alive connection during the grace period gets a JSON 503, new
connections are refused, the process exits within the grace period plus a few
seconds, and with Redis another instance replays what was produced and answers the
next question of the same conversation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.support.servers import ServerProcess, api_environment, chatwait_api_command, free_port
from tests.support.sse import SSEEvent, collect_sse, iter_sse, token_texts
from tests.support.upstream_emulator import Scenario, UpstreamEmulator
from tests.support.waiting import eventually

GRACE_SECONDS = 3.0
# The drain's own steps after the grace (stopping producers, farewell events, uvicorn's
# close and the stores') take about a second; this leaves room on a loaded machine.
EXIT_SLACK_SECONDS = 6.0
STREAMS = 20

ApiFactory = Callable[[], ServerProcess]


@pytest.fixture
def start_api(
    request: pytest.FixtureRequest, store_kind: str, tmp_path: Path, upstream_base_url: str
) -> Iterator[ApiFactory]:
    """Start `chatwait-api` processes on the store kind (`store_kind`, conftest.py)."""
    stores: dict[str, str] = {}
    if store_kind == "redis":
        redis = request.getfixturevalue("redis_server")
        stores = {"STREAM_STORE_URL": redis.url, "SESSION_STORE_URL": redis.url}
    with ExitStack() as stack:

        def start() -> ServerProcess:
            port = free_port()
            env = api_environment(
                tmp_path,
                LLM_BASE_URL=upstream_base_url,
                LLM_API_KEY="sk-shutdown",
                LLM_MODEL="emulated-model",
                SHUTDOWN_GRACE_SECONDS=str(GRACE_SECONDS),
                **stores,
            )
            command = chatwait_api_command("--host", "127.0.0.1", "--port", str(port))
            return stack.enter_context(ServerProcess(command, port=port, env=env))

        yield start


async def _stream_to_the_end(
    http: httpx.AsyncClient, url: str, stream_id: str, started: asyncio.Event
) -> list[SSEEvent]:
    events: list[SSEEvent] = []
    async with http.stream(
        "GET", f"{url}/chat/streaming", params={"message": "go", "stream_id": stream_id}
    ) as response:
        assert response.status_code == 200
        async for event in iter_sse(response):
            events.append(event)
            if event.event == "token":
                started.set()
            if event.event in ("done", "error"):
                break
    return events


async def test_sigterm_lets_runs_finish_then_ends_the_rest_with_server_shutting_down(
    start_api: ApiFactory, store_kind: str, upstream: UpstreamEmulator
) -> None:
    # Half the answers end within the grace period, half could not (0.2 s a word).
    quick = Scenario(chunks=[f"q{i} " for i in range(10)], chunk_delay=0.1)
    slow = Scenario(chunks=[f"s{i} " for i in range(200)], chunk_delay=0.2)
    upstream.enqueue(*[quick if i % 2 else slow for i in range(STREAMS)])
    upstream.default_scenario = Scenario(text="a new answer")
    api = start_api()
    other = start_api() if store_kind == "redis" else None

    limits = httpx.Limits(max_connections=STREAMS + 5)
    async with (
        httpx.AsyncClient(timeout=30, limits=limits) as http,
        # One kept-alive connection, opened before the signal.
        httpx.AsyncClient(
            base_url=api.url, timeout=10, limits=httpx.Limits(max_connections=1)
        ) as kept_alive,
    ):
        assert (await kept_alive.get("/health")).status_code == 200
        started = [asyncio.Event() for _ in range(STREAMS)]
        streams = [
            asyncio.create_task(_stream_to_the_end(http, api.url, f"shut-{i:04d}", started[i]))
            for i in range(STREAMS)
        ]
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in started)), 20)
        # A wait request whose answer would come long after the grace period.
        upstream.enqueue(Scenario(text="never seen", first_byte_delay=60))
        waiting = asyncio.create_task(http.post(f"{api.url}/chat/wait", json={"message": "w"}))
        await eventually(lambda: len(upstream.requests) > STREAMS, what="the wait run's call")

        api.terminate()
        signalled = time.monotonic()
        await asyncio.sleep(0.5)
        # A load balancer polling on a kept-alive connection sees the instance leave.
        readiness = await kept_alive.get("/health/ready")
        refused = await kept_alive.post("/chat/wait", json={"message": "too late"})
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient(timeout=5) as fresh:
                await fresh.get(f"{api.url}/health")

        results = await asyncio.wait_for(asyncio.gather(*streams), GRACE_SECONDS + 15)
        stopped_wait = await asyncio.wait_for(waiting, GRACE_SECONDS + 15)
        await asyncio.to_thread(api.wait, GRACE_SECONDS + EXIT_SLACK_SECONDS)
        exited_after = time.monotonic() - signalled

    assert readiness.status_code == 503, readiness.text
    assert readiness.json()["checks"]["server"] == "shutting down"
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == "server_shutting_down"
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["Connection"] == "close"

    assert stopped_wait.status_code == 503, stopped_wait.text
    assert stopped_wait.json()["error"]["code"] == "server_shutting_down"

    finals = [events[-1] for events in results]
    assert all(final.event in ("done", "error") for final in finals), finals
    errors = [final.json() for final in finals if final.event == "error"]
    assert {(e["code"], e["retryable"]) for e in errors} == {("server_shutting_down", True)}
    # The quick half finished during the grace period; the slow half was stopped.
    assert sum(final.event == "done" for final in finals) == STREAMS // 2
    assert len(errors) == STREAMS // 2
    assert exited_after < GRACE_SECONDS + EXIT_SLACK_SECONDS
    assert "Traceback" not in api.read_logs()

    if other is None:
        return
    # Another instance replays what was produced, then asks again in the conversation.
    stopped = next(i for i, final in enumerate(finals) if final.event == "error")
    stream_id = f"shut-{stopped:04d}"
    async with httpx.AsyncClient(base_url=other.url, timeout=30) as http:
        _, replay = await collect_sse(
            http, "GET", "/chat/streaming", params={"stream_id": stream_id}
        )
        assert token_texts(replay) == token_texts(results[stopped])
        assert token_texts(replay)
        assert replay[-1].event == "error"
        assert replay[-1].json()["code"] == "server_shutting_down"
        conversation_id = replay[0].json()["conversation_id"]
        _, again = await collect_sse(
            http,
            "GET",
            "/chat/streaming",
            params={"message": "go on", "conversation_id": conversation_id},
        )
        assert again[-1].event == "done", again[-1]
