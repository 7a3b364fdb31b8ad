"""Every notification status any code path writes reads back through both read endpoints.

Each case drives one notification into a status the way production does (the planner, the
deliverer, a signed provider callback, preferences, suppressions, the retry schedule), then
reads the return and the notification list over HTTP: both answer 200 and validate against
the service's own OpenAPI document.
"""

from __future__ import annotations

import base64
import json
import time as clock
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from notifier.http import create_app
from notifier.service import Service
from notifier.settings import QuietHours, Settings
from notifier.status import NotificationStatus
from tests.delivery_support import (
    PUBLIC_URL,
    TWILIO_TOKEN,
    accept,
    row,
    rows,
    with_providers,
)
from tests.factories import event
from tests.standins import SendGridStandin, TwilioStandin
from tests.standins.sendgrid import sendgrid_error

AMS = ZoneInfo("Europe/Amsterdam")
NIGHT = QuietHours(time(21, 0), time(8, 0))
KEY = ec.generate_private_key(ec.SECP256R1())


@dataclass
class World:
    """A service with SendGrid and Twilio stand-ins, signed callbacks and quiet hours."""

    service: Service
    client: TestClient
    auth: dict[str, str]
    sendgrid: SendGridStandin
    twilio: TwilioStandin

    def deliver(self, notification_id: str, at: datetime | None = None) -> None:
        self.service.deliverer.deliver(notification_id, at or _daytime())

    def sendgrid_callback(self, kind: str, notification_id: str, **extra: Any) -> None:
        body = json.dumps(
            [
                {
                    "email": "sanne@example.nl",
                    "timestamp": int(clock.time()),
                    "event": kind,
                    "sg_message_id": "abc123.filter0001",
                    "notification_id": notification_id,
                    **extra,
                }
            ]
        ).encode()
        stamp = str(int(clock.time()))
        signature = KEY.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        headers = {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
            "Content-Type": "application/json",
        }
        answer = self.client.post("/v1/providers/sendgrid/events", content=body, headers=headers)
        assert answer.status_code == 200, answer.text

    def twilio_callback(self, notification_id: str, status: str, error_code: str) -> None:
        path = f"/v1/providers/twilio/status?notification_id={notification_id}"
        form = {
            "MessageSid": row(self.service, notification_id).provider_message_id,
            "AccountSid": "AC" + "1" * 32,
            "MessageStatus": status,
            "ErrorCode": error_code,
        }
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + path, form)
        answer = self.client.post(path, data=form, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 204, answer.text


@pytest.fixture
def world(
    settings: Settings,
    make_service: Callable[[Settings], Service],
    sendgrid: SendGridStandin,
    twilio: TwilioStandin,
    auth: dict[str, str],
) -> Iterator[World]:
    public = KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    service = make_service(
        replace(
            with_providers(settings, sendgrid, twilio),
            sendgrid_webhook_public_key=base64.b64encode(public).decode(),
            quiet_hours=NIGHT,
            retry_attempts=2,
        )
    )
    with TestClient(create_app(service)) as client:
        yield World(service, client, auth, sendgrid, twilio)


def _daytime() -> datetime:
    return datetime.combine(datetime.now(AMS).date() + timedelta(days=1), time(12, 0), AMS)


def _night() -> datetime:
    return datetime.combine(datetime.now(AMS).date() + timedelta(days=1), time(23, 10), AMS)


def _scheduled(world: World) -> str:
    sms = accept(world.service, event("return.label_created"))["sms"]
    world.deliver(sms, _night())
    return sms


def _queued(world: World) -> str:
    return accept(world.service, event("return.received"))["email"]


def _sent(world: World) -> str:
    mail = accept(world.service, event("return.received"))["email"]
    world.deliver(mail)
    return mail


def _delivered(world: World) -> str:
    mail = _sent(world)
    world.sendgrid_callback("delivered", mail)
    return mail


def _bounced(world: World) -> str:
    mail = _sent(world)
    world.sendgrid_callback("bounce", mail, type="bounce", reason="550 5.1.1 no such user")
    return mail


def _failed_permanently(world: World) -> str:
    world.sendgrid.respond_with(400, body=sendgrid_error("The to address is invalid"), times=1)
    mail = accept(world.service, event("return.received"))["email"]
    world.deliver(mail)
    return mail


def _failed_undelivered(world: World) -> str:
    sms = accept(world.service, event("return.received"))["sms"]
    world.deliver(sms)
    world.twilio_callback(sms, "undelivered", "30003")
    return sms


def _suppressed_opt_out(world: World) -> str:
    sms = accept(world.service, event("return.received"))["sms"]
    answer = world.client.put("/v1/customers/C-42/preferences", json={"sms": False}, **_h(world))
    assert answer.status_code == 200, answer.text
    world.deliver(sms)
    return sms


def _suppressed_address(world: World) -> str:
    later = accept(world.service, event("return.inspected", "evt-inspected"))["email"]
    _bounced(world)  # the address is suppressed from now on, after the email was planned
    world.deliver(later)
    return later


def _skipped_reminder(world: World) -> str:
    accept(world.service, event("return.label_created"))
    late = datetime(2026, 12, 1, 22, 0, tzinfo=AMS)  # the 3-days-before reminder is due
    world.service.scheduler.scan(late)
    (sms,) = [n.id for n in rows(world.service) if n.rule and n.channel == "sms"]
    world.deliver(sms, late)  # held by the quiet hours ...
    accept(world.service, event("return.received", "evt-received"))  # ... the parcel arrives
    world.deliver(sms, datetime(2026, 12, 2, 8, 0, tzinfo=AMS))
    return sms


def _skipped_superseded(world: World) -> str:
    sms = _scheduled(world)  # held overnight ...
    morning = datetime.combine(_night().date() + timedelta(days=1), time(8, 0), AMS)
    received = (morning - timedelta(hours=1)).isoformat()
    accept(world.service, event("return.received", "evt-received", occurred_at=received))
    world.deliver(sms, morning)  # ... the return moved on before the quiet hours ended
    return sms


def _dead_letter(world: World) -> str:
    world.sendgrid.respond_with(503)
    mail = accept(world.service, event("return.received"))["email"]
    world.deliver(mail)
    world.deliver(mail, _daytime() + timedelta(days=1))
    return mail


def _h(world: World) -> dict[str, Any]:
    return {"headers": world.auth}


CASES: list[tuple[Callable[[World], str], NotificationStatus, bool]] = [
    (_scheduled, NotificationStatus.SCHEDULED, False),
    (_queued, NotificationStatus.QUEUED, False),
    (_sent, NotificationStatus.SENT, False),
    (_delivered, NotificationStatus.DELIVERED, False),
    (_bounced, NotificationStatus.BOUNCED, False),
    (_failed_permanently, NotificationStatus.FAILED, False),
    (_failed_undelivered, NotificationStatus.FAILED, False),
    (_suppressed_opt_out, NotificationStatus.SUPPRESSED, False),
    (_suppressed_address, NotificationStatus.SUPPRESSED, False),
    (_skipped_reminder, NotificationStatus.SKIPPED, False),
    (_skipped_superseded, NotificationStatus.SKIPPED, False),
    (_dead_letter, NotificationStatus.FAILED, True),
]
#: Statuses that must say why (CONTRACT section 4).
EXPLAINED = {
    NotificationStatus.FAILED,
    NotificationStatus.BOUNCED,
    NotificationStatus.SUPPRESSED,
    NotificationStatus.SKIPPED,
}


def test_the_cases_cover_every_status() -> None:
    assert {status for _, status, _ in CASES} == set(NotificationStatus)


@pytest.mark.parametrize(
    ("drive", "status", "dead"), CASES, ids=[case[0].__name__.strip("_") for case in CASES]
)
def test_every_status_reads_back_through_both_read_endpoints(
    world: World, drive: Callable[[World], str], status: NotificationStatus, dead: bool
) -> None:
    # Given a notification driven into the status by the code path that writes it
    notification_id = drive(world)
    assert row(world.service, notification_id).status == status

    # When support staff read the return and the notification list
    detail = world.client.get("/v1/returns/RMA-1001", headers=world.auth)
    listed = world.client.get("/v1/notifications?return_id=RMA-1001", headers=world.auth)
    filtered = world.client.get(f"/v1/notifications?status={status}", headers=world.auth)

    # Then each answers 200 with a body the OpenAPI document describes
    assert (detail.status_code, listed.status_code, filtered.status_code) == (200, 200, 200)
    document = world.client.get("/openapi.json").json()
    _validate(document, "/v1/returns/{return_id}", detail.json())
    _validate(document, "/v1/notifications", listed.json())
    _validate(document, "/v1/notifications", filtered.json())

    # And the notification is there, in its status, saying why where the contract asks
    for found in (detail.json()["notifications"], listed.json()["notifications"]):
        (seen,) = [n for n in found if n["id"] == notification_id]
        assert (seen["status"], seen["dead_letter"]) == (status, dead)
        if status in EXPLAINED:
            assert seen["reason"] or seen["last_error"]
    assert notification_id in [n["id"] for n in filtered.json()["notifications"]]


def _validate(document: dict[str, Any], path: str, body: Any) -> None:
    """Validate ``body`` against the 200 answer of ``GET path`` in the OpenAPI document."""
    answer = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    schema = {**answer["schema"], "components": document["components"]}
    jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)
