"""The scheduler: plans each due reminder and nudge exactly once, reading only what is due.

The scheduler keeps an agenda (:mod:`notifier.agenda`): per rule and open return, the next
due moment in UTC, indexed. A scan

1. brings each rule's agenda up to date with the returns changed since the rule's last
   completed scan (less :data:`CHANGE_OVERLAP`, for commit delays) and with the returns of
   customers whose preferences changed since (a new time zone moves the moments). The first
   scan of a rule, or of a rule whose definition changed, fills its agenda from every return
   that can still be due for it, keyset-paged on a ``(status, <date>)`` index;
2. reads the agenda rows due by now, a page at a time through the ``due_at`` index, and the
   returns they name by primary key;
3. of each return looked at, computes the latest passed due moment in the customer's time
   zone and *fires* it: a ``rule_firings`` row keyed by rule, return and due moment, plus the
   notification rows it causes (ids derived from the same key), in one transaction. Then the
   return's agenda row moves to its next due moment, or is removed.

A second scheduler, a restart mid-scan or a scan after an outage finds the firing and plans
nothing again (an outage catches up once: only the latest passed moment is sent); delivery's
claim does the same for redelivered jobs, and delivery checks the rule again before sending.
A due moment older than the catch-up age (``NOTIFIER_CATCHUP_MAX_AGE``) is not sent, so a
scheduler started on a database of long-stuck returns does not message them all at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, Engine, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from notifier import db
from notifier.agenda import Agenda, Entry
from notifier.planner import QUEUED, Audience, Planned, Planner, matches, notification_id, rows
from notifier.rules import Due, Facts, Rule, RuleSet, due, expected_by, next_due

log = logging.getLogger(__name__)

#: Returns (or agenda rows) read per query.
PAGE = 1000
#: How far back of the last completed scan changed returns are looked at again (commit delay).
CHANGE_OVERLAP = timedelta(minutes=10)
#: Default of NOTIFIER_CATCHUP_MAX_AGE: a due moment older than this is not sent.
CATCHUP_MAX_AGE = timedelta(days=7)
#: Time zones are at most this far west of UTC: the ship-by day ends this late in UTC.
_WEST = timedelta(hours=12)
#: The longest a customer nudge due in the night waits for its morning (generously).
_NIGHT = timedelta(days=2)

_r = db.returns.c
#: What a scan reads of a candidate: no snapshot, only two small fields out of it.
_CANDIDATE = (
    _r.return_id,
    _r.customer_id,
    _r.status,
    _r.status_at,
    _r.ship_by,
    _r.label_expires_at,
    _r.updated_at,
    _r.snapshot[("customer", "timezone")].as_string().label("timezone"),
    _r.snapshot[("return", "inspection", "outcome")].as_string().label("outcome"),
)


@dataclass(frozen=True, slots=True)
class ScanReport:
    """What one scan did: returns looked at, due moments fired, notifications planned, and due
    moments not sent because they were older than the catch-up age."""

    candidates: int = 0
    fired: int = 0
    notifications: int = 0
    expired: int = 0

    def __add__(self, other: ScanReport) -> ScanReport:
        return ScanReport(
            self.candidates + other.candidates,
            self.fired + other.fired,
            self.notifications + other.notifications,
            self.expired + other.expired,
        )


@dataclass(frozen=True, slots=True)
class _Firing:
    candidate: Any
    due: Due


class Scheduler:
    """Plans the reminders and nudges the rules call for; see the module docstring."""

    def __init__(
        self,
        engine: Engine,
        planner: Planner,
        rules: RuleSet,
        *,
        enqueue: Callable[[str], None],
        staff_email: str | None,
        staff_locale: str,
        default_timezone: str,
        catchup_max_age: timedelta = CATCHUP_MAX_AGE,
        page_size: int = PAGE,
    ) -> None:
        self._engine = engine
        self._planner = planner
        self._rules = rules
        self._enqueue = enqueue
        self._staff_email = staff_email
        self._staff_locale = staff_locale
        self._default_timezone = default_timezone
        self._catchup = catchup_max_age
        self._page = page_size
        self._agenda = Agenda(engine)

    def scan(self, now: datetime | None = None) -> ScanReport:
        """Run every rule once at ``now`` (default: the clock)."""
        now = now or db.now()
        self._forget_unconfigured()
        report = ScanReport()
        for rule in self._rules:
            report += self._refresh(rule, now)
        for entries in self._agenda.due(now, self._page):
            report += self._due(entries, now)
        return report

    def _refresh(self, rule: Rule, now: datetime) -> ScanReport:
        """Bring the agenda of ``rule`` up to date with the returns as they are now."""
        mark = self._mark(rule)
        if mark is None:
            self._agenda.clear(rule.name)
            pages = self._all_pages(rule, now)
        else:
            pages = self._changed_pages(rule, mark - CHANGE_OVERLAP)
        report = ScanReport()
        for page in pages:
            report += self._handle(rule, page, now)
        self._advance(rule, now)
        return report

    def _due(self, rows: Sequence[Any], now: datetime) -> ScanReport:
        """Look again at the returns of due agenda rows."""
        report = ScanReport()
        by_rule: dict[str, list[str]] = {}
        for row in rows:
            by_rule.setdefault(row.rule, []).append(row.return_id)
        for name, return_ids in by_rule.items():
            rule = self._rules.get(name)
            if rule is None:
                self._agenda.remove(name, return_ids)
                continue
            page = self._returns(return_ids)
            self._agenda.remove(name, sorted(set(return_ids) - {c.return_id for c in page}))
            report += self._handle(rule, page, now)
        return report

    # Candidates -------------------------------------------------------------------------

    def _all_pages(self, rule: Rule, now: datetime) -> Iterator[list[Any]]:
        """Every return that can have a due moment for ``rule`` within the catch-up age."""
        column, lower = _horizon(rule, now, self._catchup)
        for status in rule.statuses:
            yield from self._pages(status, column, lower, None)

    def _changed_pages(self, rule: Rule, since: datetime) -> Iterator[list[Any]]:
        """Returns changed since ``since``, then those of customers whose preferences did."""
        for status in rule.statuses:
            yield from self._pages(status, _r.updated_at, since, None)
        c = db.customers.c
        with self._engine.connect() as connection:
            customers = list(
                connection.execute(select(c.customer_id).where(c.updated_at >= since)).scalars()
            )
        for start in range(0, len(customers), self._page):
            chunk = customers[start : start + self._page]
            return_ids = self._agenda.of_customers(rule.name, chunk)
            for first in range(0, len(return_ids), self._page):
                yield self._returns(return_ids[first : first + self._page])

    def _returns(self, return_ids: Sequence[str]) -> list[Any]:
        with self._engine.connect() as connection:
            query = select(*_CANDIDATE).where(_r.return_id.in_(return_ids))
            return list(connection.execute(query).all())

    def _pages(self, status: str, column: Any, lower: Any, upper: Any) -> Iterator[list[Any]]:
        """Candidates in ``status`` with ``lower <= column <= upper``, a page at a time.

        Keyset-paged on the ``(status, column)`` index alone: a page ends with every row of
        its last value (dates are shared by many returns), and the next starts after it, so
        no row is read twice and no page sorts more than its own rows.
        """
        base = select(*_CANDIDATE).where(_r.status == status, column.is_not(None))
        if upper is not None:
            base = base.where(column <= upper)
        after: Any = None
        while True:
            query = base.where(column > after) if after is not None else base
            if after is None and lower is not None:
                query = query.where(column >= lower)
            with self._engine.connect() as connection:
                page = list(connection.execute(query.order_by(column).limit(self._page)).all())
                full = len(page) == self._page
                if full:
                    after = getattr(page[-1], column.key)
                    page = [row for row in page if getattr(row, column.key) != after]
                    page += connection.execute(base.where(column == after)).all()
            for start in range(0, len(page), self._page):
                yield page[start : start + self._page]
            if not full:
                return

    # Firing -----------------------------------------------------------------------------

    def _handle(self, rule: Rule, page: Sequence[Any], now: datetime) -> ScanReport:
        """Fire what is due of ``page`` for ``rule``, and note each return's next moment."""
        if not page:
            return ScanReport()
        oldest = now - self._catchup
        with self._engine.connect() as connection:
            zones = self._zones(connection, page)
            looked = [(c, _facts(c, zones[c.return_id])) for c in page]
            moments = [_Firing(c, d) for c, f in looked if (d := due(rule, f, now)) is not None]
            unfired = self._unfired(connection, rule, moments)
        firings = [x for x in unfired if x.due.at >= oldest]
        queued, planned = self._fire(rule, firings, now) if firings else ([], 0)
        self._agenda.write(
            rule.name,
            [
                Entry(c.return_id, c.customer_id, next_due(rule, f, now), c.updated_at)
                for c, f in looked
            ],
        )
        for notification in queued:
            try:
                self._enqueue(notification)
            except Exception:  # noqa: BLE001 - stored as queued: the relay hands it over
                log.warning("notification %s planned but not queued", notification, exc_info=True)
        return ScanReport(len(page), len(firings), planned, len(unfired) - len(firings))

    def _zones(self, connection: Connection, page: Sequence[Any]) -> dict[str, str]:
        c = db.customers.c
        ids = {candidate.customer_id for candidate in page}
        preferred = dict(
            connection.execute(
                select(c.customer_id, c.timezone).where(
                    c.customer_id.in_(ids), c.timezone.is_not(None)
                )
            ).all()
        )
        return {
            r.return_id: _zone(preferred.get(r.customer_id) or r.timezone, self._default_timezone)
            for r in page
        }

    def _unfired(self, connection: Connection, rule: Rule, firings: list[_Firing]) -> list[_Firing]:
        if not firings:
            return []
        f = db.rule_firings.c
        fired = set(
            connection.execute(
                select(f.return_id, f.due_key).where(
                    f.rule == rule.name,
                    f.return_id.in_({x.candidate.return_id for x in firings}),
                )
            ).all()
        )
        return [x for x in firings if (x.candidate.return_id, x.due.key) not in fired]

    def _fire(self, rule: Rule, firings: list[_Firing], now: datetime) -> tuple[list[str], int]:
        """Record ``firings`` and plan their notifications; another scheduler may race us."""
        try:
            with self._engine.begin() as connection:
                return self._plan_all(connection, rule, firings, now)
        except IntegrityError:
            pass
        queued: list[str] = []
        planned = 0
        for firing in firings:
            try:
                with self._engine.begin() as connection:
                    if self._unfired(connection, rule, [firing]):
                        more, count = self._plan_all(connection, rule, [firing], now)
                        queued += more
                        planned += count
            except IntegrityError:
                log.debug("%s for %s fired elsewhere", rule.name, firing.candidate.return_id)
        return queued, planned

    def _plan_all(
        self, connection: Connection, rule: Rule, firings: list[_Firing], now: datetime
    ) -> tuple[list[str], int]:
        snapshots = dict(
            connection.execute(
                select(_r.return_id, _r.snapshot).where(
                    _r.return_id.in_([x.candidate.return_id for x in firings])
                )
            ).all()
        )
        connection.execute(
            insert(db.rule_firings),
            [
                {
                    "rule": rule.name,
                    "return_id": x.candidate.return_id,
                    "due_key": x.due.key,
                    "due_at": x.due.at,
                    "created_at": now,
                }
                for x in firings
            ],
        )
        queued: list[str] = []
        planned = 0
        for firing in firings:
            new = self._plan_one(connection, firing, snapshots[firing.candidate.return_id], now)
            if new:
                connection.execute(insert(db.notifications), new)
            queued += [n["id"] for n in new if n["status"] == QUEUED]
            planned += len(new)
        return queued, planned

    def _plan_one(
        self, connection: Connection, firing: _Firing, snapshot: dict[str, Any], now: datetime
    ) -> list[dict[str, Any]]:
        rule, candidate, moment = firing.due.rule, firing.candidate, firing.due
        source = f"rule:{rule.name}:{candidate.return_id}:{moment.key}"
        if rule.staff:
            audience = Audience(None, None, True, False, self._staff_locale, self._default_timezone)
            planned = self._staff(source, rule.kind, rule.channels)
            zone = ZoneInfo(_zone(_customer_zone(connection, snapshot), self._default_timezone))
        else:
            audience = self._planner.audience(connection, snapshot.get("customer") or {})
            planned = self._planner.plan_customer(
                connection,
                source,
                rule.kind,
                audience,
                email="email" in rule.channels,
                sms="sms" in rule.channels,
            )
            zone = ZoneInfo(_zone(audience.timezone, self._default_timezone))
        if "webhook" in rule.channels:
            planned += _webhooks(connection, source, rule.kind)
        return rows(
            planned,
            source=source,
            event_pk=None,
            return_id=candidate.return_id,
            customer_id=candidate.customer_id,
            audience=audience,
            now=now,
            rule=rule.label(moment.days),
            data=_data(snapshot, candidate, moment, zone, now),
        )

    def _staff(self, source: str, kind: str, channels: Sequence[str]) -> list[Planned]:
        if "email" not in channels or self._staff_email is None:
            return []
        address = self._staff_email
        return [
            Planned(notification_id(source, kind, "email", address), kind, "email", address, QUEUED)
        ]

    # Scan marks -------------------------------------------------------------------------

    def _forget_unconfigured(self) -> None:
        """Drop the marks and agenda of rules no longer configured: if one comes back, its
        first scan fills its agenda again."""
        m = db.scan_marks.c
        names = [rule.name for rule in self._rules]
        with self._engine.connect() as connection:
            gone = list(connection.execute(select(m.rule).where(m.rule.not_in(names))).scalars())
        for name in gone:
            self._agenda.clear(name)
            with self._engine.begin() as connection:
                connection.execute(delete(db.scan_marks).where(m.rule == name))

    def _mark(self, rule: Rule) -> datetime | None:
        m = db.scan_marks.c
        with self._engine.connect() as connection:
            row = connection.execute(
                select(m.scanned_until, m.fingerprint).where(m.rule == rule.name)
            ).first()
        if row is None or row.fingerprint != rule.fingerprint():
            return None
        return row.scanned_until  # type: ignore[no-any-return]

    def _advance(self, rule: Rule, now: datetime) -> None:
        """Record a completed scan of ``rule`` up to ``now``; a mark never moves back."""
        m = db.scan_marks.c
        fingerprint = rule.fingerprint()
        moved = or_(m.scanned_until < now, m.fingerprint != fingerprint)
        for _ in range(2):
            try:
                with self._engine.begin() as connection:
                    changed = connection.execute(
                        update(db.scan_marks)
                        .where(m.rule == rule.name, moved)
                        .values(scanned_until=now, fingerprint=fingerprint)
                    ).rowcount
                    known = (
                        changed
                        or connection.execute(select(m.rule).where(m.rule == rule.name)).first()
                    )
                    if not known:
                        connection.execute(
                            insert(db.scan_marks).values(
                                rule=rule.name, fingerprint=fingerprint, scanned_until=now
                            )
                        )
                return
            except IntegrityError:
                continue


