"""The return's lifecycle: event types, what each sends, and which transitions make sense.

The return system is the source of truth: every event is accepted and recorded. This module
only says what an event means for the return's story: whether it is older than what we know
(stale: recorded, sends nothing) and whether the step is odd (recorded with a note).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Route:
    """The channels an event type uses by default."""

    email: bool
    sms: bool
    webhook: bool = True


#: Every event type a return system may post, and the messages each sends (CONTRACT 3).
ROUTES: dict[str, Route] = {
    "return.requested": Route(email=True, sms=False),
    "return.approved": Route(email=True, sms=False),
    "return.rejected": Route(email=True, sms=False),
    "return.label_created": Route(email=True, sms=True),
    "return.in_transit": Route(email=True, sms=False),
    "return.received": Route(email=True, sms=True),
    "return.inspected": Route(email=True, sms=False),
    "return.refund_issued": Route(email=True, sms=True),
    "return.exchange_shipped": Route(email=True, sms=True),
    "return.cancelled": Route(email=True, sms=False),
    "return.closed": Route(email=False, sms=False),
}

#: The event types, in the order a return normally moves through them.
EVENT_TYPES: tuple[str, ...] = tuple(ROUTES)

#: Statuses after which a return does not normally move on.
TERMINAL = frozenset({"return.rejected", "return.cancelled", "return.closed"})

#: Statuses that normally come before each status; a status not listed may follow anything.
_EXPECTED_BEFORE: dict[str, frozenset[str]] = {
    "return.approved": frozenset({"return.requested"}),
    "return.rejected": frozenset({"return.requested", "return.received", "return.inspected"}),
    "return.label_created": frozenset({"return.requested", "return.approved"}),
    "return.in_transit": frozenset({"return.approved", "return.label_created"}),
    "return.received": frozenset({"return.approved", "return.label_created", "return.in_transit"}),
    "return.inspected": frozenset({"return.received"}),
    "return.refund_issued": frozenset({"return.inspected", "return.received"}),
    "return.exchange_shipped": frozenset({"return.inspected", "return.received"}),
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an event means for a return: ``stale`` sends nothing; ``note`` explains oddities."""

    stale: bool
    note: str | None


def judge(event_type: str, occurred_at: datetime, current: tuple[str, datetime] | None) -> Verdict:
    """Place an event in a return's story.

    Args:
        event_type: the event's ``type``.
        occurred_at: when the event happened.
        current: the return's latest known status and its time, or ``None`` if never seen.
    """
    if current is None:
        if event_type == "return.requested":
            return Verdict(stale=False, note=None)
        return Verdict(stale=False, note=f"first event seen for this return is {event_type}")
    status, status_at = current
    if occurred_at < status_at:
        return Verdict(
            stale=True,
            note=f"older than the current status {status}: recorded, nothing sent",
        )
    if status in TERMINAL and event_type != "return.closed":
        return Verdict(stale=False, note=f"{event_type} after {status}")
    expected = _EXPECTED_BEFORE.get(event_type)
    if expected is not None and status not in expected and status != event_type:
        return Verdict(stale=False, note=f"unexpected step: {status} -> {event_type}")
    return Verdict(stale=False, note=None)
