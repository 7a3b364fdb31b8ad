"""Due moments: when a rule is due for a return, and whether a planned message still holds.

Of a rule's due moments only the latest one that has passed is sent, and only when it is
after the moment the return entered its current status: an outage catches up once, and a
return never gets a reminder about a moment that was already past when it arrived. A
reminder is never due once its deadline has passed: the ship-by date (or, for a pickup
with a date, the end of its window), or for a label the earlier of its expiry and that
deadline; the customer hears of a missed ship-by date once, from ``return.expired``, the
morning after. A customer nudge also keeps its distance from the other messages about the
return (:func:`after_gap`). Before sending, :func:`lapsed` checks the return as it is then against
what the message was planned with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from notifier.scheduling.rules import MORNING, Rule

#: From this local time on, a customer nudge waits for the next morning.
EVENING = time(21, 0)


@dataclass(frozen=True, slots=True)
class Due:
    """One due moment of a rule for one return."""

    rule: Rule
    days: int
    at: datetime
    key: str


@dataclass(frozen=True, slots=True)
class Facts:
    """What a rule looks at of a return.

    ``method`` is the return method (``return.method``); ``pickup_on`` and ``pickup_until``
    the day a pickup is booked for and the end of its window, local to the customer
    (``return.pickup.date`` and ``to``), None when not given.
    """

    status: str
    status_at: datetime
    ship_by: date | None
    label_expires_at: datetime | None
    outcome: str | None
    timezone: str
    method: str | None = None
    pickup_on: date | None = None
    pickup_until: time | None = None

    @property
    def pickup_booked(self) -> bool:
        """Whether the carrier collects the parcel on a known day."""
        return self.method == "pickup" and self.pickup_on is not None


def facts(row: Any, timezone: str) -> Facts:
    """The facts of a ``returns`` row, read in the customer's ``timezone``."""
    ret = (row.snapshot or {}).get("return") or {}
    pickup = ret.get("pickup") or {}
    return Facts(
        status=row.status,
        status_at=row.status_at,
        ship_by=row.ship_by,
        label_expires_at=row.label_expires_at,
        outcome=(ret.get("inspection") or {}).get("outcome"),
        timezone=timezone,
        method=ret.get("method"),
        pickup_on=parse_day(pickup.get("date")),
        pickup_until=parse_clock(pickup.get("to")),
    )


def parse_day(value: Any) -> date | None:
    """A ``YYYY-MM-DD`` date from a snapshot, or None when missing or malformed."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def parse_clock(value: Any) -> time | None:
    """An ``HH:MM`` clock time from a snapshot, or None when missing or malformed."""
    try:
        return time.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def due(rule: Rule, facts: Facts, now: datetime) -> Due | None:
    """The latest due moment of ``rule`` that has passed at ``now``, if it still applies.

    None when the return is not in one of the rule's statuses, lacks the rule's date, has
    another inspection outcome, when the deadline has passed, or when the latest passed
    moment is not after the return entered its status.
    """
    if not _applies(rule, facts):
        return None
    zone = ZoneInfo(facts.timezone)
    moments = [(d, _moment(rule, facts, d, zone)) for d in rule.days]
    passed = [(at, d) for d, at in moments if at is not None and at <= now]
    if not passed:
        return None
    at, days = max(passed)
    if at <= facts.status_at or now >= _deadline(rule, facts, zone):
        return None
    return Due(rule, days, at, _key(rule, facts, days))


def next_due(rule: Rule, facts: Facts, after: datetime) -> datetime | None:
    """The first moment after ``after`` at which :func:`due` has a new moment to send.

    None when the return, as it is now, has no more due moments for ``rule``.
    """
    if not _applies(rule, facts):
        return None
    zone = ZoneInfo(facts.timezone)
    deadline = _deadline(rule, facts, zone)
    moments = [_moment(rule, facts, d, zone) for d in rule.days]
    return min(
        (at for at in moments if at is not None and max(after, facts.status_at) < at < deadline),
        default=None,
    )


def after_gap(moment: Due, facts: Facts, told: datetime | None, gap: timedelta) -> datetime:
    """When the due moment ``moment`` may be sent, given the last message about the return.

    A customer nudge is not sent within ``gap`` of another email or SMS to the customer
    about the same return (``told``: when the latest went or is to go, None if none): it is
    postponed, not dropped, to the first daytime moment after the gap (as at
    :func:`daytime`), and is sent then if the return is still stuck. "Taking longer than
    usual" minutes after "we received your parcel" (an event reported days late) reads as
    a mistake. Reminders and staff alerts are not moved.
    """
    rule = moment.rule
    if not rule.nudge or told is None or told + gap <= moment.at:
        return moment.at
    return daytime(told + gap, ZoneInfo(facts.timezone), rule.at)


def _applies(rule: Rule, facts: Facts) -> bool:
    """Whether the return is in one of the rule's statuses, with one of its outcomes; a label
    reminder never applies to an in-store return, which needs no label."""
    if rule.anchor == "label_expires_at" and facts.method == "in_store":
        return False
    return facts.status in rule.statuses and (not rule.outcomes or facts.outcome in rule.outcomes)


def _moment(rule: Rule, facts: Facts, days: int, zone: ZoneInfo) -> datetime | None:
    if rule.anchor == "ship_by":
        day = facts.pickup_on if facts.pickup_booked else facts.ship_by
        if day is None:
            return None
        return _local(day, -days, rule.at, zone)
    if rule.anchor == "after_ship_by":
        if facts.ship_by is None:
            return None
        return _local(facts.ship_by, days, rule.at, zone)
    if rule.anchor == "label_expires_at":
        if facts.label_expires_at is None:
            return None
        return _local(_local_day(facts.label_expires_at, zone), -days, rule.at, zone)
    moment = facts.status_at + timedelta(days=days)
    return moment if rule.staff else daytime(moment, zone, rule.at)


@lru_cache(maxsize=4096)
def _local(day: date, days: int, at: time, zone: ZoneInfo) -> datetime:
    """``at`` o'clock in ``zone`` on the day ``days`` after ``day``: many returns share a
    date, and a scheduler's first scan asks this of every one of them."""
    return datetime.combine(day + timedelta(days=days), at, zone)


