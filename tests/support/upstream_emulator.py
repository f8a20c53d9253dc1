"""An OpenAI-compatible Chat Completions server that tests steer, served over real HTTP.

ChatWait's tests never fake the model path: the backend's real `AsyncOpenAI` client,
driven by the Agents SDK's `OpenAIChatCompletionsModel` and `Runner`, talks HTTP to
this emulator. It answers `POST /v1/chat/completions` the way OpenAI does (JSON, or
`data:` chunks with `[DONE]` and an optional usage chunk), and each test scripts what
the next calls do with `Scenario`s: exact deltas, pace, HTTP errors with Retry-After, a
connection cut mid-stream, a hang, malformed `data:`, a JSON answer to a stream
request. It records every request and counts how streams ended, so a test can prove
"no second model call" or "cancel closed the upstream".

    emulator.enqueue(Scenario(chunks=["Hel", "lo"], chunk_delay=0.05))
    emulator.enqueue(Scenario(status=429, retry_after="7"))

Run alone (for the benchmark or by hand): `python -m tests.support.upstream_emulator`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

# A "hang" never answers, but a bounded never: the server thread must still stop.
HANG_SECONDS = 60.0

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_api_key",
    403: "permission_denied",
    404: "not_found",
    429: "rate_limit_exceeded",
}


@dataclass
class Scenario:
    """What the emulator does for one chat completion request."""

    text: str | None = None
    chunks: list[str] | None = None
    chunk_delay: float = 0.0
    first_byte_delay: float = 0.0
    status: int | None = None
    retry_after: str | None = None
    cut_after: int | None = None
    hang_after: int | None = None
    hang: bool = False
    usage: tuple[int, int] | None = None
    # Stream these `data:` payloads verbatim (malformed JSON, say) instead of chunks.
    raw_data: list[str] | None = None
    # Answer a streaming request with a whole JSON completion, as a misbehaving
    # provider or proxy does.
    ignore_stream: bool = False

    def deltas_for(self, last_user_message: str) -> list[str]:
        if self.chunks is not None:
            return list(self.chunks)
        text = self.text if self.text is not None else f"Echo: {last_user_message}"
        return re.findall(r"\S+\s*|\s+", text)


@dataclass
class RecordedRequest:
    body: dict[str, Any]
    headers: dict[str, str]


class _CutConnection(Exception):
    """Raised inside a streaming body: uvicorn then drops the connection mid-response."""


@dataclass
class UpstreamEmulator:
    """The emulator's state; the app runs in a server thread, tests read it from theirs."""

    default_scenario: Scenario = field(default_factory=Scenario)
    model_names: list[str] = field(default_factory=lambda: ["emulated-model"])
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _queue: deque[Scenario] = field(default_factory=deque)
    _requests: list[RecordedRequest] = field(default_factory=list)
    streams_started: int = 0
    streams_completed: int = 0
    streams_closed_by_client: int = 0

    # --- steering and inspection (test side) --------------------------------------
    def enqueue(self, *scenarios: Scenario) -> None:
        with self._lock:
            self._queue.extend(scenarios)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self.default_scenario = Scenario()
            self.streams_started = self.streams_completed = self.streams_closed_by_client = 0

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def wait_until(self, predicate: Any, timeout: float = 5.0) -> None:
        """Block until `predicate()` holds (for synchronous tests)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"emulator condition not met within {timeout} s")
            time.sleep(0.01)

    # --- serving (server side) -----------------------------------------------------
    def _next(self, request: RecordedRequest) -> Scenario:
        with self._lock:
            self._requests.append(request)
            return self._queue.popleft() if self._queue else self.default_scenario

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat_completions, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )

    async def _models(self, request: Request) -> Response:
        data = [
            {"id": name, "object": "model", "owned_by": "emulator"} for name in self.model_names
        ]
        return JSONResponse({"object": "list", "data": data})

    async def _chat_completions(self, request: Request) -> Response:
        body = await request.json()
        scenario = self._next(RecordedRequest(body=body, headers=dict(request.headers)))
        if scenario.hang:
            await _sleep_until_disconnected(request, HANG_SECONDS)
            return Response(status_code=504)
        if scenario.first_byte_delay:
            await asyncio.sleep(scenario.first_byte_delay)
        if scenario.status is not None:
            return _error_response(scenario, request)
        model = str(body.get("model", "emulated-model"))
        deltas = scenario.deltas_for(_last_user_message(body.get("messages", [])))
        prompt_tokens, completion_tokens = scenario.usage or (11, len(deltas))
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        if scenario.raw_data is not None:
            raw = "".join(f"data: {data}\n\n" for data in scenario.raw_data)
            return Response(raw, media_type="text/event-stream")
        if not body.get("stream") or scenario.ignore_stream:
            # json.dumps escapes to ASCII, so scripted text may hold a lone surrogate.
            completion = json.dumps(_completion(model, "".join(deltas), usage))
            return Response(completion, media_type="application/json")
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return StreamingResponse(
            self._stream(request, scenario, model, deltas, usage if include_usage else None),
            media_type="text/event-stream",
        )

    async def _stream(
        self,
        request: Request,
        scenario: Scenario,
        model: str,
        deltas: list[str],
        usage: dict[str, int] | None,
    ) -> AsyncIterator[bytes]:
        self._count("streams_started")
        finished = False
        try:
            yield _sse(_chunk(model, {"role": "assistant", "content": ""}))
            for sent, delta in enumerate(deltas):
                if scenario.cut_after is not None and sent == scenario.cut_after:
                    # The cut comes one chunk_delay after the last delta, like a real
                    # connection dying between chunks.
                    await asyncio.sleep(scenario.chunk_delay)
                    finished = True  # not the client's doing
                    raise _CutConnection("emulated connection cut")
                if scenario.hang_after is not None and sent == scenario.hang_after:
                    await asyncio.sleep(HANG_SECONDS)
                if scenario.chunk_delay and sent:
                    await asyncio.sleep(scenario.chunk_delay)
                yield _sse(_chunk(model, {"content": delta}))
            yield _sse(_chunk(model, {}, finish_reason="stop"))
            if usage is not None:
                yield _sse(_chunk(model, None, usage=usage))
            yield b"data: [DONE]\n\n"
            finished = True
            self._count("streams_completed")
        finally:
            if not finished:
                self._count("streams_closed_by_client")


async def _sleep_until_disconnected(request: Request, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not await request.is_disconnected():
        await asyncio.sleep(0.05)


def _last_user_message(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            return str(content or "")
    return ""


def _error_response(scenario: Scenario, request: Request) -> Response:
    status = scenario.status or 500
    message = f"Emulated upstream error {status}"
    if status == 401:
        # Real OpenAI echoes (part of) the key it got; ChatWait must never pass it on.
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        message = f"Incorrect API key provided: {key}"
    headers = {"Retry-After": scenario.retry_after} if scenario.retry_after else None
    body = {
        "error": {
            "message": message,
            "type": _ERROR_TYPES.get(status, "server_error"),
            "code": status,
        }
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _completion(model: str, text: str, usage: dict[str, int]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-emulated",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": usage,
    }


def _chunk(
    model: str,
    delta: dict[str, Any] | None,
    *,
    finish_reason: str | None = None,
    usage: dict[str, int] | None = None,
) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "id": "chatcmpl-emulated",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": []
        if delta is None
        else [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
    }
    if usage is not None:
        chunk["usage"] = usage
    return chunk


def _sse(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Serve the OpenAI-compatible upstream emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--chunks", type=int, default=0, help="answer with N word chunks")
    parser.add_argument("--chunk-delay", type=float, default=0.0)
    args = parser.parse_args()
    emulator = UpstreamEmulator()
    if args.chunks:
        emulator.default_scenario = Scenario(
            chunks=[f"word{i} " for i in range(args.chunks)], chunk_delay=args.chunk_delay
        )
    uvicorn.run(emulator.app(), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
