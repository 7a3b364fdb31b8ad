"""Reads for support staff and return systems: a return's story and the notifications sent.

Everything returned here is safe to show: recipients are masked, secrets never leave.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, and_, or_, select

from notifier import db
from notifier.errors import InvalidCursorError, NotFoundError
from notifier.http.bodies import parse_json
from notifier.masking import customer_names, mask_recipient, mask_text
from notifier.status import PENDING, Channel, NotificationStatus

#: Largest page ``GET /v1/notifications`` returns.
MAX_PAGE = 200
#: What a cursor this service did not hand out is told.
_FOREIGN_CURSOR = "cursor is not one this service returned"


@dataclass(frozen=True, slots=True)
class NotificationView:
    id: str
    kind: str
    channel: Channel
    recipient: str
    status: NotificationStatus
    attempts: int
    provider_message_id: str | None
    last_error: str | None
    return_id: str
    event_id: str | None
    rule: str | None
    reason: str | None
    dead_letter: bool
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """A posted event, or a reminder or nudge the scheduler sent (``rule`` set, no event)."""

    event_id: str | None
    type: str
    occurred_at: datetime
    received_at: datetime
    stale: bool
    note: str | None
    rule: str | None = None


def _scheduled(notes: list[NotificationView]) -> list[TimelineEntry]:
    """One timeline entry per reminder or nudge, with what became of it on each channel."""
    entries: dict[tuple[str, str, datetime], list[NotificationView]] = {}
    for note in notes:
        if note.rule is not None and note.event_id is None:
            entries.setdefault((note.rule, note.kind, note.created_at), []).append(note)
    return [
        TimelineEntry(
            None,
            kind,
            created_at,
            created_at,
            False,
            ", ".join(f"{v.channel} {v.status}" for v in views),
            rule,
        )
        for (rule, kind, created_at), views in entries.items()
    ]


def _view(row: Any, event_id: str | None, names: Iterable[str] = ()) -> NotificationView:
    return NotificationView(
        id=row.id,
        kind=row.kind,
        channel=Channel(row.channel),
        recipient=mask_recipient(row.channel, row.recipient),
        status=NotificationStatus(row.status),
        attempts=row.attempts,
        provider_message_id=row.provider_message_id,
        last_error=mask_text(row.last_error, names),
        return_id=row.return_id,
        event_id=event_id,
        rule=row.rule,
        reason=row.reason,
        dead_letter=bool(row.dead),
        created_at=row.created_at,
        updated_at=row.updated_at,
        sent_at=row.sent_at,
        next_attempt_at=row.next_attempt_at if row.status in PENDING else None,
    )


def _notifications_query() -> Any:
    n = db.notifications
    return select(n, db.events.c.event_id.label("source_event_id")).outerjoin(
        db.events, db.events.c.pk == n.c.event_pk
    )


class Reads:
    """Read-only queries over the store."""

    def __init__(self, engine: Engine, retention_days: int | None = None) -> None:
        self._engine = engine
        self._retention_days = retention_days

    def return_detail(self, return_id: str) -> dict[str, Any]:
        """Status, timeline and notifications of one return.

        Raises:
            NotFoundError: no event was ever accepted for ``return_id``.
        """
        with self._engine.connect() as connection:
            ret = connection.execute(
                select(db.returns).where(db.returns.c.return_id == return_id)
            ).first()
            if ret is None:
                raise NotFoundError(f"return {return_id!r} is unknown")
            e = db.events.c
            timeline = [
                TimelineEntry(r.event_id, r.type, r.occurred_at, r.received_at, r.stale, r.note)
                for r in connection.execute(
                    select(e.event_id, e.type, e.occurred_at, e.received_at, e.stale, e.note)
                    .where(e.return_id == return_id)
                    .order_by(e.occurred_at, e.pk)
                )
            ]
            n = db.notifications.c
            names = customer_names(connection, [return_id]).get(return_id, ())
            notes = [
                _view(r, r.source_event_id, names)
                for r in connection.execute(
                    _notifications_query()
                    .where(n.return_id == return_id)
                    .order_by(n.created_at, n.id)
                )
            ]
        return {
            "return_id": ret.return_id,
            "order_id": ret.order_id,
            "customer_id": ret.customer_id,
            "status": ret.status,
            "status_at": ret.status_at,
            "timeline": [
                asdict(t) for t in sorted(timeline + _scheduled(notes), key=lambda t: t.occurred_at)
            ],
            "notifications": [asdict(v) for v in notes],
            "personal_data_removed_at": ret.purged_at,
            "personal_data": removed_note(ret.purged_at, self._retention_days),
        }

    def notifications(
        self,
        *,
        return_id: str | None = None,
        status: NotificationStatus | None = None,
        channel: Channel | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[NotificationView], str | None]:
        """Notifications newest first, one page; returns the page and the next cursor.

        The cursor is the (created_at, id) of the last row given, so rows inserted while a
        client pages never shift the pages it has not read yet.

        Raises:
            InvalidCursorError: ``cursor`` is not one this service returned.
        """
        n = db.notifications.c
        query = _notifications_query()
        if return_id is not None:
            query = query.where(n.return_id == return_id)
        if status is not None:
            # With a return, by its few rows: SQLite's planner, without statistics, would
            # rather read every notification of the status through the status index.
            by_status = n.status if return_id is None else db.unindexed(n.status)
            query = query.where(by_status == status)
        if channel is not None:
            query = query.where(n.channel == channel)
        if cursor is not None:
            at, last_id = decode_cursor(cursor)
            query = query.where(or_(n.created_at < at, and_(n.created_at == at, n.id < last_id)))
        query = query.order_by(n.created_at.desc(), n.id.desc()).limit(limit + 1)
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
            failed = {r.return_id for r in rows[:limit] if r.last_error}
            names = customer_names(connection, failed)
        page = [_view(r, r.source_event_id, names.get(r.return_id, ())) for r in rows[:limit]]
        more = len(rows) > limit
        return page, encode_cursor(page[-1].created_at, page[-1].id) if more and page else None


def removed_note(purged_at: datetime | None, days: int | None) -> str | None:
    """What a reader is told about a return whose personal data retention removed."""
    if purged_at is None:
        return None
    after = f" after {days} days" if days else ""
    return f"personal data removed{after} ({purged_at:%Y-%m-%d})"


def encode_cursor(at: datetime, last_id: str) -> str:
    raw = json.dumps([at.isoformat(), last_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) a cursor of :func:`encode_cursor` holds.

    Raises:
        InvalidCursorError: the cursor is not one this service made.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, last_id = parse_json(base64.urlsafe_b64decode(padded))
        parsed = datetime.fromisoformat(at)
        # The database compares in UTC; a moment UTC cannot hold (year 1 at +14:00) is not ours.
        moment = parsed.astimezone(UTC) if parsed.tzinfo is not None else None
    except (ValueError, TypeError, OverflowError) as error:  # UnreadableJson among them
        raise InvalidCursorError(_FOREIGN_CURSOR) from error
    # Ids are printable; PostgreSQL cannot even compare one holding a NUL.
    if moment is None or not isinstance(last_id, str) or not last_id.isprintable():
        raise InvalidCursorError(_FOREIGN_CURSOR)
    return moment, last_id
