"""Dispatch: turn stored events into notification rows and mark their outbox rows done.

Runs in a worker (the ``dispatch_events`` actor), for the events handed over together in one
transaction (:meth:`Dispatcher.dispatch_many`: the same few statements whatever their
number), or one at a time. Idempotent: a second run of the same event finds the rows already
planned and only hands the unsent ones to delivery again. A message planned ``suppressed`` (a
suppressed address, an opted-out customer) tells the subscribers who asked for it in the same
transaction (:func:`notifier.delivery.tell`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from notifier import db, logs
from notifier.delivery import StatusChange, tell
from notifier.dispatch.planner import Planner, event_source, rows
from notifier.status import Channel, NotificationStatus


class Dispatcher:
    """Plans an event's messages in one transaction."""

    def __init__(self, engine: Engine, planner: Planner) -> None:
        self._engine = engine
        self._planner = planner

    def dispatch(self, event_pk: int) -> list[str]:
        """Plan event ``event_pk``; return the ids of notifications waiting for delivery.

        Two workers dispatching the same event race on the notifications' ids: the loser runs
        again and finds them planned.
        """
        return db.retry_on_conflict(
            self._engine, lambda connection: self._dispatch(connection, event_pk)
        )

    def dispatch_many(self, event_pks: Sequence[int]) -> list[tuple[str, str]]:
        """Plan the events ``event_pks`` in one transaction; return the ids and channels of
        their notifications waiting for delivery, event by event in the order given.

        What planning reads (the events, preferences, suppressions, subscriptions, the
        notifications already planned) is read once for them all, and the new rows are
        written with one statement. If one event cannot be planned, none is: plan them one by
        one with :meth:`dispatch` to find it.
        """
        return db.retry_on_conflict(
            self._engine, lambda connection: self._dispatch_many(connection, event_pks)
        )

    def fallback_to_sms(self, notification_id: str) -> list[str]:
        """After an email failed for good, plan the same message by SMS if the customer allows.

        The SMS gets the id the routing would have given it, so a kind that already went by
        SMS is not sent twice. Returns the ids waiting for delivery.
        """
        return db.retry_on_conflict(
            self._engine, lambda connection: self._fallback(connection, notification_id)
        )

    def _fallback(self, connection: Connection, notification_id: str) -> list[str]:
        n = db.notifications.c
        failed = connection.execute(select(db.notifications).where(n.id == notification_id)).first()
        if failed is None or failed.channel != Channel.EMAIL or failed.kind.startswith("staff."):
            return []
        customer = self._customer(connection, failed)
        with logs.bound(return_id=failed.return_id, notification_id=failed.id):
            audience = self._planner.audience(connection, customer)
        planned = self._planner.plan_customer(
            connection, failed.source, failed.kind, audience, email=False, sms=True
        )
        planned = [p for p in planned if p.channel == Channel.SMS]
        if not planned:
            return []
        known = connection.execute(select(n.id).where(n.id == planned[0].id)).first()
        hooks: list[str] = []
        if known is None:
            now = db.now()
            fresh = rows(
                planned,
                source=failed.source,
                event_pk=failed.event_pk,
                return_id=failed.return_id,
                customer_id=failed.customer_id,
                audience=audience,
                now=now,
                rule=failed.rule,
                data=failed.data,
            )
            connection.execute(insert(db.notifications), fresh)
            hooks = _tell_suppressed(connection, fresh, now)
        return [p.id for p in planned if p.status == NotificationStatus.QUEUED] + hooks

    def _customer(self, connection: Connection, row: Any) -> dict[str, Any]:
        if row.data is not None:
            return dict(row.data.get("customer") or {})
        payload = connection.execute(
            select(db.events.c.payload).where(db.events.c.pk == row.event_pk)
        ).scalar_one()
        return dict(payload["customer"])

    def _dispatch_many(
        self, connection: Connection, event_pks: Sequence[int]
    ) -> list[tuple[str, str]]:
        by_pk = {
            event.pk: event
            for event in connection.execute(
                select(db.events).where(db.listed_in(db.events.c.pk, values=set(event_pks)))
            )
        }
        events = [by_pk[pk] for pk in dict.fromkeys(event_pks) if pk in by_pk]
        if not events:
            return []
        plans = self._planner.plan_events(connection, events)
        channels = {p.id: p.channel for _, planned in plans for p in planned}
        ids = list(channels)
        n = db.notifications.c
        existing = (
            set(connection.execute(select(n.id).where(db.listed_in(n.id, values=ids))).scalars())
            if ids
            else set()
        )
        now = db.now()
        fresh: list[dict[str, Any]] = []
        for event, (audience, planned) in zip(events, plans, strict=True):
            fresh += rows(
                [p for p in planned if p.id not in existing],
                source=event_source(event.api_key, event.event_id),
                event_pk=event.pk,
                return_id=event.return_id,
                customer_id=event.payload["customer"]["id"],
                audience=audience,
                now=now,
            )
        hooks: list[str] = []
        if fresh:
            db.insert_many(connection, db.notifications, fresh)
            hooks = _tell_suppressed(connection, fresh, now)
        connection.execute(
            update(db.outbox)
            .where(
                db.listed_in(db.outbox.c.event_pk, values=[e.pk for e in events]),
                db.outbox.c.dispatched_at.is_(None),
            )
            .values(dispatched_at=now)
        )
        if not ids:
            return []
        waiting = set(
            connection.execute(
                select(n.id).where(
                    db.listed_in(n.id, values=ids), n.status == NotificationStatus.QUEUED
                )
            ).scalars()
        )
        return [(i, channels[i]) for i in ids if i in waiting] + [
            (hook, Channel.WEBHOOK) for hook in hooks
        ]

    def _dispatch(self, connection: Connection, event_pk: int) -> list[str]:
        event = connection.execute(select(db.events).where(db.events.c.pk == event_pk)).first()
        if event is None:
            return []
        with logs.bound(event_id=event.event_id, return_id=event.return_id):
            audience, planned = self._planner.plan_event(connection, event)
        ids = [p.id for p in planned]
        existing = (
            set(
                connection.execute(
                    select(db.notifications.c.id).where(
                        db.listed_in(db.notifications.c.id, values=ids)
                    )
                ).scalars()
            )
            if ids
            else set()
        )
        fresh = [p for p in planned if p.id not in existing]
        now = db.now()
        hooks: list[str] = []
        if fresh:
            new = rows(
                fresh,
                source=event_source(event.api_key, event.event_id),
                event_pk=event_pk,
                return_id=event.return_id,
                customer_id=event.payload["customer"]["id"],
                audience=audience,
                now=now,
            )
            db.insert_many(connection, db.notifications, new)
            hooks = _tell_suppressed(connection, new, now)
        connection.execute(
            update(db.outbox)
            .where(db.outbox.c.event_pk == event_pk, db.outbox.c.dispatched_at.is_(None))
            .values(dispatched_at=now)
        )
        if not ids:
            return []
        waiting = connection.execute(
            select(db.notifications.c.id).where(
                db.listed_in(db.notifications.c.id, values=ids),
                db.notifications.c.status == NotificationStatus.QUEUED,
            )
        ).scalars()
        return [*waiting, *hooks]


def _tell_suppressed(
    connection: Connection, inserted: Sequence[dict[str, Any]], now: datetime
) -> list[str]:
    """Tell the subscribers who asked of the messages of ``inserted`` planned ``suppressed``;
    the ids of the webhooks written."""
    changes = [
        StatusChange.planned(row)
        for row in inserted
        if row["status"] == NotificationStatus.SUPPRESSED
    ]
    return tell(connection, changes, now) if changes else []