@lru_cache(maxsize=4096)
def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


#: No deadline: the moment a rule is due stays sendable (within the catch-up age).
_NEVER = datetime.max.replace(tzinfo=UTC)


def _deadline(rule: Rule, facts: Facts, zone: ZoneInfo) -> datetime:
    if rule.anchor == "ship_by":
        return _handed_in_by(facts, zone) or _NEVER
    if rule.anchor == "label_expires_at" and facts.label_expires_at is not None:
        return min(facts.label_expires_at, _handed_in_by(facts, zone) or _NEVER)
    return _NEVER


def _handed_in_by(facts: Facts, zone: ZoneInfo) -> datetime | None:
    """When the customer's part is over: the end of a booked pickup's window (of its day when
    it has no end), else the end of the ship-by day; None without either."""
    day = facts.pickup_on if facts.method == "pickup" else None
    if day is not None and facts.pickup_until is not None:
        return _local(day, 0, facts.pickup_until, zone)
    if day is not None:
        return _local(day, 1, time(0), zone)
    if facts.ship_by is not None:
        return _local(facts.ship_by, 1, time(0), zone)
    return None


def _key(rule: Rule, facts: Facts, days: int) -> str:
    """What makes a due moment the same one across scans, time zones and restarts."""
    if rule.anchor == "ship_by" and facts.pickup_booked:
        anchor = f"pickup:{facts.pickup_on}"
    elif rule.anchor in ("ship_by", "after_ship_by"):
        anchor = str(facts.ship_by)
    elif rule.anchor == "label_expires_at":
        anchor = facts.label_expires_at.astimezone(UTC).isoformat()  # type: ignore[union-attr]
    else:
        anchor = f"{facts.status}@{facts.status_at.astimezone(UTC).isoformat()}"
    return f"{anchor}/{days}d"


def daytime(moment: datetime, zone: ZoneInfo, morning: time = MORNING) -> datetime:
    """``moment``, or the next ``morning`` in ``zone`` when it falls in the evening or night."""
    local = moment.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if morning <= clock < EVENING:
        return moment
    day = local.date() + timedelta(days=1) if clock >= EVENING else local.date()
    return datetime.combine(day, morning, zone)


def expected_by(rule: Rule, moment: datetime, zone: ZoneInfo) -> date | None:
    """The day by which the customer hears from the shop, told in a nudge due at ``moment``."""
    if rule.expect_news_in_days is None:
        return None
    return add_working_days(
        daytime(moment, zone, rule.at).astimezone(zone).date(), rule.expect_news_in_days
    )


def add_working_days(day: date, count: int) -> date:
    """``count`` working days (Monday to Friday) after ``day``."""
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def lapsed(
    rule: Rule | None, data: Mapping[str, Any], facts: Facts | None, now: datetime
) -> str | None:
    """Why a planned reminder or nudge must not be sent any more; None if it still holds.

    Args:
        rule: the rule that planned it, or None if that rule is no longer configured.
        data: the notification's data (the snapshot it was planned with).
        facts: the return as it is now, or None if it is unknown.
        now: the moment of sending.
    """
    if rule is None:
        return "its rule is no longer configured"
    if facts is None:
        return "the return is unknown"
    if facts.status not in rule.statuses:
        return f"return moved on to {facts.status}"
    planned = data.get("return") or {}
    if rule.anchor == "status_at":
        since = (data.get("stale") or {}).get("since")
        if since is None or datetime.fromisoformat(since) != facts.status_at:
            return f"return moved on to {facts.status} again at {facts.status_at.isoformat()}"
    if rule.outcomes and facts.outcome not in rule.outcomes:
        return f"inspection outcome is now {facts.outcome}"
    if rule.anchor == "status_at":
        return None
    changed = _changed(rule, planned, facts)
    if changed is not None:
        return changed
    expires = facts.label_expires_at
    if rule.anchor == "label_expires_at" and expires is not None and now >= expires:
        return "the label has expired"
    if now >= _deadline(rule, facts, ZoneInfo(facts.timezone)):
        return "the pickup has passed" if facts.pickup_booked else "the ship-by date has passed"
    return None


def _changed(rule: Rule, planned: Mapping[str, Any], facts: Facts) -> str | None:
    """What changed of a reminder's return since it was planned, that its message tells of."""
    if planned.get("method") != facts.method:
        return f"return method changed to {facts.method}"
    if rule.anchor == "label_expires_at":
        expires = (planned.get("label") or {}).get("expires_at")
        if expires is None or datetime.fromisoformat(expires) != facts.label_expires_at:
            return f"label expiry changed to {facts.label_expires_at}"
        return None
    if str(facts.ship_by) != str(planned.get("ship_by")):
        return f"ship-by date changed to {facts.ship_by}"
    pickup = (planned.get("pickup") or {}).get("date")
    if rule.anchor == "ship_by" and facts.pickup_booked and str(facts.pickup_on) != str(pickup):
        return f"pickup date changed to {facts.pickup_on}"
    return None
