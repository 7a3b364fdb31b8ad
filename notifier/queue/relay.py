"""The relay: hands the queue again whatever the database says is still waiting.

Two things can wait: an accepted event whose outbox row was never marked dispatched, and a
notification that is due (``queued``, or ``scheduled`` past its time) but unclaimed. Both
are handed over again once they have waited ``grace`` seconds past the moment they were
due and last handed over (at once if never handed over, as after a replay). A notification
whose claim ran out unfinished (its worker was killed while sending) is handed over at the
next round after the lease, without waiting for the grace. A
compare-and-set on ``enqueued_at`` makes sure that among several relays only one hands
each row over per round. A duplicate hand-over is harmless: dispatch is idempotent and
delivery claims before it sends. Emails and SMS handed over in one round go in groups, as the
dispatcher hands them over (``enqueue_deliveries``), webhooks one a job.

A row that has waited its grace is not necessarily lost: in a backlog it is merely waiting
its turn in the queue. When the relay can see the queue (``held`` and ``held_events``: which
of these notifications or events a job waiting in Redis names, in the queue or delayed), it
hands over only the ones that have none — a job that never reached Redis, one Redis lost, or
one a worker took and never finished — so a backlog holds one job per waiting notification,
event or group, not one more per round. The ones found waiting get ``enqueued_at`` set to the
round's time: they are looked at again a grace later, and the rounds in between look further
down the backlog. A row never handed over (``enqueued_at`` unset, as after a dead letter is
replayed or a hand-over failed) is handed over without asking.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, or_, select, update

from notifier import db
from notifier.incidents import Incident
from notifier.status import PENDING, Channel

log = logging.getLogger(__name__)

#: Rows handed over per table per round.
PAGE = 500


#: Which of the given notification ids have a delivery job in the queue.
Held = Callable[[Collection[str]], set[str]]
#: Which of the given event keys have a dispatch job in the queue.
HeldEvents = Callable[[Collection[int]], set[int]]


class Relay:
    """Re-enqueues stranded events and notifications.

    Args:
        engine: The database.
        enqueue_events: Hands events to dispatch.
        enqueue_delivery: Hands one notification to delivery (a webhook, or any without
            ``enqueue_deliveries``).
        grace: Seconds a row may wait past its due time and last hand-over before the relay
            looks at it.
        held: Which of some notifications have a delivery job in the queue; None when the
            queue cannot be looked into (every row that waited its grace is handed over).
        held_events: Which of some events have a dispatch job in the queue; None as for
            ``held``.
        enqueue_deliveries: Hands emails and SMS to delivery in groups, as the dispatcher
            does, so a large lost backlog comes back in few jobs; None hands each over alone.
            Webhooks always go alone (a slow subscriber must not hold up the others).
    """

    def __init__(
        self,
        engine: Engine,
        enqueue_events: Callable[[Sequence[int]], None],
        enqueue_delivery: Callable[[str], None],
        *,
        grace: float,
        held: Held | None = None,
        held_events: HeldEvents | None = None,
        enqueue_deliveries: Callable[[Sequence[str]], None] | None = None,
    ) -> None:
        self._engine = engine
        self._enqueue_events = enqueue_events
        self._enqueue_delivery = enqueue_delivery
        self._enqueue_deliveries = enqueue_deliveries
        self._grace = timedelta(seconds=grace)
        self._held = held
        self._held_events = held_events

    def run_once(self, now: datetime | None = None) -> int:
        """One round; returns how many rows were handed over."""
        now = now or db.now()
        cutoff = now - self._grace
        return self._events(now, cutoff) + self._notifications(now, cutoff)

    def _events(self, now: datetime, cutoff: datetime) -> int:
        o = db.outbox.c
        with self._engine.connect() as connection:
            stranded = connection.execute(
                select(o.event_pk, o.enqueued_at)
                .where(
                    o.dispatched_at.is_(None), or_(o.enqueued_at.is_(None), o.enqueued_at < cutoff)
                )
                # Least recently handed over or seen waiting first: in a backlog longer than
                # a page, the rounds go through all of it.
                .order_by(o.enqueued_at.asc().nulls_first(), o.event_pk)
                .limit(PAGE)
            ).all()
        waiting = self._events_waiting(
            [row.event_pk for row in stranded if row.enqueued_at is not None], now
        )
        taken = [
            row.event_pk
            for row in stranded
            if row.event_pk not in waiting
            and self._take(db.outbox, o.event_pk == row.event_pk, row.enqueued_at, now)
        ]
        if taken:
            try:
                self._enqueue_events(taken)
            except Exception:
                self._give_back(taken)
                raise
        return len(taken)

    def _events_waiting(self, event_pks: list[int], now: datetime) -> set[int]:
        """Those of ``event_pks`` that have a dispatch job in the queue, marked as seen there at
        ``now``."""
        if self._held_events is None or not event_pks:
            return set()
        waiting = self._held_events(event_pks)
        if waiting:
            o = db.outbox.c
            with self._engine.begin() as connection:
                connection.execute(
                    update(db.outbox)
                    .where(
                        o.event_pk.in_(sorted(waiting)),
                        o.dispatched_at.is_(None),
                        o.enqueued_at < now,
                    )
                    .values(enqueued_at=now)
                )
            log.debug("relay: %d overdue events are waiting in the queue", len(waiting))
        return waiting

    def _give_back(self, event_pks: Sequence[int]) -> None:
        """Events taken but not handed over (the queue failed): the next round takes them
        again at once, rather than after the grace a hand-over that may still arrive gets."""
        o = db.outbox.c
        with self._engine.begin() as connection:
            connection.execute(
                update(db.outbox)
                .where(o.event_pk.in_(event_pks), o.dispatched_at.is_(None))
                .values(enqueued_at=None)
            )

    def _notifications(self, now: datetime, cutoff: datetime) -> int:
        n = db.notifications.c
        with self._engine.connect() as connection:
            stranded = connection.execute(
                select(n.id, n.channel, n.enqueued_at)
                .where(
                    n.status.in_(PENDING),
                    n.next_attempt_at <= now,
                    or_(
                        n.enqueued_at.is_(None),
                        and_(n.enqueued_at < cutoff, n.next_attempt_at < cutoff),
                        # A claim that ran out without being finished: its worker died
                        # mid-send. Hand it over at once, once.
                        and_(n.claim_token.is_not(None), n.enqueued_at < n.claimed_until),
                    ),
                    or_(n.claimed_until.is_(None), n.claimed_until < now),
                )
                # Least recently handed over or seen waiting first: in a backlog longer than
                # a page, the rounds go through all of it.
                .order_by(n.enqueued_at.asc().nulls_first(), n.next_attempt_at)
                .limit(PAGE)
            ).all()
        waiting = self._waiting([row.id for row in stranded if row.enqueued_at is not None], now)
        taken = [
            (row.id, row.channel)
            for row in stranded
            if row.id not in waiting
            and self._take(db.notifications, n.id == row.id, row.enqueued_at, now)
        ]
        if taken:
            try:
                self._hand_over([i for i, channel in taken if channel != Channel.WEBHOOK])
                for notification_id, channel in taken:
                    if channel == Channel.WEBHOOK:
                        self._enqueue_delivery(notification_id)
            except Exception:
                self._give_back_notifications([i for i, _ in taken], now)
                raise
        return len(taken)

    def _hand_over(self, notification_ids: list[str]) -> None:
        """Emails and SMS: in groups if the relay was given a way, else one a job."""
        if self._enqueue_deliveries is not None:
            if notification_ids:
                self._enqueue_deliveries(notification_ids)
            return
        for notification_id in notification_ids:
            self._enqueue_delivery(notification_id)

    def _give_back_notifications(self, notification_ids: Sequence[str], now: datetime) -> None:
        """Notifications taken at ``now`` but perhaps not handed over (the queue failed): the
        next round takes them again at once, as :meth:`_give_back` does events."""
        n = db.notifications.c
        with self._engine.begin() as connection:
            connection.execute(
                update(db.notifications)
                .where(n.id.in_(notification_ids), n.status.in_(PENDING), n.enqueued_at == now)
                .values(enqueued_at=None)
            )

    def _waiting(self, notification_ids: list[str], now: datetime) -> set[str]:
        """Those of ``notification_ids`` that have a job in the queue, marked as seen there
        at ``now``."""
        if self._held is None or not notification_ids:
            return set()
        waiting = self._held(notification_ids)
        if waiting:
            n = db.notifications.c
            with self._engine.begin() as connection:
                connection.execute(
                    update(db.notifications)
                    .where(n.id.in_(sorted(waiting)), n.enqueued_at < now)
                    .values(enqueued_at=now)
                )
            log.debug("relay: %d overdue notifications are waiting in the queue", len(waiting))
        return waiting

    def _take(self, table: object, key: object, seen: datetime | None, now: datetime) -> bool:
        column = table.c.enqueued_at  # type: ignore[attr-defined]
        unchanged = column.is_(None) if seen is None else column == seen
        with self._engine.begin() as connection:
            result = connection.execute(
                update(table).where(and_(key, unchanged)).values(enqueued_at=now)  # type: ignore[arg-type]
            )
        return bool(result.rowcount == 1)


class RelayThread(threading.Thread):
    """Runs :meth:`Relay.run_once` every ``interval`` seconds until stopped."""

    def __init__(self, relay: Relay, interval: float) -> None:
        super().__init__(name="notifier-relay", daemon=True)
        self._relay = relay
        self._interval = interval
        self._stopped = threading.Event()
        self._incident = Incident(log, "a relay round")

    def run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                handed = self._relay.run_once()
            except Exception as error:  # noqa: BLE001 - a database or Redis hiccup: next round
                self._incident.failed(error, "retrying every round")
                continue
            self._incident.succeeded()
            if handed:
                log.info("relay handed %d stranded rows to the queue again", handed)

    def stop(self) -> None:
        self._stopped.set()
