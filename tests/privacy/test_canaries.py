"""Erasure and retention leave nothing of a customer behind: canary values planted in every
place personal data reaches are searched for in every table afterwards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from notifier import db
from notifier.http.schemas import EventIn
from notifier.privacy import fingerprint
from notifier.service import Service
from notifier.settings import Settings
from tests.delivery_support import Twins
from tests.drain import drain
from tests.privacy.support import CANARIES, CUSTOMER, canary_event, leftovers, planted


def test_erasure_leaves_no_canary_in_any_table(
    busy: tuple[Service, TestClient], twins: Twins, auth: dict[str, str]
) -> None:
    # Given the canary customer's data everywhere: returns, events, notifications (sent,
    # bounced, dead), preferences, a suppression, the outbox
    service, client = busy
    before = planted(service)
    assert {"returns", "events", "notifications", "suppressions"} <= set(before), before
    with service.engine.connect() as connection:
        assert connection.execute(
            select(func.count()).where(db.notifications.c.dead.is_(True))
        ).scalar_one()
        assert connection.execute(
            select(func.count()).where(db.outbox.c.dispatched_at.is_(None))
        ).scalar_one()
    sent = len(twins.email.outbox) + len(twins.sms.outbox) + len(twins.webhook.outbox)

    # When the customer's data is erased through the API
    answer = client.delete(f"/v1/customers/{CUSTOMER}", headers=auth)

    # Then it says what it erased, and no table holds a canary any more
    assert answer.status_code == 200, answer.text
    erased = answer.json()["erased"]
    assert erased["returns"] == 2 and erased["events"] == 2 and erased["outbox"] == 2
    assert erased["dead_letters"] == 1 and erased["preferences"] == 1
    assert erased["suppressions"] == 1
    assert leftovers(service) == []

    # And the queued job finds nothing to send, without an error
    drain(service)
    assert len(twins.email.outbox) + len(twins.sms.outbox) + len(twins.webhook.outbox) == sent

    # And the suppression still protects the address
    with service.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(db.suppressions)).scalar_one()
        audit = connection.execute(select(db.privacy_audit)).one()
    assert audit.actor == "shop" and audit.action == "erasure"
    assert audit.subject == fingerprint(CUSTOMER) and CUSTOMER not in str(tuple(audit))

    # And every read says something sensible
    assert client.get("/v1/returns/RMA-CANARY", headers=auth).status_code == 404
    assert client.get(f"/v1/customers/{CUSTOMER}/data", headers=auth).status_code == 404
    listed = client.get("/v1/notifications", headers=auth)
    assert listed.status_code == 200 and listed.json()["notifications"] == []
    assert client.get("/metrics").status_code == 200

    # And an event posted later for the customer is a new return, suppression honoured
    again = client.post("/v1/events", json=canary_event("evt-c3", "return.approved"), headers=auth)
    assert again.status_code == 202, again.text
    drain(service)
    detail = client.get("/v1/returns/RMA-CANARY", headers=auth).json()
    assert [n["status"] for n in detail["notifications"] if n["channel"] == "email"] == [
        "suppressed"
    ]


def test_retention_leaves_no_canary_in_any_table(
    busy: tuple[Service, TestClient], auth: dict[str, str]
) -> None:
    # Given the canary customer's data everywhere
    service, client = busy

    # When retention runs with its clock past the retention period
    later = db.now() + timedelta(days=service.settings.retention_days, minutes=1)
    report = service.retention.purge(now=later)

    # Then no table holds a canary, and the counts, statuses and timelines keep their shape
    assert report.counts["returns"] == 2 and report.counts["suppressions"] == 1
    assert leftovers(service) == []
    detail = client.get("/v1/returns/RMA-CANARY", headers=auth)
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["personal_data"].startswith("personal data removed after 90 days")
    assert [t["type"] for t in body["timeline"]] == ["return.label_created"]
    assert {n["recipient"] for n in body["notifications"] if n["channel"] != "webhook"} == {
        "[removed]"
    }
    assert {n["status"] for n in body["notifications"]} >= {"bounced", "failed"}

    # And a second run finds nothing left to do
    assert not any(service.retention.purge(now=later).counts.values())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_redis_holds_no_canary_after_erasure(
    settings: Settings, make_service: Callable[..., Service], redis_url: str, twins: Twins
) -> None:
    # Given an event of the canary customer queued in Redis and not yet dispatched
    service = make_service(replace(settings, redis_url=redis_url), channels=twins.senders)
    payload = EventIn.model_validate(canary_event("evt-r1", "return.label_created")).payload()
    service.intake.accept("shop", payload)
    client = redis.Redis.from_url(redis_url)
    assert client.dbsize() > 0

    # When the customer is erased
    service.erasure.erase(CUSTOMER, actor="shop")

    # Then nothing in Redis holds a canary: queued jobs carry ids only
    dumped = []
    for key in client.scan_iter():
        kind = client.type(key)
        if kind == b"list":
            dumped += client.lrange(key, 0, -1)
        elif kind == b"hash":
            dumped += [*client.hgetall(key).values()]
        elif kind == b"zset":
            dumped += client.zrange(key, 0, -1)
        elif kind == b"string":
            dumped.append(client.get(key) or b"")
        dumped.append(key)
    client.close()
    text = b" ".join(dumped).decode(errors="replace").lower()
    assert dumped and not [c for c in CANARIES if c.lower() in text]
    assert leftovers(service) == []
