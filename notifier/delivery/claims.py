"""Claims: a worker's lease on one notification while it sends it.

Exactly once in practice: a worker first *claims* the notification with one conditional
UPDATE (status still ``queued``, due, and no live claim by another worker). Only the
worker whose UPDATE matched calls the provider, so a redelivered job, a relay hand-over or
a second worker finds nothing to do. The claim is a lease (``NOTIFIER_CLAIM_LEASE``, longer
than any provider call may take): a worker killed mid-send leaves it to expire, and the
notification is tried again (at least once). Whatever the outcome, the worker writes it
with the claim's token, so a worker whose lease expired cannot overwrite another's.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update

from notifier import db
from notifier.records import NotificationRecord, ReturnRecord
from notifier.status import PENDING, NotificationStatus

_n = db.notifications.c


@dataclass(frozen=True, slots=True)
class Claim:
    """A claimed notification, its return as it was when claimed (None if unknown), and the
    token that proves the claim."""

    row: NotificationRecord
    current: ReturnRecord | None
    token: str


class Claims:
    """Takes and releases claims on notifications.

    Args:
        engine: The database.
        lease: How long a claim protects a notification being sent.
    """

    def __init__(self, engine: Engine, lease: timedelta) -> None:
        self._engine = engine
        self._lease = lease

    def take(self, notification_id: str, now: datetime) -> Claim | None:
        """Claim notification ``notification_id`` if it is due and unclaimed at ``now``.

        The notification and its return are read in the same transaction, once for the
        whole delivery.
        """
        token = secrets.token_hex(8)
        claimable = and_(
            _n.id == notification_id,
            _n.status.in_(PENDING),
            or_(_n.next_attempt_at.is_(None), _n.next_attempt_at <= now),
            or_(_n.claimed_until.is_(None), _n.claimed_until < now),
        )
        with self._engine.begin() as connection:
            claimed = connection.execute(
                update(db.notifications)
                .where(claimable)
                .values(
                    claimed_until=now + self._lease,
                    claim_token=token,
                    status=NotificationStatus.QUEUED,
                )
            ).rowcount
            if claimed != 1:
                return None
            row = connection.execute(select(db.notifications).where(_n.id == notification_id)).one()
            current = connection.execute(
                select(db.returns).where(db.returns.c.return_id == row.return_id)
            ).first()
        return Claim(
            NotificationRecord.from_row(row),
            None if current is None else ReturnRecord.from_row(current),
            token,
        )

    def finish(self, claim: Claim, *, count: bool = True, **values: Any) -> None:
        """Release ``claim`` and write ``values`` to the notification.

        Args:
            claim: The claim; nothing is written if it is no longer held.
            count: Whether this was an attempt (``attempts`` goes up by one).
            values: Columns of ``notifications`` to set.
        """
        values.update(claimed_until=None, claim_token=None, updated_at=db.now())
        if count:
            values["attempts"] = _n.attempts + 1
        with self._engine.begin() as connection:
            connection.execute(
                update(db.notifications)
                .where(_n.id == claim.row.id, _n.claim_token == claim.token)
                .values(**values)
            )
