"""Firings: a rule's due moment, recorded once per return, with the notifications it causes.

A firing is a ``rule_firings`` row keyed by rule, return and due moment. It is written in one
transaction with the notification rows it causes, whose ids derive from the same key, so a
second scheduler, a restart mid-scan or a scan after an outage finds the firing and plans
nothing again. A message planned ``suppressed`` tells the webhook subscribers who asked for it
in the same transaction (:func:`notifier.delivery.tell`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import DBAPIError

from notifier import db, logs
from notifier.delivery import StatusChange, tell
from notifier.dispatch import Audience, Known, Planned, Planner, queued, rows, subscribed
from notifier.scheduling.moments import Due, Facts, expected_by
from notifier.status import NotificationStatus

log = logging.getLogger(__name__)

_r = db.returns.c
_f = db.rule_firings.c

#: Firings planned at a time in a transaction: what planning reads of them (their snapshots)
#: is held for this many at most, however many the transaction records.
PLAN_CHUNK = 1_000


@dataclass(frozen=True, slots=True)
class Firing:
    """A due moment of a rule for one candidate return, with the facts it was found by."""

    candidate: Any
    facts: Facts
    due: Due


class Firings:
    """Records firings and plans their notifications.

    Args:
        engine: The database.
        planner: Plans a customer's messages.
        staff_email: Where staff alerts go, or None for none by email.
        staff_locale: The locale of staff alerts.
        default_timezone: The zone of customers who name none.
    """

    def __init__(
        self,
        engine: Engine,
        planner: Planner,
        *,
        staff_email: str | None,
        staff_locale: str,
        default_timezone: str,
    ) -> None:
        self._engine = engine
        self._planner = planner
        self._staff_email = staff_email
        self._staff_locale = staff_locale
        self._default_timezone = default_timezone

    def unfired(self, connection: Connection, firings: list[Firing]) -> list[Firing]:
        """The ``firings`` not recorded yet (they may be of several rules)."""
        if not firings:
            return []
        fired = set(
            connection.execute(
                select(_f.rule, _f.return_id, _f.due_key).where(
                    _f.rule.in_({x.due.rule.name for x in firings}),
                    db.listed_in(_f.return_id, values={x.candidate.return_id for x in firings}),
                )
            ).all()
        )
        return [
            x for x in firings if (x.due.rule.name, x.candidate.return_id, x.due.key) not in fired
        ]

    def fire(self, firings: list[Firing], now: datetime) -> tuple[list[str], int]:
        """Record ``firings`` (of one or several rules) and plan their notifications, in one
        transaction; another scheduler may race us.

        Returns:
            The ids of the notifications to hand to the queue, and how many were planned.
        """
        try:
            with self._engine.begin() as connection:
                handed: list[str] = []
                planned = 0
                for start in range(0, len(firings), PLAN_CHUNK):
                    more, count = self._plan_all(
                        connection, firings[start : start + PLAN_CHUNK], now
                    )
                    handed += more
                    planned += count
                return handed, planned
        except (DBAPIError, psycopg.Error) as error:  # psycopg's own from the COPY
            if not db.is_conflict(error):
                raise
        # Another scheduler recorded some of them first: the others one by one.
        handed, planned = [], 0
        for firing in firings:
            more, count = db.retry_on_conflict(
                self._engine, partial(self._fire_unfired, firing=firing, now=now)
            )
            handed += more
            planned += count
        return handed, planned

    def _fire_unfired(
        self, connection: Connection, firing: Firing, now: datetime
    ) -> tuple[list[str], int]:
        if not self.unfired(connection, [firing]):
            log.debug("%s for %s fired elsewhere", firing.due.rule.name, firing.candidate.return_id)
            return [], 0
        return self._plan_all(connection, [firing], now)

    def _plan_all(
        self, connection: Connection, firings: list[Firing], now: datetime
    ) -> tuple[list[str], int]:
        """Record ``firings`` and plan their notifications, with what planning reads (the
        snapshots, preferences, suppressions and subscriptions) read once for them all."""
        return_ids = {x.candidate.return_id for x in firings}
        snapshots = dict(
            connection.execute(
                select(_r.return_id, _r.snapshot).where(
                    db.listed_in(_r.return_id, values=return_ids)
                )
            ).all()
        )
        known = self._planner.known(
            connection, (snapshot.get("customer") or {} for snapshot in snapshots.values())
        )
        db.insert_many(connection, db.rule_firings, [_firing_row(x, now) for x in firings])
        new: list[dict[str, Any]] = []
        for firing in firings:
            with logs.bound(return_id=firing.candidate.return_id):
                new += self._plan_one(known, firing, snapshots[firing.candidate.return_id], now)
        # In the order of their ids: the primary key's index is then written page after page
        # rather than all over (on SQLite, inserting a first scan's notifications took a
        # sixth less time).
        db.insert_many(connection, db.notifications, sorted(new, key=itemgetter("id")))
        handed = [n["id"] for n in new if n["status"] == NotificationStatus.QUEUED]
        suppressed = [n for n in new if n["status"] == NotificationStatus.SUPPRESSED]
        if suppressed:
            handed += tell(connection, [StatusChange.planned(n) for n in suppressed], now)
        return handed, len(new)

    def _plan_one(
        self, known: Known, firing: Firing, snapshot: dict[str, Any], now: datetime
    ) -> list[dict[str, Any]]:
        rule, candidate, moment = firing.due.rule, firing.candidate, firing.due
        source = f"rule:{rule.name}:{candidate.return_id}:{moment.key}"
        webhook = "webhook" in rule.channels
        if rule.staff:
            audience = Audience(None, None, True, False, self._staff_locale, self._default_timezone)
            planned = self._staff(source, rule.kind, rule.channels)
            if webhook:
                planned += subscribed(known.subscriptions, source, rule.kind)
        else:
            audience = self._planner.audience_known(known, snapshot.get("customer") or {})
            planned = self._planner.plan_known(
                known,
                source,
                rule.kind,
                audience,
                email="email" in rule.channels,
                sms="sms" in rule.channels,
                webhook=webhook,
            )
        return rows(
            planned,
            source=source,
            event_pk=None,
            return_id=candidate.return_id,
            customer_id=candidate.customer_id,
            audience=audience,
            now=now,
            rule=rule.label(moment.days),
            data=_data(snapshot, firing, now),
        )

    def _staff(self, source: str, kind: str, channels: Sequence[str]) -> list[Planned]:
        if "email" not in channels or self._staff_email is None:
            return []
        return [queued(source, kind, "email", self._staff_email)]


def _firing_row(firing: Firing, now: datetime) -> dict[str, Any]:
    return {
        "rule": firing.due.rule.name,
        "return_id": firing.candidate.return_id,
        "due_key": firing.due.key,
        "due_at": firing.due.at,
        "created_at": now,
    }


def _data(snapshot: dict[str, Any], firing: Firing, now: datetime) -> dict[str, Any]:
    """The snapshot plus what the scheduled kind's templates read (see the renderer)."""
    moment, candidate = firing.due, firing.candidate
    rule = moment.rule
    if rule.anchor != "status_at":
        reminder = {"due_at": moment.at.isoformat(), "rule": rule.label(moment.days)}
        return {**snapshot, "reminder": reminder}
    zone = ZoneInfo(firing.facts.timezone)
    by = expected_by(rule, candidate.status_at + timedelta(days=moment.days), zone)
    stale = {
        "status": candidate.status,
        "since": candidate.status_at.isoformat(),
        "days": max((now - candidate.status_at).days, moment.days),
        "expected_by": by.isoformat() if by else None,
    }
    return {**snapshot, "stale": stale}
