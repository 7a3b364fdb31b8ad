"""Provider callbacks: signed, verified, applied forward-only, never a 500."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from notifier import db
from notifier.errors import ConfigurationError
from notifier.http import create_app
from notifier.service import Service, build
from notifier.settings import Settings
from tests.drain import drain
from tests.factories import event
from tests.plans import plan, recorded

TWILIO_TOKEN = "twilio-auth-token-0123456789"


@pytest.fixture
def signing_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def tracked(
    settings: Settings,
    make_service: Callable[[Settings], Service],
    signing_key: ec.EllipticCurvePrivateKey,
) -> Service:
    public = signing_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return make_service(
        replace(
            settings,
            sendgrid_webhook_public_key=base64.b64encode(public).decode(),
            twilio_auth_token=TWILIO_TOKEN,
            public_url="https://notify.example.nl",
        )
    )


def _signed(key: ec.EllipticCurvePrivateKey, body: bytes, at: int | None = None) -> dict[str, str]:
    stamp = str(at if at is not None else int(time.time()))
    signature = key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
        "Content-Type": "application/json",
    }


def _sent_email(service: Service, auth: dict[str, str]) -> Any:
    client = TestClient(create_app(service))
    client.post("/v1/events", json=event(), headers=auth)
    drain(service)
    with service.engine.connect() as connection:
        return connection.execute(
            select(db.notifications).where(db.notifications.c.channel == "email")
        ).one()


def _status(service: Service, notification_id: str) -> str:
    with service.engine.connect() as connection:
        return str(
            connection.execute(
                select(db.notifications.c.status).where(db.notifications.c.id == notification_id)
            ).scalar_one()
        )


def _sendgrid_event(kind: str, notification_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "email": "sanne@example.nl",
        "timestamp": int(time.time()),
        "event": kind,
        "sg_message_id": "abc123.filter0001",
        "notification_id": notification_id,
        **extra,
    }


def test_delivered_then_a_late_processed_stays_delivered(
    tracked: Service, auth: dict[str, str], signing_key: ec.EllipticCurvePrivateKey
) -> None:
    mail = _sent_email(tracked, auth)
    client = TestClient(create_app(tracked))
    delivered = json.dumps([_sendgrid_event("delivered", mail.id)]).encode()
    late = json.dumps([_sendgrid_event("processed", mail.id)]).encode()

    first = client.post(
        "/v1/providers/sendgrid/events", content=delivered, headers=_signed(signing_key, delivered)
    )
    second = client.post(
        "/v1/providers/sendgrid/events", content=late, headers=_signed(signing_key, late)
    )
    again = client.post(
        "/v1/providers/sendgrid/events", content=delivered, headers=_signed(signing_key, delivered)
    )

    assert (first.status_code, second.status_code, again.status_code) == (200, 200, 200)
    assert first.json()["changed"] == 1
    assert second.json()["changed"] == 0
    assert again.json()["changed"] == 0
    assert _status(tracked, mail.id) == "delivered"


def test_a_hard_bounce_suppresses_the_address_and_falls_back_to_sms(
    tracked: Service, auth: dict[str, str], signing_key: ec.EllipticCurvePrivateKey
) -> None:
    body = event(type="return.approved", event_id="evt-approved")
    client = TestClient(create_app(tracked))
    client.post("/v1/events", json=body, headers=auth)
    drain(tracked)
    with tracked.engine.connect() as connection:
        mail = connection.execute(select(db.notifications)).one()
    bounce = json.dumps(
        [_sendgrid_event("bounce", mail.id, type="bounce", reason="550 no such user")]
    ).encode()

    answer = client.post(
        "/v1/providers/sendgrid/events", content=bounce, headers=_signed(signing_key, bounce)
    )
    drain(tracked)
    later = event(type="return.label_created", event_id="evt-label")
    client.post("/v1/events", json=later, headers=auth)
    drain(tracked)

    assert answer.status_code == 200
    assert _status(tracked, mail.id) == "bounced"
    with tracked.engine.connect() as connection:
        rows = connection.execute(
            select(db.notifications.c.kind, db.notifications.c.channel, db.notifications.c.status)
        ).all()
    assert ("return.approved", "sms", "sent") in rows
    assert ("return.label_created", "email", "suppressed") in rows


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"X-Twilio-Email-Event-Webhook-Signature": "bm90IGEgc2ln"}, 401),
        (
            {
                "X-Twilio-Email-Event-Webhook-Signature": "%%%not-base64",
                "X-Twilio-Email-Event-Webhook-Timestamp": "1",
            },
            401,
        ),
    ],
)
def test_unsigned_sendgrid_callbacks_are_refused(
    tracked: Service, headers: dict[str, str], status: int
) -> None:
    client = TestClient(create_app(tracked))

    answer = client.post("/v1/providers/sendgrid/events", content=b"[]", headers=headers)

    assert answer.status_code == status


def test_a_stale_sendgrid_signature_is_refused(
    tracked: Service, signing_key: ec.EllipticCurvePrivateKey
) -> None:
    client = TestClient(create_app(tracked))
    body = b"[]"

    answer = client.post(
        "/v1/providers/sendgrid/events",
        content=body,
        headers=_signed(signing_key, body, at=int(time.time()) - 3600),
    )

    assert answer.status_code == 401


def test_a_signed_but_malformed_sendgrid_body_is_400(
    tracked: Service, signing_key: ec.EllipticCurvePrivateKey
) -> None:
    client = TestClient(create_app(tracked))
    body = b'{"not": "a list"'

    answer = client.post(
        "/v1/providers/sendgrid/events", content=body, headers=_signed(signing_key, body)
    )

    assert answer.status_code == 400


def _twilio_post(client: TestClient, form: dict[str, str], token: str = TWILIO_TOKEN) -> Any:
    url = "https://notify.example.nl/v1/providers/twilio/status"
    signature = RequestValidator(token).compute_signature(url, form)
    return client.post(
        "/v1/providers/twilio/status", data=form, headers={"X-Twilio-Signature": signature}
    )


def test_twilio_status_moves_the_sms_forward_only(tracked: Service, auth: dict[str, str]) -> None:
    _sent_email(tracked, auth)
    with tracked.engine.begin() as connection:
        sms = connection.execute(
            select(db.notifications).where(db.notifications.c.channel == "sms")
        ).one()
        connection.execute(
            db.notifications.update()
            .where(db.notifications.c.id == sms.id)
            .values(provider_message_id="SM" + "a" * 32)
        )
    client = TestClient(create_app(tracked))
    base = {"MessageSid": "SM" + "a" * 32, "AccountSid": "AC" + "b" * 32, "To": "+31612345678"}

    delivered = _twilio_post(client, {**base, "MessageStatus": "delivered"})
    late = _twilio_post(client, {**base, "MessageStatus": "sent"})
    forged = _twilio_post(client, {**base, "MessageStatus": "failed"}, token="wrong-token")
    unsigned = client.post("/v1/providers/twilio/status", data=base)

    assert delivered.status_code == 204
    assert late.status_code == 204
    assert forged.status_code == 401
    assert unsigned.status_code == 401
    assert _status(tracked, sms.id) == "delivered"


# PostgreSQL's plans for a few rows say nothing about its plans for many: SQLite's do.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_callback_finds_its_message_by_the_providers_id_through_the_partial_index(
    tracked: Service, auth: dict[str, str]
) -> None:
    # Given a sent SMS with Twilio's id
    _sent_email(tracked, auth)
    sid = "SM" + "c" * 32
    with tracked.engine.begin() as connection:
        sms_id = connection.execute(
            select(db.notifications.c.id).where(db.notifications.c.channel == "sms")
        ).scalar_one()
        connection.execute(
            db.notifications.update()
            .where(db.notifications.c.id == sms_id)
            .values(provider_message_id=sid)
        )

    # When Twilio calls back about it by that id alone
    with recorded(tracked.engine) as statements:
        answer = _twilio_post(
            TestClient(create_app(tracked)),
            {"MessageSid": sid, "AccountSid": "AC" + "b" * 32, "MessageStatus": "delivered"},
        )

    # Then the lookup reads the index that holds only the messages with such an id
    lookups = [(sql, p) for sql, p in statements if "provider_message_id = " in sql]
    plans = [plan(tracked.engine, sql, p) for sql, p in lookups]
    with tracked.engine.connect() as connection:
        definition = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'ix_notifications_provider_message_id'"
        ).scalar_one()
    assert answer.status_code == 204 and _status(tracked, sms_id) == "delivered"
    assert plans and all("ix_notifications_provider_message_id" in plan for plan in plans)
    assert "WHERE provider_message_id IS NOT NULL" in definition


def test_a_spam_report_suppresses_the_address_for_later_emails(
    tracked: Service, auth: dict[str, str], signing_key: ec.EllipticCurvePrivateKey
) -> None:
    mail = _sent_email(tracked, auth)
    client = TestClient(create_app(tracked))
    report = json.dumps([_sendgrid_event("spamreport", mail.id)]).encode()

    answer = client.post(
        "/v1/providers/sendgrid/events", content=report, headers=_signed(signing_key, report)
    )
    client.post("/v1/events", json=event(type="return.closed", event_id="e2"), headers=auth)
    client.post("/v1/events", json=event(type="return.cancelled", event_id="e3"), headers=auth)
    drain(tracked)

    assert answer.status_code == 200
    with tracked.engine.connect() as connection:
        suppressed = connection.execute(select(db.suppressions.c.address)).scalars().all()
        later = connection.execute(
            select(db.notifications.c.status).where(
                db.notifications.c.kind == "return.cancelled",
                db.notifications.c.channel == "email",
            )
        ).scalar_one()
    assert suppressed == ["sanne@example.nl"]
    assert later == "suppressed"


def test_a_callback_for_an_unknown_message_is_accepted_and_ignored(
    tracked: Service, signing_key: ec.EllipticCurvePrivateKey
) -> None:
    client = TestClient(create_app(tracked))
    body = json.dumps([_sendgrid_event("delivered", "ntf_unknown")]).encode()

    answer = client.post(
        "/v1/providers/sendgrid/events", content=body, headers=_signed(signing_key, body)
    )

    assert answer.status_code == 200
    assert answer.json() == {"received": 1, "changed": 0}


@pytest.mark.parametrize(
    "body",
    [
        b'[{"timestamp": 1}]',
        b'[{"event": "delivered", "timestamp": "yesterday"}]',
        b"\xff\xfe",
        b"[1, 2]",
        b"[" * 5000 + b"]" * 5000,  # nested deeper than any parser should go
        b'[{"event": "delivered", "timestamp": ' + b"9" * 5000 + b"}]",  # a 5,000-digit number
    ],
)
def test_signed_but_unreadable_sendgrid_events_are_400(
    tracked: Service, signing_key: ec.EllipticCurvePrivateKey, body: bytes
) -> None:
    client = TestClient(create_app(tracked))

    answer = client.post(
        "/v1/providers/sendgrid/events", content=body, headers=_signed(signing_key, body)
    )

    assert answer.status_code == 400


@pytest.mark.parametrize(
    "form",
    [
        {"MessageStatus": "delivered"},
        {"MessageSid": "SM" + "a" * 32},
        {"MessageSid": "SM" + "a" * 32, "MessageStatus": "failed", "ErrorCode": "thirty"},
    ],
)
def test_signed_but_malformed_twilio_callbacks_are_400(
    tracked: Service, form: dict[str, str]
) -> None:
    client = TestClient(create_app(tracked))

    answer = _twilio_post(client, form)

    assert answer.status_code == 400


def test_a_twilio_body_that_is_not_text_is_400(tracked: Service) -> None:
    client = TestClient(create_app(tracked))

    answer = client.post(
        "/v1/providers/twilio/status",
        content=b"\xff\xfe\xfd",
        headers={
            "X-Twilio-Signature": "A" * 27 + "=",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )

    assert answer.status_code == 400


def test_a_twilio_callback_signed_for_our_internal_url_is_refused_behind_a_proxy(
    tracked: Service,
) -> None:
    # Twilio signs the public URL it called; a signature over the internal URL is not Twilio's
    client = TestClient(create_app(tracked))
    form = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered"}
    internal = "http://testserver/v1/providers/twilio/status"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(internal, form)

    answer = client.post(
        "/v1/providers/twilio/status", data=form, headers={"X-Twilio-Signature": signature}
    )

    assert answer.status_code == 401


def test_callbacks_are_refused_when_their_provider_is_not_configured(service: Service) -> None:
    client = TestClient(create_app(service))

    sendgrid = client.post("/v1/providers/sendgrid/events", content=b"[]")
    twilio = client.post("/v1/providers/twilio/status", data={"MessageSid": "SM1"})

    assert (sendgrid.status_code, twilio.status_code) == (401, 401)


def test_an_unreadable_sendgrid_verification_key_stops_start_up(settings: Settings) -> None:
    broken = replace(settings, sendgrid_webhook_public_key="not-a-key")

    with pytest.raises(ConfigurationError, match="NOTIFIER_SENDGRID_WEBHOOK_PUBLIC_KEY"):
        build(broken)


def _asgi_post(app: Any, path: str, headers: dict[str, str]) -> tuple[int, int]:
    """POST an endless body to ``app`` by hand; the answer's status and how often the body
    was read from."""
    reads = 0

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * 65536, "more_body": True}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], reads


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/v1/providers/sendgrid/events", {}),
        (
            "/v1/providers/sendgrid/events",
            {
                "X-Twilio-Email-Event-Webhook-Signature": "c2lnbmF0dXJl",
                "X-Twilio-Email-Event-Webhook-Timestamp": "1000000000",  # 2001: stale
            },
        ),
        (
            "/v1/providers/sendgrid/events",
            {
                "X-Twilio-Email-Event-Webhook-Signature": "%%% not base64 %%%",
                "X-Twilio-Email-Event-Webhook-Timestamp": str(int(time.time())),
            },
        ),
        ("/v1/providers/twilio/status", {}),
        ("/v1/providers/twilio/status", {"X-Twilio-Signature": "not a signature"}),
    ],
)
def test_a_callback_that_cannot_be_genuine_is_refused_before_its_body_is_read(
    tracked: Service, path: str, headers: dict[str, str]
) -> None:
    # Given a provider callback whose signature headers are missing, stale or malformed,
    # sending a body that never ends
    app = create_app(tracked)
    # When it is answered
    status, reads = _asgi_post(app, path, {"Content-Type": "application/json", **headers})
    # Then it is refused without reading a byte of the body
    assert (status, reads) == (401, 0)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_twilio_callback_larger_than_any_status_form_is_413(tracked: Service) -> None:
    # Given a well-formed Twilio signature on a body larger than any status callback
    client = TestClient(create_app(tracked))
    # When it is posted
    answer = client.post(
        "/v1/providers/twilio/status",
        content=b"MessageSid=" + b"a" * 20_000,
        headers={
            "X-Twilio-Signature": "A" * 27 + "=",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    # Then it is refused for its size
    assert answer.status_code == 413
