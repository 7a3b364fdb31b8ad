"""Provider callbacks applied to notifications: delivered, bounced, failed, complained.

Callbacks arrive late, twice and out of order. A status only ever moves forward
(``sent`` < ``delivered`` < ``bounced``/``failed``), so a late ``sent`` never overwrites
``delivered``, and a repeated callback changes nothing. A hard bounce, a spam complaint
or an unsubscribe suppresses the address for later messages; a hard bounce or failure of
an email asks for the SMS fallback. A move to ``delivered``, ``bounced`` or ``failed``
writes, in the transaction that moves it, the webhooks that tell the subscribers who asked
for it (:func:`notifier.delivery.tell`); a repeated callback moves nothing, so it tells no
one twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, or_, select, update

from channels.tracking import TrackingEvent, TrackingStatus
from notifier import db, logs
from notifier.delivery import StatusChange, suppress, tell
from notifier.metrics import Metrics
from notifier.status import PROGRESS, UNDELIVERABLE, Channel, NotificationStatus

log = logging.getLogger(__name__)

#: The notification status each provider report moves a notification to.
_STATUS = {
    TrackingStatus.QUEUED: NotificationStatus.SENT,
    TrackingStatus.SENT: NotificationStatus.SENT,
    TrackingStatus.DELIVERED: NotificationStatus.DELIVERED,
    TrackingStatus.OPENED: NotificationStatus.DELIVERED,
    TrackingStatus.CLICKED: NotificationStatus.DELIVERED,
    TrackingStatus.BOUNCED: NotificationStatus.BOUNCED,
    TrackingStatus.FAILED: NotificationStatus.FAILED,
}

#: Statuses that suppress the recipient's address for later messages.
_SUPPRESSING = {TrackingStatus.COMPLAINED, TrackingStatus.UNSUBSCRIBED}


@dataclass(frozen=True, slots=True)
class Applied:
    """What one callback did: the notification it matched and whether it changed it."""

    notification_id: str | None
    changed: bool
    hooks: tuple[str, ...] = ()


class Tracker:
    """Applies normalized tracking events; ``fallback`` gets failed emails' notification ids,
    ``enqueue`` the ids of the status hooks written, after their commit; ``metrics`` counts
    each notification a report moves to delivered, bounced or failed."""

    def __init__(
        self,
        engine: Engine,
        fallback: Callable[[str], None],
        enqueue: Callable[[str], None] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._engine = engine
        self._fallback = fallback
        self._enqueue = enqueue
        self._metrics = metrics or Metrics()

    def apply(self, events: Iterable[TrackingEvent]) -> list[Applied]:
        applied = []
        for event in events:
            with self._engine.begin() as connection:
                result, failed_email = self._apply(connection, event)
            applied.append(result)
            if self._enqueue is not None:
                for hook_id in result.hooks:
                    self._enqueue(hook_id)
            if failed_email is not None:
                self._fallback(failed_email)
        return applied

    def _apply(self, connection: Connection, event: TrackingEvent) -> tuple[Applied, str | None]:
        row = _find(connection, event)
        if row is None:
            log.info("callback from %s for an unknown message; ignored", event.provider)
            return Applied(None, False), None
        with logs.bound(return_id=row.return_id, notification_id=row.id, channel=row.channel):
            return self._move(connection, event, row)

    def _move(
        self, connection: Connection, event: TrackingEvent, row: Any
    ) -> tuple[Applied, str | None]:
        if event.status in _SUPPRESSING or (event.hard and event.status in _FAILING):
            suppress(connection, row.channel, row.recipient, _why(event))
        target = _STATUS.get(event.status)
        if target is None or PROGRESS.get(NotificationStatus(row.status), 99) >= PROGRESS[target]:
            return Applied(row.id, False), None
        values: dict[str, Any] = {"status": target, "updated_at": db.now()}
        if target in UNDELIVERABLE:
            values["last_error"] = _why(event)
        changed = connection.execute(
            update(db.notifications)
            .where(db.notifications.c.id == row.id, db.notifications.c.status == row.status)
            .values(**values)
        ).rowcount
        if changed and target != NotificationStatus.SENT:
            self._metrics.notification(row.kind, row.channel, target)
        fallback = (
            row.id if changed and row.channel == Channel.EMAIL and target in UNDELIVERABLE else None
        )
        hooks = (
            tell(connection, [StatusChange.of(row, target, values.get("last_error"))], db.now())
            if changed
            else []
        )
        return Applied(row.id, bool(changed), tuple(hooks)), fallback


_FAILING = {TrackingStatus.BOUNCED, TrackingStatus.FAILED}


def _find(connection: Connection, event: TrackingEvent) -> Any:
    n = db.notifications.c
    keys = []
    if event.notification_id:
        keys.append(n.id == event.notification_id)
    if event.provider_message_id:
        keys.append(n.provider_message_id == event.provider_message_id)
    if not keys:
        return None
    return connection.execute(select(db.notifications).where(or_(*keys)).limit(1)).first()


def _why(event: TrackingEvent) -> str:
    return f"{event.provider} {event.status.value}: {event.reason or 'no reason given'}"
