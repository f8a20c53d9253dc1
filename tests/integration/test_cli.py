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
        # The access line is written once the response has ended, which may be just
        # after the client has read its last byte.
        await eventually(
            lambda: "path=/chat/streaming status=200" in process.read_logs(),
            what="the access log line of the stream",
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


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`chatwait-api ARGS` to completion (for commands that exit by themselves)."""
    return subprocess.run(
        chatwait_api_command(*args),
        env=api_environment(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_protected_mode_refuses_a_public_host_without_keys(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--host", "0.0.0.0", "--port", str(free_port()))

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "CHATWAIT_API_KEYS" in lines[0]
    assert "CHATWAIT_ALLOW_ANONYMOUS=true" in lines[0]
    assert "Traceback" not in result.stderr


async def test_protected_mode_allows_a_public_host_with_keys_or_when_opted_out(
    tmp_path: Path,
) -> None:
    for env in (
        {"CHATWAIT_API_KEYS": "alice:sk-alice-0123456789abcdef"},
        {"CHATWAIT_ALLOW_ANONYMOUS": "true"},
    ):
        port = free_port()
        with ServerProcess(
            chatwait_api_command("--host", "0.0.0.0", "--port", str(port)),
            env=api_environment(tmp_path, **env),
            port=port,
        ) as process:
            async with httpx.AsyncClient(base_url=process.url, timeout=20) as http:
                assert (await http.get("/health")).status_code == 200


def test_a_bad_keys_file_line_stops_startup_naming_the_line_not_the_key(tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("alice:sk-alice-0123456789abcdef\nbob:tooshort-SECRET\n", encoding="utf-8")

    result = run_cli(tmp_path, "--port", str(free_port()), CHATWAIT_API_KEYS_FILE=str(keys))

    assert result.returncode == 2
    assert "line 2" in result.stderr
    assert "tooshort-SECRET" not in result.stderr
    assert "Traceback" not in result.stderr


async def test_keygen_prints_a_key_whose_file_line_admits_it(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "keygen", "carol")
    printed = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    key, file_line = printed["key"].strip(), printed["file line"].strip()
    keys = tmp_path / "keys.txt"
    keys.write_text(file_line + "\n", encoding="utf-8")

    port = free_port()
    with ServerProcess(
        chatwait_api_command("--port", str(port)),
        env=api_environment(tmp_path, CHATWAIT_API_KEYS_FILE=str(keys)),
        port=port,
    ) as process:
        async with httpx.AsyncClient(base_url=process.url, timeout=20) as http:
            me = await http.get("/me", headers={"Authorization": f"Bearer {key}"})

    assert result.returncode == 0
    assert file_line.startswith("carol:sha256:")
    assert key not in file_line
    assert me.json() == {"principal": "carol", "auth": "api_key"}


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
