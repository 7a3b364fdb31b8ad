"""The occasion of a preview: an event, the return's facts when its messages would go, and
whether it sends anything at all.

A posted event is judged against its stored return as intake judges it: one older than the
return's status is stale and sends nothing, and an event id the API key used before is a
repeat that sends nothing either. Its messages would read the return's snapshot with the
event merged in. A stored return's occasion is its latest event, read as delivery reads it
now. Each planned message becomes the notification row dispatch would write
(:func:`draft`), so delivery's own rules (supersession, quiet hours, the webhook body) apply
to it unchanged; the row is never written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from notifier import db
from notifier.dispatch import Audience, Planned, event_source
from notifier.errors import NotFoundError
from notifier.lifecycle import judge
from notifier.records import NotificationRecord, ReturnRecord
from notifier.snapshot import merge_snapshot
from notifier.status import Channel, NotificationStatus


@dataclass(frozen=True, slots=True)
class Occasion:
    """An event as a preview plans it.

    Attributes:
        source: the notifications' source key (from the API key and the event id).
        event_pk: the stored event's key; None for an event not stored.
        payload: the event.
        snapshot: the return's snapshot when the messages would be sent.
        skip: why the event sends nothing (stale, a repeat), or None.
    """

    source: str
    event_pk: int | None
    payload: Mapping[str, Any]
    snapshot: Mapping[str, Any]
    skip: str | None


def for_event(connection: Connection, api_key: str, payload: Mapping[str, Any]) -> Occasion:
    """The occasion of posting ``payload`` with API key ``api_key`` now.

    Not stored, the event has no row for supersession to compare with; nor could a stored
    event supersede it: a later one that speaks to the customer would have made it stale.
    """
    current = _stored_return(connection, payload["return"]["id"])
    verdict = judge(
        payload["type"],
        datetime.fromisoformat(payload["occurred_at"]),
        None if current is None else (current.status, current.status_at),
    )
    skip = verdict.note if verdict.stale else _repeat(connection, api_key, payload)
    snapshot = merge_snapshot(
        None if current is None else current.snapshot, payload, newer=not verdict.stale
    )
    return Occasion(event_source(api_key, payload["event_id"]), None, payload, snapshot, skip)


def for_return(connection: Connection, return_id: str) -> Occasion:
    """The occasion of stored return ``return_id``'s latest event, as delivery would read it
    now.

    Raises:
        NotFoundError: no event was ever accepted for ``return_id``.
    """
    current = _stored_return(connection, return_id)
    if current is None:
        raise NotFoundError(f"return {return_id!r} is unknown")
    e = db.events.c
    event = connection.execute(
        select(e.pk, e.api_key, e.event_id, e.payload, e.stale, e.note)
        .where(e.return_id == return_id)
        .order_by(e.occurred_at.desc(), e.pk.desc())
        .limit(1)
    ).one()
    return Occasion(
        event_source(event.api_key, event.event_id),
        int(event.pk),
        event.payload,
        current.snapshot,
        event.note if event.stale else None,
    )


def draft(
    planned: Planned, occasion: Occasion, audience: Audience, now: datetime
) -> NotificationRecord:
    """The notification row dispatch would write for ``planned`` at ``now``."""
    payload = occasion.payload
    return NotificationRecord(
        id=planned.id,
        event_pk=occasion.event_pk,
        source=occasion.source,
        return_id=payload["return"]["id"],
        customer_id=payload["customer"]["id"],
        kind=planned.kind,
        channel=Channel(planned.channel),
        recipient=planned.recipient,
        locale=audience.locale,
        timezone=audience.timezone,
        rule=None,
        reason=planned.reason,
        data=None,
        status=NotificationStatus(planned.status),
        attempts=0,
        dead=False,
        provider=None,
        provider_message_id=None,
        last_error=None,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
        sent_at=None,
    )


def _stored_return(connection: Connection, return_id: str) -> ReturnRecord | None:
    row = connection.execute(select(db.returns).where(db.returns.c.return_id == return_id)).first()
    return None if row is None else ReturnRecord.from_row(row)


def _repeat(connection: Connection, api_key: str, payload: Mapping[str, Any]) -> str | None:
    """Why posting ``payload`` again with ``api_key`` would send nothing, or None."""
    e = db.events.c
    stored = connection.execute(
        select(e.payload).where(e.api_key == api_key, e.event_id == payload["event_id"])
    ).scalar_one_or_none()
    event_id = payload["event_id"]
    if stored is None:
        return None
    if stored == dict(payload):
        return f"duplicate: event {event_id!r} was already accepted; nothing is sent twice"
    return (
        f"conflict: event {event_id!r} was already accepted with a different body; "
        "posting this one would be refused (409)"
    )
