"""Candidates: the returns a scan looks at for a rule, read through an index a page at a time.

A candidate is a ``returns`` row with only what the rules read (no snapshot, a few small
fields out of it), so that a scan of many returns stays cheap; its :class:`Facts` are read
in the customer's time zone (the preference if set, else the one in the snapshot).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, Engine, String, and_, cast, func, not_, or_, select
from sqlalchemy.dialects.postgresql import JSONB

from notifier import db
from notifier.scheduling.agenda import Agenda
from notifier.scheduling.moments import Facts, parse_clock, parse_day
from notifier.scheduling.rules import Rule

#: Time zones are at most this far west of UTC: the ship-by day ends this late in UTC.
_WEST = timedelta(hours=12)
#: ... and at most this far east: the local day starts this long before UTC's.
_EAST = timedelta(hours=14)
#: The longest a customer nudge due in the night waits for its morning (generously).
_NIGHT = timedelta(days=2)

#: Statuses of a customer message that went, or is still to go, out.
_TOLD = ("queued", "scheduled", "sent", "delivered")

_r = db.returns.c
_n = db.notifications.c
_r_method = _r.snapshot[("return", "method")].as_string()
#: What a scan reads of a candidate: no snapshot, only a few small fields out of it.
_COLUMNS = (
    _r.return_id,
    _r.customer_id,
    _r.status,
    _r.status_at,
    _r.ship_by,
    _r.label_expires_at,
    _r.updated_at,
)
_FIELDS = (
    ("timezone", ("customer", "timezone")),
    ("outcome", ("return", "inspection", "outcome")),
    ("method", ("return", "method")),
    ("pickup_date", ("return", "pickup", "date")),
    ("pickup_to", ("return", "pickup", "to")),
)
_CANDIDATE = (
    *_COLUMNS,
    *(_r.snapshot[path].as_string().label(name) for name, path in _FIELDS),
)
#: A return retention has not purged since its last event: one it has is nobody's to remind
#: (its snapshot and recipients are gone).
_LIVE = or_(_r.purged_at.is_(None), _r.purged_at < _r.updated_at)


@dataclass(frozen=True, slots=True)
class Window:
    """The returns a scan reads for ``rule`` by date: in one of its statuses, with its date
    ``column`` from ``lower`` to ``upper`` (see :meth:`Candidates.window`)."""

    rule: Rule
    column: Any
    lower: Any
    upper: Any
    #: Whether the window starts after ``lower`` rather than at it.
    after: bool = False

    def holds(self, candidate: Any) -> bool:
        """Whether ``candidate`` (read by :meth:`Candidates.every`) is in the window."""
        value = getattr(candidate, self.column.key)
        if value is None or value > self.upper:
            return False
        return bool(value > self.lower if self.after else value >= self.lower)


class Candidates:
    """Reads the candidates of a rule, ``page_size`` returns at a time.

    Args:
        engine: The database.
        agenda: The scheduler's agenda, to find the returns of customers who changed.
        page_size: Returns read per query.
        default_timezone: The zone of customers who name none (or an unknown one).
    """

    def __init__(
        self, engine: Engine, agenda: Agenda, *, page_size: int, default_timezone: str
    ) -> None:
        self._engine = engine
        self._agenda = agenda
        self._page = page_size
        self._default_timezone = default_timezone

    def window(
        self, rule: Rule, now: datetime, catchup: timedelta, mark: datetime | None
    ) -> Window:
        """The returns a scan at ``now`` reads for ``rule`` by its date: those that can have a
        due moment by ``now``, and whose first possible moment came after ``mark`` (the rule's
        last completed scan: that scan read the others, and a return changed since is read as
        such); without a mark, every one that can have a moment by ``now`` at most the
        ``catchup`` age old. The others are read by the first scan in whose window their first
        moment comes (from the agenda on, the return is looked at when it is due)."""
        now = now.astimezone(UTC)  # the dates below are UTC's
        column, lower = _horizon(rule, now, catchup)
        upper = _reach(rule, now)
        if mark is not None:
            return Window(rule, column, _reach(rule, mark.astimezone(UTC)), upper, after=True)
        return Window(rule, column, lower, upper)

    def every(self, status: str, windows: Sequence[Window]) -> Iterator[list[Any]]:
        """Every return in ``status`` in one of ``windows`` (all on the same date column),
        each read once for them all (:meth:`Window.holds` then tells whose it is)."""
        column = windows[0].column
        for lower, upper, exclusive in _ranges(windows):
            yield from self._pages(status, column, lower, upper, exclusive=exclusive)

    def pickups(self, status: str) -> Iterator[list[Any]]:
        """Every return in ``status`` collected by a pickup: its reminders count back from
        the pickup's day, which no index holds, rather than from the ship-by date."""
        # The text search first: it spares parsing the JSON of nearly every return.
        where = and_(cast(_r.snapshot, String).contains('"pickup"'), _r_method == "pickup")
        yield from self._pages(status, _r.status_at, None, None, where=where)

    def changed(self, rule: Rule, since: datetime) -> Iterator[list[Any]]:
        """Returns changed since ``since``, then those of customers whose preferences did."""
        for status in rule.statuses:
            yield from self._pages(status, _r.updated_at, since, None)
        c = db.customers.c
        with db.read_only(self._engine) as connection:
            customers = list(
                connection.execute(select(c.customer_id).where(c.updated_at >= since)).scalars()
            )
        for start in range(0, len(customers), self._page):
            chunk = customers[start : start + self._page]
            return_ids = self._agenda.of_customers(rule.name, chunk)
            for first in range(0, len(return_ids), self._page):
                yield self.by_id(return_ids[first : first + self._page])

    def by_id(self, return_ids: Sequence[str]) -> list[Any]:
        """The candidates of ``return_ids`` that exist."""
        with db.read_only(self._engine) as connection:
            query = self._select(db.listed_in(_r.return_id, values=return_ids), _LIVE)
            return list(connection.execute(query).all())

    def facts(self, connection: Connection, page: Sequence[Any]) -> list[tuple[Any, Facts]]:
        """Each candidate of ``page`` with its facts, in its customer's time zone."""
        c = db.customers.c
        ids = {candidate.customer_id for candidate in page}
        preferred = dict(
            connection.execute(
                select(c.customer_id, c.timezone).where(
                    db.listed_in(c.customer_id, values=ids), c.timezone.is_not(None)
                )
            ).all()
        )
        default = self._default_timezone
        return [
            (r, _facts(r, _zone(preferred.get(r.customer_id) or r.timezone, default))) for r in page
        ]

    def last_told(self, connection: Connection, return_ids: Sequence[str]) -> dict[str, datetime]:
        """When the customer's latest email or SMS about each of ``return_ids`` went out.

        A message still to go counts from when it is to go (a held SMS at the end of the
        quiet hours); staff alerts, webhooks and messages not sent (skipped, suppressed,
        failed, bounced) do not count. Returns without such a message are left out.
        """
        if not return_ids:
            return {}
        moment = func.max(func.coalesce(_n.sent_at, _n.next_attempt_at, _n.created_at))
        query = (
            select(_n.return_id, moment)
            .where(
                db.listed_in(_n.return_id, values=return_ids),
                _n.channel.in_(("email", "sms")),
                # Through the return_id index on SQLite too: through the status index it
                # read every told message (114 ms a page at 172,000 notifications, not 8 ms).
                db.unindexed(_n.status).in_(_TOLD),
                not_(_n.kind.startswith("staff.")),
            )
            .group_by(_n.return_id)
        )
        return {return_id: at for return_id, at in connection.execute(query).all()}

    def _select(self, *where: Any, order_by: Any = None, limit: int | None = None) -> Any:
        """The candidates ``where`` holds (by ``order_by``, at most ``limit``).

        On PostgreSQL, the snapshot (``json``, kept as text) is parsed once per row, as
        ``jsonb``, for all the fields read out of it, rather than once per field: in a
        subquery the planner cannot merge into the outer query (it has a limit or an
        offset), which would otherwise repeat the cast for each field.
        """
        if self._engine.dialect.name != "postgresql":
            return select(*_CANDIDATE).where(*where).order_by(order_by).limit(limit)
        inner = select(*_COLUMNS, cast(_r.snapshot, JSONB).label("parsed")).where(*where)
        inner = inner.order_by(order_by)
        inner = inner.limit(limit) if limit is not None else inner.offset(0)
        rows = inner.subquery()
        query = select(
            *(rows.c[column.key] for column in _COLUMNS),
            *(rows.c.parsed[path].as_string().label(name) for name, path in _FIELDS),
        )
        return query if order_by is None else query.order_by(rows.c[order_by.key])

    def _pages(
        self,
        status: str,
        column: Any,
        lower: Any,
        upper: Any,
        *,
        exclusive: bool = False,
        where: Any = None,
    ) -> Iterator[list[Any]]:
        """Candidates in ``status`` with ``lower <= column <= upper`` (None: unbounded;
        ``exclusive``: ``lower < column``) and ``where``, a page at a time.

        Keyset-paged on the ``(status, column)`` index alone: a page ends with every row of
        its last value (dates are shared by many returns), and the next starts after it, so
        no row is read twice and no page sorts more than its own rows.
        """
        base = [_r.status == status, column.is_not(None), _LIVE]
        if where is not None:
            base.append(where)
        if upper is not None:
            base.append(column <= upper)
        after: Any = None
        while True:
            bounds = list(base)
            if after is not None:
                bounds.append(column > after)
            elif lower is not None:
                bounds.append(column > lower if exclusive else column >= lower)
            with db.read_only(self._engine) as connection:
                query = self._select(*bounds, order_by=column, limit=self._page)
                page = list(connection.execute(query).all())
                full = len(page) == self._page
                if full:
                    after = getattr(page[-1], column.key)
                    page = [row for row in page if getattr(row, column.key) != after]
                    page += connection.execute(self._select(*base, column == after)).all()
            for start in range(0, len(page), self._page):
                yield page[start : start + self._page]
            if not full:
                return


