"""POST /v1/events through HTTP: every answer of CONTRACT section 3."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from notifier import db
from notifier.http import MAX_BODY, create_app
from notifier.intake import Intake, group_commit_for
from notifier.lifecycle import EVENT_TYPES
from notifier.service import Service
from notifier.settings import Settings
from tests.drain import drain
from tests.factories import event

#: Validation answers do not touch the database: one backend is enough for these tables.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service)) as client:
        yield client


def _count(service: Service, table: object) -> int:
    with service.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _stored_payload(service: Service, event_id: str) -> dict[str, object]:
    with service.engine.connect() as connection:
        payload = connection.execute(
            select(db.events.c.payload).where(db.events.c.event_id == event_id)
        ).scalar_one()
    return dict(payload)


def test_every_event_type_is_accepted_and_stored(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    answers = [
        client.post("/v1/events", json=event(kind, f"evt-{i}", return_id=f"RMA-{i}"), headers=auth)
        for i, kind in enumerate(EVENT_TYPES)
    ]

    assert len(EVENT_TYPES) == 11
    assert [a.status_code for a in answers] == [202] * 11
    assert [a.json() for a in answers] == [
        {"event_id": f"evt-{i}", "return_id": f"RMA-{i}", "duplicate": False} for i in range(11)
    ]
    with service.engine.connect() as connection:
        types = connection.execute(select(db.events.c.type).order_by(db.events.c.pk)).scalars()
        assert list(types) == list(EVENT_TYPES)


def test_an_event_accepted_while_the_queue_is_down_is_dispatched_by_the_relay(
    service: Service, auth: dict[str, str]
) -> None:
    def broken_queue(_: int) -> None:
        raise ConnectionError("Redis is down")

    intake = Intake(service.engine, broken_queue)
    cut_off = replace(service, intake=intake, group_commit=group_commit_for(service.engine, intake))
    client = TestClient(create_app(cut_off))

    try:
        answer = client.post("/v1/events", json=event(), headers=auth)
    finally:
        cut_off.group_commit.close()
    drain(service)
    nothing_yet = _count(service, db.notifications)
    # The relay's very next round takes it: no grace is waited out for a hand-over that failed
    handed = service.relay.run_once(db.now())
    drain(service)

    assert answer.status_code == 202
    assert nothing_yet == 0
    assert handed == 1
    detail = client.get("/v1/returns/RMA-1001", headers=auth).json()
    assert {(n["channel"], n["status"]) for n in detail["notifications"]} == {
        ("email", "sent"),
        ("sms", "sent"),
    }


def test_a_retry_written_differently_but_meaning_the_same_is_a_duplicate(
    client: TestClient, auth: dict[str, str]
) -> None:
    first = event()
    again = event(customer={"phone": "06 12345678", "name": "  Sanne de Vries "})
    again["unknown_field"] = {"ignored": True}

    answers = [client.post("/v1/events", json=body, headers=auth) for body in (first, again)]

    assert [a.status_code for a in answers] == [202, 200]
    assert answers[1].json() == {
        "event_id": "evt-2f6c1a",
        "return_id": "RMA-1001",
        "duplicate": True,
    }


def test_a_duplicate_after_dispatch_sends_nothing_again(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    client.post("/v1/events", json=event(), headers=auth)
    drain(service)
    sent = _count(service, db.notifications)

    again = client.post("/v1/events", json=event(), headers=auth)
    drain(service)

    assert again.status_code == 200
    assert sent == 2
    assert _count(service, db.notifications) == 2
    assert _count(service, db.events) == 1
    sms = (service.settings.outbox_dir / "sms.jsonl").read_text().splitlines()
    assert len(sms) == 1


def test_a_reused_event_id_with_another_body_is_409_and_changes_nothing(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    client.post("/v1/events", json=event(), headers=auth)

    changed = event()
    changed["return"]["refund"]["amount"] = "10.00"
    conflict = client.post("/v1/events", json=changed, headers=auth)

    assert conflict.status_code == 409
    assert "evt-2f6c1a" in conflict.json()["detail"]
    assert _count(service, db.events) == 1
    assert _stored_payload(service, "evt-2f6c1a")["return"]["refund"]["amount"] == "49.95"  # type: ignore[index]


def test_event_ids_are_unique_per_api_key(
    settings: Settings, make_service: Callable[[Settings], Service], auth: dict[str, str]
) -> None:
    service = make_service(
        replace(settings, api_keys={**settings.api_keys, "other": "other-key-0123456789"})
    )
    client = TestClient(create_app(service))

    mine = client.post("/v1/events", json=event(), headers=auth)
    theirs = client.post(
        "/v1/events",
        json=event(type="return.received"),
        headers={"Authorization": "Bearer other-key-0123456789"},
    )

    assert (mine.status_code, theirs.status_code) == (202, 202)
    assert _count(service, db.events) == 2


@SQLITE_ONLY
@pytest.mark.parametrize(
    "header",
    [None, "Bearer nope-not-a-key", "Basic dGVzdDp0ZXN0", "Bearer", "bearer  "],
    ids=["missing", "unknown", "basic", "empty", "blank"],
)
def test_a_missing_or_unknown_key_is_401_and_stores_nothing(
    client: TestClient, service: Service, header: str | None
) -> None:
    headers = {"Authorization": header} if header is not None else {}

    answer = client.post("/v1/events", json=event(), headers=headers)

    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert isinstance(answer.json()["detail"], str)
    assert _count(service, db.events) == 0


def test_the_key_is_checked_before_the_body(client: TestClient) -> None:
    answer = client.post("/v1/events", content=b"not json", headers={"Content-Type": "text/plain"})

    assert answer.status_code == 401


def test_a_body_over_256_kib_is_413(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    body = event()
    body["padding"] = "x" * (MAX_BODY + 1)

    answer = client.post("/v1/events", json=body, headers=auth)

    assert answer.status_code == 413
    assert "256 KiB" in answer.json()["detail"]
    assert _count(service, db.events) == 0


def test_a_streamed_body_over_256_kib_is_413(client: TestClient, auth: dict[str, str]) -> None:
    chunk = b" " * 65536

    def stream() -> Iterator[bytes]:
        yield json.dumps(event()).encode()
        for _ in range(5):
            yield chunk

    answer = client.post(
        "/v1/events",
        content=stream(),
        headers={**auth, "Content-Type": "application/json"},
    )

    assert "content-length" not in answer.request.headers
    assert answer.status_code == 413


def test_a_body_just_under_256_kib_is_accepted(client: TestClient, auth: dict[str, str]) -> None:
    body = event()
    body["padding"] = ""
    size = len(json.dumps(body).encode())
    body["padding"] = "x" * (MAX_BODY - size)
    raw = json.dumps(body).encode()

    answer = client.post(
        "/v1/events", content=raw, headers={**auth, "Content-Type": "application/json"}
    )

    assert len(raw) == MAX_BODY
    assert answer.status_code == 202


def test_an_invalid_body_is_422_with_every_problem_named(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    body = event(type="return.lost", occurred_at="2026-11-20T10:15:00")
    body["return"]["refund"]["amount"] = 49.95
    body["customer"]["email"] = "sanne@example"
    body["customer"]["phone"] = "+31 6 1234"
    del body["return"]["order_id"]

    answer = client.post("/v1/events", json=body, headers=auth)

    assert answer.status_code == 422
    problems = {tuple(p["loc"]): p for p in answer.json()["detail"]}
    assert set(problems) == {
        ("body", "type"),
        ("body", "occurred_at"),
        ("body", "return", "refund", "amount"),
        ("body", "return", "order_id"),
        ("body", "customer", "email"),
        ("body", "customer", "phone"),
    }
    assert "return.refund_issued" in problems[("body", "type")]["msg"]
    assert "offset" in problems[("body", "occurred_at")]["msg"]
    assert "decimal string" in problems[("body", "return", "refund", "amount")]["msg"]
    assert problems[("body", "customer", "email")]["msg"] == "is not a valid e-mail address"
    assert "phone number" in problems[("body", "customer", "phone")]["msg"]
    assert all(not p["msg"].startswith("Value error") for p in problems.values())
    assert all(p["type"] for p in problems.values())
    assert _count(service, db.events) == 0


def test_a_customer_without_email_and_phone_is_one_problem(
    client: TestClient, auth: dict[str, str]
) -> None:
    body = event()
    del body["customer"]["email"]
    body["customer"]["phone"] = None

    answer = client.post("/v1/events", json=body, headers=auth)

    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["body", "customer"]
    assert "email or phone" in problem["msg"]


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        (("occurred_at",), 1763629200, "string"),
        (("occurred_at",), "20 november", "datetime"),
        (("event_id",), "", "at least 1"),
        (("event_id",), "e" * 129, "at most 128"),
        (("return", "ship_by"), 20261204, "string"),
        (("return", "items", 0, "quantity"), "1", "integer"),
        (("return", "items", 0, "unit_price"), "49,95", "decimal string"),
        (("return", "currency"), "euro", "pattern"),
        (("customer", "timezone"), "Mars/Olympus", "IANA"),
        (("customer", "phone"), "+999 1234", "phone number"),
        (("customer", "phone"), "06 1234", "phone number"),
        (("policy", "window_days"), 30.5, "integer"),
        (("occurred_at",), "9999-12-31T23:59:59-14:00", "years 2000 to 2199"),
        (("occurred_at",), "0001-01-01T00:00:00+14:00", "years 2000 to 2199"),
        (("return", "ship_by"), "0001-01-01", "years 2000 to 2199"),
        (("return", "label", "expires_at"), "9999-12-31T23:59:59-14:00", "years 2000 to 2199"),
        (("event_id",), "evt\x00x", "control characters"),
        (("return", "id"), "RMA\n1001", "control characters"),
        (("return", "id"), "RMA/1001", "slash"),
        (("customer", "id"), "C/42", "slash"),
        (("customer", "id"), "C\t42", "control characters"),
        (("customer", "name"), "Sanne\x00Jansen", "NUL"),
        (("return", "method"), "by_post", "drop_off"),
        (("return", "items", 0, "variant"), "M\nL", "control characters"),
        (("return", "pickup", "date"), "1 december", "date"),
        (("return", "pickup", "from"), "9:00", "pattern"),
        (("return", "store", "name"), "", "at least 1"),
        (("return", "refund", "method"), "bank_transfer", "original_payment"),
        (("return", "refund", "payment_method"), "cash", "ideal"),
        (("return", "refund", "deductions", 0, "reason"), "restocking", "return_shipping"),
        (("return", "refund", "deductions", 0, "amount"), "4,95", "decimal string"),
        (("return", "refund", "store_credit", "expires_on"), 20271231, "string"),
        (("return", "status_url"), "javascript:alert(1)", "pattern"),
        (("return", "rejection_code"), "too_late", "outside_window"),
        (("return", "inspection", "rejected_items", 0, "disposition"), "burnt", "sent_back"),
        (("return", "inspection", "rejected_items", 0, "code"), None, "outside_window"),
    ],
)
def test_each_malformed_field_is_named(
    client: TestClient,
    auth: dict[str, str],
    path: tuple[str | int, ...],
    value: object,
    words: str,
) -> None:
    body = event()
    body["return"]["inspection"]["rejected_items"] = [
        {"sku": "TRUI-M", "quantity": 1, "code": "damaged", "disposition": "sent_back"}
    ]
    body["return"]["pickup"] = {"carrier": "DHL", "date": "2026-12-01", "from": "09:00"}
    body["return"]["store"] = {"name": "De Wolwinkel Utrecht"}
    body["return"]["refund"]["deductions"] = [{"reason": "damage", "amount": "5.00"}]
    body["return"]["refund"]["store_credit"] = {"expires_on": "2027-12-31"}
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value

    answer = client.post("/v1/events", json=body, headers=auth)

    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert tuple(problem["loc"]) == ("body", *path)
    assert words in problem["msg"]


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        (("return", "pickup"), {"date": "2026-12-01", "from": "13:00", "to": "09:00"}, "window"),
        (("return", "refund"), {"amount": "49.95", "method": "gift_card"}, "gift_card"),
    ],
)
def test_an_inconsistent_object_is_named_with_what_is_wrong(
    client: TestClient,
    auth: dict[str, str],
    path: tuple[str, ...],
    value: object,
    words: str,
) -> None:
    # Given an event whose pickup window ends before it starts, or a gift card without its code
    body = event()
    body[path[0]][path[1]] = value
    # When it is posted
    answer = client.post("/v1/events", json=body, headers=auth)
    # Then the one problem names the object and what is wrong with it
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert tuple(problem["loc"]) == ("body", *path)
    assert words in problem["msg"]


@SQLITE_ONLY
def test_the_optional_fields_for_precise_messages_are_kept_as_posted(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    # Given an event with every optional field the messages use
    body = event()
    body["return"].update(
        method="pickup",
        pickup={"carrier": "DHL", "date": "2026-12-01", "from": "09:00", "to": "13:00"},
        store={"name": "De Wolwinkel", "address": "Oudegracht 12", "opening_hours": "ma-za 9-18"},
    )
    body["return"]["items"][0]["variant"] = "M"
    body["return"]["inspection"]["accepted_items"] = [{"sku": "TRUI-M", "quantity": 1}]
    body["return"]["refund"] = {
        "amount": "45.00",
        "method": "gift_card",
        "payment_method": "klarna",
        "deductions": [{"reason": "return_shipping", "amount": "4.95"}],
        "gift_card": {"code": "GC-1234", "expires_on": "2027-11-20"},
    }
    # When it is posted
    answer = client.post("/v1/events", json=body, headers=auth)
    # Then the stored event holds each of them as posted, for the messages to use
    assert answer.status_code == 202
    stored: Any = _stored_payload(service, body["event_id"])
    for key in ("method", "pickup", "store"):
        assert stored["return"][key] == body["return"][key]
    for key, value in body["return"]["refund"].items():
        assert stored["return"]["refund"][key] == value
    assert stored["return"]["items"][0]["variant"] == "M"
    assert stored["return"]["inspection"]["accepted_items"] == [{"sku": "TRUI-M", "quantity": 1}]


def test_phone_numbers_are_stored_in_e164_with_the_default_region(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    answer = client.post("/v1/events", json=event(customer={"phone": "06 12345678"}), headers=auth)
    drain(service)

    assert answer.status_code == 202
    assert _stored_payload(service, "evt-2f6c1a")["customer"]["phone"] == "+31612345678"  # type: ignore[index]
    [sms] = (service.settings.outbox_dir / "sms.jsonl").read_text().splitlines()
    assert json.loads(sms)["to"] == "+31612345678"


def test_the_default_region_is_a_setting(
    settings: Settings, make_service: Callable[[Settings], Service], auth: dict[str, str]
) -> None:
    service = make_service(replace(settings, default_region="BE"))
    client = TestClient(create_app(service))

    belgian = client.post(
        "/v1/events", json=event(customer={"phone": "0470 12 34 56"}), headers=auth
    )
    dutch_mobile = client.post(
        "/v1/events", json=event(event_id="evt-2", customer={"phone": "06 12345678"}), headers=auth
    )

    assert belgian.status_code == 202
    assert _stored_payload(service, "evt-2f6c1a")["customer"]["phone"] == "+32470123456"  # type: ignore[index]
    assert dutch_mobile.status_code == 422


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("content", "content_type", "status", "words"),
    [
        (b"{not json", "application/json", 400, "not valid JSON"),
        (b"", "application/json", 400, "not valid JSON"),
        (b"\xff\xfe{}", "application/json", 400, "not valid JSON"),
        (b'{"event_id": "x"}', "text/plain", 415, "application/json"),
        (b'{"event_id": "x"}', "application/x-www-form-urlencoded", 415, "application/json"),
        (b'{"event_id": "x"}', None, 415, "application/json"),
        (b"[1, 2]", "application/json", 422, "JSON object"),
        (b'"text"', "application/json", 422, "JSON object"),
        (b"null", "application/json", 422, "JSON object"),
    ],
)
def test_bodies_that_are_not_an_event_object_get_a_4xx_with_a_message(
    client: TestClient,
    service: Service,
    auth: dict[str, str],
    content: bytes,
    content_type: str | None,
    status: int,
    words: str,
) -> None:
    headers = dict(auth)
    if content_type is not None:
        headers["Content-Type"] = content_type

    answer = client.post("/v1/events", content=content, headers=headers)

    assert answer.status_code == status
    assert words in json.dumps(answer.json()["detail"])
    assert _count(service, db.events) == 0


@SQLITE_ONLY
@pytest.mark.parametrize("path", ["/v1/events", "/v1/events/batch", "/v1/preview"])
@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"[" * 5000 + b"]" * 5000, "nested deeper than 1,024 levels"),
        (b'{"event_id": ' + b"9" * 5000 + b"}", "a number of more than 4,300 digits"),
    ],
)
def test_json_no_parser_should_read_is_a_400_that_says_why(
    client: TestClient,
    service: Service,
    auth: dict[str, str],
    path: str,
    content: bytes,
    words: str,
) -> None:
    # Given a body nested 5,000 deep, or holding a 5,000-digit number
    headers = {**auth, "Content-Type": "application/json"}
    # When it is posted
    answer = client.post(path, content=content, headers=headers)
    # Then it is a 400 that says which limit it is over, and nothing is stored
    assert answer.status_code == 400
    assert words in json.dumps(answer.json()["detail"])
    assert _count(service, db.events) == 0


def test_json_with_a_charset_is_accepted(client: TestClient, auth: dict[str, str]) -> None:
    answer = client.post(
        "/v1/events",
        content=json.dumps(event()).encode(),
        headers={**auth, "Content-Type": "application/json; charset=utf-8"},
    )

    assert answer.status_code == 202
