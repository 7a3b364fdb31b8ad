"""Provider callbacks tell the subscribers of ``notification.*`` what became of a message."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import select

from channels.webhook import new_webhook_secret
from notifier import db
from notifier.http import create_app
from notifier.service import Service
from notifier.settings import Settings
from tests.delivery_support import subscribe
from tests.drain import drain
from tests.factories import event
from tests.standins import WebhookReceiver

SECRET = new_webhook_secret()
KEY = ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as standin:
        yield standin


@pytest.fixture
def tracked(settings: Settings, make_service: Callable[[Settings], Service]) -> Service:
    public = KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return make_service(
        replace(settings, sendgrid_webhook_public_key=base64.b64encode(public).decode())
    )


@pytest.fixture
def client(tracked: Service) -> TestClient:
    return TestClient(create_app(tracked))


def _sent_email(service: Service, client: TestClient, auth: dict[str, str]) -> str:
    """Post the refund event and deliver it; the id of its email."""
    client.post("/v1/events", json=event(), headers=auth)
    drain(service)
    with service.engine.connect() as connection:
        return str(
            connection.execute(
                select(db.notifications.c.id).where(db.notifications.c.channel == "email")
            ).scalar_one()
        )


def _callback(client: TestClient, kind: str, notification_id: str, **extra: Any) -> None:
    body = json.dumps(
        [
            {
                "email": "sanne@example.nl",
                "timestamp": int(time.time()),
                "event": kind,
                "sg_message_id": "abc123.filter0001",
                "notification_id": notification_id,
                **extra,
            }
        ]
    ).encode()
    stamp = str(int(time.time()))
    signature = KEY.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    answer = client.post(
        "/v1/providers/sendgrid/events",
        content=body,
        headers={
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
            "Content-Type": "application/json",
        },
    )
    assert answer.status_code == 200, answer.text


def _told(receiver: WebhookReceiver, path: str = "/crm") -> list[dict[str, Any]]:
    """The bodies of the ``notification.*`` webhooks ``path`` received, each verified."""
    bodies = []
    for request, delivery in zip(receiver.requests, receiver.deliveries, strict=True):
        body = json.loads(delivery.body)
        if request.path == path and body["type"].startswith("notification."):
            assert delivery.verified
            assert delivery.headers["webhook-id"] == body["id"]
            bodies.append(body)
    return bodies


def test_a_subscriber_is_told_of_a_delivered_email_once_however_often_sendgrid_says_so(
    tracked: Service, client: TestClient, auth: dict[str, str], receiver: WebhookReceiver
) -> None:
    # Given a CRM subscribed to notification.* and a refund email sent
    subscribe(tracked, f"{receiver.base_url}/crm", SECRET, ["notification.*"])
    mail = _sent_email(tracked, client, auth)

    # When SendGrid reports it delivered, and reports it again
    _callback(client, "delivered", mail)
    drain(tracked)
    _callback(client, "delivered", mail)
    _callback(client, "open", mail)
    drain(tracked)

    # Then the CRM got one signed notification.delivered about that email, recipient masked
    [told] = _told(receiver)
    assert set(told) == {"id", "type", "occurred_at", "notification"}
    assert told["type"] == "notification.delivered"
    assert told["notification"] == {
        "id": mail,
        "return_id": "RMA-1001",
        "customer_id": "C-42",
        "kind": "return.refund_issued",
        "channel": "email",
        "status": "delivered",
        "recipient": "s***@example.nl",
        "reason": None,
    }
    with tracked.engine.connect() as connection:
        hooks = connection.execute(
            select(db.notifications.c.id, db.notifications.c.status).where(
                db.notifications.c.kind == "notification.delivered"
            )
        ).all()
    assert [(h.id, h.status) for h in hooks] == [(told["id"], "sent")]


def test_a_subscriber_is_told_of_a_bounce_with_the_reason_masked(
    tracked: Service, client: TestClient, auth: dict[str, str], receiver: WebhookReceiver
) -> None:
    # Given a CRM subscribed to bounces only, and a refund email sent
    subscribe(tracked, f"{receiver.base_url}/crm", SECRET, ["notification.bounced"])
    mail = _sent_email(tracked, client, auth)

    # When SendGrid reports a hard bounce naming the address, twice
    reason = "550 5.1.1 <sanne@example.nl>: user unknown"
    for _ in range(2):
        _callback(client, "bounce", mail, type="bounce", reason=reason)
    drain(tracked)

    # Then the CRM was told once, with SendGrid's reason but not the address
    [told] = _told(receiver)
    assert told["type"] == "notification.bounced"
    assert told["notification"]["status"] == "bounced"
    assert told["notification"]["id"] == mail
    assert "s***@example.nl" in told["notification"]["reason"]
    assert "user unknown" in told["notification"]["reason"]
    assert "sanne" not in json.dumps(told)


def test_a_subscriber_to_return_events_only_is_told_nothing_of_messages(
    tracked: Service, client: TestClient, auth: dict[str, str], receiver: WebhookReceiver
) -> None:
    # Given subscribers to return events and to everything else there is
    subscribe(tracked, f"{receiver.base_url}/returns", SECRET, ["return.*"])
    subscribe(tracked, f"{receiver.base_url}/all", SECRET, ["*"])
    mail = _sent_email(tracked, client, auth)

    # When the email is delivered, and then bounces
    _callback(client, "delivered", mail)
    _callback(client, "bounce", mail, type="bounce", reason="550 gone")
    drain(tracked)

    # Then each got the refund event and nothing about the messages
    types = [json.loads(d.body)["type"] for d in receiver.deliveries]
    assert sorted(types) == ["return.refund_issued", "return.refund_issued"]
    with tracked.engine.connect() as connection:
        kinds = set(connection.execute(select(db.notifications.c.kind)).scalars())
    assert not {k for k in kinds if k.startswith("notification.")}
