"""API keys and ownership: every request has a principal, and each owns its own ids.

Two principals, alice and bob, on the memory+SQLite stores and on Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.integration.conftest import BackendFactory
from tests.support.servers import ServerThread
from tests.support.sse import collect_sse, token_texts
from tests.support.upstream_emulator import Scenario, UpstreamEmulator

ALICE_KEY = "sk-alice-0123456789abcdef"
BOB_KEY = "sk-bob-fedcba9876543210"
KEYS = f"alice:{ALICE_KEY},bob:{BOB_KEY}"
PROTECTED: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/chat/wait", {"json": {"message": "hi"}}),
    ("GET", "/chat/streaming", {"params": {"message": "hi"}}),
    ("POST", "/chat/streaming", {"json": {"message": "hi"}}),
    ("DELETE", "/chat/streaming/some-stream-01", {}),
    ("GET", "/conversations", {}),
    ("GET", "/conversations/some-conv", {}),
    ("PATCH", "/conversations/some-conv", {"json": {"title": "x"}}),
    ("DELETE", "/conversations/some-conv", {}),
    ("GET", "/usage", {}),
    ("GET", "/me", {}),
]


@pytest.fixture
def keyed_backend(make_backend: BackendFactory) -> Iterator[ServerThread]:
    with make_backend(chatwait_api_keys=KEYS) as server:
        yield server


@pytest.fixture
async def alice(keyed_backend: ServerThread) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {ALICE_KEY}"}
    async with httpx.AsyncClient(base_url=keyed_backend.url, headers=headers, timeout=20) as c:
        yield c


@pytest.fixture
async def bob(keyed_backend: ServerThread) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {BOB_KEY}"}
    async with httpx.AsyncClient(base_url=keyed_backend.url, headers=headers, timeout=20) as c:
        yield c


@pytest.fixture
async def anonymous(keyed_backend: ServerThread) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=keyed_backend.url, timeout=20) as c:
        yield c


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The error body without its request id, which differs on every request."""
    error = dict(response.json()["error"])
    error.pop("request_id")
    return error


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Basic YWxpY2U6c2VjcmV0", "Bearer sk-nobody-0123456789abcdef", ALICE_KEY],
    ids=["missing", "empty-bearer", "basic", "unknown-key", "no-scheme"],
)
async def test_every_principal_route_answers_one_401_to_a_bad_key(
    anonymous: httpx.AsyncClient, upstream: UpstreamEmulator, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    for method, path, kwargs in PROTECTED:
        response = await anonymous.request(method, path, headers=headers, **kwargs)

        assert response.status_code == 401, (method, path)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert error_of(response) == {
            "code": "unauthorized",
            "message": "Send a valid API key as 'Authorization: Bearer <key>'.",
        }
    assert upstream.requests == []


async def test_health_docs_and_schema_stay_open(anonymous: httpx.AsyncClient) -> None:
    for path in ("/health", "/health/ready", "/docs", "/openapi.json"):
        assert (await anonymous.get(path)).status_code == 200, path


async def test_key_in_the_query_string_is_not_accepted(anonymous: httpx.AsyncClient) -> None:
    for name in ("api_key", "key", "access_token", "token"):
        response = await anonymous.get("/me", params={name: ALICE_KEY})
        assert response.status_code == 401


async def test_me_names_the_principal_of_the_key(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient
) -> None:
    assert (await alice.get("/me")).json() == {"principal": "alice", "auth": "api_key"}
    assert (await bob.get("/me")).json() == {"principal": "bob", "auth": "api_key"}


async def test_without_keys_everyone_is_local(client: httpx.AsyncClient) -> None:
    assert (await client.get("/me")).json() == {"principal": "local", "auth": "none"}


async def test_another_principals_stream_answers_exactly_like_an_unknown_one(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=["alice ", "only"]))
    _, events = await collect_sse(
        alice, "GET", "/chat/streaming", params={"message": "m", "stream_id": "alice-stream-1"}
    )
    assert token_texts(events) == ["alice ", "only"]

    attempts: dict[str, tuple[str, dict[str, Any]]] = {
        "resume": ("GET", {"params": {"stream_id": "{id}"}, "headers": {"Last-Event-ID": "0"}}),
        "viewer": ("GET", {"params": {"stream_id": "{id}"}}),
        "post-viewer": ("POST", {"json": {"stream_id": "{id}"}}),
    }
    for name, (method, kwargs) in attempts.items():
        answers = []
        for stream_id in ("alice-stream-1", "never-existed-1"):
            filled: dict[str, Any] = {
                part: {
                    k: (v.format(id=stream_id) if isinstance(v, str) else v) for k, v in d.items()
                }
                for part, d in kwargs.items()
            }
            response = await bob.request(method, "/chat/streaming", **filled)
            answers.append((response.status_code, error_of(response), _stable(response)))
        assert answers[0] == answers[1], name
        assert answers[0][0] == 404
    owned = await bob.delete("/chat/streaming/alice-stream-1")
    unknown = await bob.delete("/chat/streaming/never-existed-1")
    assert (owned.status_code, error_of(owned)) == (unknown.status_code, error_of(unknown))
    assert owned.status_code == 404

    _, replay = await collect_sse(
        alice, "GET", "/chat/streaming", params={"stream_id": "alice-stream-1"}
    )
    assert token_texts(replay) == ["alice ", "only"]
    assert replay[-1].event == "done"


