"""Rules: when the scheduler speaks first, and about what.

A rule ties a message kind to the return's current status and one of its dates:

* ``reminder.ship_by``: ``days`` before ``ship_by``, at ``at`` in the customer's time zone;
  for a pickup with a date (``return.pickup.date``), ``days`` before the pickup instead,
  until its window closes (the customer has the parcel ready, the carrier comes for it);
* ``reminder.label_expiring``: ``days`` before the label's ``expires_at`` (calendar days in
  the customer's time zone), at ``at``, while the label is still of use: never for an
  in-store return (which needs no label), and not once the ship-by date (or the pickup)
  has passed;
* ``return.expired``: ``days`` after ``ship_by``, at ``at``: the ship-by date has passed
  and the items were not handed in;
* ``nudge.stale`` and ``staff.stale_return``: ``days`` after the return entered its status
  (``status_at``). A customer nudge falling in the night moves to the next ``at``.

When a rule is due for a return, and whether what it planned still holds at sending, is
:mod:`notifier.scheduling.moments`; the configured set of rules and the file that changes
the built-in :data:`DEFAULT_RULES` are :mod:`notifier.scheduling.rules_file`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import time
from typing import Any

#: The date column of ``returns`` each scheduled kind is measured from.
ANCHORS: Mapping[str, str] = {
    "reminder.ship_by": "ship_by",
    "reminder.label_expiring": "label_expires_at",
    "return.expired": "after_ship_by",
    "nudge.stale": "status_at",
    "staff.stale_return": "status_at",
}
#: Channels each scheduled kind may use.
CHANNELS: Mapping[str, frozenset[str]] = {
    "reminder.ship_by": frozenset({"email", "sms", "webhook"}),
    "reminder.label_expiring": frozenset({"email", "sms", "webhook"}),
    "return.expired": frozenset({"email", "sms", "webhook"}),
    "nudge.stale": frozenset({"email", "sms", "webhook"}),
    "staff.stale_return": frozenset({"email", "webhook"}),
}
#: Local time of the day at which customer messages are sent by default.
MORNING = time(9, 0)
#: Statuses in which the parcel has not been handed in yet.
NOT_SHIPPED = ("return.approved", "return.label_created")
#: Statuses in which nothing was handed in yet, as the expiry of the ship-by date sees them.
NOT_HANDED_IN = ("return.requested", *NOT_SHIPPED)
#: Anchors whose ``days`` count after the anchor (the others count before it).
AFTER = ("status_at", "after_ship_by")
#: Inspection outcomes after which a refund is due.
REFUNDABLE = ("accepted", "partially_accepted")


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

    @property
    def nudge(self) -> bool:
        """Whether the rule nudges the customer about a stuck return (``nudge.stale``)."""
        return self.kind == "nudge.stale"

    def label(self, days: int) -> str:
        """The rule as shown on a notification and in the timeline, e.g. ``ship_by-3d``."""
        return f"{self.name}-{days}d"

    def fingerprint(self) -> str:
        """Changes whenever the rule's meaning does (so its scan window starts over)."""
        fields = asdict(self)
        fields["at"] = self.at.isoformat()
        canonical = json.dumps(fields, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]


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
    _rule("expired", "return.expired", NOT_HANDED_IN, (1,), channels=("email", "webhook")),
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


def rule_name(label: str) -> str:
    """The rule name in a notification's rule label (``ship_by-3d`` -> ``ship_by``)."""
    return label.rsplit("-", 1)[0]
