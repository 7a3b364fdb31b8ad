"""Dead letters: notifications that exhausted their retries, listed and replayed by staff.

A replay puts the same notification (same id) back in the queue; delivery's claim still
refuses anything already sent, so a replay can never send a message twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from sqlalchemy import Engine, select, update

from notifier import db
from notifier.masking import mask_recipient, mask_text
from notifier.records import DeadLetter
from notifier.status import NotificationStatus


class DeadLetters:
    """Lists and replays dead letters."""

    def __init__(self, engine: Engine, enqueue_delivery: Callable[[str], None] | None) -> None:
        self._engine = engine
        self._enqueue = enqueue_delivery

    def pending(self, limit: int = 500) -> list[DeadLetter]:
        """The newest ``limit`` dead letters, recipients and errors masked."""
        n = db.notifications.c
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(
                    n.id,
                    n.return_id,
                    n.kind,
                    n.channel,
                    n.recipient,
                    n.attempts,
                    n.last_error,
                    n.updated_at,
                )
                .where(n.dead.is_(True), n.status == NotificationStatus.FAILED)
                .order_by(n.updated_at.desc())
                .limit(limit)
            ).all()
        return [
            replace(
                letter,
                recipient=mask_recipient(letter.channel, letter.recipient),
                last_error=mask_text(letter.last_error),
            )
            for letter in (DeadLetter.from_row(row) for row in rows)
        ]

    def replay(self, ids: Sequence[str] = ()) -> list[str]:
        """Queue dead letters again (all of them when ``ids`` is empty); returns the ids queued.

        Ids that are not dead letters (sent, delivered, unknown) are left alone. Without an
        ``enqueue_delivery`` the rows are only marked, and a running service's relay queues
        them within one relay interval.
        """
        n = db.notifications.c
        query = select(n.id).where(n.dead.is_(True), n.status == NotificationStatus.FAILED)
        if ids:
            query = query.where(n.id.in_(list(ids)))
        replayed: list[str] = []
        with self._engine.begin() as connection:
            for notification_id in connection.execute(query).scalars().all():
                connection.execute(
                    update(db.notifications)
                    .where(n.id == notification_id, n.dead.is_(True))
                    .values(
                        status=NotificationStatus.QUEUED,
                        dead=False,
                        attempts=0,
                        next_attempt_at=db.now(),
                        enqueued_at=None,
                        updated_at=db.now(),
                    )
                )
                replayed.append(notification_id)
        if self._enqueue is not None:
            for notification_id in replayed:
                self._enqueue(notification_id)
        return replayed
