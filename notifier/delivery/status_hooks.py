"""Status hooks: webhooks that tell subscribers what became of a customer's message.

A subscription whose types name ``notification.*`` (or one of ``notification.delivered``,
``notification.bounced``, ``notification.failed``, ``notification.suppressed``) is told when
an email or SMS reaches that status. Each telling is a webhook notification of its own,
written in the transaction that changes the message's status (an outbox: a worker killed
after the commit loses nothing, the relay hands it over), delivered, signed and retried like
every other webhook. Its id derives from the message, the event and the subscription, so the
same change told twice (a provider's callback repeated) writes nothing new.

What a subscriber is told is written with the webhook and never changes on a retry: the
message's id, return, customer, kind, channel and status, its recipient masked, and the
provider's reason masked (:mod:`notifier.masking`). Only customers' emails and SMS are told
of: never a staff alert, never a webhook (no hook about a hook).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from notifier import db
from notifier.masking import customer_names, mask_recipient, mask_text
from notifier.records import NotificationRecord
from notifier.status import STATUS_EVENTS, Channel, NotificationEvent, NotificationStatus

#: The subscription type that asks for every ``notification.*`` event.
EVERY_STATUS = "notification.*"
#: What the source of a status hook starts with; the told notification's id follows.
SOURCE_PREFIX = "status:"


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A customer's message that reached a status a subscriber may be told of.

    Attributes:
        id: The notification's id.
        return_id: Its return.
        customer_id: Its customer.
        kind: Its message kind (``return.approved``, ...).
        channel: Its channel; a webhook's status is never told.
        recipient: Its address, unmasked (masked when told).
        locale: Its locale, kept on the hook.
        timezone: Its time zone, kept on the hook.
        status: The status it reached.
        reason: Why, as the provider or delivery wrote it (masked when told), or None.
    """

    id: str
    return_id: str
    customer_id: str
    kind: str
    channel: str
    recipient: str
    locale: str
    timezone: str
    status: NotificationStatus
    reason: str | None = None

    @classmethod
    def of(
        cls, row: NotificationRecord | Any, status: NotificationStatus, reason: str | None
    ) -> StatusChange:
        """The change of the notification ``row`` (a record or a ``notifications`` row)."""
        return cls(
            row.id,
            row.return_id,
            row.customer_id,
            row.kind,
            str(row.channel),
            row.recipient,
            row.locale,
            row.timezone,
            status,
            reason,
        )

    @classmethod
    def planned(cls, row: Mapping[str, Any]) -> StatusChange:
        """The change of a notification row about to be inserted (planned as it is)."""
        return cls(
            row["id"],
            row["return_id"],
            row["customer_id"],
            row["kind"],
            str(row["channel"]),
            row["recipient"],
            row["locale"],
            row["timezone"],
            NotificationStatus(row["status"]),
            row.get("reason"),
        )


def covers(types: Collection[str], event: NotificationEvent) -> bool:
    """Whether a subscription's types ask for ``event``: ``notification.*`` or its name.

    ``*`` does not: it is every return event, as it was before these existed.
    """
    return EVERY_STATUS in types or event.value in types


def tell(connection: Connection, changes: Sequence[StatusChange], now: datetime) -> list[str]:
    """Write the webhooks that tell the subscribers of ``changes``, in the caller's
    transaction, and return the ids of the new ones (to hand to delivery after the commit).

    Changes of webhooks, of staff alerts and of statuses no one is told of
    (:data:`STATUS_EVENTS`) are left out; a webhook already written (the same change told
    before) is not written again.
    """
    told = [c for c in changes if _told(c)]
    if not told:
        return []
    w = db.webhooks.c
    subscriptions = [
        (sub_id, list(types))
        for sub_id, types in connection.execute(
            select(w.id, w.types).where(w.active.is_(True)).order_by(w.created_at, w.id)
        )
    ]
    wanted = [
        (change, STATUS_EVENTS[change.status], sub_id)
        for change in told
        for sub_id, types in subscriptions
        if covers(types, STATUS_EVENTS[change.status])
    ]
    if not wanted:
        return []
    names = customer_names(connection, {change.return_id for change, _, _ in wanted})
    hooks = {
        row["id"]: row
        for row in (
            _hook(change, event, sub_id, now, names.get(change.return_id, ()))
            for change, event, sub_id in wanted
        )
    }
    n = db.notifications.c
    known = set(connection.execute(select(n.id).where(db.listed_in(n.id, values=hooks))).scalars())
    fresh = [row for hook_id, row in hooks.items() if hook_id not in known]
    if fresh:
        connection.execute(insert(db.notifications), fresh)
    return [row["id"] for row in fresh]


def _told(change: StatusChange) -> bool:
    """Whether subscribers may be told of ``change``: a customer's email or SMS reached a
    status they are told of (never a webhook: no hook about a hook)."""
    return (
        change.channel in (Channel.EMAIL, Channel.SMS)
        and not change.kind.startswith("staff.")
        and change.status in STATUS_EVENTS
    )


def hook_id(notification_id: str, event: NotificationEvent, subscription_id: str) -> str:
    """The stable id of the webhook telling ``subscription_id`` of ``event`` of a message:
    made as every notification's id is, from its source, kind, channel and recipient."""
    parts = (SOURCE_PREFIX + notification_id, event.value, Channel.WEBHOOK.value, subscription_id)
    return "ntf_" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:28]


def _hook(
    change: StatusChange,
    event: NotificationEvent,
    subscription_id: str,
    now: datetime,
    names: Sequence[str],
) -> dict[str, Any]:
    """The ``notifications`` row of one status hook, queued to be sent now."""
    told = {
        "occurred_at": now.isoformat(),
        "notification": {
            "id": change.id,
            "return_id": change.return_id,
            "customer_id": change.customer_id,
            "kind": change.kind,
            "channel": change.channel,
            "status": change.status.value,
            "recipient": mask_recipient(change.channel, change.recipient),
            "reason": None
            if change.status == NotificationStatus.DELIVERED
            else mask_text(change.reason, names),
        },
    }
    return {
        "id": hook_id(change.id, event, subscription_id),
        "source": SOURCE_PREFIX + change.id,
        "event_pk": None,
        "return_id": change.return_id,
        "customer_id": change.customer_id,
        "kind": event.value,
        "channel": Channel.WEBHOOK.value,
        "recipient": subscription_id,
        "locale": change.locale,
        "timezone": change.timezone,
        "rule": None,
        "reason": None,
        "data": told,
        "status": NotificationStatus.QUEUED.value,
        "attempts": 0,
        "dead": False,
        "next_attempt_at": now,
        "enqueued_at": now,
        "created_at": now,
        "updated_at": now,
    }


def status_body(notification_id: str, kind: str, told: Mapping[str, Any]) -> dict[str, Any]:
    """The body of a status hook: ``id`` (the hook's, stable across retries), ``type``,
    ``occurred_at`` and ``notification``, as written with the hook (``told``)."""
    return {
        "id": notification_id,
        "type": kind,
        "occurred_at": told.get("occurred_at"),
        "notification": dict(told.get("notification") or {}),
    }


def is_status_hook(kind: str) -> bool:
    """Whether a notification of ``kind`` is a status hook."""
    return kind in _HOOK_KINDS


_HOOK_KINDS = frozenset(event.value for event in NotificationEvent)
