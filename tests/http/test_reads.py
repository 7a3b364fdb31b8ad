"""What support staff and return systems read and set (CONTRACT section 4), through HTTP."""

from __future__ import annotations

import base64
import email
import hmac
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy as email_policy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from notifier import db
from notifier.errors import InvalidCursorError
from notifier.http import create_app, deps
from notifier.http.reads import decode_cursor, encode_cursor
from notifier.service import Service
from tests.conftest import API_KEY
from tests.drain import drain
from tests.factories import event
from tests.plans import plan, recorded
from tests.standins import StandinServer

NOTIFICATION_FIELDS = {
    "id",
    "kind",
    "channel",
    "recipient",
    "status",
    "attempts",
    "provider_message_id",
    "last_error",
    "return_id",
    "event_id",
    "rule",
    "reason",
    "dead_letter",
    "created_at",
    "updated_at",
    "sent_at",
    "next_attempt_at",
}


#: Validation answers do not touch the database: one backend is enough for these tables.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service)) as client:
        yield client


def _returns(client: TestClient, auth: dict[str, str], count: int, kind: str) -> None:
    for i in range(count):
        body = event(kind, f"evt-{kind}-{i}", return_id=f"RMA-{i}")
        assert client.post("/v1/events", json=body, headers=auth).status_code == 202