def _stable(response: httpx.Response) -> dict[str, str]:
    """Response headers that could tell ids apart (not the per-request id or date)."""
    return {
        k: v for k, v in response.headers.items() if k not in ("x-request-id", "date", "server")
    }


async def test_same_stream_id_chosen_by_two_principals_gives_two_separate_streams(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=["for ", "alice"]), Scenario(chunks=["for ", "bob"]))
    params = {"stream_id": "shared-id-0001"}

    _, alices = await collect_sse(
        alice, "GET", "/chat/streaming", params={**params, "message": "a"}
    )
    _, bobs = await collect_sse(bob, "GET", "/chat/streaming", params={**params, "message": "b"})

    assert token_texts(alices) == ["for ", "alice"]
    assert token_texts(bobs) == ["for ", "bob"]
    assert len(upstream.requests) == 2
    _, again = await collect_sse(alice, "GET", "/chat/streaming", params=params)
    assert token_texts(again) == ["for ", "alice"]


async def test_same_conversation_id_of_two_principals_keeps_two_histories(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(text="Hi Alice."), Scenario(text="Hi Bob."))
    await alice.post("/chat/wait", json={"message": "I am Alice.", "conversation_id": "c-1"})
    await bob.post("/chat/wait", json={"message": "I am Bob.", "conversation_id": "c-1"})

    sent_for_bob = [m["content"] for m in upstream.requests[-1].body["messages"]]
    assert "I am Alice." not in sent_for_bob
    assert (await alice.get("/conversations/c-1")).json()["messages"] == [
        {"role": "user", "content": "I am Alice."},
        {"role": "assistant", "content": "Hi Alice."},
    ]
    assert (await bob.get("/conversations/c-1")).json()["messages"][0]["content"] == "I am Bob."


async def test_another_principals_conversation_answers_exactly_like_an_unknown_one(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(text="private"))
    await alice.post("/chat/wait", json={"message": "secret", "conversation_id": "alice-conv"})

    calls: list[tuple[str, dict[str, Any]]] = [
        ("GET", {}),
        ("DELETE", {}),
        ("PATCH", {"json": {"title": "t"}}),
    ]
    for method, kwargs in calls:
        owned = await bob.request(method, "/conversations/alice-conv", **kwargs)
        unknown = await bob.request(method, "/conversations/nobody-conv", **kwargs)
        assert owned.status_code == unknown.status_code == 404, method
        assert error_of(owned) == error_of(unknown)
    assert (await bob.get("/conversations")).json()["conversations"] == []
    assert (await alice.get("/conversations/alice-conv")).status_code == 200


async def test_own_stream_id_with_a_different_message_is_stream_id_in_use(
    alice: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    """Regression: reusing a stream_id with a new message silently replayed the old
    answer and dropped the new message."""
    upstream.enqueue(Scenario(chunks=["first"]))
    params = {"stream_id": "reused-id-001", "message": "first question"}
    await collect_sse(alice, "GET", "/chat/streaming", params=params)

    other = await alice.get("/chat/streaming", params={**params, "message": "second question"})
    _, same = await collect_sse(alice, "GET", "/chat/streaming", params=params)

    assert other.status_code == 409
    assert other.json()["error"]["code"] == "stream_id_in_use"
    assert token_texts(same) == ["first"]  # what an EventSource reconnect does
    assert len(upstream.requests) == 1


async def test_access_log_names_the_principal_never_the_key(
    alice: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="chatwait.access")
    await alice.get("/me")
    await alice.get("/me", headers={"Authorization": "Bearer sk-wrong-key-000000000"})

    lines = [r.getMessage() for r in caplog.records if r.name == "chatwait.access"]
    assert any("path=/me status=200" in line and "principal=alice" in line for line in lines)
    assert any("path=/me status=401" in line and "principal=-" in line for line in lines)
    assert not any(ALICE_KEY in line or "sk-wrong-key" in line for line in caplog.messages)


async def test_openapi_requires_the_bearer_key_once_keys_exist(
    anonymous: httpx.AsyncClient,
) -> None:
    schema = (await anonymous.get("/openapi.json")).json()

    for path in ("/chat/wait", "/conversations", "/me", "/usage", "/metrics"):
        for operation in schema["paths"][path].values():
            assert operation["security"] == [{"HTTPBearer": []}], path
