"""The Chainlit handlers of chatwait_ui/app.py in a Chainlit context, against the real
backend over HTTP: what a person sees in the chat for each thing they do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from chatwait_ui import app
from chatwait_ui.client import ChatWaitClient
from chatwait_ui.modes.wait_mode import waiting_text
from tests.integration.conftest import BackendFactory
from tests.support.chainlit_chat import ChainlitChat
from tests.support.servers import ServerThread, free_port
from tests.support.tcp_proxy import CuttingProxy
from tests.support.ui import ui_settings
from tests.support.upstream_emulator import Scenario, UpstreamEmulator
from tests.support.waiting import eventually

UIConnector = Callable[[str], None]


@pytest.fixture
async def connect_ui() -> AsyncIterator[UIConnector]:
    """Point the app's shared client at a URL (the backend, a proxy, or nothing)."""
    clients: list[ChatWaitClient] = []

    def connect(url: str) -> None:
        clients.append(ChatWaitClient(ui_settings(url)))
        app.backend.use(clients[-1])

    yield connect
    for client in clients:
        await client.aclose()


@pytest.fixture
def chat(backend: ServerThread, connect_ui: UIConnector) -> ChainlitChat:
    connect_ui(backend.url)
    return ChainlitChat()


def user_messages_sent_upstream(upstream: UpstreamEmulator, request: int) -> list[str]:
    messages = upstream.requests[request].body["messages"]
    return [m["content"] for m in messages if m["role"] == "user"]


async def test_chat_start_offers_the_mode_setting_and_names_the_model(chat: ChainlitChat) -> None:
    await chat.start()

    (widget,) = chat.emitter.chat_settings_widgets
    assert widget["label"] == "Response mode"
    assert [item["value"] for item in widget["items"]] == ["Streaming", "Wait"]
    assert widget["initial"] == "Streaming"
    (welcome,) = chat.messages()
    assert "Welcome to ChatWait" in welcome.content
    assert "`emulated-model` via an OpenAI-compatible endpoint" in welcome.content


async def test_chat_start_says_when_the_backend_is_down(connect_ui: UIConnector) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    connect_ui(url)
    chat = ChainlitChat()

    await chat.start()

    (welcome,) = chat.messages()
    assert f"Cannot reach the ChatWait backend at {url}" in welcome.content


async def test_streaming_is_the_default_and_tokens_arrive_one_by_one(
    chat: ChainlitChat, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=["Hel", "lo ", "there", "!"]))
    await chat.start()

    await chat.send("hi")

    answer = chat.messages()[-1]
    assert answer.streamed_tokens == ["Hel", "lo ", "there", "!"]
    assert answer.content == "Hello there!\n\n*Streaming mode*"


async def test_switching_to_wait_mid_conversation_keeps_the_history(
    chat: ChainlitChat, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(text="Hi Ada."), Scenario(text="You are Ada.", first_byte_delay=1.2))
    await chat.start()
    await chat.send("I am Ada.")

    await chat.choose_mode("Wait")
    await chat.send("Who am I?")

    notice, answer = chat.messages()[-2:]
    assert notice.content.startswith("Response mode: **Wait**")
    assert answer.content == "You are Ada.\n\n*Wait mode*"
    assert answer.streamed_tokens == [], "wait mode shows the answer in one piece"
    # The same message counted the seconds (the answer took 1.2 s) before the answer.
    shown = [
        data["output"]
        for event, data in chat.emitter.events
        if event in ("new_message", "update_message") and data["id"] == answer.id
    ]
    assert shown[:2] == [waiting_text(0), waiting_text(1)]
    assert not any(step.type == "tool" for step in chat.emitter.steps.values())
    assert user_messages_sent_upstream(upstream, 1) == ["I am Ada.", "Who am I?"]


async def test_new_chat_starts_a_new_conversation(
    chat: ChainlitChat, upstream: UpstreamEmulator
) -> None:
    await chat.start()
    await chat.send("first chat")

    other_chat = ChainlitChat()
    await other_chat.start()
    await other_chat.send("second chat")

    assert user_messages_sent_upstream(upstream, 1) == ["second chat"]


