"""Health, readiness, OpenAPI and CORS."""

from __future__ import annotations

import httpx


def test_health_reports_status_provider_model_version(api: httpx.Client) -> None:
    body = api.get("/health").json()

    assert body == {
        "status": "ok",
        "provider": "offline",
        "model": "offline-demo",
        "version": body["version"],
    }
    assert body["version"]


def test_ready_is_200_when_stores_answer(api: httpx.Client) -> None:
    response = api.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_docs_page_is_swagger_ui_served_without_a_cdn(api: httpx.Client) -> None:
    page = api.get("/docs")

    assert page.status_code == 200
    assert "swagger-ui" in page.text
    assert "cdn." not in page.text
    assert api.get("/docs-assets/swagger-ui-bundle.js").status_code == 200


def test_openapi_documents_every_endpoint(api: httpx.Client) -> None:
    paths = api.get("/openapi.json").json()["paths"]

    assert set(paths["/chat/wait"]) == {"post"}
    assert set(paths["/chat/streaming"]) == {"get", "post"}
    assert set(paths["/chat/streaming/{stream_id}"]) == {"delete"}
    assert set(paths["/conversations"]) == {"get"}
    assert set(paths["/conversations/{conversation_id}"]) == {"get", "patch", "delete"}
    assert set(paths["/me"]) == {"get"}
    assert set(paths["/usage"]) == {"get"}
    assert "get" in paths["/health"]
    assert "get" in paths["/health/ready"]


def test_openapi_declares_bearer_auth_on_every_principal_route(api: httpx.Client) -> None:
    """The docs page's Authorize button must reach every route that needs a key,
    the streaming ones included, and none of the open ones."""
    schema = api.get("/openapi.json").json()

    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            # This server has no keys, so the key is optional (`{}`: no auth also works).
            # GET /chat/streaming also takes a stream ticket, for a browser's EventSource.
            expected: list[dict[str, list[str]]] = [{"HTTPBearer": []}, {}]
            if (method, path) == ("get", "/chat/streaming"):
                expected = [{"HTTPBearer": []}, {"StreamTicket": []}, {}]
            secured = operation.get("security") == expected
            assert secured == (not path.startswith("/health")), (method, path)


def test_openapi_shows_sse_events_of_both_streaming_methods(api: httpx.Client) -> None:
    paths = api.get("/openapi.json").json()["paths"]

    for method in ("get", "post"):
        content = paths["/chat/streaming"][method]["responses"]["200"]["content"]
        example = content["text/event-stream"]["example"]
        for event in ("event: start", "event: token", "event: done"):
            assert event in example


def test_openapi_has_examples_and_error_schemas(api: httpx.Client) -> None:
    schema = api.get("/openapi.json").json()
    wait = schema["paths"]["/chat/wait"]["post"]

    assert "examples" in schema["components"]["schemas"]["ChatRequest"]
    assert "examples" in schema["components"]["schemas"]["WaitResponse"]
    error_ref = wait["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
    assert error_ref.endswith("/ErrorBody")
    for event_schema in ("StartEvent", "TokenEvent", "DoneEvent", "ErrorEvent"):
        assert event_schema in schema["components"]["schemas"]


def test_cors_preflight_from_the_ui_origin_is_allowed(api: httpx.Client) -> None:
    response = api.options(
        "/chat/streaming",
        headers={
            "Origin": "http://localhost:8001",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "last-event-id",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:8001"


def test_cors_exposes_request_and_stream_ids(api: httpx.Client) -> None:
    response = api.get("/health", headers={"Origin": "http://localhost:8001"})

    exposed = response.headers["access-control-expose-headers"].lower()
    assert "x-request-id" in exposed
    assert "x-stream-id" in exposed


def test_last_event_id_is_documented_as_a_non_negative_integer(api: httpx.Client) -> None:
    """It was documented as a boolean-first union, so /docs offered a true/false dropdown."""
    schema = api.get("/openapi.json").json()
    get = schema["paths"]["/chat/streaming"]["get"]
    query = next(p for p in get["parameters"] if p["in"] == "query")["schema"]
    in_query = query["properties"]["last_event_id"]
    in_body = schema["components"]["schemas"]["StreamRequest"]["properties"]["last_event_id"]

    assert (in_query["type"], in_query["minimum"]) == ("integer", 0)
    assert [option["type"] for option in in_body["anyOf"]] == ["integer", "null"]
    assert in_body["anyOf"][0]["minimum"] == 0
