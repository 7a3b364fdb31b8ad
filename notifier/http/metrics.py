"""Prometheus metrics: request counters kept in memory, queue state read at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from notifier import db
from notifier.status import Channel, EventOutcome, NotificationStatus


class _StoreCollector(Collector):
    """Notifications per status and channel, and events waiting in the outbox."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        n = db.notifications.c
        by_status = GaugeMetricFamily(
            "notifier_notifications",
            "Notifications by status and channel",
            labels=["status", "channel"],
        )
        pending = GaugeMetricFamily("notifier_outbox_pending", "Accepted events not yet dispatched")
        counts = dict.fromkeys(((s, c) for s in NotificationStatus for c in Channel), 0)
        with self._engine.connect() as connection:
            for status, channel, count in connection.execute(
                select(n.status, n.channel, func.count()).group_by(n.status, n.channel)
            ):
                counts[NotificationStatus(status), Channel(channel)] = count
            for (status, channel), count in counts.items():
                by_status.add_metric([status, channel], count)
            pending.add_metric(
                [],
                connection.execute(
                    select(func.count())
                    .select_from(db.outbox)
                    .where(db.outbox.c.dispatched_at.is_(None))
                ).scalar_one(),
            )
        yield by_status
        yield pending


class Metrics:
    """The service's metrics registry."""

    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "notifier_events_total",
            "Events posted, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in EventOutcome:  # every series exists from the start, at 0
            self.events.labels(outcome)
        self.registry.register(_StoreCollector(engine))

    def render(self) -> bytes:
        return generate_latest(self.registry)
