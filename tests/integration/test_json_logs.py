"""LOG_FORMAT=json on a real `chatwait-api` process: every line parses, ids included.

Before the fix LOG_FORMAT was ignored and every line was free text, so log shippers
needed parsing rules and lost the request, stream and conversation ids.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.support.servers import ServerProcess, api_environment, chatwait_api_command, free_port
from tests.support.sse import collect_sse
from tests.support.upstream_emulator import Scenario, UpstreamEmulator

KEY = "sk-jsonlog-SECRET-7d1e"


def _json_lines(logs: str) -> list[dict[str, Any]]:
    entries = []
    for line in logs.splitlines():
        if line.strip():
            entries.append(json.loads(line))  # fails the test on any non-JSON line
    return entries


async def test_every_log_line_is_json_with_the_request_fields(
    tmp_path: Path, upstream_base_url: str, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(text="fine"), Scenario(chunks=["a ", "b"]), Scenario(status=500))
    port = free_port()
    env = api_environment(
        tmp_path,
        LLM_BASE_URL=upstream_base_url,
        LLM_API_KEY=KEY,
        LLM_MODEL="emulated-model",
        LOG_FORMAT="json",
    )
    command = chatwait_api_command("--host", "127.0.0.1", "--port", str(port))
    with ServerProcess(command, port=port, env=env) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            waited = await http.post("/chat/wait", json={"message": "hi"})
            _, events = await collect_sse(
                http,
                "GET",
                "/chat/streaming",
                params={"message": "go", "stream_id": "str-jsonlog-0001"},
            )
            failed = await http.post("/chat/wait", json={"message": "fail"})
        server.stop()
        logs = server.read_logs()
    entries = _json_lines(logs)

    assert KEY not in logs
    for entry in entries:
        assert {"timestamp", "level", "logger", "message"} <= entry.keys()
    access = [e for e in entries if e["logger"] == "chatwait.access"]
    wait_line = next(e for e in access if e["request_id"] == waited.headers["x-request-id"])
    assert wait_line["status"] == 200
    assert wait_line["path"] == "/chat/wait"
    assert isinstance(wait_line["duration_ms"], float)
    assert wait_line["principal"] == "local"
    assert wait_line["conversation_id"] == waited.json()["conversation_id"]
    stream_line = next(e for e in access if e.get("stream_id") == "str-jsonlog-0001")
    assert stream_line["conversation_id"] == events[0].json()["conversation_id"]
    assert stream_line["status"] == 200
    warning = next(e for e in entries if e["message"] == "upstream answered HTTP 500")
    assert warning["request_id"] == failed.headers["x-request-id"]
    assert warning["level"] == "WARNING"
