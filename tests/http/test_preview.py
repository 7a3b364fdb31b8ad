"""POST /v1/preview through HTTP: what would be sent for an event or a sample (CONTRACT 4),
validated as POST /v1/events validates, and nothing sent or stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from channels.webhook import new_webhook_secret
from notifier import db
from notifier.dispatch import Planner
from notifier.http import MAX_BODY, create_app
from notifier.preview import Previewer
from notifier.rendering import ALL_KINDS, DEFAULT_POLICY, DEFAULT_TIMEZONE, kind_channels
from notifier.service import Service
from notifier.settings import QuietHours
from tests.delivery_support import accept, subscribe
from tests.factories import event

#: Validation answers do not touch the database: one backend is enough for these tests.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
#: The fields of each message, as CONTRACT section 4 lists them.
FIELDS = {
    "kind",
    "channel",
    "locale",
    "recipient",
    "decision",
    "reason",
    "send_at",
    "subject",
    "preheader",
    "html",
    "text",
    "attachments",
    "sms",
}
EMAIL_FIELDS = ("subject", "preheader", "html", "attachments")


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service)) as client:
        yield client


def _by_channel(answer: Any) -> dict[str, dict[str, Any]]:
    assert answer.status_code == 200, answer.text
    return {m["channel"]: m for m in answer.json()["messages"]}


def test_an_event_answers_each_message_with_the_contracts_fields(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    # Given a webhook subscriber
    subscription = subscribe(service, "https://shop.example/hooks", new_webhook_secret())

    # When the contract's refund is previewed
    messages = _by_channel(client.post("/v1/preview", json={"event": event()}, headers=auth))

    # Then there is an email, an SMS and a webhook, each with exactly the contract's fields
    assert set(messages) == {"email", "sms", "webhook"}
    assert all(set(m) == FIELDS for m in messages.values())
    email, sms, webhook = messages["email"], messages["sms"], messages["webhook"]
    assert [(m["decision"], m["reason"], m["send_at"]) for m in messages.values()] == [
        ("send", None, None)
    ] * 3
    assert (email["recipient"], sms["recipient"], webhook["recipient"]) == (
        "s***@example.nl",
        "+316*****678",
        f"webhook:{subscription}",
    )
    assert email["subject"] == "Je terugbetaling van € 49,95 is onderweg"
    assert email["preheader"] == "Meestal zie je € 49,95 binnen 5 werkdagen terug."
    assert email["html"].startswith("<!DOCTYPE html>") and email["attachments"] == []
    assert email["text"].startswith("Hoi Sanne,") and email["sms"] is None
    # And SMS and webhook have no email fields, the SMS its measurement
    assert all(sms[f] is None and webhook[f] is None for f in EMAIL_FIELDS)
    assert sms["sms"] == {"encoding": "GSM-7", "characters": len(sms["text"]) + 1, "segments": 1}
    assert webhook["sms"] is None
    body = json.loads(webhook["text"])
    assert (body["type"], body["data"]["return_id"], body["data"]["message"]["subject"]) == (
        "return.refund_issued",
        "RMA-1001",
        email["subject"],
    )


def test_an_email_that_sets_a_deadline_lists_its_calendar_event(
    client: TestClient, auth: dict[str, str]
) -> None:
    # Given an approved return whose last day is two weeks away
    body = event("return.approved", "evt-approved-1")
    body["return"]["ship_by"] = (db.now().date() + timedelta(days=14)).isoformat()

    # When it is previewed
    messages = _by_channel(client.post("/v1/preview", json={"event": body}, headers=auth))

    # Then the email lists the calendar file it would carry, by name and type alone
    assert messages["email"]["attachments"] == [
        {
            "filename": "retour-RMA-1001.ics",
            "content_type": "text/calendar; charset=utf-8; method=PUBLISH",
        }
    ]
    # And a sample of the kind lists it too, in its own language
    answer = client.post(
        "/v1/preview",
        json={"kind": "return.approved", "locale": "en", "channel": "email", "sample": "in_store"},
        headers=auth,
    )
    [sample] = answer.json()["messages"]
    assert [a["filename"] for a in sample["attachments"]] == ["return-RMA-1001.ics"]


def test_a_held_sms_says_when_it_would_be_sent(service: Service, auth: dict[str, str]) -> None:
    # Given quiet hours, and a quarter past ten at night in Amsterdam
    night = Previewer(
        service.engine,
        Planner("nl", DEFAULT_TIMEZONE),
        service.renderer,
        policy=DEFAULT_POLICY,
        quiet_hours=QuietHours(time(21), time(8)),
        clock=lambda: datetime(2026, 11, 20, 21, 15, tzinfo=UTC),
    )
    client = TestClient(create_app(replace(service, previewer=night)))

    # When a refund is previewed
    messages = _by_channel(client.post("/v1/preview", json={"event": event()}, headers=auth))

    # Then the SMS is held until eight in the morning, Amsterdam time
    assert (messages["sms"]["decision"], messages["sms"]["send_at"]) == (
        "hold",
        "2026-11-21T07:00:00Z",
    )
    assert messages["email"]["decision"] == "send"


def test_a_stale_event_answers_every_message_skipped(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    # Given a return whose parcel was received
    accept(service, event("return.received", "evt-received", occurred_at="2026-11-21T09:00:00Z"))

    # When an older in-transit event is previewed
    late = event("return.in_transit", "evt-late", occurred_at="2026-11-20T09:00:00Z")
    answer = client.post("/v1/preview", json={"event": late}, headers=auth)

    # Then its email is skipped, saying why
    [message] = answer.json()["messages"]
    assert (message["decision"], message["reason"]) == (
        "skip",
        "older than the current status return.received: recorded, nothing sent",
    )


def _counts(service: Service) -> dict[str, int]:
    with service.engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in db.metadata.sorted_tables
        }


def _queued(service: Service) -> dict[str, int]:
    return {name: queue.qsize() for name, queue in service.broker.queues.items()}  # type: ignore[attr-defined]


def test_a_preview_stores_nothing_and_queues_nothing(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    # Given a subscriber and a stored return
    subscribe(service, "https://shop.example/hooks", new_webhook_secret())
    accept(service, event("return.received", "evt-received"))
    counts, queued = _counts(service), _queued(service)

    # When a new event, the stored one again and a sample are previewed
    answers = [
        client.post("/v1/preview", json={"event": event()}, headers=auth),
        client.post("/v1/preview", json={"event": event("return.requested", "e")}, headers=auth),
        client.post(
            "/v1/preview",
            json={"kind": "return.received", "locale": "en", "channel": "sms"},
            headers=auth,
        ),
    ]

    # Then each answered, and no table has a row more or less, nor the queue a job
    assert [a.status_code for a in answers] == [200] * 3
    assert (counts["events"], counts["notifications"], counts["outbox"]) == (1, 3, 1)
    assert _counts(service) == counts
    assert _queued(service) == queued
    # And the event previewed is no duplicate when it is posted for real
    posted = client.post("/v1/events", json=event(), headers=auth)
    assert posted.status_code == 202


@SQLITE_ONLY
@pytest.mark.parametrize(
    "change",
    [
        {"type": "return.lost", "occurred_at": "2026-11-20T10:15:00"},
        {"customer": {"email": "sanne@example", "phone": "+31 6 1234"}},
        {"customer": {"email": None, "phone": None}},
        {"return": {"id": "RMA\n1", "order_id": "ORD-5567", "refund": {"amount": 49.95}}},
        {"event_id": ""},
    ],
)
def test_an_invalid_event_has_the_problems_post_events_names(
    client: TestClient, auth: dict[str, str], change: dict[str, Any]
) -> None:
    # Given an invalid event
    body = event(**change)

    # When it is previewed and posted
    previewed = client.post("/v1/preview", json={"event": body}, headers=auth)
    posted = client.post("/v1/events", json=body, headers=auth)

    # Then both are 422 with the same problems, the preview's located under the event
    assert (previewed.status_code, posted.status_code) == (422, 422)
    expected = [{**p, "loc": ["body", "event", *p["loc"][1:]]} for p in posted.json()["detail"]]
    assert previewed.json()["detail"] == expected


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("body", "locs"),
    [
        ([event()], [["body"]]),
        ({"event": "RMA-1001"}, [["body", "event"]]),
        ({"event": event(), "kind": "return.received"}, [["body", "kind"]]),
        ({}, [["body", "kind"], ["body", "locale"], ["body", "channel"]]),
        (
            {"evnt": event()},
            [["body", "kind"], ["body", "locale"], ["body", "channel"], ["body", "evnt"]],
        ),
        ({"kind": "return.closed", "locale": "nl", "channel": "email"}, [["body", "kind"]]),
        ({"kind": "return.received", "locale": "fr", "channel": "email"}, [["body", "locale"]]),
        ({"kind": "return.received", "locale": "nl", "channel": "fax"}, [["body", "channel"]]),
        (
            {"kind": "return.received", "locale": "nl", "channel": "sms", "sample": "x"},
            [["body", "sample"]],
        ),
        ({"kind": 7, "locale": "nl", "channel": "sms"}, [["body", "kind"]]),
    ],
)
def test_a_body_that_is_neither_an_event_nor_a_sample_names_the_field(
    client: TestClient, auth: dict[str, str], body: Any, locs: list[list[str]]
) -> None:
    answer = client.post("/v1/preview", json=body, headers=auth)

    assert answer.status_code == 422
    assert sorted(p["loc"] for p in answer.json()["detail"]) == sorted(locs)
    assert all(p["msg"] and p["type"] for p in answer.json()["detail"])


@SQLITE_ONLY
def test_an_unknown_sample_says_what_to_choose_from(
    client: TestClient, auth: dict[str, str]
) -> None:
    body = {"kind": "staff.stale_return", "locale": "nl", "channel": "sms"}

    answer = client.post("/v1/preview", json=body, headers=auth)

    assert answer.json()["detail"] == [
        {
            "loc": ["body", "channel"],
            "msg": "staff.stale_return has no template for 'sms'; choose from email",
            "type": "value_error",
        }
    ]


@SQLITE_ONLY
def test_every_sample_kind_locale_and_channel_answers(
    client: TestClient, auth: dict[str, str]
) -> None:
    # Given every kind, in each locale, on each channel its templates exist for
    cases = [
        {"kind": kind, "locale": locale, "channel": channel}
        for kind in ALL_KINDS
        for locale in ("nl", "en-GB")
        for channel in kind_channels(kind)
    ]

    # When each is previewed
    answers = [client.post("/v1/preview", json=case, headers=auth) for case in cases]

    # Then each answers its one message, rendered for its channel
    assert [a.status_code for a in answers] == [200] * len(cases)
    for case, answer in zip(cases, answers, strict=True):
        [message] = answer.json()["messages"]
        assert set(message) == FIELDS
        assert (message["kind"], message["channel"], message["decision"]) == (
            case["kind"],
            case["channel"],
            "send",
        )
        assert message["text"] and message["reason"] is None
        if case["channel"] == "email":
            assert message["subject"] and message["preheader"] and message["sms"] is None
        else:
            assert message["subject"] is None and message["sms"]["segments"] >= 1


@SQLITE_ONLY
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-key-0123456789"}])
def test_without_a_known_key_it_is_401(client: TestClient, headers: dict[str, str]) -> None:
    answer = client.post("/v1/preview", json={"event": event()}, headers=headers)

    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


@SQLITE_ONLY
def test_a_body_too_large_or_not_json_is_refused(client: TestClient, auth: dict[str, str]) -> None:
    big = client.post(
        "/v1/preview",
        content=b"{" + b" " * MAX_BODY + b"}",
        headers={**auth, "Content-Type": "application/json"},
    )
    plain = client.post(
        "/v1/preview", content=b"{}", headers={**auth, "Content-Type": "text/plain"}
    )
    broken = client.post(
        "/v1/preview", content=b"{", headers={**auth, "Content-Type": "application/json"}
    )

    assert (big.status_code, plain.status_code, broken.status_code) == (413, 415, 400)
