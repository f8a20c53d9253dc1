"""Stream tickets: how a browser's EventSource streams when API keys are configured.

Regression (issue 11): an EventSource cannot send `Authorization`, keys must not go in
URLs, so with keys configured a page could not stream at all. A ticket minted with the
key (`POST /chat/tickets`) is accepted as `?ticket=` on GET /chat/streaming, for one
principal's one stream, for a short while; anything else is the 401 of a bad key.
"""

from __future__ import annotations

import base64
import time
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
CHUNKS = ["one ", "two ", "three ", "four"]


@pytest.fixture
def keyed_backend(make_backend: BackendFactory) -> Iterator[ServerThread]:
    with make_backend(chatwait_api_keys=KEYS) as server:
        yield server


@pytest.fixture
async def browser(keyed_backend: ServerThread) -> AsyncIterator[httpx.AsyncClient]:
    """What an EventSource is: no Authorization header."""
    async with httpx.AsyncClient(base_url=keyed_backend.url, timeout=20) as client:
        yield client


async def mint(base_url: str, key: str, **body: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as client:
        response = await client.post(
            "/chat/tickets", json=body, headers={"Authorization": f"Bearer {key}"}
        )
    assert response.status_code == 200, response.text
    minted: dict[str, Any] = response.json()
    return minted


def error_of(response: httpx.Response) -> tuple[int, dict[str, Any], str | None]:
    error = dict(response.json()["error"])
    error.pop("request_id")
    return response.status_code, error, response.headers.get("www-authenticate")


async def bad_key_answer(client: httpx.AsyncClient) -> tuple[int, dict[str, Any], str | None]:
    return error_of(
        await client.get(
            "/chat/streaming",
            params={"message": "m"},
            headers={"Authorization": "Bearer sk-nobody-0123456789abcdef"},
        )
    )


async def test_minted_ticket_names_its_stream_and_expiry(keyed_backend: ServerThread) -> None:
    before = time.time()
    given = await mint(keyed_backend.url, ALICE_KEY, stream_id="ticket-stream-01")
    made = await mint(keyed_backend.url, ALICE_KEY)

    assert given["stream_id"] == "ticket-stream-01"
    assert made["stream_id"].startswith("str_")
    # MAX_RUN_SECONDS (300) + STREAM_TTL_SECONDS (600) by default.
    expires = time.mktime(time.strptime(given["expires_at"][:19], "%Y-%m-%dT%H:%M:%S"))
    expires -= time.timezone
    assert before + 899 <= expires <= time.time() + 901
    assert ALICE_KEY not in str(given)


async def test_ticket_starts_and_resumes_its_stream_without_the_key(
    keyed_backend: ServerThread, browser: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=CHUNKS))
    minted = await mint(keyed_backend.url, ALICE_KEY)
    params = {"message": "hi", "stream_id": minted["stream_id"], "ticket": minted["ticket"]}

    response, events = await collect_sse(
        browser, "GET", "/chat/streaming", params=params, stop_after=2
    )
    _, rest = await collect_sse(
        browser, "GET", "/chat/streaming", params=params, headers={"Last-Event-ID": "1"}
    )

    assert response.status_code == 200
    assert token_texts(events) + token_texts(rest) == CHUNKS
    assert rest[-1].event == "done"
    assert len(upstream.requests) == 1
    # The stream is alice's: her key reads it too.
    _, replay = await collect_sse(
        browser,
        "GET",
        "/chat/streaming",
        params={"stream_id": minted["stream_id"]},
        headers={"Authorization": f"Bearer {ALICE_KEY}"},
    )
    assert token_texts(replay) == CHUNKS


async def test_ticket_without_stream_id_in_the_url_streams_its_own_stream(
    keyed_backend: ServerThread, browser: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=CHUNKS))
    minted = await mint(keyed_backend.url, ALICE_KEY)
    params = {"message": "hi", "ticket": minted["ticket"]}

    response, events = await collect_sse(browser, "GET", "/chat/streaming", params=params)
    done = await browser.get(
        "/chat/streaming", params=params, headers={"Last-Event-ID": f"{minted['stream_id']}:done"}
    )

    assert response.headers["x-stream-id"] == minted["stream_id"]
    assert token_texts(events) == CHUNKS
    assert done.status_code == 204


