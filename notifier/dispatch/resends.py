"""Resends: a failed or bounced notification sent again, as a new notification.

Support staff resend a message that did not reach the customer, to the same address or a
corrected one. The original keeps its status and its history. The resend is a notification
of its own, with its own stable id (from the source ``resend:<original id>:<n>``, the n-th
resend of that original): the same kind, channel, locale, time zone, data, event, rule and
return, queued and handed to delivery, which checks it like any other (an address that is
suppressed makes it ``suppressed``, a message the return has moved past ``skipped``).

Resending the n-th time again, to the same recipient, stores nothing new: a form sent twice
sends one message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import Connection, Engine, func, insert, select

from notifier import db
from notifier.dispatch.planner import notification_id
from notifier.errors import NotFoundError, ResendRefusedError
from notifier.records import NotificationRecord
from notifier.status import REMOVED_RECIPIENT, Channel, NotificationStatus

#: The statuses a notification may be resent from: it will not reach the recipient.
RESENDABLE: frozenset[NotificationStatus] = frozenset(
    {NotificationStatus.FAILED, NotificationStatus.BOUNCED}
)

_n = db.notifications.c


def resend_source(original_id: str, number: int) -> str:
    """The source key of the ``number``-th resend of notification ``original_id``."""
    return f"resend:{original_id}:{number}"


@dataclass(frozen=True, slots=True)
class Resent:
    """A resend as stored, and whether this call stored it (False: it was already there)."""

    notification: NotificationRecord
    created: bool


class Resends:
    """Makes resends of failed and bounced notifications and hands them to delivery.

    Args:
        engine: The database.
        enqueue_delivery: Hands a notification id to delivery.
    """

    def __init__(self, engine: Engine, enqueue_delivery: Callable[[str], None]) -> None:
        self._engine = engine
        self._enqueue = enqueue_delivery

    def original(self, notification_id: str) -> NotificationRecord:
        """The notification ``notification_id``, if it may be resent.

        Raises:
            NotFoundError: there is no such notification.
            ResendRefusedError: it is neither ``failed`` nor ``bounced``.
        """
        with self._engine.connect() as connection:
            return _resendable(connection, notification_id)

    def next_number(self, original: NotificationRecord) -> int:
        """The number the next resend of ``original`` gets: how often it was resent, plus one."""
        prefix = f"resend:{original.id}:"
        with self._engine.connect() as connection:
            count = connection.execute(
                select(func.count())
                .select_from(db.notifications)
                .where(
                    _n.return_id == original.return_id,
                    _n.source.startswith(prefix, autoescape=True),
                )
            ).scalar_one()
        return int(count) + 1

    def planned(
        self, original: NotificationRecord, recipient: str | None, number: int
    ) -> NotificationRecord:
        """The ``number``-th resend of ``original`` as it will be stored (nothing is stored).

        Args:
            original: A notification that may be resent.
            recipient: Where to send it instead, already validated for its channel; None
                for the original's recipient.
            number: Which resend of ``original`` this is (see :meth:`next_number`).

        Raises:
            ResendRefusedError: a webhook asked to go to another recipient.
        """
        to = recipient or original.recipient
        if original.channel == Channel.WEBHOOK and to != original.recipient:
            raise ResendRefusedError("a webhook is resent to its own subscription only")
        source = resend_source(original.id, number)
        now = db.now()
        return replace(
            original,
            id=notification_id(source, original.kind, original.channel, to),
            source=source,
            recipient=to,
            reason=None,
            status=NotificationStatus.QUEUED,
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

    def resend(self, original_id: str, recipient: str | None, number: int) -> Resent:
        """Store the ``number``-th resend of ``original_id`` and hand it to delivery.

        Args:
            original_id: The notification to send again.
            recipient: Where to send it instead, already validated for its channel; None
                for the original's recipient.
            number: Which resend this is (see :meth:`next_number`); the same number and
                recipient again is the same resend.

        Raises:
            NotFoundError: there is no such notification.
            ResendRefusedError: it may not be resent.
        """

        def store(connection: Connection) -> Resent:
            original = _resendable(connection, original_id)
            resend = self.planned(original, recipient, number)
            known = connection.execute(select(db.notifications).where(_n.id == resend.id)).first()
            if known is not None:
                return Resent(NotificationRecord.from_row(known), created=False)
            connection.execute(insert(db.notifications).values(_row(resend)))
            return Resent(resend, created=True)

        resent = db.retry_on_conflict(self._engine, store)
        if resent.created:
            self._enqueue(resent.notification.id)
        return resent


def _resendable(connection: Connection, notification_id: str) -> NotificationRecord:
    row = connection.execute(select(db.notifications).where(_n.id == notification_id)).first()
    if row is None:
        raise NotFoundError(f"notification {notification_id!r} is unknown")
    record = NotificationRecord.from_row(row)
    if record.recipient == REMOVED_RECIPIENT:
        raise ResendRefusedError(
            f"notification {notification_id!r} cannot be resent: its personal data (the "
            "recipient and what the message said) was removed after the retention period"
        )
    if record.status not in RESENDABLE:
        raise ResendRefusedError(
            f"notification {notification_id!r} is {record.status}: only a failed or bounced "
            "notification is resent"
        )
    return record


def _row(record: NotificationRecord) -> dict[str, object]:
    """The ``notifications`` row of a resend, queued for delivery now."""
    return {
        "id": record.id,
        "event_pk": record.event_pk,
        "source": record.source,
        "return_id": record.return_id,
        "customer_id": record.customer_id,
        "kind": record.kind,
        "channel": record.channel,
        "recipient": record.recipient,
        "locale": record.locale,
        "timezone": record.timezone,
        "rule": record.rule,
        "reason": None,
        "data": record.data,
        "status": record.status,
        "attempts": 0,
        "dead": False,
        "next_attempt_at": record.next_attempt_at,
        "enqueued_at": record.created_at,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }
