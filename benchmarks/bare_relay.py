"""The floor: FastAPI + the Agents SDK + sse-starlette, and nothing else.

The benchmark compares ChatWait with this relay: the same model settings as ChatWait
(`OpenAIChatCompletionsModel` over one `AsyncOpenAI` client, include_usage, tracing
off, no retries), the same wire shape (`POST /chat/wait` JSON, `GET /chat/streaming`
SSE with `start`/`token`/`done` events), but no session, history, store, resume,
cancel, lease, middleware or validation. What ChatWait costs above it is its own.

    python -m benchmarks.bare_relay --port 8100 --upstream http://127.0.0.1:8900/v1
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator

import uvicorn
from agents import (
    Agent,
    ModelSettings,
    OpenAIChatCompletionsModel,
    Runner,
    set_tracing_disabled,
)
from fastapi import FastAPI
from openai import AsyncOpenAI
from openai.types.responses import ResponseTextDeltaEvent
from pydantic import BaseModel
from sse_starlette import EventSourceResponse

from chatwait.config import DEFAULT_INSTRUCTIONS


class WaitBody(BaseModel):
    message: str


def create_relay(upstream_url: str, model_name: str = "emulated-model") -> FastAPI:
    """The relay app: one client, one agent, two routes."""
    set_tracing_disabled(True)
    client = AsyncOpenAI(api_key="not-needed", base_url=upstream_url, max_retries=0)
    agent = Agent(
        name="Relay",
        instructions=DEFAULT_INSTRUCTIONS,
        model=OpenAIChatCompletionsModel(model=model_name, openai_client=client),
        model_settings=ModelSettings(include_usage=True),
    )
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/chat/wait")
    async def chat_wait(body: WaitBody) -> dict[str, str]:
        result = await Runner.run(agent, body.message)
        return {"response": str(result.final_output)}

    @app.get("/chat/streaming")
    async def chat_streaming(message: str) -> EventSourceResponse:
        result = Runner.run_streamed(agent, message)

        async def events() -> AsyncIterator[dict[str, str]]:
            yield {"event": "start", "data": "{}"}
            index = 0
            async for event in result.stream_events():
                if (
                    event.type == "raw_response_event"
                    and isinstance(event.data, ResponseTextDeltaEvent)
                    and event.data.delta
                ):
                    data = json.dumps({"index": index, "text": event.data.delta})
                    yield {"event": "token", "id": str(index), "data": data}
                    index += 1
            yield {"event": "done", "data": json.dumps({"token_count": index})}

        return EventSourceResponse(events())

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the bare Agents SDK relay.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--upstream", required=True, help="OpenAI-compatible base URL (…/v1)")
    parser.add_argument("--model", default="emulated-model")
    args = parser.parse_args(argv)
    uvicorn.run(
        create_relay(args.upstream, args.model),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
