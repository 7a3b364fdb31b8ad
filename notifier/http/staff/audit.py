"""The audit log: what support staff did, kept in the database (table ``staff_audit``).

Every action that changes something or sends (test send, resend, replay, lifting a
suppression) and every sign-in, failed sign-in and sign-out is recorded with the staff
member's name (None for a failed sign-in), the time, the record it concerns and a short
detail. Personal data is not copied into it: targets are ids, addresses are masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, insert, select

from notifier import db

#: The actions recorded, as stored in ``staff_audit.action``.
ACTIONS = (
    "sign_in",
    "sign_in_failed",
    "sign_out",
    "test_send",
    "resend",
    "replay",
    "lift_suppression",
)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded action."""

    id: int
    at: datetime
    staff: str | None
    action: str
    target: str | None
    detail: str | None
    client: str | None


class AuditLog:
    """Records staff actions and reads them back."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(
        self,
        action: str,
        staff: str | None,
        *,
        target: str | None = None,
        detail: str | None = None,
        client: str | None = None,
    ) -> None:
        """Keep one action; ``action`` is one of :data:`ACTIONS`."""
        self.record_each(action, staff, [target], detail=detail, client=client)

    def record_each(
        self,
        action: str,
        staff: str | None,
        targets: Sequence[str | None],
        *,
        detail: str | None = None,
        client: str | None = None,
    ) -> None:
        """Keep one ``action`` per target (a replay of many), all in one transaction."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        if not targets:
            return
        at = db.now()
        with self._engine.begin() as connection:
            connection.execute(
                insert(db.staff_audit),
                [
                    {
                        "at": at,
                        "staff": staff,
                        "action": action,
                        "target": (target or None) and target[:400],
                        "detail": (detail or None) and detail[:2000],
                        "client": (client or None) and client[:64],
                    }
                    for target in targets
                ],
            )

    def count(
        self,
        action: str,
        since: datetime,
        *,
        staff: str | None = None,
        client: str | None = None,
    ) -> int:
        """How many ``action`` entries since ``since``, by one staff member or client."""
        a = db.staff_audit.c
        query = select(func.count()).where(a.action == action, a.at >= since)
        if staff is not None:
            query = query.where(a.staff == staff)
        if client is not None:
            query = query.where(a.client == client)
        with self._engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def oldest_since(self, action: str, since: datetime, *, client: str) -> datetime | None:
        """The time of the oldest ``action`` by ``client`` since ``since``, if any."""
        a = db.staff_audit.c
        with self._engine.connect() as connection:
            oldest: datetime | None = connection.execute(
                select(func.min(a.at)).where(a.action == action, a.at >= since, a.client == client)
            ).scalar_one()
        return oldest

    def recent(self, *, limit: int = 200, action: str | None = None) -> list[AuditEntry]:
        """The newest entries first, of one action or all."""
        a = db.staff_audit.c
        query = select(db.staff_audit).order_by(a.at.desc(), a.id.desc()).limit(limit)
        if action is not None:
            query = query.where(a.action == action)
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            AuditEntry(r.id, r.at, r.staff, r.action, r.target, r.detail, r.client) for r in rows
        ]
