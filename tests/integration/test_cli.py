"""`chatwait-api` as a user starts it: a real process, configured by its environment."""

from __future__ import annotations

import subprocess
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
from tests.support.waiting import eventually


async def test_console_script_serves_the_api_and_logs_one_line_per_request(
    tmp_path: Path, upstream_base_url: str
) -> None:
    port = free_port()
    secret_text = "my-private-question-42"
    key = "sk-cli-SECRET-9a8b7c"
    env = api_environment(
        tmp_path, LLM_BASE_URL=upstream_base_url, LLM_API_KEY=key, OFFLINE_TOKEN_DELAY_SECONDS="0"
    )
    with ServerProcess(
        chatwait_api_command("--host", "127.0.0.1", "--port", str(port)), env=env, port=port
    ) as process:
        async with httpx.AsyncClient(base_url=process.url, timeout=20) as http:
            health = (await http.get("/health")).json()
            response = await http.get(
                "/chat/streaming",
                params={"message": secret_text},
                headers={"X-Request-ID": "cli-req-1"},
            )
        # The access line of a stream is written once its response has ended, which
        # can be just after the client has read the last event.
        await eventually(
            lambda: "path=/chat/streaming" in process.read_logs(), what="the access log line"
        )
        logs = process.read_logs()

    assert health["provider"] == "openai-compatible"
    assert response.status_code == 200
    assert "method=GET path=/chat/streaming status=200" in logs
    assert "request_id=cli-req-1" in logs
    assert secret_text not in logs, "query strings (user messages) must not be logged"
    assert key not in logs


async def test_console_script_without_configuration_runs_the_offline_model(
    tmp_path: Path,
) -> None:
    port = free_port()
    with ServerProcess(
        chatwait_api_command("--port", str(port)),
        env=api_environment(tmp_path, OFFLINE_TOKEN_DELAY_SECONDS="0"),
        port=port,
    ) as process:
        async with httpx.AsyncClient(base_url=process.url, timeout=20) as http:
            health = (await http.get("/health")).json()
            answer = (await http.post("/chat/wait", json={"message": "hello"})).json()

    assert health["provider"] == "offline"
    assert "offline" in answer["response"]


@pytest.mark.parametrize(
    ("stores", "named"),
    [
        ({}, "STREAM_STORE_URL=memory://"),
        ({"STREAM_STORE_URL": "redis://127.0.0.1:1/0"}, "SESSION_STORE_URL=sqlite://"),
    ],
    ids=["memory-streams", "sqlite-sessions"],
)
def test_several_workers_refuse_stores_one_process_owns(
    tmp_path: Path, stores: dict[str, str], named: str
) -> None:
    completed = subprocess.run(
        chatwait_api_command("--port", str(free_port()), "--workers", "2"),
        env=api_environment(tmp_path, **stores),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert completed.returncode == 2
    assert completed.stdout == ""
    message = completed.stderr.strip()
    assert message.count("\n") == 0, message
    assert named in message
    assert "Traceback" not in message


async def test_several_workers_start_on_redis_stores(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    port = free_port()
    env = api_environment(
        tmp_path,
        STREAM_STORE_URL=redis_server.url,
        SESSION_STORE_URL=redis_server.url,
        OFFLINE_TOKEN_DELAY_SECONDS="0",
    )
    with ServerProcess(
        chatwait_api_command("--port", str(port), "--workers", "2"), env=env, port=port
    ) as process:
        async with httpx.AsyncClient(base_url=process.url, timeout=20) as http:
            answer = await http.post("/chat/wait", json={"message": "hello"})

    assert answer.status_code == 200
