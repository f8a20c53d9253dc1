"""POST /chat/wait: request and response shapes, status codes, error bodies."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.contract.errors import assert_error


def test_wait_returns_response_conversation_model_and_usage(api: httpx.Client) -> None:
    response = api.post("/chat/wait", json={"message": "hello"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"response", "conversation_id", "model", "usage"}
    assert body["response"]
    assert body["model"] == "offline-demo"
    assert set(body["usage"]) >= {"input_tokens", "output_tokens", "total_tokens"}


def test_wait_creates_a_conversation_id_when_omitted_and_echoes_a_given_one(
    api: httpx.Client,
) -> None:
    created = api.post("/chat/wait", json={"message": "a"}).json()["conversation_id"]
    echoed = api.post("/chat/wait", json={"message": "b", "conversation_id": "my-conv_1"})

    assert created
    assert echoed.json()["conversation_id"] == "my-conv_1"


def test_malformed_json_is_400_invalid_json(api: httpx.Client) -> None:
    response = api.post(
        "/chat/wait", content=b'{"message": "x"', headers={"content-type": "application/json"}
    )

    assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_non_json_content_type_is_415(api: httpx.Client, content_type: str) -> None:
    response = api.post(
        "/chat/wait", content=b'{"message": "x"}', headers={"content-type": content_type}
    )

    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="missing"),
        pytest.param({"message": ""}, id="empty"),
        pytest.param({"message": " \n\t "}, id="blank"),
        pytest.param({"message": 5}, id="number"),
        pytest.param({"message": None}, id="null"),
        pytest.param({"message": ["a"]}, id="list"),
    ],
)
def test_bad_message_is_422_naming_the_field(api: httpx.Client, body: dict[str, object]) -> None:
    error = assert_error(api.post("/chat/wait", json=body), 422, "validation_error")

    assert isinstance(error["details"], list)
    assert any(detail["field"] == "message" for detail in error["details"])


def test_field_error_message_names_the_field_and_the_reason(api: httpx.Client) -> None:
    """Every field error said only "The request is not valid." although docs/api.md
    promises "Invalid request: message: …"."""
    error = assert_error(
        api.post("/chat/wait", json={"message": " ", "conversation_id": "bad id"}),
        422,
        "validation_error",
    )

    assert error["message"].startswith("Invalid request: message: must not be empty or blank; ")
    assert "conversation_id: String should match pattern" in error["message"]


def test_message_over_max_chars_is_422(api: httpx.Client) -> None:
    error = assert_error(
        api.post("/chat/wait", json={"message": "x" * 16_001}), 422, "validation_error"
    )

    assert error["details"][0]["type"] == "string_too_long"


def test_message_of_exactly_max_chars_is_accepted(api: httpx.Client) -> None:
    assert api.post("/chat/wait", json={"message": "x" * 16_000}).status_code == 200


@pytest.mark.parametrize(
    "conversation_id", ["bad id", "slash/no", "é", "", "x" * 129], ids=str.__len__
)
def test_bad_conversation_id_is_422(api: httpx.Client, conversation_id: str) -> None:
    response = api.post("/chat/wait", json={"message": "x", "conversation_id": conversation_id})

    assert_error(response, 422, "validation_error")


def test_unknown_field_is_422(api: httpx.Client) -> None:
    response = api.post("/chat/wait", json={"message": "x", "mesage": "typo"})

    assert_error(response, 422, "validation_error")


def test_body_over_max_bytes_is_413_with_content_length(api: httpx.Client) -> None:
    response = api.post(
        "/chat/wait",
        content=b'{"message": "' + b"x" * 70_000 + b'"}',
        headers={"content-type": "application/json"},
    )

    assert_error(response, 413, "payload_too_large")


def test_body_over_max_bytes_is_413_when_chunked(api: httpx.Client) -> None:
    def body() -> Iterator[bytes]:
        yield b'{"message": "'
        for _ in range(70):
            yield b"x" * 1024
        yield b'"}'

    response = api.post("/chat/wait", content=body(), headers={"content-type": "application/json"})

    assert "content-length" not in response.request.headers
    assert_error(response, 413, "payload_too_large")


def test_client_request_id_is_echoed_on_success_and_error(api: httpx.Client) -> None:
    ok = api.post("/chat/wait", json={"message": "x"}, headers={"X-Request-ID": "abc-123"})
    bad = api.post("/chat/wait", json={}, headers={"X-Request-ID": "abc-456"})

    assert ok.headers["x-request-id"] == "abc-123"
    assert bad.json()["error"]["request_id"] == "abc-456"


def test_unknown_route_is_json_404(api: httpx.Client) -> None:
    assert_error(api.get("/no/such/route"), 404, "not_found")


def test_wrong_method_is_json_405(api: httpx.Client) -> None:
    assert_error(api.get("/chat/wait"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/chat/streaming", {"GET", "POST"}),
        ("/chat/wait", {"POST"}),
        ("/conversations/some-conversation", {"GET", "PATCH", "DELETE"}),
    ],
)
def test_405_allow_header_lists_every_method_of_the_path(
    api: httpx.Client, path: str, allowed: set[str]
) -> None:
    """Allow named only the first route's methods: `GET` for /chat/streaming,
    leaving out its POST, and `GET` for a conversation, leaving out DELETE."""
    response = api.put(path, json={})

    assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["allow"].split(", ")) == allowed
