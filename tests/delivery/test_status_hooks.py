"""Delivery tells the subscribers of ``notification.*`` of a message that failed or was
suppressed, in the transaction that records it, and never tells of a webhook."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from channels.webhook import new_webhook_secret
from notifier import db
from notifier.delivery import StatusChange, tell
from notifier.queue import Relay
from notifier.service import Service
from notifier.settings import Settings
from notifier.status import NotificationStatus
from tests.delivery_support import accept, row, subscribe, with_providers
from tests.factories import event
from tests.standins import SendGridStandin, TwilioStandin, WebhookReceiver, sendgrid_error

SECRET = new_webhook_secret()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as standin:
        yield standin


def _hooks(service: Service) -> list[Any]:
    """Every status hook stored, oldest first."""
    n = db.notifications.c
    with service.engine.connect() as connection:
        return list(
            connection.execute(
                select(db.notifications)
                .where(n.kind.like("notification.%"))
                .order_by(n.created_at, n.id)
            ).all()
        )


def _body(receiver: WebhookReceiver, index: int = -1) -> dict[str, Any]:
    delivery = receiver.deliveries[index]
    assert delivery.verified
    body: dict[str, Any] = json.loads(delivery.body)
    assert delivery.headers["webhook-id"] == body["id"]
    return body


def test_a_permanent_refusal_tells_notification_failed_signed_and_retried_under_one_id(
    provided: Service, sendgrid: SendGridStandin, receiver: WebhookReceiver
) -> None:
    # Given a CRM subscribed to failures, and SendGrid refusing the customer's address
    subscribe(provided, receiver.base_url, SECRET, ["notification.failed"])
    ids = accept(provided, event(type="return.approved"))
    sendgrid.respond_with(400, body=sendgrid_error("sanne@example.nl is not a valid address"))

    # When the email is delivered, and its status hook twice (the CRM fails the first time)
    outcome = provided.deliverer.deliver(ids["email"])
    [hook] = outcome.hooks
    receiver.respond_with(503, times=1)
    first = provided.deliverer.deliver(hook)
    assert first.retry_in is not None
    second = provided.deliverer.deliver(hook, db.now() + first.retry_in)

    # Then the CRM got the same signed notification.failed twice, the reason masked
    assert (outcome.status, first.status, second.status) == ("failed", "queued", "sent")
    assert [d.body for d in receiver.deliveries] == [receiver.deliveries[0].body] * 2
    told = _body(receiver)
    assert told["id"] == hook and told["type"] == "notification.failed"
    assert told["notification"]["id"] == ids["email"]
    assert told["notification"]["kind"] == "return.approved"
    assert told["notification"]["status"] == "failed"
    assert told["notification"]["recipient"] == "s***@example.nl"
    assert "s***@example.nl is not a valid address" in told["notification"]["reason"]
    assert "sanne@" not in receiver.deliveries[0].body.decode()


def test_a_dead_letter_tells_notification_failed_when_its_retries_run_out(
    settings: Settings,
    make_service: Callable[[Settings], Service],
    sendgrid: SendGridStandin,
    twilio: TwilioStandin,
    receiver: WebhookReceiver,
) -> None:
    # Given two attempts in all, SendGrid down, and a CRM subscribed to notification.*
    service = make_service(replace(with_providers(settings, sendgrid, twilio), retry_attempts=2))
    subscribe(service, receiver.base_url, SECRET, ["notification.*"])
    ids = accept(service, event(type="return.approved"))
    sendgrid.respond_with(502, body=b"bad gateway")
    now = db.now()

    # When both attempts fail
    retried = service.deliverer.deliver(ids["email"], now)
    dead = service.deliverer.deliver(ids["email"], now + timedelta(hours=1))

    # Then only the last one, the dead letter, is told
    assert (retried.status, retried.hooks) == ("queued", ())
    assert dead.status == "failed" and row(service, ids["email"]).dead
    [hook] = _hooks(service)
    assert (hook.id,) == dead.hooks
    assert (hook.kind, hook.channel, hook.status) == ("notification.failed", "webhook", "queued")
    assert "502" in hook.data["notification"]["reason"]


def test_a_message_held_back_for_a_suppressed_address_or_an_opt_out_is_told_suppressed(
    service: Service, receiver: WebhookReceiver
) -> None:
    # Given a CRM subscribed to suppressions, a refund planned by email and SMS, then the
    # address suppressed; and a customer who opted out of SMS
    subscribe(service, receiver.base_url, SECRET, ["notification.suppressed"])
    ids = accept(service, event())
    with service.engine.begin() as connection:
        connection.execute(
            insert(db.suppressions).values(
                channel="email", address="sanne@example.nl", reason="bounced", created_at=db.now()
            )
        )
        connection.execute(
            insert(db.customers).values(customer_id="C-77", sms=False, updated_at=db.now())
        )

    # When the email is delivered, and another customer's event is planned
    outcome = service.deliverer.deliver(ids["email"])
    accept(
        service,
        event(
            event_id="evt-other",
            return_id="RMA-2002",
            customer={"id": "C-77", "email": None, "phone": "+31687654321"},
        ),
    )
    for hook in _hooks(service):
        service.deliverer.deliver(hook.id)

    # Then the CRM was told of both messages that were not sent, and why
    assert outcome.status == "suppressed"
    told = sorted(
        (_body(receiver, i)["notification"] for i in range(len(receiver.deliveries))),
        key=lambda n: n["return_id"],
    )
    assert [(n["return_id"], n["channel"], n["status"]) for n in told] == [
        ("RMA-1001", "email", "suppressed"),
        ("RMA-2002", "sms", "suppressed"),
    ]
    assert told[0]["reason"] == "address suppressed: bounced"
    assert told[1]["reason"] == "opted out"
    assert told[1]["recipient"] == "+316*****321"


def test_a_webhook_that_fails_is_never_told_of(service: Service, receiver: WebhookReceiver) -> None:
    # Given a subscriber to return events and to what becomes of messages, refusing for good
    subscribe(service, receiver.base_url, SECRET, ["return.*", "notification.*"])
    ids = accept(service, event())
    receiver.respond_with(400)

    # When the return event's webhook fails
    outcome = service.deliverer.deliver(ids["webhook"])

    # Then it failed, and no webhook tells of it
    assert (outcome.status, outcome.hooks) == ("failed", ())
    assert _hooks(service) == []


def test_staff_alerts_are_not_told_of(service: Service, receiver: WebhookReceiver) -> None:
    # Given a subscriber to notification.* and a staff alert that failed for good
    subscribe(service, receiver.base_url, SECRET, ["notification.*"])
    alert = StatusChange(
        "ntf_alert",
        "RMA-1001",
        "C-42",
        "staff.stale_return",
        "email",
        "team@example.nl",
        "nl",
        "Europe/Amsterdam",
        NotificationStatus.FAILED,
        "550 no such user",
    )
    customers = replace(alert, id="ntf_customer", kind="reminder.ship_by")

    # When it is told, beside a customer's reminder
    with service.engine.begin() as connection:
        written = tell(connection, [alert, customers], db.now())

    # Then only the customer's message is told of
    assert [hook.data["notification"]["id"] for hook in _hooks(service)] == ["ntf_customer"]
    assert len(written) == 1


def test_a_status_hook_whose_hand_over_was_lost_is_handed_over_by_the_relay(
    service: Service, receiver: WebhookReceiver
) -> None:
    # Given a hook written with a failed message, whose job never reached the queue (the
    # worker was killed right after the commit)
    subscribe(service, receiver.base_url, SECRET, ["notification.failed"])
    ids = accept(service, event(policy={"return_shipping": "paid", "shipping_cost": None}))
    [hook] = service.deliverer.deliver(ids["email"]).hooks
    handed: list[str] = []
    relay = Relay(service.engine, lambda pks: None, handed.append, grace=30)

    # When the relay runs at once, and after its grace
    early = relay.run_once()
    relay.run_once(db.now() + timedelta(seconds=31))

    # Then it hands the hook over once its grace has passed, and it can be delivered
    assert early == 0
    assert hook in handed and ids["email"] not in handed
    assert service.deliverer.deliver(hook).status == "sent"
    assert _body(receiver)["type"] == "notification.failed"
