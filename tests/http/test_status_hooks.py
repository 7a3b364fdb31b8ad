"""Subscribing to ``notification.*``: validated, documented, and read back like any message."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from notifier.http import create_app
from notifier.service import Service
from tests.delivery_support import accept, subscribe
from tests.factories import event

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
TOLD = ["notification.delivered", "notification.bounced", "notification.failed"]


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service)) as client:
        yield client


@SQLITE_ONLY
def test_a_subscription_may_name_every_notification_event_or_some(
    client: TestClient, auth: dict[str, str]
) -> None:
    types = ["return.*", "notification.*", *TOLD, "notification.suppressed"]

    answer = client.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "types": types}, headers=auth
    )

    assert answer.status_code == 201, answer.text
    assert answer.json()["types"] == types


@SQLITE_ONLY
def test_an_unknown_notification_event_is_422_naming_the_field(
    client: TestClient, auth: dict[str, str]
) -> None:
    body = {"url": "http://127.0.0.1:9/hook", "types": ["return.*", "notification.opened"]}

    answer = client.post("/v1/webhooks", json=body, headers=auth)

    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["body", "types", 1]
    assert "notification.opened" in problem["msg"] and "notification.bounced" in problem["msg"]


@SQLITE_ONLY
def test_the_openapi_document_lists_the_notification_events_and_their_body(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()

    hooks = document["webhooks"]
    assert sorted(hooks) == sorted([*TOLD, "notification.suppressed"])
    ref = hooks["notification.bounced"]["post"]["requestBody"]["content"]["application/json"]
    body = document["components"]["schemas"][ref["schema"]["$ref"].rsplit("/", 1)[1]]
    assert set(body["properties"]) == {"id", "type", "occurred_at", "notification"}
    told = document["components"]["schemas"]["ToldNotification"]["properties"]
    assert set(told) == {
        "id",
        "return_id",
        "customer_id",
        "kind",
        "channel",
        "status",
        "recipient",
        "reason",
    }
    webhook_in = document["components"]["schemas"]["WebhookIn"]["properties"]["types"]
    assert "notification.suppressed" in webhook_in["items"]["description"]


def test_a_status_hook_is_read_back_with_its_return_like_any_notification(
    service: Service, client: TestClient, auth: dict[str, str]
) -> None:
    # Given a subscriber told of failures, and a refund whose SMS failed for good
    subscribe(service, "http://127.0.0.1:9/crm", "whsec_" + "A" * 32, ["notification.failed"])
    ids = accept(service, event(policy={"return_shipping": "paid", "shipping_cost": None}))
    [hook] = service.deliverer.deliver(ids["sms"]).hooks

    # When the return and the notifications are read
    detail = client.get("/v1/returns/RMA-1001", headers=auth).json()
    listed = client.get("/v1/notifications", params={"channel": "webhook"}, headers=auth).json()

    # Then the hook is among the return's notifications and in the list, as a webhook
    def shown(notes: list[dict[str, Any]]) -> dict[str, Any]:
        [note] = [n for n in notes if n["id"] == hook]
        return note

    for note in (shown(detail["notifications"]), shown(listed["notifications"])):
        assert (note["kind"], note["channel"], note["status"]) == (
            "notification.failed",
            "webhook",
            "queued",
        )
        assert note["return_id"] == "RMA-1001" and note["recipient"].startswith("webhook:wh_")
