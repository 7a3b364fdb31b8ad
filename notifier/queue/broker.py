"""The queue: dramatiq on Redis, with thin actors that call the plain planning and delivery code.

Actors are declared on the broker handed in (no global broker), so the API, a worker and
the tests each build their own. The Redis broker is tuned so that the messages of a killed
worker come back within seconds rather than dramatiq's default minutes:

* ``heartbeat_timeout`` (:data:`HEARTBEAT_TIMEOUT_MS`): a worker process that has sent no
  broker command for this long is considered dead, and its unacknowledged messages (the ones
  it had prefetched or was running) are requeued. A live worker's idle consumers poll at
  least every 100 ms (``notifier.processes.WORKER_TIMEOUT_MS``; dramatiq's default is once
  a second), so 10 s leaves a wide margin against requeueing a busy, live worker;
* ``maintenance_chance`` (:data:`MAINTENANCE_CHANCE`): how many broker commands out of a
  million run that requeue sweep. The sweep is cheap (a sorted-set range over the
  heartbeats), and it only runs for the queue of the command that triggered it, so it must
  be frequent for an idle queue, polled about ten times a second, to be swept within
  seconds.

With dramatiq's defaults (60 s and 1 in 1,000) a killed worker's messages come back after a
minute at best and often after many minutes; with these they come back in 10-15 s. A
notification that the killed worker was *sending* stays claimed in the database until its
lease (``NOTIFIER_CLAIM_LEASE``) ends, then the relay hands it over again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import dramatiq
import redis
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

from notifier.delivery import Deliverer, Outcome
from notifier.dispatch import Dispatcher
from notifier.status import Channel

log = logging.getLogger(__name__)

#: Milliseconds without a heartbeat after which a worker's messages are requeued (default 60 s).
HEARTBEAT_TIMEOUT_MS = 10_000
#: Out of a million broker commands, how many run the dead-worker sweep (default 1,000).
MAINTENANCE_CHANCE = 250_000
#: Longest a single job may run before dramatiq interrupts it.
TIME_LIMIT_MS = 5 * 60 * 1000
#: Retries dramatiq itself makes of a job that crashed (delivery retries are our own).
JOB_RETRIES = 10
#: Most events handed over in one dispatch message, so that several workers share a big batch.
DISPATCH_CHUNK = 100
#: Most emails and SMS handed to delivery in one message. A message's notifications are
#: claimed with one statement, and what their checks read is read once, then one thread
#: sends them one after another: a dispatched batch of 100 events, an email each, spreads
#: over four worker threads, and the claim and its reads cost an email half what they did
#: in groups of 10 (their CPU in one thread: 0.15 to 0.08 ms on SQLite, 0.2 to 0.1 ms on
#: PostgreSQL).
#: Webhooks go one a message: a slow subscriber must not hold up the messages queued behind
#: it (the subscriber gate).
DELIVERY_CHUNK = 25


def _middleware() -> list[dramatiq.Middleware]:
    return [
        AgeLimit(),
        TimeLimit(time_limit=TIME_LIMIT_MS),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(max_retries=JOB_RETRIES, min_backoff=1000, max_backoff=60_000),
    ]


#: Seconds to wait for Redis to accept a connection, and to answer a command, unless told.
REDIS_CONNECT_TIMEOUT = 2.0
REDIS_TIMEOUT = 5.0


def make_broker(
    redis_url: str | None,
    *,
    connect_timeout: float = REDIS_CONNECT_TIMEOUT,
    timeout: float = REDIS_TIMEOUT,
) -> dramatiq.Broker:
    """A Redis broker for ``redis_url``; without a URL, the in-memory ``StubBroker`` twin.

    Args:
        redis_url: Redis to use, or None.
        connect_timeout: Seconds to wait for a connection (``NOTIFIER_REDIS_CONNECT_TIMEOUT``).
        timeout: Seconds to wait for an answer to a command (``NOTIFIER_REDIS_TIMEOUT``);
            dramatiq's consumers poll with short commands and never block in Redis, so any
            wait this long means Redis is not answering.
    """
    if redis_url is None:
        return StubBroker(middleware=_middleware())
    client = redis.Redis.from_url(
        redis_url, socket_connect_timeout=connect_timeout, socket_timeout=timeout
    )
    return RedisBroker(  # type: ignore[no-untyped-call]
        client=client,
        namespace="notifier",
        middleware=_middleware(),
        heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
        maintenance_chance=MAINTENANCE_CHANCE,
    )


@dataclass(frozen=True, slots=True)
class Actors:
    """The service's actors, bound to one broker.

    Events are handed over in lists (``dispatch_events``), one message per
    :data:`DISPATCH_CHUNK` events; the notifications they plan in lists too
    (``deliver_notifications``), one message per :data:`DELIVERY_CHUNK`, and so do the
    emails and SMS the relay hands over again. A single notification (a retry, a webhook, a
    fallback) goes as ``deliver_notification``.
    """

    dispatch_events: dramatiq.Actor[Any, Any]
    deliver_notification: dramatiq.Actor[Any, Any]
    deliver_notifications: dramatiq.Actor[Any, Any]
    #: The email-to-SMS fallback: given an email that will not reach the customer (a
    #: suppressed address, a permanent refusal, a bounce reported later), plans the same
    #: message by SMS where the customer allows it and queues it for delivery.
    fall_back_to_sms: Callable[[str], None]

    def enqueue_events(self, event_pks: Sequence[int]) -> None:
        for start in range(0, len(event_pks), DISPATCH_CHUNK):
            self.dispatch_events.send([int(pk) for pk in event_pks[start : start + DISPATCH_CHUNK]])

    def enqueue_delivery(self, notification_id: str, delay_ms: int | None = None) -> None:
        self.deliver_notification.send_with_options(args=(notification_id,), delay=delay_ms)

    def enqueue_deliveries(self, notification_ids: Sequence[str]) -> None:
        for start in range(0, len(notification_ids), DELIVERY_CHUNK):
            chunk = list(notification_ids[start : start + DELIVERY_CHUNK])
            if len(chunk) == 1:
                self.enqueue_delivery(chunk[0])
            else:
                self.deliver_notifications.send(chunk)


def declare_actors(broker: dramatiq.Broker, dispatcher: Dispatcher, deliverer: Deliverer) -> Actors:
    """Declare the actors on ``broker``; they only call ``dispatcher`` and ``deliverer``."""

    def dispatch_events(event_pks: list[int]) -> None:
        # The events are dispatched together in one transaction, and their notifications
        # handed to delivery in groups. If that fails, each event is dispatched in its own
        # transaction (dispatch is idempotent per event): when only some fail, those go back
        # in the queue as a message of their own, so a retry does not repeat the others; when
        # all fail, dramatiq retries this message.
        try:
            waiting = dispatcher.dispatch_many(event_pks)
        except Exception:  # noqa: BLE001 - one by one below finds the event that fails
            log.info(
                "dispatching %d events together failed; one by one", len(event_pks), exc_info=True
            )
        else:
            actors.enqueue_deliveries([i for i, channel in waiting if channel != Channel.WEBHOOK])
            for notification_id, channel in waiting:
                if channel == Channel.WEBHOOK:
                    actors.enqueue_delivery(notification_id)
            return
        failed: list[int] = []
        first_error: Exception | None = None
        for event_pk in event_pks:
            try:
                for notification_id in dispatcher.dispatch(event_pk):
                    actors.enqueue_delivery(notification_id)
            except Exception as error:  # noqa: BLE001 - retried below
                failed.append(event_pk)
                first_error = first_error or error
        if first_error is None:
            return
        if len(failed) == len(event_pks):
            raise first_error
        log.warning(
            "%d of %d events failed to dispatch; queued again",
            len(failed),
            len(event_pks),
            exc_info=first_error,
        )
        actors.enqueue_events(failed)

    def fall_back_to_sms(email_id: str) -> None:
        for sms_id in dispatcher.fallback_to_sms(email_id):
            actors.enqueue_delivery(sms_id)

    def follow_up(notification_id: str, outcome: Outcome) -> None:
        for hook_id in outcome.hooks:
            actors.enqueue_delivery(hook_id)
        if outcome.fallback:
            fall_back_to_sms(notification_id)
        if outcome.retry_in is not None:
            delay = max(int(outcome.retry_in.total_seconds() * 1000), 0)
            actors.enqueue_delivery(notification_id, delay_ms=delay)

    def deliver_notification(notification_id: str) -> None:
        follow_up(notification_id, deliverer.deliver(notification_id))

    def deliver_notifications(notification_ids: list[str]) -> None:
        deliverer.deliver_many(notification_ids, then=follow_up)

    actors = Actors(
        dispatch_events=dramatiq.actor(
            actor_name="dispatch_events", queue_name="events", broker=broker
        )(dispatch_events),
        deliver_notification=dramatiq.actor(
            actor_name="deliver_notification", queue_name="deliveries", broker=broker
        )(deliver_notification),
        deliver_notifications=dramatiq.actor(
            actor_name="deliver_notifications", queue_name="deliveries", broker=broker
        )(deliver_notifications),
        fall_back_to_sms=fall_back_to_sms,
    )
    return actors


#: The queues whose jobs hold notifications: the deliveries, and those delayed (retries,
#: quiet hours) until their time.
_DELIVERY_QUEUES = ("deliveries", "deliveries.DQ")
#: The queues whose jobs hold events: the dispatch jobs, and those dramatiq delays to retry.
_EVENT_QUEUES = ("events", "events.DQ")
#: Jobs read from Redis per round trip when looking for the rows it holds.
_SCAN_COUNT = 1000

#: What a job names: a notification id or an event key.
_Key = TypeVar("_Key")


def held_deliveries(broker: dramatiq.Broker) -> Callable[[Collection[str]], set[str]] | None:
    """Which notifications have a delivery job waiting in ``broker``'s Redis, for the relay.

    A notification named by a waiting job is not lost. One taken by a worker is: either the
    worker runs it (and has claimed the notification, which the relay leaves alone), or it
    died, or Redis timed out while handing it over and the job sits unacknowledged for as
    long as the worker lives. See :func:`_held` for how Redis is read.

    Returns:
        For a Redis broker, a function that returns those of the given notification ids that
        some waiting job names; None for the in-memory broker, whose queues the relay does
        not read.
    """
    return _held(broker, _DELIVERY_QUEUES, _notification_ids)


def held_events(broker: dramatiq.Broker) -> Callable[[Collection[int]], set[int]] | None:
    """Which outbox events have a dispatch job waiting in ``broker``'s Redis, for the relay.

    An event named by a waiting job is not lost: it waits its turn behind the others. One
    taken by a worker is being dispatched (which marks it dispatched, and the relay no longer
    looks at it), or its worker died, or the job sits unacknowledged after a Redis timeout:
    in those cases it is lost. A job for an actor that no longer exists names nothing: a
    worker sets it aside unrun.

    Returns:
        For a Redis broker, a function that returns those of the given event keys that some
        waiting job names; None for the in-memory broker, whose queues the relay does not
        read.
    """
    return _held(broker, _EVENT_QUEUES, _event_pks)


def _held(
    broker: dramatiq.Broker, queue_names: Sequence[str], named: Callable[[bytes], Iterable[_Key]]
) -> Callable[[Collection[_Key]], set[_Key]] | None:
    """A function that returns which of some rows a job waiting in ``queue_names`` names.

    dramatiq's Redis broker keeps each job's id in its queue's list while it waits (in the
    queue, or among the delayed ones), and its body in a hash (``<queue>.msgs``) until a
    worker acknowledges it. Only a job in both waits: one in the hash alone was taken by a
    worker. The hashes are read in pages (``HSCAN``), so a long queue does not hold Redis up;
    the relay asks only when some row has waited past its grace.

    Args:
        broker: The broker; only a Redis broker's queues are read.
        queue_names: The queues to read, without the namespace.
        named: The rows a job's encoded body names (none if it names none).

    Returns:
        The function, or None for a broker that is not Redis.
    """
    if not isinstance(broker, RedisBroker):
        return None
    client = broker.client
    queues = [f"{broker.namespace}:{queue}" for queue in queue_names]

    def held(keys: Collection[_Key]) -> set[_Key]:
        wanted = set(keys)
        found: set[_Key] = set()
        for queue in queues:
            # Only jobs still in the queue's list wait their turn. A job taken by a worker but
            # neither run nor acknowledged (a fetch whose answer a Redis timeout lost) stays
            # in the hash for as long as that worker lives: what it names is lost.
            waiting = set(client.lrange(queue, 0, -1))
            for message_id, body in client.hscan_iter(f"{queue}.msgs", count=_SCAN_COUNT):
                if message_id in waiting:
                    found.update(wanted.intersection(named(body)))
                    if len(found) == len(wanted):
                        return found
        return found

    return held


def _decode(body: bytes) -> dramatiq.Message[Any] | None:
    try:
        return dramatiq.Message.decode(body)
    except dramatiq.errors.DecodeError:
        return None


def _notification_ids(body: bytes) -> Iterable[str]:
    """The notifications a delivery job's encoded body names (none if it is not one)."""
    message = _decode(body)
    if message is None or not message.args:
        return ()
    if message.actor_name == "deliver_notifications":
        return [str(i) for i in message.args[0]]
    if message.actor_name == "deliver_notification":
        return [str(message.args[0])]
    return ()


def _event_pks(body: bytes) -> Iterable[int]:
    """The events a dispatch job's encoded body names (none if it is not one)."""
    message = _decode(body)
    if message is None or not message.args or message.actor_name != "dispatch_events":
        return ()
    return [int(pk) for pk in message.args[0]]


def declare_enqueuer(redis_url: str, **timeouts: float) -> Callable[[str], None]:
    """A sender of delivery jobs for processes that do not run actors (the CLI); ``timeouts``
    as :func:`make_broker` takes them."""
    broker = make_broker(redis_url, **timeouts)
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
