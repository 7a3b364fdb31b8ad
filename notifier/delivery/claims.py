"""Claims: a worker's lease on the notifications it is sending.

Exactly once in practice: a worker first *claims* notifications with one conditional
UPDATE (status still ``queued``, due, and no live claim by another worker). Only the
worker whose UPDATE matched calls the provider, so a redelivered job, a relay hand-over or
a second worker finds nothing to do. The claim is a lease (``NOTIFIER_CLAIM_LEASE``, longer
than any provider call may take): a worker killed mid-send leaves it to expire, and the
notification is tried again (at least once). Whatever the outcome, the worker writes it
with the claim's token, so a worker whose lease expired cannot overwrite another's.

A group of notifications handed over together is claimed with one statement and one token
(:meth:`Claims.take_many`); the worker then sends them one after another and writes each
outcome as soon as it has it. A claim it has not used yet is renewed (:meth:`Claims.renew`)
before the lease could run out under it, and given back (:meth:`Claims.release`) if the
worker stops before sending it. An outcome a webhook subscriber may be told of (delivery
failed for good, or the message was suppressed) writes its status hooks in the outcome's
transaction (:mod:`notifier.delivery.status_hooks`).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    String,
    Update,
    bindparam,
    case,
    literal,
    or_,
    select,
    update,
)

from notifier import db
from notifier.delivery.status_hooks import StatusChange, tell
from notifier.records import NotificationRecord, ReturnRecord
from notifier.status import PENDING, STATUS_EVENTS, NotificationStatus

_n = db.notifications.c


@dataclass(frozen=True, slots=True)
class Claim:
    """A claimed notification, its return as it was when claimed (None if unknown), and the
    token that proves the claim."""

    row: NotificationRecord
    current: ReturnRecord | None
    token: str

    @property
    def snapshot(self) -> dict[str, Any] | None:
        """The snapshot of the return as it was when claimed (None if unknown)."""
        return None if self.current is None else self.current.snapshot


class Claims:
    """Takes and releases claims on notifications.

    Args:
        engine: The database.
        lease: How long a claim protects a notification being sent.
    """

    def __init__(self, engine: Engine, lease: timedelta) -> None:
        self._engine = engine
        self._lease = lease
        # A write of one statement needs no transaction around it on PostgreSQL: without one
        # it costs one round trip, not three (BEGIN, the statement, COMMIT). SQLite's writes
        # keep their transaction: it is what makes the threads take turns (notifier.db).
        self._single = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )

    @property
    def lease(self) -> timedelta:
        """How long a claim protects a notification being sent."""
        return self._lease

    def take(self, notification_id: str, now: datetime) -> Claim | None:
        """Claim notification ``notification_id`` if it is due and unclaimed at ``now``.

        The notification and its return are read in the same transaction, once for the
        whole delivery.
        """
        with self._engine.begin() as connection:
            claimed = self.take_many(connection, [notification_id], now)
        return claimed[0] if claimed else None

    def take_many(
        self, connection: Connection, notification_ids: Sequence[str], now: datetime
    ) -> list[Claim]:
        """Claim those of ``notification_ids`` that are due and unclaimed at ``now``, with
        one statement and one token, in the caller's transaction.

        Returns:
            The claims, in the order of ``notification_ids``, each with its notification and
            its return as they are now.
        """
        token = secrets.token_hex(8)
        wanted = list(dict.fromkeys(notification_ids))
        claimed = connection.execute(
            _CLAIM,
            {
                "ids": wanted,
                "now": now,
                "until": now + self._lease,
                "token": token,
                "queued": NotificationStatus.QUEUED.value,
            },
        ).rowcount
        if not claimed:
            return []
        rows = {
            row.id: NotificationRecord.from_row(row)
            for row in connection.execute(_CLAIMED, {"ids": wanted, "token": token})
        }
        return_ids = {row.return_id for row in rows.values()}
        returns = {
            row.return_id: ReturnRecord.from_row(row)
            for row in connection.execute(
                select(db.returns).where(db.listed_in(db.returns.c.return_id, values=return_ids))
            )
        }
        return [Claim(rows[i], returns.get(rows[i].return_id), token) for i in wanted if i in rows]

    def renew(self, claims: Sequence[Claim], now: datetime) -> set[str]:
        """Extend ``claims`` (of one token) to a full lease from ``now``.

        Returns:
            The ids of the notifications still claimed by them.
        """
        if not claims:
            return set()
        ids = [claim.row.id for claim in claims]
        token = claims[0].token
        with self._engine.begin() as connection:
            connection.execute(
                update(db.notifications)
                .where(_n.id.in_(ids), _n.claim_token == token)
                .values(claimed_until=now + self._lease)
            )
            return set(
                connection.execute(
                    select(_n.id).where(_n.id.in_(ids), _n.claim_token == token)
                ).scalars()
            )

    def release(self, claims: Sequence[Claim]) -> None:
        """Give ``claims`` (of one token) back unused: their notifications may be claimed
        again at once, as they were before (no attempt counted, nothing else changed)."""
        if not claims:
            return
        with self._engine.begin() as connection:
            connection.execute(
                update(db.notifications)
                .where(_n.id.in_([c.row.id for c in claims]), _n.claim_token == claims[0].token)
                .values(claimed_until=None, claim_token=None)
            )

    def finish(self, claim: Claim, *, count: bool = True, **values: Any) -> list[str]:
        """Release ``claim`` and write ``values`` to the notification.

        Args:
            claim: The claim; nothing is written if it is no longer held.
            count: Whether this was an attempt (``attempts`` goes up by one).
            values: Columns of ``notifications`` to set, to plain values.

        Returns:
            The ids of the webhooks written, in the same transaction, to tell subscribers of
            the status it reached (``failed``, ``suppressed``), to hand to delivery.
        """
        now = db.now()
        params = {f"set_{name}": value for name, value in values.items()}
        params.update(claimed_id=claim.row.id, claimed_token=claim.token, updated_at=now)
        status = values.get("status")
        with self._engine.begin() as connection:
            done = connection.execute(_finishing(tuple(sorted(values)), count), params).rowcount
            if not done or status not in STATUS_EVENTS:
                return []
            why = values.get("last_error") or values.get("reason")
            change = StatusChange.of(claim.row, NotificationStatus(status), why)
            return tell(connection, [change], now)

    def finish_sent(
        self, claim: Claim, *, provider: str, provider_message_id: str | None, sent_at: datetime
    ) -> None:
        """Release ``claim`` of a notification its provider accepted, counting the attempt.

        Its status becomes ``sent``, unless a provider callback moved it on (``delivered``,
        ``bounced``) while the worker waited for the provider's answer: that is never
        downgraded.
        """
        params = {
            "claimed_id": claim.row.id,
            "claimed_token": claim.token,
            "updated_at": db.now(),
            "provider": provider,
            "provider_message_id": provider_message_id,
            "sent_at": sent_at,
            "sent": NotificationStatus.SENT.value,
        }
        with self._single.begin() as connection:  # one statement: atomic on its own
            connection.execute(_FINISH_SENT, params)


#: A notification still to be sent: its statuses as one bound parameter each, compiled into
#: the statement once (``in_`` of a plain list would expand a list parameter, turning the
#: compiled statement into its SQL again at every execution).
_PENDING = _n.status.in_([literal(status.value, String) for status in sorted(PENDING)])
#: Claims the due and unclaimed ones of ``ids`` for ``token`` until ``until``.
_CLAIM = (
    update(db.notifications)
    .where(
        db.listed_in(_n.id, "ids"),
        _PENDING,
        or_(_n.next_attempt_at.is_(None), _n.next_attempt_at <= bindparam("now")),
        or_(_n.claimed_until.is_(None), _n.claimed_until < bindparam("now")),
    )
    .values(
        claimed_until=bindparam("until"),
        claim_token=bindparam("token"),
        status=bindparam("queued"),
    )
)
#: The notifications of ``ids`` claimed with ``token``.
_CLAIMED = select(db.notifications).where(
    db.listed_in(_n.id, "ids"), _n.claim_token == bindparam("token")
)


@functools.cache
def _finishing(names: tuple[str, ...], count: bool) -> Update:
    """The statement :meth:`Claims.finish` runs to set columns ``names`` (from parameters
    ``set_<name>``): built once for each set of columns, so that writing an outcome costs
    no more than running it."""
    values: dict[str, Any] = {name: bindparam(f"set_{name}") for name in names}
    values.update(claimed_until=None, claim_token=None, updated_at=bindparam("updated_at"))
    if count:
        values["attempts"] = _n.attempts + 1
    return (
        update(db.notifications)
        .where(_n.id == bindparam("claimed_id"), _n.claim_token == bindparam("claimed_token"))
        .values(values)
    )


_FINISH_SENT = (
    update(db.notifications)
    .where(_n.id == bindparam("claimed_id"), _n.claim_token == bindparam("claimed_token"))
    .values(
        status=case((_PENDING, bindparam("sent")), else_=_n.status),
        provider=bindparam("provider"),
        provider_message_id=bindparam("provider_message_id"),
        sent_at=bindparam("sent_at"),
        last_error=None,
        claimed_until=None,
        claim_token=None,
        updated_at=bindparam("updated_at"),
        attempts=_n.attempts + 1,
    )
)
