"""Supersession: a progress message the return has moved past is not sent any more.

An event's email or SMS can be held back: an SMS by the quiet hours until the morning, an
email by retries for hours. By the time it goes, the return may have moved on, and the
customer may already have heard about the newer step. The rule, checked when the message is
finally sent:

* a *progress* message (``return.requested``, ``return.approved``,
  ``return.label_created``, ``return.in_transit``, ``return.received``) is superseded once a
  later event of the same return has been recorded that sends the customer a message of its
  own (an email or SMS, :data:`~notifier.lifecycle.ROUTES`). "Your label is ready" after "we
  received your parcel" would only confuse; and the newer message says where things stand.
  A later event that tells the customer nothing (``return.closed``) supersedes nothing.
* an *outcome* message (``return.inspected``, ``return.refund_issued``,
  ``return.exchange_shipped``, ``return.rejected``, ``return.cancelled``) is never
  superseded: what it says stays true and needed whatever happens next (a refund SMS still
  goes after ``return.closed``).

Only the customer's email and SMS are checked: webhooks carry every event to the shop's own
systems, and reminders and nudges are checked against their rule instead
(:mod:`notifier.scheduling.moments`). A superseded message is recorded as ``skipped`` with
the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, select

from notifier import db
from notifier.lifecycle import ROUTES
from notifier.records import NotificationRecord
from notifier.status import Channel, EventType

#: Kinds whose message tells the customer where the return is on its way.
PROGRESS: frozenset[str] = frozenset(
    {
        EventType.REQUESTED,
        EventType.APPROVED,
        EventType.LABEL_CREATED,
        EventType.IN_TRANSIT,
        EventType.RECEIVED,
    }
)
#: Event types that send the customer a message of their own (email or SMS).
SPEAKING = tuple(kind for kind, route in ROUTES.items() if route.email or route.sms)

_e = db.events.c


def checked(row: NotificationRecord) -> bool:
    """Whether the notification ``row`` is a progress message that a later event can supersede."""
    return (
        row.rule is None
        and row.event_pk is not None
        and row.channel in (Channel.EMAIL, Channel.SMS)
        and row.kind in PROGRESS
    )


def superseded(connection: Connection, row: NotificationRecord) -> str | None:
    """Why the progress message ``row`` must not be sent any more, or None if it still holds.

    Args:
        connection: The database.
        row: A notification for which :func:`checked` is true.

    Returns:
        The reason, naming the latest later event that speaks to the customer, or None.
    """
    planned_at = select(_e.occurred_at).where(_e.pk == row.event_pk).scalar_subquery()
    later = connection.execute(
        select(_e.type, _e.occurred_at)
        .where(
            _e.return_id == row.return_id,
            _e.stale.is_(False),
            _e.type.in_(SPEAKING),
            _e.occurred_at > planned_at,
        )
        .order_by(_e.occurred_at.desc())
        .limit(1)
    ).first()
    return None if later is None else _reason(row, later.type, later.occurred_at)


def superseded_many(
    connection: Connection, rows: Sequence[NotificationRecord]
) -> dict[str, str | None]:
    """:func:`superseded` for each of ``rows`` that :func:`checked` is true for, with two
    queries for them all.

    Returns:
        For each such row's id, the reason it must not be sent any more, or None.
    """
    rows = [row for row in rows if checked(row)]
    if not rows:
        return {}
    planned_at = dict(
        connection.execute(
            select(_e.pk, _e.occurred_at).where(
                db.listed_in(_e.pk, values={row.event_pk for row in rows})
            )
        ).all()
    )
    speaking: dict[str, list[tuple[datetime, str]]] = {}
    for event in connection.execute(
        select(_e.return_id, _e.type, _e.occurred_at).where(
            db.listed_in(_e.return_id, values={row.return_id for row in rows}),
            _e.stale.is_(False),
            _e.type.in_(SPEAKING),
        )
    ):
        speaking.setdefault(event.return_id, []).append((event.occurred_at, event.type))
    reasons: dict[str, str | None] = {}
    for row in rows:
        since = planned_at.get(row.event_pk)
        later = [
            (at, kind)
            for at, kind in speaking.get(row.return_id, [])
            if since is not None and at > since
        ]
        latest = max(later, key=lambda event: event[0], default=None)
        reasons[row.id] = None if latest is None else _reason(row, latest[1], latest[0])
    return reasons


def _reason(row: NotificationRecord, kind: str, occurred_at: datetime) -> str:
    local = occurred_at.astimezone(_zone(row.timezone))
    return f"superseded: the return is now {kind} ({local:%Y-%m-%d %H:%M} {local.tzname()})"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