def _ranges(windows: Sequence[Window]) -> list[tuple[Any, Any, bool]]:
    """The ranges (``lower``, ``upper``, ``exclusive``) that cover ``windows``: overlapping
    windows merged, so that no return is read twice, and none read between two windows."""
    ranges: list[tuple[Any, Any, bool]] = []
    for w in sorted(windows, key=lambda w: (w.lower, w.after)):
        if w.lower > w.upper or (w.lower == w.upper and w.after):
            continue  # empty
        if ranges and w.lower <= ranges[-1][1]:
            lower, upper, exclusive = ranges[-1]
            ranges[-1] = (lower, max(upper, w.upper), exclusive)
        else:
            ranges.append((w.lower, w.upper, w.after))
    return ranges


def _horizon(rule: Rule, now: datetime, catchup: timedelta) -> tuple[Any, Any]:
    """The indexed date column of ``rule`` and the lowest value of it with which a return can
    still have a due moment for ``rule`` that is due now or later, or at most ``catchup`` old."""
    if rule.anchor == "ship_by":
        # The deadline is the end of the ship-by day, which ends last at UTC-12.
        return _r.ship_by, (now - _WEST).date()
    if rule.anchor == "after_ship_by":
        # Due the days after the ship-by day, at most the catch-up age ago (a day to spare
        # for the time of day and the time zone).
        return _r.ship_by, (now - catchup - timedelta(days=max(rule.days) + 1) - _WEST).date()
    if rule.anchor == "label_expires_at":
        return _r.label_expires_at, now
    wait = timedelta(0) if rule.staff else _NIGHT
    return _r.status_at, now - catchup - timedelta(days=max(rule.days)) - wait


def _reach(rule: Rule, at: datetime) -> Any:
    """The highest value of the date column of ``rule`` with which a return can have a due
    moment by ``at``, in any time zone (local days start at most 14 hours before UTC's)."""
    if rule.anchor == "ship_by":
        return (at + _EAST).date() + timedelta(days=max(rule.days))
    if rule.anchor == "after_ship_by":
        return (at + _EAST).date() - timedelta(days=min(rule.days))
    if rule.anchor == "label_expires_at":
        # The expiry's local day (up to 12 hours before or 14 after it), less the days.
        return at + _EAST + _WEST + timedelta(days=max(rule.days) + 1)
    # Due the days after the status time, or later (the next morning).
    return at - timedelta(days=min(rule.days))


def _facts(candidate: Any, timezone: str) -> Facts:
    c = candidate
    return Facts(
        c.status,
        c.status_at,
        c.ship_by,
        c.label_expires_at,
        c.outcome,
        timezone,
        method=c.method,
        pickup_on=parse_day(c.pickup_date),
        pickup_until=parse_clock(c.pickup_to),
    )


def _zone(name: str | None, default: str) -> str:
    if not name:
        return default
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default
    return name
