"""Rules: when the scheduler speaks first, and whether what it planned is still true.

A rule ties a message kind to the return's current status and one of its dates:

* ``reminder.ship_by``: ``days`` before ``ship_by``, at ``at`` in the customer's time zone;
* ``reminder.label_expiring``: ``days`` before the label's ``expires_at`` (calendar days in
  the customer's time zone), at ``at``;
* ``nudge.stale`` and ``staff.stale_return``: ``days`` after the return entered its status
  (``status_at``). A customer nudge falling in the night moves to the next ``at``.

Of a rule's due moments only the latest one that has passed is sent, and only when it is
after the moment the return entered its current status: an outage catches up once, and a
return never gets a reminder about a moment that was already past when it arrived.

The built-in :data:`DEFAULT_RULES` can be changed with a JSON file (``NOTIFIER_RULES_FILE``)::

    {"rules": [
      {"name": "ship_by", "days": [5, 1]},
      {"name": "staff_requested", "enabled": false},
      {"name": "stale_in_transit", "kind": "nudge.stale", "statuses": ["return.in_transit"],
       "days": [7], "channels": ["email"], "expect_news_in_days": 3}
    ]}

An entry named like a built-in rule changes only the fields it gives; a new name needs
``kind``, ``statuses`` and ``days``. Fields: ``kind``, ``statuses``, ``days``, ``channels``
(``email``, ``sms``, ``webhook``; staff kinds: ``email``, ``webhook``), ``at`` (``HH:MM``),
``outcomes`` (inspection outcomes the return must have), ``expect_news_in_days`` (working
days after the nudge by which the customer hears from the shop) and ``enabled``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from notifier.lifecycle import EVENT_TYPES

#: The date column of ``returns`` each scheduled kind is measured from.
ANCHORS: Mapping[str, str] = {
    "reminder.ship_by": "ship_by",
    "reminder.label_expiring": "label_expires_at",
    "nudge.stale": "status_at",
    "staff.stale_return": "status_at",
}
#: Channels each scheduled kind may use.
CHANNELS: Mapping[str, frozenset[str]] = {
    "reminder.ship_by": frozenset({"email", "sms", "webhook"}),
    "reminder.label_expiring": frozenset({"email", "sms", "webhook"}),
    "nudge.stale": frozenset({"email", "sms", "webhook"}),
    "staff.stale_return": frozenset({"email", "webhook"}),
}
#: Local time of the day at which customer messages are sent by default.
MORNING = time(9, 0)
#: From this local time on, a customer nudge waits for the next morning.
EVENING = time(21, 0)
#: Statuses in which the parcel has not been handed in yet.
NOT_SHIPPED = ("return.approved", "return.label_created")
#: Inspection outcomes after which a refund is due.
REFUNDABLE = ("accepted", "partially_accepted")

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class Rule:
    """One configured rule; see the module docstring for the meaning of each field."""

    name: str
    kind: str
    statuses: tuple[str, ...]
    days: tuple[int, ...]
    channels: tuple[str, ...]
    at: time = MORNING
    outcomes: tuple[str, ...] = ()
    expect_news_in_days: int | None = None

    @property
    def anchor(self) -> str:
        return ANCHORS[self.kind]

    @property
    def staff(self) -> bool:
        return self.kind.startswith("staff.")

    def label(self, days: int) -> str:
        """The rule as shown on a notification and in the timeline, e.g. ``ship_by-3d``."""
        return f"{self.name}-{days}d"

    def fingerprint(self) -> str:
        """Changes whenever the rule's meaning does (so its scan window starts over)."""
        fields = asdict(self)
        fields["at"] = self.at.isoformat()
        canonical = json.dumps(fields, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Due:
    """One due moment of a rule for one return."""

    rule: Rule
    days: int
    at: datetime
    key: str


@dataclass(frozen=True, slots=True)
class Facts:
    """What a rule looks at of a return."""

    status: str
    status_at: datetime
    ship_by: date | None
    label_expires_at: datetime | None
    outcome: str | None
    timezone: str


def _rule(name: str, kind: str, statuses: Sequence[str], days: Sequence[int], **kw: Any) -> Rule:
    channels = kw.pop("channels", ("email", "webhook") if kind.startswith("staff.") else None)
    return Rule(name, kind, tuple(statuses), tuple(days), tuple(channels or ()), **kw)


#: The built-in rules.
DEFAULT_RULES: tuple[Rule, ...] = (
    _rule("ship_by", "reminder.ship_by", NOT_SHIPPED, (3, 1), channels=("email", "sms", "webhook")),
    _rule(
        "label_expiring",
        "reminder.label_expiring",
        NOT_SHIPPED,
        (2,),
        channels=("email", "sms", "webhook"),
    ),
    _rule(
        "stale_received",
        "nudge.stale",
        ("return.received",),
        (5,),
        channels=("email", "webhook"),
        expect_news_in_days=2,
    ),
    _rule(
        "stale_refund",
        "nudge.stale",
        ("return.inspected",),
        (3,),
        channels=("email", "webhook"),
        outcomes=REFUNDABLE,
        expect_news_in_days=2,
    ),
    _rule("staff_requested", "staff.stale_return", ("return.requested",), (2,)),
    _rule(
        "staff_received", "staff.stale_return", ("return.received",), (5,), expect_news_in_days=2
    ),
    _rule(
        "staff_refund",
        "staff.stale_return",
        ("return.inspected",),
        (3,),
        outcomes=REFUNDABLE,
        expect_news_in_days=2,
    ),
)


def due(rule: Rule, facts: Facts, now: datetime) -> Due | None:
    """The latest due moment of ``rule`` that has passed at ``now``, if it still applies.

    None when the return is not in one of the rule's statuses, lacks the rule's date, has
    another inspection outcome, when the deadline has passed, or when the latest passed
    moment is not after the return entered its status.
    """
    if facts.status not in rule.statuses:
        return None
    if rule.outcomes and facts.outcome not in rule.outcomes:
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
    if facts.status not in rule.statuses:
        return None
    if rule.outcomes and facts.outcome not in rule.outcomes:
        return None
    zone = ZoneInfo(facts.timezone)
    deadline = _deadline(rule, facts, zone)
    moments = [_moment(rule, facts, d, zone) for d in rule.days]
    return min(
        (at for at in moments if at is not None and max(after, facts.status_at) < at < deadline),
        default=None,
    )


def _moment(rule: Rule, facts: Facts, days: int, zone: ZoneInfo) -> datetime | None:
    if rule.anchor == "ship_by":
        if facts.ship_by is None:
            return None
        return datetime.combine(facts.ship_by - timedelta(days=days), rule.at, zone)
    if rule.anchor == "label_expires_at":
        if facts.label_expires_at is None:
            return None
        local_day = facts.label_expires_at.astimezone(zone).date()
        return datetime.combine(local_day - timedelta(days=days), rule.at, zone)
    moment = facts.status_at + timedelta(days=days)
    return moment if rule.staff else daytime(moment, zone, rule.at)


def _deadline(rule: Rule, facts: Facts, zone: ZoneInfo) -> datetime:
    if rule.anchor == "ship_by" and facts.ship_by is not None:
        return datetime.combine(facts.ship_by + timedelta(days=1), time(0), zone)
    if rule.anchor == "label_expires_at" and facts.label_expires_at is not None:
        return facts.label_expires_at
    return datetime.max.replace(tzinfo=UTC)


def _key(rule: Rule, facts: Facts, days: int) -> str:
    """What makes a due moment the same one across scans, time zones and restarts."""
    if rule.anchor == "ship_by":
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
    zone = ZoneInfo(facts.timezone)
    if rule.anchor == "ship_by":
        if str(facts.ship_by) != str(planned.get("ship_by")):
            return f"ship-by date changed to {facts.ship_by}"
        if now >= _deadline(rule, facts, zone):
            return "the ship-by date has passed"
    if rule.anchor == "label_expires_at":
        expires = (planned.get("label") or {}).get("expires_at")
        if expires is None or datetime.fromisoformat(expires) != facts.label_expires_at:
            return f"label expiry changed to {facts.label_expires_at}"
        if now >= _deadline(rule, facts, zone):
            return "the label has expired"
    return None


def rule_name(label: str) -> str:
    """The rule name in a notification's rule label (``ship_by-3d`` -> ``ship_by``)."""
    return label.rsplit("-", 1)[0]


def facts(row: Any, timezone: str) -> Facts:
    """The facts of a ``returns`` row, read in the customer's ``timezone``."""
    inspection = ((row.snapshot or {}).get("return") or {}).get("inspection") or {}
    return Facts(
        status=row.status,
        status_at=row.status_at,
        ship_by=row.ship_by,
        label_expires_at=row.label_expires_at,
        outcome=inspection.get("outcome"),
        timezone=timezone,
    )


class RuleSet:
    """The configured rules, by name."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self._rules = {rule.name: rule for rule in rules}

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules.values())

    def get(self, name: str) -> Rule | None:
        return self._rules.get(name)

    def lapsed(self, notification: Any, current: Any, now: datetime) -> str | None:
        """Why a planned notification's rule no longer holds for the return ``current``.

        Args:
            notification: the ``notifications`` row (``rule``, ``data``, ``timezone``).
            current: the return's ``returns`` row now, or None.
            now: the moment of sending.

        Returns:
            The reason to skip it, or None to send it.
        """
        rule = self.get(rule_name(notification.rule))
        known = None if current is None else facts(current, notification.timezone)
        return lapsed(rule, notification.data or {}, known, now)


def load_rules(path: Path | None) -> tuple[Rule, ...]:
    """The built-in rules, changed by the JSON file at ``path`` if given.

    Raises:
        ValueError: the file cannot be read or a rule is invalid; the message names it.
    """
    if path is None:
        return DEFAULT_RULES
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read {path}: {error}") from None
    entries = document.get("rules") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError('the file must be a JSON object with a "rules" list')
    return merge_rules(DEFAULT_RULES, entries)


def merge_rules(base: Sequence[Rule], entries: Sequence[Any]) -> tuple[Rule, ...]:
    """``base`` changed by rule entries (see the module docstring)."""
    rules = {rule.name: rule for rule in base}
    for index, entry in enumerate(entries):
        where = f"rules[{index}]"
        if not isinstance(entry, dict) or not _NAME.match(str(entry.get("name", ""))):
            raise ValueError(f"{where} needs a name of lowercase letters, digits and _")
        name = entry["name"]
        if entry.get("enabled", True) is False:
            rules.pop(name, None)
            continue
        rules[name] = _parse(where, entry, rules.get(name))
    return tuple(rules.values())


def _parse(where: str, entry: Mapping[str, Any], known: Rule | None) -> Rule:
    unknown = set(entry) - {"name", "enabled", *Rule.__dataclass_fields__}
    if unknown:
        raise ValueError(f"{where} has unknown fields: {', '.join(sorted(unknown))}")
    if known is None and not {"kind", "statuses", "days"} <= set(entry):
        raise ValueError(f"{where} is a new rule and needs kind, statuses and days")
    rule = known or Rule(entry["name"], entry["kind"], (), (), ())
    changes: dict[str, Any] = {}
    if "kind" in entry:
        if entry["kind"] not in ANCHORS:
            raise ValueError(f"{where}.kind must be one of {', '.join(ANCHORS)}")
        changes["kind"] = entry["kind"]
    kind = changes.get("kind", rule.kind)
    if "statuses" in entry:
        changes["statuses"] = _strings(f"{where}.statuses", entry["statuses"], EVENT_TYPES)
    if "days" in entry:
        changes["days"] = _days(f"{where}.days", entry["days"], ANCHORS[kind] == "status_at")
    if "channels" in entry or "kind" in entry:
        default = ["email", "webhook"] if kind.startswith("staff.") else ["email"]
        raw = entry.get("channels", default)
        changes["channels"] = _strings(f"{where}.channels", raw, tuple(sorted(CHANNELS[kind])))
    if "at" in entry:
        match = _CLOCK.match(str(entry["at"]))
        if match is None:
            raise ValueError(f"{where}.at must be HH:MM, got {entry['at']!r}")
        changes["at"] = time(int(match[1]), int(match[2]))
    if "outcomes" in entry:
        allowed = ("accepted", "partially_accepted", "rejected")
        changes["outcomes"] = _strings(f"{where}.outcomes", entry["outcomes"], allowed)
    if "expect_news_in_days" in entry:
        value = entry["expect_news_in_days"]
        if value is not None and (not isinstance(value, int) or not 0 <= value <= 60):
            raise ValueError(f"{where}.expect_news_in_days must be 0-60 or null")
        changes["expect_news_in_days"] = value
    return replace(rule, **changes)


def _strings(where: str, value: Any, allowed: Sequence[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(v in allowed for v in value):
        raise ValueError(f"{where} must be a non-empty list of {', '.join(allowed)}")
    return tuple(dict.fromkeys(value))


def _days(where: str, value: Any, after: bool) -> tuple[int, ...]:
    low = 1 if after else 0
    if (
        not isinstance(value, list)
        or not value
        or not all(
            isinstance(v, int) and not isinstance(v, bool) and low <= v <= 365 for v in value
        )
    ):
        raise ValueError(f"{where} must be a non-empty list of whole days from {low} to 365")
    return tuple(sorted(set(value), reverse=True))
