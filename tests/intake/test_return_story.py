"""The return's story: current status and timeline, with late, repeated and odd events."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from notifier import db
from notifier.http import create_app
from notifier.service import Service
from tests.drain import drain
from tests.factories import event


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service)) as client:
        yield client


def _post(client: TestClient, auth: dict[str, str], kind: str, event_id: str, at: str) -> int:
    body = event(kind, event_id, occurred_at=f"2026-11-{at}+01:00")
    return client.post("/v1/events", json=body, headers=auth).status_code


def _story(client: TestClient, auth: dict[str, str]) -> dict[str, Any]:
    answer = client.get("/v1/returns/RMA-1001", headers=auth)
    assert answer.status_code == 200
    return answer.json()  # type: ignore[no-any-return]


def test_a_late_in_transit_is_recorded_but_tells_the_customer_nothing(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    _post(client, auth, "return.requested", "evt-1", "01T10:00:00")
    _post(client, auth, "return.received", "evt-3", "10T10:00:00")
    drain(service)

    late = _post(client, auth, "return.in_transit", "evt-2", "05T10:00:00")
    drain(service)
    story = _story(client, auth)

    assert late == 202
    assert story["status"] == "return.received"
    assert story["status_at"] == "2026-11-10T09:00:00Z"
    assert [(t["event_id"], t["type"], t["stale"]) for t in story["timeline"]] == [
        ("evt-1", "return.requested", False),
        ("evt-2", "return.in_transit", True),
        ("evt-3", "return.received", False),
    ]
    assert "older than the current status return.received" in story["timeline"][1]["note"]
    kinds = sorted({n["kind"] for n in story["notifications"]})
    assert kinds == ["return.received", "return.requested"]


def test_the_same_event_twice_is_one_entry_in_the_timeline(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    first = _post(client, auth, "return.requested", "evt-1", "01T10:00:00")
    again = _post(client, auth, "return.requested", "evt-1", "01T10:00:00")
    drain(service)

    story = _story(client, auth)

    assert (first, again) == (202, 200)
    assert [t["event_id"] for t in story["timeline"]] == ["evt-1"]
    assert [n["channel"] for n in story["notifications"]] == ["email"]


def test_a_refund_for_a_return_never_seen_is_accepted_and_marked(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    answer = _post(client, auth, "return.refund_issued", "evt-9", "20T10:00:00")
    drain(service)

    story = _story(client, auth)

    assert answer == 202
    assert story["status"] == "return.refund_issued"
    [entry] = story["timeline"]
    assert entry["stale"] is False
    assert entry["note"] == "first event seen for this return is return.refund_issued"
    assert {n["status"] for n in story["notifications"]} == {"sent"}


@pytest.mark.parametrize(
    ("before", "after", "note"),
    [
        ("return.requested", "return.refund_issued", "unexpected step"),
        ("return.cancelled", "return.received", "return.received after return.cancelled"),
        ("return.requested", "return.inspected", "unexpected step"),
    ],
)
def test_a_step_that_makes_no_sense_is_recorded_with_a_note(
    client: TestClient, auth: dict[str, str], before: str, after: str, note: str
) -> None:
    _post(client, auth, before, "evt-1", "01T10:00:00")

    answer = _post(client, auth, after, "evt-2", "02T10:00:00")
    story = _story(client, auth)

    assert answer == 202
    assert story["status"] == after
    assert [t["event_id"] for t in story["timeline"]] == ["evt-1", "evt-2"]
    assert note in story["timeline"][1]["note"]


def test_a_normal_story_has_no_notes(client: TestClient, auth: dict[str, str]) -> None:
    steps = [
        "return.requested",
        "return.approved",
        "return.label_created",
        "return.in_transit",
        "return.received",
        "return.inspected",
        "return.refund_issued",
        "return.closed",
    ]
    for day, kind in enumerate(steps, start=1):
        _post(client, auth, kind, f"evt-{day}", f"{day:02d}T10:00:00")

    story = _story(client, auth)

    assert [t["type"] for t in story["timeline"]] == steps
    assert [t["note"] for t in story["timeline"]] == [None] * len(steps)
    assert story["status"] == "return.closed"


def test_a_late_event_fills_in_facts_but_does_not_overwrite_newer_ones(
    client: TestClient, service: Service, auth: dict[str, str]
) -> None:
    newer = event("return.received", "evt-2", occurred_at="2026-11-10T10:00:00+01:00")
    newer["return"]["label"] = None
    older = event("return.label_created", "evt-1", occurred_at="2026-11-02T10:00:00+01:00")
    older["customer"]["name"] = "S. de Vries (old)"
    client.post("/v1/events", json=newer, headers=auth)

    client.post("/v1/events", json=older, headers=auth)
    drain(service)

    with service.engine.connect() as connection:
        snapshot = connection.execute(select(db.returns.c.snapshot)).scalar_one()
    assert snapshot["type"] == "return.received"
    assert snapshot["customer"]["name"] == "Sanne de Vries"
    assert snapshot["return"]["label"]["carrier"] == "PostNL"
