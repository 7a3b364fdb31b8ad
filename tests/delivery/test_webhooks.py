"""Outbound webhooks (CONTRACT 6) as a subscriber sees them, verified with ``standardwebhooks``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import dramatiq
import pytest
from sqlalchemy import select

from channels.webhook import new_webhook_secret
from notifier import db
from notifier.service import Service
from notifier.settings import Settings
from tests.delivery_support import accept, row, subscribe
from tests.factories import event
from tests.standins import WebhookReceiver

SECRET = new_webhook_secret()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as standin:
        yield standin


def test_a_delivery_is_signed_so_a_standard_webhooks_subscriber_accepts_it(
    service: Service, receiver: WebhookReceiver
) -> None:
    # Given a subscription to every return event
    subscribe(service, f"{receiver.base_url}/hooks/returns", SECRET)
    ids = accept(service, event())

    # When the webhook is delivered
    outcome = service.deliverer.deliver(ids["webhook"])

    # Then the subscriber verified the signature and got the CONTRACT's body
    assert outcome.status == "sent"
    [delivery] = receiver.deliveries
    assert delivery.verified
    assert delivery.headers["webhook-id"] == ids["webhook"]
    assert abs(int(delivery.headers["webhook-timestamp"]) - time.time()) < 60
    body = json.loads(delivery.body)
    assert set(body) == {"id", "type", "timestamp", "data"}
    assert (body["id"], body["type"]) == (ids["webhook"], "return.refund_issued")
    assert body["timestamp"] == "2026-11-20T10:15:00+01:00"
    data = body["data"]
    assert set(data) == {"return_id", "order_id", "status", "locale", "message", "customer_id"}
    assert (data["return_id"], data["order_id"], data["customer_id"]) == (
        "RMA-1001",
        "ORD-5567",
        "C-42",
    )
    assert data["status"] == "return.refund_issued"
    assert set(data["message"]) == {"subject", "text"}
    assert "49,95" in data["message"]["text"]
    assert receiver.requests[0].path == "/hooks/returns"


def test_the_webhook_id_is_the_same_on_every_retry(
    service: Service, receiver: WebhookReceiver
) -> None:
    # Given a subscriber that fails twice
    subscribe(service, receiver.base_url, SECRET)
    ids = accept(service, event())
    receiver.respond_with(500, times=1)
    receiver.respond_with(503, times=1)
    now = db.now()

    # When each attempt is made when due
    first = service.deliverer.deliver(ids["webhook"], now)
    assert first.retry_in is not None
    second = service.deliverer.deliver(ids["webhook"], now + first.retry_in)
    assert second.retry_in is not None
    third = service.deliverer.deliver(ids["webhook"], now + first.retry_in + second.retry_in)

    # Then three signed deliveries carried one webhook-id, and the third succeeded
    assert [o.status for o in (first, second, third)] == ["queued", "queued", "sent"]
    assert {d.headers["webhook-id"] for d in receiver.deliveries} == {ids["webhook"]}
    assert all(d.verified for d in receiver.deliveries)
    assert len(receiver.deliveries) == 3
    assert row(service, ids["webhook"]).attempts == 3


def test_retry_after_from_a_subscriber_is_honoured(
    service: Service, receiver: WebhookReceiver
) -> None:
    subscribe(service, receiver.base_url, SECRET)
    ids = accept(service, event())
    receiver.respond_with(429, {"Retry-After": "300"}, times=1)

    outcome = service.deliverer.deliver(ids["webhook"])

    assert outcome.status == "queued"
    assert outcome.retry_in is not None
    assert outcome.retry_in.total_seconds() >= 300


def test_a_410_disables_the_subscription_and_later_events_skip_it(
    service: Service, receiver: WebhookReceiver
) -> None:
    # Given a subscriber whose endpoint is gone
    subscription = subscribe(service, receiver.base_url, SECRET)
    ids = accept(service, event())
    receiver.respond_with(410, body="gone")

    # When the webhook is delivered, and another event follows
    outcome = service.deliverer.deliver(ids["webhook"])
    later = accept(service, event(type="return.closed", event_id="evt-closed"))

    # Then the delivery failed for good and the subscription is disabled
    assert outcome.status == "failed"
    assert outcome.retry_in is None
    with service.engine.connect() as connection:
        sub = connection.execute(select(db.webhooks).where(db.webhooks.c.id == subscription)).one()
    assert sub.active is False
    assert "410" in sub.disabled_reason
    assert "webhook" not in later
    assert len(receiver.deliveries) == 1


@pytest.mark.parametrize(
    ("status", "headers", "words"),
    [
        (400, {}, "HTTP 400"),
        (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, "redirects"),
    ],
)
def test_other_refusals_and_redirects_fail_at_once(
    service: Service,
    receiver: WebhookReceiver,
    status: int,
    headers: dict[str, str],
    words: str,
) -> None:
    subscribe(service, receiver.base_url, SECRET)
    ids = accept(service, event())
    receiver.respond_with(status, headers)

    outcome = service.deliverer.deliver(ids["webhook"])

    record = row(service, ids["webhook"])
    assert (outcome.status, record.status, record.attempts) == ("failed", "failed", 1)
    assert words in record.last_error
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_without_allow_private_a_loopback_subscriber_is_never_dialed(
    settings: Settings,
    make_service: Callable[[Settings], Service],
    receiver: WebhookReceiver,
    host: str,
) -> None:
    # Given the SSRF guard on, and a subscription on loopback (by address or by name)
    service = make_service(replace(settings, webhook_allow_private=False))
    port = receiver.base_url.rsplit(":", 1)[1]
    subscribe(service, f"http://{host}:{port}/hook", SECRET)
    ids = accept(service, event())

    # When the webhook is delivered
    outcome = service.deliverer.deliver(ids["webhook"])

    # Then it is refused for the address it would dial, and nothing reached the receiver
    assert outcome.status == "failed"
    assert "loopback" in row(service, ids["webhook"]).last_error
    assert receiver.requests == []


def test_one_slow_subscriber_does_not_delay_the_others(
    service: Service, receiver: WebhookReceiver
) -> None:
    # Given a subscriber that takes 1.5 s to answer and one that answers at once
    with WebhookReceiver(SECRET) as slow:
        slow.respond_with(200, delay=1.5)
        subscribe(service, slow.base_url, SECRET)
        subscribe(service, receiver.base_url, SECRET)
        for n in range(5):
            accept(service, event(event_id=f"evt-{n}", return_id=f"RMA-{n}"))
        worker = dramatiq.Worker(
            service.broker, worker_threads=service.settings.worker_threads, worker_timeout=50
        )

        # When a worker with the configured threads delivers everything
        started = time.monotonic()
        worker.start()
        try:
            while len(receiver.deliveries) < 5 and time.monotonic() - started < 10:
                time.sleep(0.02)
            fast_done = time.monotonic() - started
            slow_then = len(slow.deliveries)
            while len(slow.deliveries) < 5 and time.monotonic() - started < 30:
                time.sleep(0.05)
        finally:
            worker.stop()

        # Then the fast subscriber had all five before the slow one answered twice, and the
        # slow one got all five as well, each once
        assert fast_done < 1.2, f"the fast subscriber waited {fast_done:.2f} s"
        assert slow_then <= 2
        assert sorted(d.headers["webhook-id"] for d in slow.deliveries) == sorted(
            {d.headers["webhook-id"] for d in slow.deliveries}
        )
        assert len(slow.deliveries) == 5
