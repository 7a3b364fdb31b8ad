"""The queue: dramatiq on Redis, with thin actors that call the plain planning and delivery code.

Actors are declared on the broker handed in (no global broker), so the API, a worker and
the tests each build their own. The Redis broker is tuned so that the messages of a killed
worker come back within seconds rather than dramatiq's default minutes:

* ``heartbeat_timeout`` (:data:`HEARTBEAT_TIMEOUT_MS`): a worker that has not fetched for
  this long is considered dead, and its unacknowledged messages are requeued;
* ``maintenance_chance`` (:data:`MAINTENANCE_CHANCE`): how many fetches out of a million run
  that requeue sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from notifier.delivery import Deliverer
from notifier.dispatch import Dispatcher

log = logging.getLogger(__name__)

#: Milliseconds without a heartbeat after which a worker's messages are requeued (default 60 s).
HEARTBEAT_TIMEOUT_MS = 10_000
#: Out of a million broker commands, how many run the dead-worker sweep (default 1,000).
MAINTENANCE_CHANCE = 50_000
#: Longest a single job may run before dramatiq interrupts it.
TIME_LIMIT_MS = 5 * 60 * 1000
#: Retries dramatiq itself makes of a job that crashed (delivery retries are our own).
JOB_RETRIES = 10


def _middleware() -> list[dramatiq.Middleware]:
    return [
        AgeLimit(),
        TimeLimit(time_limit=TIME_LIMIT_MS),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(max_retries=JOB_RETRIES, min_backoff=1000, max_backoff=60_000),
    ]


def make_broker(redis_url: str | None) -> dramatiq.Broker:
    """A Redis broker for ``redis_url``; without a URL, the in-memory ``StubBroker`` twin."""
    if redis_url is None:
        return StubBroker(middleware=_middleware())
    return RedisBroker(
        url=redis_url,
        namespace="notifier",
        middleware=_middleware(),
        heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
        maintenance_chance=MAINTENANCE_CHANCE,
    )


@dataclass(frozen=True, slots=True)
class Actors:
    """The service's actors, bound to one broker."""

    dispatch_event: dramatiq.Actor[Any, Any]
    deliver_notification: dramatiq.Actor[Any, Any]

    def enqueue_event(self, event_pk: int) -> None:
        self.dispatch_event.send(event_pk)

    def enqueue_delivery(self, notification_id: str, delay_ms: int | None = None) -> None:
        self.deliver_notification.send_with_options(args=(notification_id,), delay=delay_ms)


def declare_actors(broker: dramatiq.Broker, dispatcher: Dispatcher, deliverer: Deliverer) -> Actors:
    """Declare the actors on ``broker``; they only call ``dispatcher`` and ``deliverer``."""

    def dispatch_event(event_pk: int) -> None:
        for notification_id in dispatcher.dispatch(event_pk):
            actors.enqueue_delivery(notification_id)

    def deliver_notification(notification_id: str) -> None:
        outcome = deliverer.deliver(notification_id)
        if outcome.fallback:
            for fallback_id in dispatcher.fallback_to_sms(notification_id):
                actors.enqueue_delivery(fallback_id)
        if outcome.retry_in is not None:
            delay = max(int(outcome.retry_in.total_seconds() * 1000), 0)
            actors.enqueue_delivery(notification_id, delay_ms=delay)

    actors = Actors(
        dispatch_event=dramatiq.actor(
            actor_name="dispatch_event", queue_name="events", broker=broker
        )(dispatch_event),
        deliver_notification=dramatiq.actor(
            actor_name="deliver_notification", queue_name="deliveries", broker=broker
        )(deliver_notification),
    )
    return actors


def declare_enqueuer(redis_url: str) -> Callable[[str], None]:
    """A sender of delivery jobs for processes that do not run actors (the CLI)."""
    broker = make_broker(redis_url)
    broker.declare_queue("deliveries")

    def enqueue(notification_id: str) -> None:
        broker.enqueue(
            dramatiq.Message(
                queue_name="deliveries",
                actor_name="deliver_notification",
                args=(notification_id,),
                kwargs={},
                options={},
            )
        )

    return enqueue
