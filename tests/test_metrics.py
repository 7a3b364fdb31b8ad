"""Prometheus metrics: what is counted where it happens, the queue and outbox read at scrape
time at constant cost, the separate processes' own ports, and the shipped dashboard and
alert rules using only metrics the service exports."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event as sqlalchemy_event

from channels.errors import TransientChannelError
from channels.tracking import TrackingEvent, TrackingStatus
from notifier import db, processes
from notifier.errors import ConfigurationError
from notifier.http import EventIn, create_app
from notifier.service import Service
from notifier.settings import Settings
from tests.delivery_support import Twins, accept
from tests.drain import drain
from tests.factories import event
from tests.scrape import samples

ROOT = Path(__file__).resolve().parent.parent
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
#: A loopback port nothing listens on: a Redis that is down.
DOWN_REDIS = "redis://127.0.0.1:1/0"


def scrape(service: Service) -> str:
    with TestClient(create_app(service)) as client:
        answer = client.get("/metrics")
    assert answer.status_code == 200
    return answer.text


def test_an_email_is_counted_from_the_post_to_its_delivery(
    provided: Service, auth: dict[str, str]
) -> None:
    # Given an event posted to the API and delivered through SendGrid
    with TestClient(create_app(provided)) as client:
        posted = client.post("/v1/events", json=event("return.approved"), headers=auth)
        assert posted.status_code == 202
        drain(provided)
        # When SendGrid reports the email delivered, and the metrics are scraped
        [email] = [r for r in _rows(provided) if r.channel == "email"]
        provided.tracker.apply(
            [
                TrackingEvent(
                    "sendgrid", TrackingStatus.DELIVERED, email.id, None, None, None, None, False
                )
            ]
        )
        text = client.get("/metrics").text

    # Then the event is counted as accepted at the single endpoint
    events = samples(text, "notifier_events_total", by=("endpoint", "outcome"))
    assert events[("single", "accepted")] == 1
    assert events[("batch", "accepted")] == 0
    # and the email as sent and delivered, under its kind and channel
    counted = samples(text, "notifier_notifications_total", by=("kind", "channel", "outcome"))
    assert counted[("return.approved", "email", "sent")] == 1
    assert counted[("return.approved", "email", "delivered")] == 1
    # and SendGrid's answer and the hand-off from the post are timed
    calls = samples(text, "notifier_provider_request_duration_seconds_count", by=("channel",))
    assert calls[("email",)] == 1
    handoff = samples(text, "notifier_handoff_duration_seconds_count", by=("channel",))
    assert handoff[("email",)] == 1
    assert samples(text, "notifier_handoff_duration_seconds_sum", by=("channel",))[("email",)] > 0


def test_a_retry_and_a_dead_letter_are_counted(
    settings: Settings, make_service: Callable[..., Service], twins: Twins
) -> None:
    # Given two attempts in all, and an email provider that is down
    service = make_service(replace(settings, retry_attempts=2), channels=twins.senders)
    down = TransientChannelError("503: down for maintenance", status=503)
    twins.email.answer(down, down)
    ids = accept(service, event(type="return.approved"))
    now = db.now()

    # When both attempts are made, and the metrics scraped
    service.deliverer.deliver(ids["email"], now)
    service.deliverer.deliver(ids["email"], now + timedelta(hours=1))
    text = scrape(service)

    # Then one retry and one dead letter are counted, and both failed calls timed
    assert samples(text, "notifier_delivery_retries_total", by=("channel",))[("email",)] == 1
    assert samples(text, "notifier_dead_letters_total", by=("channel",))[("email",)] == 1
    counted = samples(text, "notifier_notifications_total", by=("kind", "channel", "outcome"))
    assert counted == {("return.approved", "email", "dead_lettered"): 1}
    calls = samples(
        text, "notifier_provider_request_duration_seconds_count", by=("channel", "outcome")
    )
    assert calls[("email", "transient")] == 2


@SQLITE_ONLY
def test_the_outbox_and_the_scheduler_are_in_the_scrape(service: Service) -> None:
    # Given an accepted event not dispatched yet, and one scheduler scan
    service.intake.accept("shop", _payload(event("return.approved")))
    service.scheduler.scan()

    # When the metrics are scraped, before and after dispatch
    waiting = scrape(service)
    drain(service)
    drained = scrape(service)

    # Then the outbox holds the event until it is dispatched
    assert samples(waiting, "notifier_outbox_pending") == {(): 1}
    assert samples(waiting, "notifier_outbox_oldest_age_seconds")[()] >= 0
    assert samples(drained, "notifier_outbox_pending") == {(): 0}
    assert samples(drained, "notifier_outbox_oldest_age_seconds") == {(): 0}
    # and the scan is timed
    assert samples(drained, "notifier_scheduler_scan_duration_seconds_count") == {(): 1}
    assert samples(drained, "notifier_scheduler_last_scan_timestamp_seconds")[()] > 0


@SQLITE_ONLY
def test_the_queues_are_read_from_redis_at_scrape_time(
    settings: Settings, make_service: Callable[[Settings], Service], redis_url: str
) -> None:
    # Given a job waiting in the events queue, and no worker
    service = make_service(replace(settings, redis_url=redis_url))
    service.actors.enqueue_events([1])

    # When the metrics are scraped
    text = scrape(service)

    # Then Redis is up, and the job is counted in its queue with its age
    assert samples(text, "notifier_redis_up") == {(): 1}
    depth = samples(text, "notifier_queue_depth", by=("queue",))
    assert depth == {("events",): 1, ("deliveries",): 0}
    age = samples(text, "notifier_queue_oldest_age_seconds", by=("queue",))
    assert 0 <= age[("events",)] < 60 and age[("deliveries",)] == 0


@SQLITE_ONLY
def test_a_scrape_answers_when_redis_is_down(
    settings: Settings, make_service: Callable[[Settings], Service]
) -> None:
    # Given a service whose Redis does not answer
    service = make_service(replace(settings, redis_url=DOWN_REDIS))

    # When the metrics are scraped
    text = scrape(service)

    # Then the scrape answers, says Redis is down, and leaves the queue gauges out
    assert samples(text, "notifier_redis_up") == {(): 0}
    assert samples(text, "notifier_queue_depth") == {}
    assert samples(text, "notifier_outbox_pending") == {(): 0}


def test_a_scrape_reads_neither_notifications_nor_events(
    settings: Settings, make_service: Callable[[Settings], Service], redis_url: str
) -> None:
    # Given a service with stored notifications, and every statement its database runs noted
    service = make_service(replace(settings, redis_url=redis_url))
    accept(service, event(type="return.approved"))
    statements: list[str] = []

    def note(*args: Any) -> None:
        statements.append(args[2])

    sqlalchemy_event.listen(service.engine, "before_cursor_execute", note)

    # When the metrics are scraped
    scrape(service)
    sqlalchemy_event.remove(service.engine, "before_cursor_execute", note)

    # Then the scrape read the outbox, and nothing else
    queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert queries, "the scrape ran no query at all"
    assert all(re.search(r"\bFROM outbox\b", s) for s in queries), queries
    assert not [s for s in statements if re.search(r"\b(notifications|events)\b", s)]


@pytest.fixture
def worker_service(settings: Settings, make_service: Callable[[Settings], Service]) -> Service:
    return make_service(replace(settings, metrics_port=_free_port()))


@SQLITE_ONLY
def test_a_worker_serves_its_own_registry_on_its_metrics_port(worker_service: Service) -> None:
    # Given a worker process's metrics port, and a retry counted in that process
    worker_service.metrics.retries.labels("sms").inc()

    # When it is scraped
    with processes.metrics_port(worker_service, "worker") as port:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text

    # Then it serves that process's counters, without the API's queue and outbox gauges
    assert samples(text, "notifier_delivery_retries_total", by=("channel",))[("sms",)] == 1
    assert samples(text, "notifier_outbox_pending") == {}


@SQLITE_ONLY
def test_a_metrics_port_in_use_stops_the_start_naming_the_setting(
    worker_service: Service, settings: Settings, make_service: Callable[[Settings], Service]
) -> None:
    # Given a worker serving its metrics
    with processes.metrics_port(worker_service, "worker"):
        # When a second process on the host is given the same port, or port 0
        second = make_service(replace(settings, metrics_port=worker_service.settings.metrics_port))
        with (
            pytest.raises(ConfigurationError, match="NOTIFIER_METRICS_PORT"),
            processes.metrics_port(second, "scheduler"),
        ):
            pass
        off = make_service(replace(settings, metrics_port=0))
        with processes.metrics_port(off, "scheduler") as port:
            # Then the first refuses to start, and the second serves nothing
            assert port is None


@SQLITE_ONLY
def test_the_dashboard_and_the_alerts_use_only_exported_metrics(
    settings: Settings, make_service: Callable[[Settings], Service], redis_url: str
) -> None:
    # Given the shipped dashboard and alert rules, and what a scrape exports
    dashboard = json.loads((ROOT / "deploy/grafana/notifier.json").read_text())
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    exported = _exported(scrape(make_service(replace(settings, redis_url=redis_url))))

    # When their queries are read
    panel_queries = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]

    # Then every metric they name is exported (``up`` is Prometheus' own)
    used = {
        name
        for query in panel_queries + [a["expr"] for a in alerts]
        for name in re.findall(r"\bnotifier_[a-z_]+", query)
    }
    assert len(panel_queries) >= 8 and used
    assert used <= exported, used - exported
    # and the alert rules have Prometheus' shape
    assert {group["name"] for group in rules["groups"]}
    for alert in alerts:
        assert set(alert) == {"alert", "expr", "for", "labels", "annotations"}, alert
        assert alert["labels"]["severity"] in ("warning", "critical")
        assert alert["annotations"]["summary"] and alert["annotations"]["description"]
        assert re.fullmatch(r"\d+[smh]", alert["for"])
    assert {a["alert"] for a in alerts} >= {
        "NotifierDeadLettersGrowing",
        "NotifierQueueStalled",
        "NotifierOutboxNotDraining",
        "NotifierProviderErrors",
        "NotifierDown",
    }


def _exported(text: str) -> set[str]:
    """Every sample name a family of the scrape may have, whether it has samples yet or not."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "gauge": ("",),
    }
    return {
        family.name + suffix
        for family in text_string_to_metric_families(text)
        for suffix in suffixes[family.type]
    }


def _rows(service: Service) -> list[Any]:
    with service.engine.connect() as connection:
        return list(connection.execute(db.notifications.select()).all())


def _payload(body: dict[str, Any]) -> dict[str, Any]:
    return EventIn.model_validate(body).payload()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
