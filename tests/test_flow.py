"""One event in, the right messages out: intake, outbox, dispatch, render, deliver, record."""

from __future__ import annotations

import email
import json
from email import policy as email_policy
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from notifier import db
from notifier.http import create_app
from notifier.service import Service
from tests.drain import drain
from tests.factories import event


def _read_eml(outbox: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email_policy.default)  # type: ignore[misc]
        for p in sorted(outbox.glob("*.eml"))
    ]


def test_an_accepted_event_is_stored_with_its_outbox_row_before_the_answer(
    service: Service, auth: dict[str, str]
) -> None:
    client = TestClient(create_app(service))

    answer = client.post("/v1/events", json=event(), headers=auth)

    assert answer.status_code == 202
    assert answer.json() == {"event_id": "evt-2f6c1a", "return_id": "RMA-1001", "duplicate": False}
    with service.engine.connect() as connection:
        stored = connection.execute(select(db.events.c.type, db.events.c.return_id)).all()
        pending = connection.execute(
            select(func.count()).select_from(db.outbox).where(db.outbox.c.dispatched_at.is_(None))
        ).scalar()
    assert stored == [("return.refund_issued", "RMA-1001")]
    assert pending == 1


def test_the_customer_gets_the_refund_email_and_sms_in_dutch(
    service: Service, auth: dict[str, str]
) -> None:
    client = TestClient(create_app(service))
    client.post("/v1/events", json=event(), headers=auth)

    drain(service)

    [mail] = _read_eml(service.settings.outbox_dir)
    assert mail["To"] == "sanne@example.nl"
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "€ 49,95" in text
    assert "€ 49,95" in html or "€&nbsp;49,95" in html
    sms_lines = (service.settings.outbox_dir / "sms.jsonl").read_text().splitlines()
    [sms] = [json.loads(line) for line in sms_lines]
    assert sms["to"] == "+31612345678"
    assert "49,95" in sms["text"]
    detail = client.get("/v1/returns/RMA-1001", headers=auth).json()
    statuses = {(n["channel"], n["status"], n["attempts"]) for n in detail["notifications"]}
    assert statuses == {("email", "sent", 1), ("sms", "sent", 1)}


def test_an_english_customer_gets_english_formatting(
    service: Service, auth: dict[str, str]
) -> None:
    client = TestClient(create_app(service))
    body = event(customer={"locale": "en-GB", "email": "sam@example.co.uk"})
    client.post("/v1/events", json=body, headers=auth)

    drain(service)

    [mail] = _read_eml(service.settings.outbox_dir)
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "€49.95" in text


def test_a_duplicate_is_answered_200_and_sends_nothing_twice(
    service: Service, auth: dict[str, str]
) -> None:
    client = TestClient(create_app(service))
    first = client.post("/v1/events", json=event(), headers=auth)
    drain(service)

    again = client.post("/v1/events", json=event(), headers=auth)
    drain(service)

    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert len(_read_eml(service.settings.outbox_dir)) == 1


def test_the_same_event_id_with_another_body_is_a_conflict(
    service: Service, auth: dict[str, str]
) -> None:
    client = TestClient(create_app(service))
    client.post("/v1/events", json=event(), headers=auth)

    answer = client.post("/v1/events", json=event(type="return.received"), headers=auth)

    assert answer.status_code == 409
    assert "evt-2f6c1a" in answer.json()["detail"]


def test_dispatching_an_event_twice_plans_and_sends_once(service: Service) -> None:
    accepted = service.intake.accept("shop", _payload())

    first = service.dispatcher.dispatch(accepted.event_pk)
    second = service.dispatcher.dispatch(accepted.event_pk)
    outcomes = [service.deliverer.deliver(n) for n in first + second]

    assert sorted(first) == sorted(second)
    assert [o.status for o in outcomes].count("sent") == len(first)
    assert {o.status for o in outcomes[len(first) :]} == {None}


def test_keys_are_required(service: Service) -> None:
    client = TestClient(create_app(service))

    missing = client.post("/v1/events", json=event())
    unknown = client.post("/v1/events", json=event(), headers={"Authorization": "Bearer nope"})

    assert missing.status_code == 401
    assert unknown.status_code == 401
    assert unknown.headers["www-authenticate"] == "Bearer"


def test_an_invalid_body_names_each_bad_field(service: Service, auth: dict[str, str]) -> None:
    client = TestClient(create_app(service))
    body = event()
    body["return"]["refund"]["amount"] = 49.95
    body["occurred_at"] = "2026-11-20T10:15:00"
    del body["return"]["order_id"]

    answer = client.post("/v1/events", json=body, headers=auth)

    assert answer.status_code == 422
    locs = {tuple(p["loc"]) for p in answer.json()["detail"]}
    assert ("body", "return", "refund", "amount") in locs
    assert ("body", "occurred_at") in locs
    assert ("body", "return", "order_id") in locs


def test_an_unknown_return_is_404(service: Service, auth: dict[str, str]) -> None:
    client = TestClient(create_app(service))

    answer = client.get("/v1/returns/RMA-404", headers=auth)

    assert answer.status_code == 404


def test_health_and_readiness(service: Service) -> None:
    client = TestClient(create_app(service))

    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"


def _payload() -> dict[str, object]:
    from notifier.http import EventIn

    return EventIn.model_validate(event()).payload()