def _page(client: TestClient, auth: dict[str, str], **params: Any) -> dict[str, Any]:
    answer = client.get("/v1/notifications", params=params, headers=auth)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_a_return_shows_status_timeline_and_masked_notifications(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    client.post("/v1/events", json=event(), headers=auth)
    drain(service)

    answer = client.get("/v1/returns/RMA-1001", headers=auth)

    assert answer.status_code == 200
    story = answer.json()
    assert story["status"] == "return.refund_issued"
    assert (story["order_id"], story["customer_id"]) == ("ORD-5567", "C-42")
    assert [t["event_id"] for t in story["timeline"]] == ["evt-2f6c1a"]
    notes = {n["channel"]: n for n in story["notifications"]}
    assert set(notes) == {"email", "sms"}
    assert notes["email"]["recipient"] == "s***@example.nl"
    assert notes["sms"]["recipient"] == "+316*****678"
    for note in notes.values():
        assert set(note) == NOTIFICATION_FIELDS
        assert (note["status"], note["attempts"], note["last_error"]) == ("sent", 1, None)
        assert note["provider_message_id"] == note["id"]
        assert note["event_id"] == "evt-2f6c1a"
        assert note["sent_at"] is not None
    assert "sanne@example.nl" not in answer.text
    assert "12345678" not in answer.text


# PostgreSQL's plans for a few rows say nothing about its plans for many: SQLite's do.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_returns_notifications_of_one_status_are_read_by_the_return(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    # Given a return's notifications
    client.post("/v1/events", json=event(), headers=auth)
    drain(service)

    # When a client lists the return's sent notifications
    with recorded(service.engine) as statements:
        sent = _page(client, auth, return_id="RMA-1001", status="sent")["notifications"]

    # Then they come through the return's index, not every sent notification's
    (sql, params), *_ = [(s, p) for s, p in statements if "FROM notifications" in s]
    steps = plan(service.engine, sql, params)
    assert {n["channel"] for n in sent} == {"email", "sms"}
    assert "USING INDEX ix_notifications_return_id (return_id=?)" in steps, steps


def test_an_unknown_return_is_404_and_reads_need_a_key(
    client: TestClient, auth: dict[str, str]
) -> None:
    unknown = client.get("/v1/returns/RMA-404", headers=auth)
    anonymous = [
        client.get("/v1/returns/RMA-404").status_code,
        client.get("/v1/notifications").status_code,
        client.put("/v1/customers/C-42/preferences", json={"sms": False}).status_code,
        client.get("/v1/webhooks").status_code,
        client.post("/v1/webhooks", json={"url": "https://example.com/hook"}).status_code,
        client.delete("/v1/webhooks/wh_1").status_code,
    ]

    assert unknown.status_code == 404
    assert "RMA-404" in unknown.json()["detail"]
    assert anonymous == [401] * 6


def test_notifications_are_filtered_by_return_status_and_channel(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    _returns(client, auth, 3, "return.received")
    drain(service)
    client.put("/v1/customers/C-42/preferences", json={"sms": False}, headers=auth)
    client.post("/v1/events", json=event("return.label_created", return_id="RMA-0"), headers=auth)
    drain(service)

    everything = _page(client, auth)["notifications"]
    of_one = _page(client, auth, return_id="RMA-0")["notifications"]
    sms = _page(client, auth, channel="sms")["notifications"]
    held = _page(client, auth, status="suppressed")["notifications"]
    held_email = _page(client, auth, status="suppressed", channel="email")["notifications"]

    assert len(everything) == 8
    assert {n["return_id"] for n in of_one} == {"RMA-0"} and len(of_one) == 4
    assert {n["channel"] for n in sms} == {"sms"} and len(sms) == 4
    assert [(n["kind"], n["channel"], n["reason"]) for n in held] == [
        ("return.label_created", "sms", "opted out")
    ]
    assert held_email == []


def test_notifications_come_newest_first_in_pages_that_concurrent_inserts_do_not_shift(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    _returns(client, auth, 5, "return.received")
    drain(service)

    first = _page(client, auth, limit=3)
    _returns(client, auth, 4, "return.label_created")
    drain(service)
    pages = [first]
    while pages[-1]["next_cursor"] is not None:
        pages.append(_page(client, auth, limit=3, cursor=pages[-1]["next_cursor"]))
    fresh = _page(client, auth, limit=200)["notifications"]

    seen = [n["id"] for page in pages for n in page["notifications"]]
    assert [len(p["notifications"]) for p in pages] == [3, 3, 3, 1]
    assert len(set(seen)) == 10
    assert {n["kind"] for p in pages for n in p["notifications"]} == {"return.received"}
    assert len(fresh) == 18
    order = [(n["created_at"], n["id"]) for n in fresh]
    assert order == sorted(order, reverse=True)
    assert [n["id"] for n in fresh if n["kind"] == "return.received"] == seen


@SQLITE_ONLY
@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": "WyJ4IiwgMV0"},
        {"limit": 0},
        {"limit": 201},
        {"status": "lost"},
        {"channel": "pigeon"},
    ],
)
def test_bad_query_parameters_are_422(
    client: TestClient, auth: dict[str, str], params: dict[str, Any]
) -> None:
    answer = client.get("/v1/notifications", params=params, headers=auth)

    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["query", next(iter(params))]


def _cursor(value: Any) -> str:
    """A cursor made the way the service makes them, around any JSON value."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "value",
    [
        ["0001-01-01T00:00:00+14:00", "ntf_1"],  # before the first moment UTC can hold
        ["9999-12-31T23:59:59-14:00", "ntf_1"],  # after the last
        ["2026-11-20T10:00:00+00:00", "ntf_\u0000"],  # a NUL, which PostgreSQL text refuses
        ["2026-11-20T10:00:00", "ntf_1"],  # no UTC offset
        {"at": "2026-11-20T10:00:00+00:00", "id": "ntf_1"},
        [1, "9" * 5000],
    ],
)
def test_a_crafted_cursor_is_a_422_naming_the_cursor(
    client: TestClient, auth: dict[str, str], value: Any
) -> None:
    # Given a cursor this service did not hand out, though base64 JSON like its own
    cursor = _cursor(value)

    # When a page is asked for with it
    answer = client.get("/v1/notifications", params={"cursor": cursor}, headers=auth)

    # Then it is refused as the cursor, on every database
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["query", "cursor"]
    assert problem["msg"] == "cursor is not one this service returned"


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 5000 + b"]" * 5000,  # nested deeper than any parser should go
        b'["2026-11-20T10:00:00+00:00", ' + b"9" * 5000 + b"]",  # a 5,000-digit number
    ],
)
def test_a_cursor_no_parser_can_read_is_a_422(
    client: TestClient, auth: dict[str, str], raw: bytes
) -> None:
    # Given a cursor whose JSON is nested 5,000 deep or holds a 5,000-digit number
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    # When a page is asked for with it
    answer = client.get("/v1/notifications", params={"cursor": cursor}, headers=auth)
    # Then it is refused as the cursor, not a 500
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_a_cursor_holds_its_place_and_a_foreign_one_is_an_invalid_cursor_error() -> None:
    at = datetime(2026, 11, 20, 9, 15, 30, 123456, tzinfo=UTC)

    assert decode_cursor(encode_cursor(at, "ntf_0123")) == (at, "ntf_0123")
    with pytest.raises(InvalidCursorError, match="^cursor is not one this service returned$"):
        decode_cursor(_cursor(["0001-01-01T00:00:00+14:00", "ntf_1"]))


def test_preferences_are_stored_merged_and_used_by_every_later_message(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    url = "/v1/customers/C-42/preferences"
    first = client.put(url, json={"sms": False, "locale": "en"}, headers=auth)
    second = client.put(url, json={"timezone": "Europe/Brussels"}, headers=auth)

    client.post("/v1/events", json=event("return.label_created"), headers=auth)
    drain(service)
    notes = {n["channel"]: n for n in _page(client, auth)["notifications"]}
    [path] = list(service.settings.outbox_dir.glob("*.eml"))
    mail = email.message_from_bytes(path.read_bytes(), policy=email_policy.default)

    assert first.status_code == 200
    assert second.json() == {
        "customer_id": "C-42",
        "email": None,
        "sms": False,
        "locale": "en",
        "timezone": "Europe/Brussels",
    }
    assert (notes["sms"]["status"], notes["sms"]["reason"]) == ("suppressed", "opted out")
    assert notes["email"]["status"] == "sent"
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "4 December 2026" in text
    with service.engine.connect() as connection:
        zones = set(connection.execute(select(db.notifications.c.timezone)).scalars())
    assert zones == {"Europe/Brussels"}
    assert not (service.settings.outbox_dir / "sms.jsonl").exists()


def test_an_email_opt_out_sends_by_sms_instead(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    client.put("/v1/customers/C-42/preferences", json={"email": False}, headers=auth)

    client.post("/v1/events", json=event("return.requested"), headers=auth)
    drain(service)
    notes = {n["channel"]: n["status"] for n in _page(client, auth)["notifications"]}

    assert notes == {"email": "suppressed", "sms": "sent"}


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"sms": "sometimes"}, "sms"),
        ({"locale": "not a locale"}, "locale"),
    ],
)
def test_invalid_preferences_are_422(
    client: TestClient, auth: dict[str, str], body: dict[str, Any], field: str
) -> None:
    answer = client.put("/v1/customers/C-42/preferences", json=body, headers=auth)

    assert answer.status_code == 422
    assert [p["loc"] for p in answer.json()["detail"]] == [["body", field]]


def test_a_webhook_subscription_shows_its_secret_once_and_can_be_deleted(
    client: TestClient, auth: dict[str, str]
) -> None:
    created = client.post(
        "/v1/webhooks",
        json={"url": "https://example.com/hook", "types": ["return.*"]},
        headers=auth,
    )
    listed = client.get("/v1/webhooks", headers=auth)
    deleted = client.delete(f"/v1/webhooks/{created.json()['id']}", headers=auth)
    again = client.delete(f"/v1/webhooks/{created.json()['id']}", headers=auth)
    after = client.get("/v1/webhooks", headers=auth)

    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "url", "types", "secret", "created_at"}
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 30
    [shown] = listed.json()["webhooks"]
    assert shown["id"] == body["id"] and shown["active"] is True
    assert "secret" not in shown and body["secret"] not in listed.text
    assert deleted.status_code == 204
    assert again.status_code == 404
    assert after.json() == {"webhooks": []}


@SQLITE_ONLY
@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://example.com/hook"},
        {"url": "not a url"},
        {"url": "https://example.com/hook", "types": []},
        {"url": "https://example.com/hook", "types": ["refund"]},
        {},
    ],
)
def test_an_invalid_subscription_is_422(
    client: TestClient, auth: dict[str, str], body: dict[str, Any]
) -> None:
    answer = client.post("/v1/webhooks", json=body, headers=auth)

    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][0] == "body"


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("http://127.0.0.1:9000/hook", "127.0.0.1"),
        ("http://10.1.2.3/hook", "10.1.2.3"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("http://[::1]/hook", "::1"),
        ("http://localhost:8080/hook", "localhost"),
    ],
)
def test_a_subscription_to_a_private_address_is_refused_when_made(
    service: Service, make_service: Any, auth: dict[str, str], url: str, named: str
) -> None:
    from dataclasses import replace

    guarded = make_service(replace(service.settings, webhook_allow_private=False))
    client = TestClient(create_app(guarded))

    answer = client.post("/v1/webhooks", json={"url": url}, headers=auth)

    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["body", "url"]
    assert named in problem["msg"] and "refused" in problem["msg"]
    assert client.get("/v1/webhooks", headers=auth).json() == {"webhooks": []}


def test_a_subscription_to_a_public_address_is_made_without_sending_anything(
    service: Service, make_service: Any, auth: dict[str, str]
) -> None:
    from dataclasses import replace

    guarded = make_service(replace(service.settings, webhook_allow_private=False))
    client = TestClient(create_app(guarded))

    answer = client.post("/v1/webhooks", json={"url": "https://93.184.216.34/hook"}, headers=auth)

    assert answer.status_code == 201


def test_a_subscription_receives_matching_events_only(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    with StandinServer() as receiver:
        client.post(
            "/v1/webhooks",
            json={"url": f"{receiver.base_url}/hook", "types": ["return.refund_issued"]},
            headers=auth,
        )
        client.post("/v1/events", json=event("return.received", "evt-1"), headers=auth)
        client.post("/v1/events", json=event("return.refund_issued", "evt-2"), headers=auth)
        drain(service)

        bodies = [r.json() for r in receiver.requests]

    assert [b["type"] for b in bodies] == ["return.refund_issued"]
    webhooks = _page(client, auth, channel="webhook")["notifications"]
    assert [n["recipient"].startswith("webhook:wh_") for n in webhooks] == [True]


def test_keys_and_secrets_never_reach_the_logs(
    client: TestClient, service: Service, auth: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with StandinServer() as receiver:
        receiver.respond_with(400)
        created = client.post(
            "/v1/webhooks", json={"url": f"{receiver.base_url}/hook"}, headers=auth
        ).json()
        client.post("/v1/events", json=event(), headers=auth)
        client.post("/v1/events", json=event(), headers={"Authorization": "Bearer wrong-key-123"})
        drain(service)

    assert receiver.requests
    assert caplog.records
    assert API_KEY not in caplog.text
    assert "wrong-key-123" not in caplog.text
    assert created["secret"] not in caplog.text
    assert created["secret"].removeprefix("whsec_") not in caplog.text
    assert API_KEY not in repr(service.settings)


def test_api_keys_are_compared_in_constant_time_against_every_key(
    client: TestClient, service: Service, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    original = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return original(a, b)

    monkeypatch.setattr(deps.hmac, "compare_digest", spy)
    keys = dict(service.settings.api_keys, other="other-key-0123456789")
    app = create_app(type(service)(**{**_fields(service), "settings": _with_keys(service, keys)}))

    answer = TestClient(app).get("/v1/webhooks", headers=auth)

    assert answer.status_code == 200
    assert sorted(a for a, _ in compared) == sorted(k.encode() for k in keys.values())
    assert {b for _, b in compared} == {API_KEY.encode()}


def _fields(service: Service) -> dict[str, Any]:
    return {name: getattr(service, name) for name in service.__dataclass_fields__}


def _with_keys(service: Service, keys: dict[str, str]) -> Any:
    from dataclasses import replace

    return replace(service.settings, api_keys=keys)


def _failed_notification(
    service: Service,
    *,
    channel: str,
    recipient: str,
    attempts: int,
    last_error: str,
    dead: bool = False,
) -> None:
    """A failed notification of RMA-1001 written straight to the store, as a provider left it."""
    now = db.now()
    with service.engine.begin() as connection:
        connection.execute(
            insert(db.notifications).values(
                id=f"ntf_{channel}_failed",
                source="manual",
                return_id="RMA-1001",
                customer_id="C-42",
                kind="return.refund_issued",
                channel=channel,
                recipient=recipient,
                locale="nl",
                timezone="Europe/Amsterdam",
                status="failed",
                attempts=attempts,
                dead=dead,
                last_error=last_error,
                created_at=now,
                updated_at=now,
            )
        )


def test_a_read_is_masked_even_for_an_unusual_recipient(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    client.post("/v1/events", json=event(), headers=auth)
    _failed_notification(
        service,
        channel="email",
        recipient="x@example.nl",
        attempts=3,
        dead=True,
        last_error="550 mailbox unavailable: sanne.jansen@example.nl (or +31612345678)",
    )

    [note] = client.get("/v1/returns/RMA-1001", headers=auth).json()["notifications"]

    assert note["recipient"] == "x***@example.nl"
    assert (note["status"], note["dead_letter"], note["attempts"]) == ("failed", True, 3)
    assert note["last_error"] == "550 mailbox unavailable: s***@example.nl (or +316*****678)"
    assert note["event_id"] is None


def test_a_provider_text_shows_no_phone_number_in_any_notation_nor_the_customers_name(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    # Given a failed notification whose provider text names the customer and her number
    # written nationally, as providers quote them
    client.post("/v1/events", json=event(), headers=auth)
    _failed_notification(
        service,
        channel="sms",
        recipient="+31612345678",
        attempts=1,
        last_error="number 06-1234 5678 (Sanne de Vries) unreachable; 0031 6 12345678",
    )
    # When the return and the notifications are read
    [note] = client.get("/v1/returns/RMA-1001", headers=auth).json()["notifications"]
    [listed] = client.get("/v1/notifications", headers=auth).json()["notifications"]
    # Then neither shows the number or the name
    expected = "number 06*****678 (S*** de V***) unreachable; +316*****678"
    assert note["last_error"] == listed["last_error"] == expected


def test_identifiers_with_control_characters_are_refused_not_looked_up(
    client: TestClient, auth: dict[str, str]
) -> None:
    # PostgreSQL text cannot hold NUL: such a value must never reach a query.
    unknown = client.get("/v1/returns/RMA%001001", headers=auth)
    listed = client.get("/v1/notifications", params={"return_id": "RMA\x001"}, headers=auth)
    preferences = client.put("/v1/customers/C%0042/preferences", json={"sms": False}, headers=auth)
    long_id = client.put(f"/v1/customers/{'C' * 129}/preferences", json={}, headers=auth)
    hook = client.post("/v1/webhooks", json={"url": "https://example.com/\x00"}, headers=auth)

    assert (unknown.status_code, unknown.json()["detail"][0]["loc"]) == (422, ["path"])
    assert (listed.status_code, listed.json()["detail"][0]["loc"]) == (422, ["query", "return_id"])
    assert preferences.status_code == 422
    assert preferences.json()["detail"][0]["loc"] == ["path"]
    assert (long_id.status_code, long_id.json()["detail"][0]["loc"][1]) == (422, "customer_id")
    assert (hook.status_code, hook.json()["detail"][0]["loc"]) == (422, ["body", "url"])


@pytest.mark.parametrize(
    ("method", "url", "where"),
    [
        ("GET", "/v1/returns/RMA%00", ["path"]),
        ("DELETE", "/v1/webhooks/wh_%00", ["path"]),
        ("PUT", "/v1/customers/C%00/preferences", ["path"]),
        ("GET", "/v1/notifications?return_id=RMA%00", ["query", "return_id"]),
        ("GET", "/v1/notifications?limit=5&cursor=%00", ["query", "cursor"]),
        ("POST", "/v1/events?x=%00", ["query", "x"]),
        ("GET", "/staff/returns/RMA%00", ["path"]),
        ("GET", "/staff/returns?q=%00", ["query", "q"]),
        ("GET", "/staff/dead-letters?%00=1", ["query"]),
    ],
)
def test_a_nul_anywhere_in_the_url_is_a_422_on_every_database(
    client: TestClient, auth: dict[str, str], method: str, url: str, where: list[str]
) -> None:
    # Given a URL holding a NUL, which no stored value can hold and PostgreSQL cannot compare
    # When it is asked for
    answer = client.request(method, url, headers=auth, json={})
    # Then it is refused as such, before any database is asked
    assert answer.status_code == 422
    assert answer.json()["detail"] == [
        {"loc": where, "msg": "must not contain a NUL character", "type": "value_error"}
    ]


def test_a_nul_in_any_parameter_of_any_documented_operation_is_refused(
    client: TestClient, auth: dict[str, str]
) -> None:
    # Given every operation the OpenAPI document lists, each of its path and query
    # parameters in turn holding a NUL (the others a plain value), and an undeclared one
    document = client.get("/openapi.json").json()
    asked: list[tuple[str, str, list[str]]] = []
    for template, item in document["paths"].items():
        for method, operation in item.items():
            parameters = operation.get("parameters", [])
            plain = {p["name"]: "x1" for p in parameters if p["in"] == "path"}
            for parameter in [*parameters, {"in": "query", "name": "undeclared"}]:
                name = parameter["name"]
                if parameter["in"] == "path":
                    url = template.format(**{**plain, name: "a%00b"})
                    where = ["path"]
                elif parameter["in"] == "query":
                    url = f"{template.format(**plain)}?{name}=a%00b"
                    where = ["query", name]
                else:
                    continue
                asked.append((method.upper(), url, where))

    # When each is asked for, with a valid key and body
    answers = [
        (method, url, client.request(method, url, headers=auth, json={}))
        for method, url, _ in asked
    ]

    # Then each is refused as holding a NUL, before any database is asked
    assert len(asked) >= 20
    assert [(method, url, answer.status_code) for method, url, answer in answers] == [
        (method, url, 422) for method, url, _ in asked
    ]
    assert [answer.json()["detail"][0]["loc"] for _, _, answer in answers] == [
        where for _, _, where in asked
    ]