def _facts(candidate: Any, timezone: str) -> Facts:
    c = candidate
    return Facts(c.status, c.status_at, c.ship_by, c.label_expires_at, c.outcome, timezone)


def _horizon(rule: Rule, now: datetime, catchup: timedelta) -> tuple[Any, Any]:
    """The indexed date column of ``rule`` and the lowest value of it with which a return can
    still have a due moment for ``rule`` that is due now or later, or at most ``catchup`` old."""
    if rule.anchor == "ship_by":
        # The deadline is the end of the ship-by day, which ends last at UTC-12.
        return _r.ship_by, (now - _WEST).date()
    if rule.anchor == "label_expires_at":
        return _r.label_expires_at, now
    wait = timedelta(0) if rule.staff else _NIGHT
    return _r.status_at, now - catchup - timedelta(days=max(rule.days)) - wait


def _data(
    snapshot: dict[str, Any], candidate: Any, moment: Due, zone: ZoneInfo, now: datetime
) -> dict[str, Any]:
    """The snapshot plus what the scheduled kind's templates read (see :mod:`notifier.render`)."""
    rule = moment.rule
    if rule.anchor != "status_at":
        reminder = {"due_at": moment.at.isoformat(), "rule": rule.label(moment.days)}
        return {**snapshot, "reminder": reminder}
    by = expected_by(rule, candidate.status_at + timedelta(days=moment.days), zone)
    stale = {
        "status": candidate.status,
        "since": candidate.status_at.isoformat(),
        "days": max((now - candidate.status_at).days, moment.days),
        "expected_by": by.isoformat() if by else None,
    }
    return {**snapshot, "stale": stale}


def _webhooks(connection: Connection, source: str, kind: str) -> list[Planned]:
    w = db.webhooks.c
    subscriptions = connection.execute(select(w.id, w.types).where(w.active.is_(True))).all()
    return [
        Planned(notification_id(source, kind, "webhook", s.id), kind, "webhook", s.id, QUEUED)
        for s in subscriptions
        if matches(s.types, kind)
    ]


def _customer_zone(connection: Connection, snapshot: dict[str, Any]) -> str | None:
    customer = snapshot.get("customer") or {}
    c = db.customers.c
    preferred = connection.execute(
        select(c.timezone).where(c.customer_id == customer.get("id"))
    ).scalar()
    return preferred or customer.get("timezone")  # type: ignore[no-any-return]


def _zone(name: str | None, default: str) -> str:
    if not name:
        return default
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default
    return name
