"""Several API processes sharing Redis: no sticky sessions, crashes, restarts, outages.

Each "worker" here is a real `chatwait-api` process on its own port, all pointed at one
redis-server and one upstream emulator, exactly as instances behind a load balancer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.support.redis_server import RedisServer
from tests.support.servers import (
    ServerProcess,
    api_environment,
    chatwait_api_command,
    free_port,
)
from tests.support.sse import collect_sse, token_texts
from tests.support.upstream_emulator import Scenario, UpstreamEmulator
from tests.support.waiting import eventually

ApiFactory = Callable[..., ServerProcess]


@pytest.fixture
def start_api(
    tmp_path: Path, redis_server: RedisServer, upstream_base_url: str
) -> Iterator[ApiFactory]:
    """Start `chatwait-api` processes sharing Redis; all are stopped after the test."""
    with ExitStack() as stack:

        def start(*extra_args: str, **settings: str) -> ServerProcess:
            port = free_port()
            env = api_environment(
                tmp_path,
                LLM_BASE_URL=upstream_base_url,
                LLM_API_KEY="sk-scale-out",
                LLM_MODEL="emulated-model",
                STREAM_STORE_URL=redis_server.url,
                SESSION_STORE_URL=redis_server.url,
                **settings,
            )
            command = chatwait_api_command("--host", "127.0.0.1", "--port", str(port), *extra_args)
            return stack.enter_context(ServerProcess(command, port=port, env=env))

        yield start


def slow_answer(words: int = 40, delay: float = 0.05) -> Scenario:
    return Scenario(chunks=[f"w{i} " for i in range(words)], chunk_delay=delay)


async def test_stream_started_on_a_resumes_and_has_a_second_viewer_on_b(
    start_api: ApiFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(slow_answer())
    a, b = start_api(), start_api()
    async with httpx.AsyncClient(timeout=30) as http:
        _, first = await collect_sse(
            http,
            "GET",
            f"{a.url}/chat/streaming",
            params={"message": "go", "stream_id": "scale-res-01"},
            stop_after=5,
        )
        viewer = asyncio.create_task(
            collect_sse(
                http, "GET", f"{b.url}/chat/streaming", params={"stream_id": "scale-res-01"}
            )
        )
        _, resumed = await collect_sse(
            http,
            "GET",
            f"{b.url}/chat/streaming",
            params={"stream_id": "scale-res-01"},
            headers={"Last-Event-ID": "4"},
        )
        _, second = await viewer

    words = slow_answer().chunks
    assert token_texts(first) + token_texts(resumed) == words
    assert token_texts(second) == words
    assert resumed[-1].event == "done"
    assert len(upstream.requests) == 1


async def test_cancel_on_b_stops_the_run_producing_on_a(
    start_api: ApiFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(slow_answer(words=400))
    a, b = start_api(), start_api()
    async with httpx.AsyncClient(timeout=30) as http:
        viewer = asyncio.create_task(
            collect_sse(
                http,
                "GET",
                f"{a.url}/chat/streaming",
                params={"message": "go", "stream_id": "scale-can-01"},
            )
        )
        await eventually(lambda: upstream.streams_started == 1, what="the run on A")

        response = await http.delete(f"{b.url}/chat/streaming/scale-can-01")
        _, events = await asyncio.wait_for(viewer, 10)

    assert response.status_code == 204
    assert events[-1].json()["code"] == "cancelled"
    await eventually(
        lambda: upstream.streams_closed_by_client == 1, what="A to close the upstream stream"
    )


async def test_killing_the_producer_gives_viewers_producer_lost(
    start_api: ApiFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(slow_answer(words=400))
    lease = {"STREAM_PRODUCER_LEASE_SECONDS": "1"}
    a, b = start_api(**lease), start_api(**lease)
    async with httpx.AsyncClient(timeout=30) as http:
        await collect_sse(
            http,
            "GET",
            f"{a.url}/chat/streaming",
            params={"message": "go", "stream_id": "scale-kill-1"},
            stop_after=3,
        )
        viewer = asyncio.create_task(
            collect_sse(
                http, "GET", f"{b.url}/chat/streaming", params={"stream_id": "scale-kill-1"}
            )
        )
        await asyncio.sleep(0.3)
        a.kill()
        _, events = await asyncio.wait_for(viewer, 10)
        _, later = await collect_sse(
            http,
            "GET",
            f"{b.url}/chat/streaming",
            params={"stream_id": "scale-kill-1"},
            headers={"Last-Event-ID": "0"},
        )

    assert events[-1].event == "error"
    assert events[-1].json() == {
        "code": "producer_lost",
        "message": events[-1].json()["message"],
        "retryable": True,
    }
    assert later[-1].json()["code"] == "producer_lost"


async def test_finished_streams_and_history_survive_a_full_restart(
    start_api: ApiFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=["kept ", "after ", "restart"]))
    first = start_api()
    async with httpx.AsyncClient(timeout=30) as http:
        await collect_sse(
            http,
            "GET",
            f"{first.url}/chat/streaming",
            params={"message": "remember", "stream_id": "scale-rst-01", "conversation_id": "keep"},
        )
        first.stop()

        second = start_api()
        _, resumed = await collect_sse(
            http,
            "GET",
            f"{second.url}/chat/streaming",
            params={"stream_id": "scale-rst-01"},
            headers={"Last-Event-ID": "0"},
        )
        history = (await http.get(f"{second.url}/conversations/keep")).json()

    assert token_texts(resumed) == ["after ", "restart"]
    assert history["messages"] == [
        {"role": "user", "content": "remember"},
        {"role": "assistant", "content": "kept after restart"},
    ]


async def test_conversation_continues_across_processes(
    start_api: ApiFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(text="Hi Ada."), Scenario(text="You are Ada."))
    a, b = start_api(), start_api()
    async with httpx.AsyncClient(timeout=30) as http:
        await http.post(
            f"{a.url}/chat/wait", json={"message": "I am Ada.", "conversation_id": "x-proc"}
        )
        await http.post(
            f"{b.url}/chat/wait", json={"message": "Who am I?", "conversation_id": "x-proc"}
        )

    sent = [(m["role"], m["content"]) for m in upstream.requests[-1].body["messages"]]
    assert sent[-3:] == [("user", "I am Ada."), ("assistant", "Hi Ada."), ("user", "Who am I?")]


async def test_busy_conversation_is_refused_by_another_process(
    start_api: ApiFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(slow_answer())
    a, b = start_api(), start_api()
    async with httpx.AsyncClient(timeout=30) as http:
        running = asyncio.create_task(
            collect_sse(
                http,
                "GET",
                f"{a.url}/chat/streaming",
                params={"message": "long", "conversation_id": "x-busy"},
            )
        )
        await eventually(lambda: upstream.streams_started == 1, what="the turn on A")
        refused = await http.post(
            f"{b.url}/chat/wait", json={"message": "now", "conversation_id": "x-busy"}
        )
        await running

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "conversation_busy"


async def test_workers_option_serves_streams_from_any_worker(
    start_api: ApiFactory, upstream: UpstreamEmulator
) -> None:
    upstream.default_scenario = Scenario(chunks=[f"t{i} " for i in range(10)], chunk_delay=0.01)
    api = start_api("--workers", "2")
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        for n in range(6):
            stream_id = f"workers-{n:04d}"
            await collect_sse(
                http, "GET", "/chat/streaming", params={"message": "go", "stream_id": stream_id}
            )
            # Each resume is a new connection: the kernel spreads them over the workers.
            for last in (2, 7):
                async with httpx.AsyncClient(base_url=api.url, timeout=30) as fresh:
                    _, events = await collect_sse(
                        fresh,
                        "GET",
                        "/chat/streaming",
                        params={"stream_id": stream_id},
                        headers={"Last-Event-ID": str(last)},
                    )
                assert len(token_texts(events)) == 9 - last
                assert events[-1].event == "done"

    assert len(upstream.requests) == 6


async def test_redis_outage_fails_fast_with_503_and_recovers(
    start_api: ApiFactory, upstream: UpstreamEmulator, redis_server: RedisServer
) -> None:
    api = start_api()
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        assert (await http.get("/health/ready")).status_code == 200
        redis_server.stop()

        ready = await http.get("/health/ready")
        started = asyncio.get_running_loop().time()
        wait = await http.post("/chat/wait", json={"message": "hi"})
        stream = await http.get("/chat/streaming", params={"message": "hi"})
        elapsed = asyncio.get_running_loop().time() - started

        redis_server.start()
        for _ in range(50):
            if (await http.get("/health/ready")).status_code == 200:
                break
            await asyncio.sleep(0.1)
        recovered = await http.post("/chat/wait", json={"message": "back?"})

    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert wait.status_code == 503
    assert wait.json()["error"]["code"] == "store_unavailable"
    assert stream.status_code == 503
    assert stream.json()["error"]["code"] == "store_unavailable"
    assert elapsed < 10, "requests must fail fast while Redis is down, not hang"
    assert recovered.status_code == 200


async def test_redis_outage_under_load_ends_open_streams_with_an_error_event(
    start_api: ApiFactory, upstream: UpstreamEmulator, redis_server: RedisServer
) -> None:
    upstream.default_scenario = slow_answer(words=200)
    api = start_api()
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        streams = [
            asyncio.create_task(
                collect_sse(http, "GET", "/chat/streaming", params={"message": f"load {n}"})
            )
            for n in range(5)
        ]
        await eventually(lambda: upstream.streams_started == 5, what="five runs")
        redis_server.stop()
        results = await asyncio.wait_for(asyncio.gather(*streams), 30)
        redis_server.start()
        for _ in range(50):
            if (await http.get("/health/ready")).status_code == 200:
                break
            await asyncio.sleep(0.1)
        upstream.default_scenario = Scenario(chunks=["ok"])
        _, after = await collect_sse(http, "GET", "/chat/streaming", params={"message": "again"})

    for _, events in results:
        assert events[-1].event == "error"
        assert events[-1].json()["code"] == "store_unavailable"
    assert after[-1].event == "done", after[-1].data


KEYS = "alice:sk-alice-0123456789abcdef,bob:sk-bob-fedcba9876543210"
ALICE = {"Authorization": "Bearer sk-alice-0123456789abcdef"}
BOB = {"Authorization": "Bearer sk-bob-fedcba9876543210"}


async def test_a_principals_stream_is_its_own_on_every_instance(
    start_api: ApiFactory, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(slow_answer(words=10, delay=0.02))
    a, b = start_api(CHATWAIT_API_KEYS=KEYS), start_api(CHATWAIT_API_KEYS=KEYS)
    async with httpx.AsyncClient(timeout=30) as http:
        params = {"message": "go", "stream_id": "owned-scale-1"}
        _, started = await collect_sse(
            http, "GET", f"{a.url}/chat/streaming", params=params, headers=ALICE
        )
        _, alices = await collect_sse(
            http,
            "GET",
            f"{b.url}/chat/streaming",
            params={"stream_id": "owned-scale-1"},
            headers={**ALICE, "Last-Event-ID": "4"},
        )
        bobs = await http.get(
            f"{b.url}/chat/streaming", params={"stream_id": "owned-scale-1"}, headers=BOB
        )
        bob_cancel = await http.delete(f"{b.url}/chat/streaming/owned-scale-1", headers=BOB)

    assert token_texts(alices) == token_texts(started)[5:]
    assert bobs.status_code == bob_cancel.status_code == 404


async def test_concurrent_run_limit_is_shared_and_a_crashed_instances_slot_expires(
    start_api: ApiFactory, upstream: UpstreamEmulator
) -> None:
    """A principal holding its one run on instance A is refused on B; when A dies
    mid-run, its slot frees itself once the lease lapses (not held forever)."""
    upstream.enqueue(slow_answer(words=400, delay=0.05))
    upstream.default_scenario = Scenario(text="after")
    limit = {"MAX_CONCURRENT_RUNS": "1", "STREAM_PRODUCER_LEASE_SECONDS": "1"}
    a, b = start_api(**limit), start_api(**limit)
    async with httpx.AsyncClient(timeout=30) as http:
        running = asyncio.create_task(
            collect_sse(http, "GET", f"{a.url}/chat/streaming", params={"message": "long"})
        )
        await eventually(lambda: upstream.streams_started == 1, what="the run on A")
        refused = await http.post(f"{b.url}/chat/wait", json={"message": "on b"})
        a.kill()
        with contextlib.suppress(httpx.HTTPError):
            await running

        async def b_admits() -> bool:
            response = await http.post(f"{b.url}/chat/wait", json={"message": "again"})
            return response.status_code == 200

        admitted = False
        for _ in range(50):
            admitted = await b_admits()
            if admitted:
                break
            await asyncio.sleep(0.2)

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_runs"
    assert admitted
