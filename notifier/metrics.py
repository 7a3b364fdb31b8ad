"""Prometheus metrics: one registry per process, counted where things happen.

The composition root (:mod:`notifier.service`) builds one :class:`Metrics` and hands it to
the parts that count: the events endpoints (events by outcome), delivery (notifications by
kind, channel and outcome, retries, dead letters, hand-off latency), the channels (provider
call latency, through :meth:`Metrics.timed`), tracking (delivered, bounced and failed as
providers report them) and the scheduler (scan duration, due moments). The API process also
reads the state of the queue (Redis) and of the outbox (one indexed query over undispatched
rows) at each scrape (:meth:`Metrics.watch_state`); nothing a scrape does grows with the
notifications or events tables.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Generic, TypeVar

import redis
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from channels.base import Channel as ChannelProtocol
from channels.base import SendResult
from channels.errors import PermanentChannelError, TransientChannelError
from notifier import db
from notifier.status import Channel, EventOutcome

log = logging.getLogger(__name__)

#: The endpoints events are posted to, the ``endpoint`` label of ``notifier_events_total``.
ENDPOINTS = ("single", "batch")

#: What became of a notification, the ``outcome`` label of ``notifier_notifications_total``.
#: ``held``: an SMS waiting for the end of the quiet hours; ``delivered``, ``bounced`` and
#: ``failed`` also count what providers report afterwards.
NOTIFICATION_OUTCOMES = (
    "sent",
    "delivered",
    "bounced",
    "failed",
    "dead_lettered",
    "suppressed",
    "skipped",
    "held",
)

#: Buckets of a provider call, in seconds (the channels time out at 10 s).
PROVIDER_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Buckets of the hand-off from an event's acceptance to the provider's, in seconds; a
#: retried message lands in the long ones.
HANDOFF_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
#: Buckets of a scheduler scan, in seconds.
SCAN_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0)
#: How long a scrape waits for Redis at most, in seconds, before leaving the queue out.
REDIS_TIMEOUT = 0.25

M = TypeVar("M")


class Metrics:
    """The metrics of one process, in their own registry (no module-global state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._watching = False
        self._redis: redis.Redis | None = None
        self.events = Counter(
            "notifier_events",
            "Events posted, by outcome and endpoint (single or batch)",
            ["outcome", "endpoint"],
            registry=self.registry,
        )
        for outcome in EventOutcome:  # every series exists from the start, at 0
            for endpoint in ENDPOINTS:
                self.events.labels(outcome, endpoint)
        self.notifications = Counter(
            "notifier_notifications",
            "What became of notifications, by kind, channel and outcome",
            ["kind", "channel", "outcome"],
            registry=self.registry,
        )
        self.retries = Counter(
            "notifier_delivery_retries",
            "Delivery attempts that failed for now and were scheduled again, by channel",
            ["channel"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "notifier_dead_letters",
            "Notifications that exhausted their retries, by channel",
            ["channel"],
            registry=self.registry,
        )
        self.provider_latency = Histogram(
            "notifier_provider_request_duration_seconds",
            "Provider calls, by channel and outcome (ok, transient, permanent, error)",
            ["channel", "outcome"],
            buckets=PROVIDER_BUCKETS,
            registry=self.registry,
        )
        self.handoff = Histogram(
            "notifier_handoff_duration_seconds",
            "From an event's acceptance to the provider's acceptance of a message it caused",
            ["channel"],
            buckets=HANDOFF_BUCKETS,
            registry=self.registry,
        )
        for channel in Channel:
            self.retries.labels(channel)
            self.dead_letters.labels(channel)
            self.provider_latency.labels(channel, "ok")
            self.handoff.labels(channel)
        self.scan_duration = Histogram(
            "notifier_scheduler_scan_duration_seconds",
            "Scheduler scans that finished",
            buckets=SCAN_BUCKETS,
            registry=self.registry,
        )
        self.scan_due = Counter(
            "notifier_scheduler_due",
            "Due reminders and nudges the scheduler's scans fired",
            registry=self.registry,
        )
        self.last_scan = Gauge(
            "notifier_scheduler_last_scan_timestamp_seconds",
            "When the last scheduler scan finished (Unix time)",
            registry=self.registry,
        )

    def notification(self, kind: str, channel: str, outcome: str) -> None:
        """Count one notification's ``outcome`` (one of :data:`NOTIFICATION_OUTCOMES`)."""
        self.notifications.labels(kind, channel, outcome).inc()

    def handed_off(self, channel: str, accepted_at: datetime, sent_at: datetime) -> None:
        """Observe the hand-off of a message from its event's acceptance to its sending."""
        self.handoff.labels(channel).observe(max((sent_at - accepted_at).total_seconds(), 0.0))

    def scanned(self, seconds: float, due: int) -> None:
        """Record one finished scheduler scan: how long it took and how many moments fired."""
        self.scan_duration.observe(seconds)
        self.scan_due.inc(due)
        self.last_scan.set_to_current_time()

    def timed(self, channel: ChannelProtocol[M]) -> ChannelProtocol[M]:
        """``channel``, its provider calls timed into ``notifier_provider_request_duration_
        seconds``."""
        return TimedChannel(channel, self.provider_latency)

    def watch_state(
        self, engine: Engine, redis_url: str | None, namespace: str, queues: Iterable[str]
    ) -> None:
        """Read the outbox and (with a Redis URL) the queues at each scrape, from now on.

        Called once by the process that serves the API; calling it again does nothing.

        Args:
            engine: The database holding the outbox.
            redis_url: The broker's Redis, or None (an in-memory broker: no queue gauges).
            namespace: The prefix of the broker's Redis keys.
            queues: The names of the queues to watch.
        """
        if self._watching:
            return
        self._watching = True
        self.registry.register(OutboxCollector(engine))
        if redis_url is not None:
            self._redis = redis.Redis.from_url(
                redis_url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
            )
            self.registry.register(QueueCollector(self._redis, namespace, sorted(queues)))

    def render(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)

    def close(self) -> None:
        """Close the connection the queue gauges read through."""
        if self._redis is not None:
            self._redis.close()


class TimedChannel(Generic[M]):
    """A channel whose every ``send`` is observed in a histogram, by channel and outcome."""

    def __init__(self, channel: ChannelProtocol[M], histogram: Histogram) -> None:
        self.name = channel.name
        self._channel = channel
        self._histogram = histogram

    def send(self, message: M) -> SendResult:
        """Send through the wrapped channel, timing the call."""
        started = time.perf_counter()
        outcome = "error"
        try:
            result = self._channel.send(message)
            outcome = "ok"
            return result
        except TransientChannelError:
            outcome = "transient"
            raise
        except PermanentChannelError:
            outcome = "permanent"
            raise
        finally:
            self._histogram.labels(self.name, outcome).observe(time.perf_counter() - started)

    def close(self) -> None:
        """Close the wrapped channel, if it keeps connections open."""
        close = getattr(self._channel, "close", None)
        if close is not None:
            close()

    def __getattr__(self, name: str) -> object:
        return getattr(self._channel, name)


class OutboxCollector(Collector):
    """Accepted events not dispatched yet, and the age of the oldest, read at each scrape.

    One statement over the undispatched rows only, through the index on ``dispatched_at``:
    its cost follows the rows waiting, not the table. It reads through a read-only connection
    (on SQLite: no write lock taken, no writer held up). A database that cannot be reached
    leaves both gauges out of the scrape.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        o = db.outbox.c
        try:
            with db.read_only(self._engine) as connection:
                pending, oldest = connection.execute(
                    select(func.count(), func.min(o.created_at)).where(o.dispatched_at.is_(None))
                ).one()
        except SQLAlchemyError as error:
            log.warning("metrics: outbox not read: %s", type(error).__name__)
            return
        yield GaugeMetricFamily(
            "notifier_outbox_pending", "Accepted events not yet dispatched", value=pending
        )
        age = 0.0 if oldest is None else max((db.now() - oldest).total_seconds(), 0.0)
        yield GaugeMetricFamily(
            "notifier_outbox_oldest_age_seconds",
            "Age of the oldest accepted event not yet dispatched (0 when none waits)",
            value=age,
        )


class QueueCollector(Collector):
    """Jobs waiting in each queue and the age of the oldest, read from Redis at each scrape.

    Two round trips of constant-time commands (``LLEN``, ``LINDEX``, then ``HGET`` of the
    oldest job), each bounded by :data:`REDIS_TIMEOUT`. When Redis does not answer,
    ``notifier_redis_up`` is 0 and the queue gauges are left out.
    """

    def __init__(self, client: redis.Redis, namespace: str, queues: Sequence[str]) -> None:
        self._client = client
        self._namespace = namespace
        self._queues = [q for q in queues if not q.endswith((".DQ", ".XQ"))]

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("notifier_redis_up", "Whether the broker's Redis answered (1 or 0)")
        try:
            depths, heads = self._read()
        except (redis.RedisError, OSError) as error:
            log.warning("metrics: queues not read: %s", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        depth = GaugeMetricFamily(
            "notifier_queue_depth", "Jobs waiting in a queue", labels=["queue"]
        )
        age = GaugeMetricFamily(
            "notifier_queue_oldest_age_seconds",
            "Age of the oldest job waiting in a queue (0 when none waits)",
            labels=["queue"],
        )
        now = time.time()
        for queue, waiting, head in zip(self._queues, depths, heads, strict=True):
            depth.add_metric([queue], waiting)
            age.add_metric([queue], max(now - _enqueued_at(head), 0.0) if head else 0.0)
        yield depth
        yield age

    def _read(self) -> tuple[list[int], list[bytes | None]]:
        keys = [f"{self._namespace}:{queue}" for queue in self._queues]
        pipe = self._client.pipeline(transaction=False)
        for key in keys:
            pipe.llen(key)
            pipe.lindex(key, 0)
        answers = pipe.execute()
        depths = [int(n) for n in answers[0::2]]
        pipe = self._client.pipeline(transaction=False)
        for key, head in zip(keys, answers[1::2], strict=True):
            pipe.hget(f"{key}.msgs", head or b"")
        return depths, pipe.execute()


def _enqueued_at(message: bytes) -> float:
    """When a queued dramatiq message became due, in Unix seconds: its enqueue time, or its
    ``eta`` for one that waited for a delay first."""
    try:
        fields = json.loads(message)
        due = max(int(fields["message_timestamp"]), int(fields.get("options", {}).get("eta", 0)))
    except (ValueError, KeyError, TypeError):
        return time.time()
    return due / 1000
