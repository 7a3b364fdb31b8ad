"""The OpenAPI document describes every endpoint, body and answer, with the CONTRACT example."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from notifier.http import EXAMPLE_EVENT, EventIn, create_app
from notifier.http.routers import ROUTERS
from notifier.service import Service


@pytest.fixture
def document(service: Service) -> dict[str, Any]:
    answer = TestClient(create_app(service)).get("/openapi.json")
    assert answer.status_code == 200
    return answer.json()  # type: ignore[no-any-return]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _answer_schema(document: dict[str, Any], path: str, method: str, status: str) -> Any:
    content = document["paths"][path][method]["responses"][status]["content"]
    return _resolve(document, content["application/json"]["schema"])


def test_every_route_is_documented(document: dict[str, Any]) -> None:
    routes = {
        (route.path, method.lower())
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    routes.add(("/v1/events", "post"))  # served ahead of the router (http.NotifierApp)

    documented = {(path, method) for path, item in document["paths"].items() for method in item}

    assert routes == documented
    assert {"/v1/events", "/v1/events/batch", "/v1/returns/{return_id}"} <= set(document["paths"])


def test_the_event_body_is_the_contract_example(document: dict[str, Any]) -> None:
    body = document["paths"]["/v1/events"]["post"]["requestBody"]
    schema = _resolve(document, body["content"]["application/json"]["schema"])
    batch = document["paths"]["/v1/events/batch"]["post"]["requestBody"]["content"]

    assert body["required"] is True
    assert body["content"]["application/json"]["example"] == EXAMPLE_EVENT
    assert batch["application/json"]["example"] == {"events": [EXAMPLE_EVENT]}
    assert set(schema["required"]) == {"event_id", "type", "occurred_at", "return", "customer"}
    assert len(_resolve(document, schema["properties"]["type"])["enum"]) == 11
    events = _resolve(document, batch["application/json"]["schema"])["properties"]["events"]
    assert events["maxItems"] == 500
    assert events["items"] == {"$ref": "#/components/schemas/EventIn"}
    EventIn.model_validate(EXAMPLE_EVENT)


def test_every_answer_of_the_event_endpoints_is_documented(document: dict[str, Any]) -> None:
    single = document["paths"]["/v1/events"]["post"]["responses"]
    batch = document["paths"]["/v1/events/batch"]["post"]["responses"]

    assert set(single) == {"200", "202", "400", "401", "409", "413", "415", "422", "503"}
    assert set(batch) == {"207", "400", "401", "413", "415", "422", "503"}
    accepted = _answer_schema(document, "/v1/events", "post", "202")
    assert set(accepted["properties"]) == {"event_id", "return_id", "duplicate"}
    problem = _answer_schema(document, "/v1/events", "post", "422")
    assert set(problem["properties"]) == {"detail"}
    results = _answer_schema(document, "/v1/events/batch", "post", "207")["properties"]["results"]
    result = _resolve(document, results["items"])
    assert set(result["properties"]["status"]["enum"]) == {200, 202, 409, 422}


@pytest.mark.parametrize(
    ("path", "method"),
    [("/v1/events", "post"), ("/v1/events/batch", "post"), ("/v1/returns/{return_id}", "get")],
)
def test_a_503_with_retry_after_is_documented_where_the_database_is_needed(
    document: dict[str, Any], path: str, method: str
) -> None:
    unavailable = document["paths"][path][method]["responses"]["503"]

    assert unavailable["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    assert "deadline" in unavailable["description"]
    assert set(_answer_schema(document, path, method, "503")["properties"]) == {"detail"}


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/v1/returns/{return_id}", "get", {"200", "401", "404", "422", "503"}),
        ("/v1/notifications", "get", {"200", "401", "422", "503"}),
        (
            "/v1/customers/{customer_id}/preferences",
            "put",
            {"200", "400", "401", "413", "422", "503"},
        ),
        ("/v1/customers/{customer_id}", "delete", {"200", "401", "422", "503"}),
        ("/v1/customers/{customer_id}/data", "get", {"200", "401", "404", "422", "503"}),
        ("/v1/webhooks", "post", {"201", "400", "401", "413", "422", "503"}),
        ("/v1/webhooks", "get", {"200", "401", "422", "503"}),
        ("/v1/webhooks/{webhook_id}", "delete", {"204", "401", "404", "422", "503"}),
    ],
)
def test_the_read_endpoints_document_their_answers(
    document: dict[str, Any], path: str, method: str, statuses: set[str]
) -> None:
    operation = document["paths"][path][method]

    assert set(operation["responses"]) == statuses
    assert operation["security"] == [{"bearer": []}]


def test_the_read_answers_have_their_real_shape(document: dict[str, Any]) -> None:
    detail = _answer_schema(document, "/v1/returns/{return_id}", "get", "200")
    page = _answer_schema(document, "/v1/notifications", "get", "200")
    created = _answer_schema(document, "/v1/webhooks", "post", "201")
    notification = _resolve(document, page["properties"]["notifications"]["items"])

    assert {"status", "timeline", "notifications"} <= set(detail["properties"])
    assert set(page["properties"]) == {"notifications", "next_cursor"}
    assert set(_resolve(document, notification["properties"]["status"])["enum"]) == {
        "scheduled",
        "queued",
        "sent",
        "delivered",
        "bounced",
        "failed",
        "suppressed",
        "skipped",
    }
    assert "secret" in created["properties"]
    listed = _answer_schema(document, "/v1/webhooks", "get", "200")
    assert (
        "secret" not in _resolve(document, listed["properties"]["webhooks"]["items"])["properties"]
    )


def test_the_docs_page_is_served(service: Service) -> None:
    answer = TestClient(create_app(service)).get("/docs")

    assert answer.status_code == 200
    assert "/openapi.json" in answer.text


def test_every_answer_of_the_connection_and_body_limits_is_documented(
    document: dict[str, Any],
) -> None:
    operations = {
        (path, method): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    busy = {key: op["responses"].get("503", {}) for key, op in operations.items()}
    # Every operation can be turned away past the connection limit, with Retry-After
    assert all("NOTIFIER_HTTP_MAX_CONNECTIONS" in a.get("description", "") for a in busy.values())
    assert all("Retry-After" in a.get("headers", {}) for a in busy.values())
    # The callbacks also when too many bodies arrive at once; bodies read by FastAPI have a limit
    assert "16 MiB" in busy[("/v1/providers/sendgrid/events", "post")]["description"]
    assert "413" in operations[("/v1/webhooks", "post")]["responses"]
    assert "413" in operations[("/v1/customers/{customer_id}/preferences", "put")]["responses"]


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/v1/providers/sendgrid/events", "post", {"200", "400", "401", "413", "422", "503"}),
        ("/v1/providers/twilio/status", "post", {"204", "400", "401", "413", "422", "503"}),
        ("/readyz", "get", {"200", "422", "503"}),
        ("/healthz", "get", {"200", "422", "503"}),
    ],
)
def test_the_provider_and_operations_endpoints_document_every_answer(
    document: dict[str, Any], path: str, method: str, statuses: set[str]
) -> None:
    responses = document["paths"][path][method]["responses"]

    assert set(responses) == statuses
    assert all("content" in responses[s] for s in statuses - {"204"})
