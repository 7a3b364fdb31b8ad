"""Retention: the personal data of returns closed or idle too long, removed in small batches.

A return whose last event (``updated_at``) is older than ``NOTIFIER_RETENTION_DAYS`` days,
closed or not, loses what names or reaches its customer:

- ``events.payload`` becomes ``{}`` (the event's id, type, times, staleness and note stay);
- ``returns.snapshot`` becomes ``{}`` (ids, status, dates and times stay) and
  ``returns.purged_at`` says when;
- each notification's recipient becomes :data:`~notifier.status.REMOVED_RECIPIENT` (a
  webhook's, a subscription id, stays), its template data and provider error are cleared
  (and a reason quoting a provider becomes "address suppressed"), and one still to be
  sent is ``skipped`` ("personal data removed");
- the return's entries in the scheduler's agenda are dropped, and an event not yet
  dispatched is marked dispatched (there is nothing left to plan from);
- a suppression older than the period is kept under its pseudonym
  (:func:`~notifier.delivery.pseudonym`) instead of the address.

Kinds, channels, statuses, attempts, provider ids and every timestamp stay, so counts,
metrics and timelines keep their shape. Each batch of :data:`BATCH` returns is one short
transaction (on SQLite the single writer is held only that long), so intake is never held
up for the whole run. A return that receives an event after it was purged is purged again
once that event is old enough.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    FromClause,
    Row,
    and_,
    case,
    delete,
    func,
    literal,
    not_,
    or_,
    select,
    tuple_,
    update,
)

from notifier import db
from notifier.delivery import PSEUDONYM_PREFIX, pseudonym
from notifier.privacy import audit
from notifier.status import PENDING, REMOVED_RECIPIENT, Channel, NotificationStatus

#: Returns purged in one transaction.
BATCH = 500
#: Why a notification still to be sent was not sent.
SKIPPED_REASON = "personal data removed after the retention period"
#: How delivery's reason for a message to a suppressed address begins.
SUPPRESSED_REASON = "address suppressed"
#: What a pseudonymous suppression's reason says instead of the provider's words.
REASON_REMOVED = "details removed with the address"

_r = db.returns.c
_e = db.events.c
_n = db.notifications.c
_s = db.suppressions.c

#: The counts a report keeps, by table, in the order they are printed.
TABLES = (
    "returns",
    "events",
    "notifications",
    "cancelled",
    "outbox",
    "agenda",
    "suppressions",
)


@dataclass(slots=True)
class PurgeReport:
    """What one retention run removed, or would remove (``dry_run``).

    Attributes:
        cutoff: Returns without an event since this moment were purged.
        days: The retention period.
        dry_run: Nothing was changed; the counts are what a run would change.
        counts: Rows changed (or to change) by table: ``returns``, ``events``,
            ``notifications`` (anonymized), ``cancelled`` (of those, still to be sent:
            now skipped), ``outbox``, ``agenda`` (scheduler entries dropped),
            ``suppressions`` (kept under a pseudonym).
    """

    cutoff: datetime
    days: int
    dry_run: bool = False
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))

    def add(self, counts: dict[str, int]) -> None:
        for table, count in counts.items():
            self.counts[table] += count


class Retention:
    """Removes the personal data of returns closed or idle longer than the period.

    Args:
        engine: The database.
        days: ``NOTIFIER_RETENTION_DAYS``.
        batch: Returns purged per transaction.
    """

    def __init__(self, engine: Engine, days: int, *, batch: int = BATCH) -> None:
        self._engine = engine
        self.days = days
        self._batch = batch

    def purge(self, *, now: datetime | None = None, dry_run: bool = False) -> PurgeReport:
        """Purge every return due, a batch per transaction, and record the run in the audit.

        Args:
            now: The moment the period counts back from (default: the clock).
            dry_run: Count what would be removed and change nothing.
        """
        now = now or db.now()
        report = PurgeReport(now - timedelta(days=self.days), self.days, dry_run)
        after: tuple[datetime, str] | None = None
        while True:
            with self._transaction(dry_run) as connection:
                batch = self._due(connection, report.cutoff, after)
                if not batch:
                    break
                ids = [row.return_id for row in batch]
                report.add(self._purge(connection, ids, report.cutoff, now, dry_run))
            after = (batch[-1].updated_at, batch[-1].return_id)
        while True:
            with self._transaction(dry_run) as connection:
                moved = self._pseudonymize(connection, report.cutoff, dry_run)
                report.counts["suppressions"] += moved
            if dry_run or moved < self._batch:
                break
        if not dry_run and any(report.counts.values()):
            with self._engine.begin() as connection:
                audit.record(
                    connection,
                    actor="retention",
                    action="purge",
                    subject=None,
                    counts={**report.counts, "cutoff": report.cutoff.isoformat()},
                    at=now,
                )
        return report

    def _transaction(self, dry_run: bool) -> AbstractContextManager[Connection]:
        """A write transaction, or for a dry run one that only reads (and so never holds
        SQLite's write lock)."""
        return db.read_only(self._engine) if dry_run else self._engine.begin()

    def _due(
        self, connection: Connection, cutoff: datetime, after: tuple[datetime, str] | None
    ) -> list[Row[tuple[datetime, str]]]:
        query = select(_r.updated_at, _r.return_id).where(due(cutoff))
        if after is not None:
            query = query.where(tuple_(_r.updated_at, _r.return_id) > tuple_(*after))
        return list(
            connection.execute(query.order_by(_r.updated_at, _r.return_id).limit(self._batch))
        )

    def _purge(
        self,
        connection: Connection,
        chosen: list[str],
        cutoff: datetime,
        now: datetime,
        dry_run: bool,
    ) -> dict[str, int]:
        if dry_run:
            ids = chosen
        else:
            # Marked first, and only if still due: an event stored since the batch was read
            # (its return's updated_at moved) keeps the return, and its data, out of the purge.
            ids = list(
                connection.execute(
                    update(db.returns)
                    .where(_r.return_id.in_(chosen), due(cutoff))
                    .values(snapshot={}, purged_at=now)
                    .returning(_r.return_id)
                ).scalars()
            )
        events = select(_e.pk).where(_e.return_id.in_(ids)).scalar_subquery()
        personal = and_(_n.return_id.in_(ids), _n.recipient != REMOVED_RECIPIENT)
        pending = and_(personal, _n.status.in_(list(PENDING)))
        outbox = and_(db.outbox.c.event_pk.in_(events), db.outbox.c.dispatched_at.is_(None))
        agenda = db.rule_due.c.return_id.in_(ids)
        if dry_run:
            return {
                "returns": len(ids),
                "events": _count(connection, db.events, _e.return_id.in_(ids)),
                "notifications": _count(connection, db.notifications, personal),
                "cancelled": _count(connection, db.notifications, pending),
                "outbox": _count(connection, db.outbox, outbox),
                "agenda": _count(connection, db.rule_due, agenda),
            }
        cancelled = connection.execute(
            update(db.notifications)
            .where(pending)
            .values(
                status=NotificationStatus.SKIPPED,
                reason=SKIPPED_REASON,
                next_attempt_at=None,
                claimed_until=None,
                claim_token=None,
                updated_at=now,
            )
        ).rowcount
        anonymized = connection.execute(
            update(db.notifications)
            .where(personal)
            .values(recipient=_kept_recipient(), data=None, last_error=None, reason=_kept_reason())
        ).rowcount
        return {
            "returns": len(ids),
            "events": connection.execute(
                update(db.events).where(_e.return_id.in_(ids)).values(payload={})
            ).rowcount,
            "notifications": anonymized,
            "cancelled": cancelled,
            "outbox": connection.execute(
                update(db.outbox).where(outbox).values(dispatched_at=now)
            ).rowcount,
            "agenda": connection.execute(delete(db.rule_due).where(agenda)).rowcount,
        }

    def _pseudonymize(self, connection: Connection, cutoff: datetime, dry_run: bool) -> int:
        clear = and_(_s.created_at < cutoff, not_(_s.address.startswith(PSEUDONYM_PREFIX)))
        if dry_run:
            return _count(connection, db.suppressions, clear)
        rows = connection.execute(
            select(_s.channel, _s.address).where(clear).limit(self._batch)
        ).all()
        return pseudonymize(connection, [(row.channel, row.address) for row in rows])


def due(cutoff: datetime) -> ColumnElement[bool]:
    """The returns retention purges: no event since ``cutoff``, and not purged since."""
    return and_(_r.updated_at < cutoff, or_(_r.purged_at.is_(None), _r.purged_at < _r.updated_at))


def pseudonymize(connection: Connection, keys: Sequence[tuple[str, str]]) -> int:
    """Keep the suppressions of ``keys`` ((channel, address) in clear) under the address's
    pseudonym, their reason cut to what happened (``sendgrid bounced``: the provider's text
    may quote the address or a name); one already kept that way absorbs the clear one.
    Returns how many changed."""
    changed = 0
    for channel, address in keys:
        clear = and_(_s.channel == channel, _s.address == address)
        reason = connection.execute(select(_s.reason).where(clear)).scalar_one_or_none()
        if reason is None:
            continue
        hidden = pseudonym(address)
        exists = connection.execute(
            select(func.count()).where(_s.channel == channel, _s.address == hidden)
        ).scalar_one()
        if exists:
            connection.execute(delete(db.suppressions).where(clear))
        else:
            connection.execute(
                update(db.suppressions)
                .where(clear)
                .values(address=hidden, reason=f"{reason.partition(':')[0]}: {REASON_REMOVED}")
            )
        changed += 1
    return changed


def _kept_recipient() -> ColumnElement[str]:
    """A webhook's recipient (a subscription id) stays; an address or number does not."""
    return case((_n.channel == Channel.WEBHOOK, _n.recipient), else_=literal(REMOVED_RECIPIENT))


def _kept_reason() -> ColumnElement[str]:
    """Delivery's "address suppressed: <the suppression's reason>" quotes the provider, who
    may quote the address: only "address suppressed" stays. Other reasons are our own words."""
    return case(
        (_n.reason.startswith(SUPPRESSED_REASON), literal(SUPPRESSED_REASON)), else_=_n.reason
    )


def _count(connection: Connection, table: FromClause, where: ColumnElement[bool]) -> int:
    query = select(func.count()).select_from(table).where(where)
    return int(connection.execute(query).scalar_one())