@contextmanager
def running(coroutine: Coroutine[Any, Any, None]) -> Iterator[asyncio.Task[None]]:
    task = asyncio.ensure_future(coroutine)
    try:
        yield task
    finally:
        task.cancel()


async def test_stop_cancels_the_backend_run_and_keeps_the_partial_answer(
    chat: ChainlitChat, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=[f"w{i} " for i in range(200)], chunk_delay=0.05))
    await chat.start()

    with running(chat.send("tell me a long story")) as answering:
        await eventually(lambda: len(chat.messages()) == 2, what="the answer to start")
        await eventually(lambda: "w3" in chat.messages()[-1].content, what="some tokens")
        answering.cancel()  # what Chainlit's stop button does to the on_message task
        await answering

    answer = chat.messages()[-1]
    assert answer.content.startswith("w0 w1 w2 w3 ")
    assert answer.content.endswith("\n\n*Streaming mode*")
    # Chainlit's stop handler posts "Task manually stopped."; ChatWait adds no second one.
    assert not any("stopped" in m.content.lower() for m in chat.messages())
    await eventually(lambda: upstream.streams_closed_by_client == 1, what="upstream closed")


async def test_stop_in_wait_mode_cancels_the_run_and_the_chat_goes_on(
    chat: ChainlitChat, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(hang=True), Scenario(text="Next answer."))
    await chat.start()
    await chat.choose_mode("Wait")

    messages_before = len(chat.messages())
    with running(chat.send("hi")) as answering:
        await eventually(lambda: len(upstream.requests) == 1, what="the model call")
        answering.cancel()
        await answering
    messages_after_stop = len(chat.messages())
    await chat.send("hi again")  # not refused as busy: the stopped run was cancelled

    # Chainlit's stop handler posts "Task manually stopped."; ChatWait adds no second one,
    # and the waiting counter goes away.
    assert messages_after_stop == messages_before
    assert chat.messages(include_removed=True)[messages_before].removed
    assert chat.messages()[-1].content == "Next answer.\n\n*Wait mode*"


FAILURES = [
    pytest.param(
        Scenario(status=429, retry_after="7"),
        "hi",
        "The model provider is rate limiting ChatWait right now. Try again in 7 seconds.",
        id="rate-limit",
    ),
    pytest.param(
        Scenario(status=500),
        "hi",
        "The model provider failed to answer. Please try again.",
        id="upstream-500",
    ),
    pytest.param(
        None,
        "x" * 16_001,
        "Your message is too long: it must have at most 16000 characters.",
        id="too-long",
    ),
]


@pytest.mark.parametrize("mode", ["Streaming", "Wait"])
@pytest.mark.parametrize(("failure", "question", "shown"), FAILURES)
async def test_failures_are_one_human_sentence_and_the_chat_keeps_working(
    chat: ChainlitChat,
    upstream: UpstreamEmulator,
    mode: str,
    failure: Scenario | None,
    question: str,
    shown: str,
) -> None:
    if failure is not None:
        upstream.enqueue(failure)
    await chat.start()
    await chat.choose_mode(mode)

    await chat.send(question)
    error = chat.messages()[-1]
    upstream.enqueue(Scenario(text="Back again."))
    await chat.send("hi again")

    assert error.is_error
    assert error.content == shown
    assert chat.messages()[-1].content == f"Back again.\n\n*{mode} mode*"


async def test_broken_stream_shows_reconnecting_then_continues_the_same_answer(
    make_backend: BackendFactory, upstream: UpstreamEmulator, connect_ui: UIConnector
) -> None:
    chunks = [f"part{i} " for i in range(30)]
    upstream.enqueue(Scenario(chunks=chunks, chunk_delay=0.01))
    with (
        make_backend(sse_retry_ms=50) as backend,
        CuttingProxy(backend.port, cut_after_bytes=500) as proxy,
    ):
        connect_ui(proxy.url)
        chat = ChainlitChat()
        await chat.start()
        await chat.send("hi")

    notice, answer = chat.messages(include_removed=True)[-2:]
    assert notice.content.startswith("Connection lost, reconnecting (attempt 1 of 3)")
    assert notice.removed
    assert answer.content == "".join(chunks) + "\n\n*Streaming mode*"
    assert "".join(answer.streamed_tokens) == "".join(chunks), "no token lost or doubled"
