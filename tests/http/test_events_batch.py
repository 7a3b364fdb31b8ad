"""POST /v1/events/batch through HTTP: one 207 answer, one result per event, in order."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from notifier import db
from notifier.http import create_app
from notifier.service import Service
from tests.drain import drain
from tests.factories import event
from tests.scrape import samples

#: Validation answers do not touch the database: one backend is enough for these tables.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service)) as client:
        yield client


def test_each_event_gets_the_answer_a_single_post_would_get_in_order(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    client.post("/v1/events", json=event("return.requested", "evt-known"), headers=auth)
    invalid = event(event_id="evt-bad")
    invalid["return"]["refund"]["amount"] = 49.95
    changed = event("return.requested", "evt-known", occurred_at="2026-11-01T09:00:00+01:00")
    batch = [
        event("return.approved", "evt-1"),
        invalid,
        event("return.requested", "evt-known"),
        changed,
        event("return.approved", "evt-1"),
        event("return.received", "evt-1"),
        "not an event",
        event("return.label_created", "evt-2", return_id="RMA-2"),
    ]

    answer = client.post("/v1/events/batch", json={"events": batch}, headers=auth)

    assert answer.status_code == 207
    results = answer.json()["results"]
    assert [r["status"] for r in results] == [202, 422, 200, 409, 200, 409, 422, 202]
    assert results[0] == {
        "status": 202,
        "event_id": "evt-1",
        "return_id": "RMA-1001",
        "duplicate": False,
    }
    assert [p["loc"] for p in results[1]["detail"]] == [
        ["body", "events", 1, "return", "refund", "amount"]
    ]
    assert results[2]["duplicate"] is True
    assert results[4]["duplicate"] is True
    assert "evt-1" in results[5]["detail"]
    assert results[6]["detail"][0]["loc"] == ["body", "events", 6]
    with service.engine.connect() as connection:
        stored = connection.execute(select(db.events.c.event_id).order_by(db.events.c.pk)).all()
    assert [s.event_id for s in stored] == ["evt-known", "evt-1", "evt-2"]


def test_the_accepted_events_of_a_batch_are_all_dispatched(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    batch = [event("return.received", f"evt-{i}", return_id=f"RMA-{i}") for i in range(20)]
    batch[7]["customer"]["email"] = "not-an-address"

    answer = client.post("/v1/events/batch", json={"events": batch}, headers=auth)
    drain(service)

    assert [r["status"] for r in answer.json()["results"]].count(202) == 19
    with service.engine.connect() as connection:
        sent = connection.execute(
            select(db.notifications.c.return_id, func.count())
            .where(db.notifications.c.status == "sent")
            .group_by(db.notifications.c.return_id)
        ).all()
        pending = connection.execute(
            select(func.count()).select_from(db.outbox).where(db.outbox.c.dispatched_at.is_(None))
        ).scalar_one()
    assert dict(sent) == {f"RMA-{i}": 2 for i in range(20) if i != 7}
    assert pending == 0


def test_events_of_one_return_in_a_batch_are_judged_in_order(
    client: TestClient, auth: dict[str, str]
) -> None:
    batch = [
        event("return.requested", "evt-1", occurred_at="2026-11-01T10:00:00+01:00"),
        event("return.received", "evt-3", occurred_at="2026-11-10T10:00:00+01:00"),
        event("return.in_transit", "evt-2", occurred_at="2026-11-05T10:00:00+01:00"),
    ]

    client.post("/v1/events/batch", json={"events": batch}, headers=auth)
    detail = client.get("/v1/returns/RMA-1001", headers=auth).json()

    assert detail["status"] == "return.received"
    assert [(t["event_id"], t["stale"]) for t in detail["timeline"]] == [
        ("evt-1", False),
        ("evt-2", True),
        ("evt-3", False),
    ]


def test_a_batch_of_500_is_accepted_and_501_is_refused(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    batch = [event("return.requested", f"evt-{i}", return_id=f"RMA-{i % 50}") for i in range(501)]

    too_many = client.post("/v1/events/batch", json={"events": batch}, headers=auth)
    full = client.post("/v1/events/batch", json={"events": batch[:500]}, headers=auth)

    assert too_many.status_code == 422
    assert too_many.json()["detail"][0]["loc"] == ["body", "events"]
    assert full.status_code == 207
    assert [r["status"] for r in full.json()["results"]] == [202] * 500
    with service.engine.connect() as connection:
        events = connection.execute(select(func.count()).select_from(db.events)).scalar_one()
        returns = connection.execute(select(func.count()).select_from(db.returns)).scalar_one()
    assert (events, returns) == (500, 50)


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b'{"events": []}', 422),
        (b'{"events": {"event_id": "x"}}', 422),
        (b'{"items": []}', 422),
        (b"[]", 422),
        (b"{oops", 400),
    ],
)
def test_a_batch_that_is_not_a_list_of_events_is_refused_whole(
    client: TestClient, auth: dict[str, str], content: bytes, status: int
) -> None:
    answer = client.post(
        "/v1/events/batch", content=content, headers={**auth, "Content-Type": "application/json"}
    )

    assert answer.status_code == status
    assert answer.json()["detail"]


def test_a_batch_needs_a_key(client: TestClient) -> None:
    answer = client.post("/v1/events/batch", json={"events": [event()]})

    assert answer.status_code == 401


def test_a_batch_answer_round_trips_as_json(client: TestClient, auth: dict[str, str]) -> None:
    answer = client.post("/v1/events/batch", json={"events": [event()]}, headers=auth)

    assert answer.headers["content-type"] == "application/json"
    assert json.loads(answer.content) == {
        "results": [
            {"status": 202, "event_id": "evt-2f6c1a", "return_id": "RMA-1001", "duplicate": False}
        ]
    }


def test_an_event_with_a_control_character_in_an_id_is_refused_alone(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    batch = [event(event_id="evt\x00x"), event(event_id="evt-fine")]

    answer = client.post("/v1/events/batch", json={"events": batch}, headers=auth)

    results = answer.json()["results"]
    assert [r["status"] for r in results] == [422, 202]
    assert results[0]["detail"][0]["loc"] == ["body", "events", 0, "event_id"]
    with service.engine.connect() as connection:
        stored = connection.execute(select(db.events.c.event_id)).scalars().all()
    assert stored == ["evt-fine"]


@SQLITE_ONLY
def test_a_batch_counts_in_the_events_metric_like_single_posts(
    client: TestClient, auth: dict[str, str]
) -> None:
    # Given one event posted singly, and a batch with one of each outcome
    client.post("/v1/events", json=event("return.requested", "evt-known"), headers=auth)
    changed = event("return.requested", "evt-known", occurred_at="2026-11-01T09:00:00+01:00")
    batch = [
        event("return.approved", "evt-1"),
        event("return.requested", "evt-known"),
        changed,
        "not an event",
    ]

    # When the batch is posted and the metrics scraped
    client.post("/v1/events/batch", json={"events": batch}, headers=auth)
    metrics = client.get("/metrics").text

    # Then every event of the batch is counted with its outcome, under its endpoint
    counted = samples(metrics, "notifier_events_total", by=("outcome",))
    assert counted == {
        ("accepted",): 2.0,
        ("duplicate",): 1.0,
        ("conflict",): 1.0,
        ("invalid",): 1.0,
    }
    by_endpoint = samples(metrics, "notifier_events_total", by=("endpoint", "outcome"))
    assert by_endpoint[("single", "accepted")] == 1.0
    assert by_endpoint[("batch", "accepted")] == 1.0
    assert by_endpoint[("batch", "invalid")] == 1.0