async def test_ticket_for_another_stream_is_refused_like_a_bad_key(
    keyed_backend: ServerThread, browser: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    minted = await mint(keyed_backend.url, ALICE_KEY, stream_id="ticket-stream-02")
    expected = await bad_key_answer(browser)
    attempts = [
        ({"message": "m", "stream_id": "other-stream-01"}, {}),
        ({"message": "m"}, {"Last-Event-ID": "other-stream-01:3"}),
        ({"message": "m", "stream_id": "other-stream-01"}, {"Last-Event-ID": "done"}),
    ]
    for params, headers in attempts:
        response = await browser.get(
            "/chat/streaming", params={**params, "ticket": minted["ticket"]}, headers=headers
        )
        assert error_of(response) == expected, (params, headers)
    assert expected[0] == 401
    assert upstream.requests == []


async def test_ticket_is_refused_by_every_other_route(
    keyed_backend: ServerThread, browser: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    minted = await mint(keyed_backend.url, ALICE_KEY, stream_id="ticket-stream-03")
    ticket = {"ticket": minted["ticket"]}
    expected = await bad_key_answer(browser)

    answers = [
        await browser.post(
            "/chat/streaming", params=ticket, json={"message": "m", "stream_id": "ticket-stream-03"}
        ),
        await browser.post("/chat/wait", params=ticket, json={"message": "m"}),
        await browser.delete("/chat/streaming/ticket-stream-03", params=ticket),
        await browser.get("/conversations", params=ticket),
        await browser.get("/me", params=ticket),
        await browser.post("/chat/tickets", params=ticket, json={}),
    ]

    assert [error_of(answer) for answer in answers] == [expected] * len(answers)
    assert upstream.requests == []


async def test_expired_ticket_is_refused_like_a_bad_key(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    # A ticket lives MAX_RUN_SECONDS + STREAM_TTL_SECONDS: here 1 s.
    with make_backend(chatwait_api_keys=KEYS, stream_ttl_seconds=1, max_run_seconds=0) as server:
        minted = await mint(server.url, ALICE_KEY)
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as browser:
            expected = await bad_key_answer(browser)
            time.sleep(2.1)
            response = await browser.get(
                "/chat/streaming", params={"message": "m", "ticket": minted["ticket"]}
            )

    assert error_of(response) == expected
    assert upstream.requests == []


def _forge(ticket: str, edit: Any) -> str:
    """The ticket with its payload changed by `edit` and its MAC kept."""
    payload, _, mac = ticket.partition(".")
    text = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    forged = base64.urlsafe_b64encode(edit(text).encode()).rstrip(b"=").decode()
    return f"{forged}.{mac}"


def _later(payload: str) -> str:
    expires_at, _, rest = payload.partition(":")
    return f"{int(expires_at) + 1000}:{rest}"


async def test_tampered_tickets_are_refused_like_a_bad_key(
    keyed_backend: ServerThread, browser: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    minted = await mint(keyed_backend.url, ALICE_KEY, stream_id="ticket-stream-04")
    ticket = minted["ticket"]
    tampered = {
        "flipped-mac": ticket[:-2] + ("BB" if ticket.endswith("AA") else "AA"),
        "other-stream": _forge(ticket, lambda t: t.replace("ticket-stream-04", "ticket-stream-05")),
        "other-principal": _forge(ticket, lambda t: t.replace(":alice", ":bob")),
        "later-expiry": _forge(ticket, _later),
        "garbage": "not-a-ticket",
        "huge": "A" * 5000 + "." + "B" * 43,
    }
    expected = await bad_key_answer(browser)
    for name, forged in tampered.items():
        stream_id = "ticket-stream-05" if name == "other-stream" else "ticket-stream-04"
        response = await browser.get(
            "/chat/streaming", params={"message": "m", "stream_id": stream_id, "ticket": forged}
        )
        assert error_of(response) == expected, name
    assert upstream.requests == []


async def test_another_principals_ticket_never_reaches_your_stream(
    keyed_backend: ServerThread, browser: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    """Bob's ticket for the id of alice's stream is a ticket for bob's own (unknown)
    stream of that id: 404 like any unknown stream, never alice's tokens."""
    upstream.enqueue(Scenario(chunks=CHUNKS))
    alices = await mint(keyed_backend.url, ALICE_KEY, stream_id="alice-stream-07")
    _, events = await collect_sse(
        browser,
        "GET",
        "/chat/streaming",
        params={"message": "m", "stream_id": "alice-stream-07", "ticket": alices["ticket"]},
    )
    assert token_texts(events) == CHUNKS
    bobs = await mint(keyed_backend.url, BOB_KEY, stream_id="alice-stream-07")

    response = await browser.get(
        "/chat/streaming",
        params={"stream_id": "alice-stream-07", "ticket": bobs["ticket"]},
        headers={"Last-Event-ID": "0"},
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "stream_not_found"
    assert len(upstream.requests) == 1


async def test_ticket_is_accepted_by_every_instance_with_the_key_and_revoked_with_it(
    make_backend: BackendFactory, upstream: UpstreamEmulator
) -> None:
    """No storage: another instance verifies it; adding a key changes nothing (rotation);
    an instance without the minting key, or with another CHATWAIT_TICKET_SECRET, refuses."""
    rotated = f"{KEYS},alice:sk-alice-new-0123456789ab"
    with make_backend(chatwait_api_keys=KEYS, chatwait_ticket_secret="s3cret-1") as first:
        minted = await mint(first.url, ALICE_KEY, stream_id="ticket-stream-08")
    params = {"stream_id": "ticket-stream-08", "ticket": minted["ticket"]}
    answers = {}
    for name, keys, secret in [
        ("rotated", rotated, "s3cret-1"),
        ("key removed", f"bob:{BOB_KEY},alice:sk-alice-new-0123456789ab", "s3cret-1"),
        ("other secret", KEYS, "s3cret-2"),
    ]:
        with make_backend(chatwait_api_keys=keys, chatwait_ticket_secret=secret) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=20) as browser:
                # An unknown stream: 404 once the ticket is accepted, 401 if it is not.
                answers[name] = (await browser.get("/chat/streaming", params=params)).status_code

    assert answers == {"rotated": 404, "key removed": 401, "other secret": 401}


async def test_without_keys_a_ticket_is_minted_and_not_needed(
    client: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    upstream.enqueue(Scenario(chunks=CHUNKS))
    minted = (await client.post("/chat/tickets", json={})).json()

    _, events = await collect_sse(
        client,
        "GET",
        "/chat/streaming",
        params={"message": "m", "stream_id": minted["stream_id"], "ticket": minted["ticket"]},
    )

    assert token_texts(events) == CHUNKS


async def test_tickets_never_appear_in_the_logs(
    keyed_backend: ServerThread,
    browser: httpx.AsyncClient,
    upstream: UpstreamEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    upstream.enqueue(Scenario(chunks=CHUNKS))
    minted = await mint(keyed_backend.url, ALICE_KEY)
    ticket = minted["ticket"]
    params = {"message": "m", "stream_id": minted["stream_id"], "ticket": ticket}
    await collect_sse(browser, "GET", "/chat/streaming", params=params)
    await browser.get("/chat/streaming", params={**params, "stream_id": "other-stream-09"})

    access = [r.getMessage() for r in caplog.records if r.name == "chatwait.access"]
    assert any("path=/chat/streaming status=200" in line for line in access)
    assert any("principal=alice" in line for line in access)
    # Every server-side record (the test's own httpx client logs its URLs; it is no server).
    server_side = [
        r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    ]
    assert not any(ticket.partition(".")[0] in message for message in server_side)


async def test_origin_check_still_applies_to_tickets(
    keyed_backend: ServerThread, browser: httpx.AsyncClient, upstream: UpstreamEmulator
) -> None:
    minted = await mint(keyed_backend.url, ALICE_KEY, stream_id="ticket-stream-10")
    foreign = {"Origin": "https://evil.example"}

    stream = await browser.get(
        "/chat/streaming",
        params={"message": "m", "stream_id": "ticket-stream-10", "ticket": minted["ticket"]},
        headers=foreign,
    )
    minting = await browser.post(
        "/chat/tickets", json={}, headers={**foreign, "Authorization": f"Bearer {ALICE_KEY}"}
    )

    assert stream.status_code == minting.status_code == 403
    assert stream.json()["error"]["code"] == "origin_not_allowed"
    assert minting.json()["error"]["code"] == "origin_not_allowed"
    assert upstream.requests == []
