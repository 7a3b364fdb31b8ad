"""The return's lifecycle: event types, what each sends, and which transitions make sense.

The return system is the source of truth: every event is accepted and recorded. This module
only says what an event means for the return's story: whether it is older than what we know
(stale: recorded, sends nothing) and whether the step is odd (recorded with a note).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from notifier.status import EventType


@dataclass(frozen=True, slots=True)
class Route:
    """The channels an event type uses by default."""

    email: bool
    sms: bool
    webhook: bool = True


#: Every event type a return system may post, and the messages each sends (CONTRACT 3).
ROUTES: dict[EventType, Route] = {
    EventType.REQUESTED: Route(email=True, sms=False),
    EventType.APPROVED: Route(email=True, sms=False),
    EventType.REJECTED: Route(email=True, sms=False),
    EventType.LABEL_CREATED: Route(email=True, sms=True),
    EventType.IN_TRANSIT: Route(email=True, sms=False),
    EventType.RECEIVED: Route(email=True, sms=True),
    EventType.INSPECTED: Route(email=True, sms=False),
    EventType.REFUND_ISSUED: Route(email=True, sms=True),
    EventType.EXCHANGE_SHIPPED: Route(email=True, sms=True),
    EventType.CANCELLED: Route(email=True, sms=False),
    EventType.CLOSED: Route(email=False, sms=False),
}

#: The event types, in the order a return normally moves through them.
EVENT_TYPES: tuple[EventType, ...] = tuple(EventType)

#: Statuses after which a return does not normally move on.
TERMINAL = frozenset({EventType.REJECTED, EventType.CANCELLED, EventType.CLOSED})

#: Statuses that normally come before each status; a status not listed may follow anything.
_EXPECTED_BEFORE: dict[str, frozenset[EventType]] = {
    EventType.APPROVED: frozenset({EventType.REQUESTED}),
    EventType.REJECTED: frozenset({EventType.REQUESTED, EventType.RECEIVED, EventType.INSPECTED}),
    EventType.LABEL_CREATED: frozenset({EventType.REQUESTED, EventType.APPROVED}),
    EventType.IN_TRANSIT: frozenset({EventType.APPROVED, EventType.LABEL_CREATED}),
    EventType.RECEIVED: frozenset(
        {EventType.APPROVED, EventType.LABEL_CREATED, EventType.IN_TRANSIT}
    ),
    EventType.INSPECTED: frozenset({EventType.RECEIVED}),
    EventType.REFUND_ISSUED: frozenset({EventType.INSPECTED, EventType.RECEIVED}),
    EventType.EXCHANGE_SHIPPED: frozenset({EventType.INSPECTED, EventType.RECEIVED}),
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
        if event_type == EventType.REQUESTED:
            return Verdict(stale=False, note=None)
        return Verdict(stale=False, note=f"first event seen for this return is {event_type}")
    status, status_at = current
    if occurred_at < status_at:
        return Verdict(
            stale=True,
            note=f"older than the current status {status}: recorded, nothing sent",
        )
    if status in TERMINAL and event_type != EventType.CLOSED:
        return Verdict(stale=False, note=f"{event_type} after {status}")
    expected = _EXPECTED_BEFORE.get(event_type)
    if expected is not None and status not in expected and status != event_type:
        return Verdict(stale=False, note=f"unexpected step: {status} -> {event_type}")
    return Verdict(stale=False, note=None)
