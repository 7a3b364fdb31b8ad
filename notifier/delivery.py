"""Delivery: claim one notification, render it, hand it to its channel, record the outcome.

Exactly once in practice: a worker first *claims* the notification with one conditional
UPDATE (status still ``queued``, due, and no live claim by another worker). Only the
worker whose UPDATE matched calls the provider, so a redelivered job, a relay hand-over or
a second worker finds nothing to do. The claim is a lease: a worker killed mid-send leaves
it to expire, and the notification is tried again (at least once).
"""

from __future__ import annotations

import json
import logging
import random
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update

from channels.base import EmailMessage, SendResult, SmsMessage, WebhookMessage
from channels.errors import PermanentChannelError, TransientChannelError
from notifier import db
from notifier.intake import merge_snapshot
from notifier.planner import QUEUED, SCHEDULED
from notifier.policy import Policy, resolve_policy
from notifier.quiet import quiet_until
from notifier.render import CUSTOMER_KINDS, STAFF_KINDS, RenderedMessage, Renderer, RenderError
from notifier.settings import QuietHours
from notifier.tracking import suppress

log = logging.getLogger(__name__)

#: How long a claim protects a notification being sent; longer than any provider timeout.
CLAIM_LEASE = timedelta(seconds=120)
#: Delivery attempts before a notification becomes a dead letter.
MAX_ATTEMPTS = 10
#: Delay before the first retry; each next retry waits twice as long, up to MAX_BACKOFF.
MIN_BACKOFF = timedelta(seconds=15)
#: The longest wait between two attempts.
MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """The wait before the next attempt, after ``attempts`` failed ones.

    Exponential (15 s, 30 s, 1 min, 2 min, ... capped at 1 h) with +-20% jitter; a
    provider's ``Retry-After`` is honoured when it asks for longer (also capped at 1 h).
    """
    base = min(MIN_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)
    jittered = base * random.uniform(0.8, 1.2)
    if retry_after is not None:
        jittered = max(jittered, timedelta(seconds=retry_after))
    return min(jittered, MAX_BACKOFF)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one delivery attempt.

    ``retry_in`` set means try again then; ``fallback`` means the email failed for good and
    the message should go by SMS where the customer allows it.
    """

    status: str
    retry_in: timedelta | None = None
    fallback: bool = False


@dataclass(frozen=True, slots=True)
class Senders:
    """The channels delivery uses, one per medium."""

    email: Any
    sms: Any
    webhook: Any


class Deliverer:
    """Delivers notifications by id."""

    def __init__(
        self,
        engine: Engine,
        renderer: Renderer,
        senders: Senders,
        *,
        policy: Policy,
        email_from: str,
        staff_locale: str,
        quiet_hours: QuietHours | None,
    ) -> None:
        self._engine = engine
        self._renderer = renderer
        self._senders = senders
        self._policy = policy
        self._email_from = email_from
        self._staff_locale = staff_locale
        self._quiet = quiet_hours

    def deliver(self, notification_id: str, now: datetime | None = None) -> Outcome:
        """Try to send notification ``notification_id`` once, if it is still due and unclaimed."""
        now = now or db.now()
        token = secrets.token_hex(8)
        row = self._claim(notification_id, token, now)
        if row is None:
            return Outcome("not-claimed")
        if row.channel == "sms" and (held := quiet_until(now, row.timezone, self._quiet)):
            self._finish(row.id, token, status=SCHEDULED, next_attempt_at=held, count=False)
            return Outcome(SCHEDULED, retry_in=held - now)
        try:
            result = self._send(row)
        except TransientChannelError as error:
            return self._transient(row, token, now, error)
        except PermanentChannelError as error:
            return self._permanent(row, token, error)
        except RenderError as error:
            self._finish(row.id, token, status="failed", last_error=_reason(error))
            return Outcome("failed")
        self._finish(
            row.id,
            token,
            status="sent",
            provider=result.provider,
            provider_message_id=result.provider_message_id,
            sent_at=db.now(),
            last_error=None,
        )
        return Outcome("sent")

    def _claim(self, notification_id: str, token: str, now: datetime) -> Any:
        n = db.notifications.c
        claimable = and_(
            n.id == notification_id,
            n.status.in_((QUEUED, SCHEDULED)),
            or_(n.next_attempt_at.is_(None), n.next_attempt_at <= now),
            or_(n.claimed_until.is_(None), n.claimed_until < now),
        )
        with self._engine.begin() as connection:
            claimed = connection.execute(
                update(db.notifications)
                .where(claimable)
                .values(claimed_until=now + CLAIM_LEASE, claim_token=token, status=QUEUED)
            ).rowcount
            if claimed != 1:
                return None
            return connection.execute(
                select(db.notifications).where(n.id == notification_id)
            ).first()

    def _finish(
        self, notification_id: str, token: str, *, count: bool = True, **values: Any
    ) -> None:
        n = db.notifications.c
        values.update(claimed_until=None, claim_token=None, updated_at=db.now())
        if count:
            values["attempts"] = n.attempts + 1
        with self._engine.begin() as connection:
            connection.execute(
                update(db.notifications)
                .where(n.id == notification_id, n.claim_token == token)
                .values(**values)
            )

    def _transient(
        self, row: Any, token: str, now: datetime, error: TransientChannelError
    ) -> Outcome:
        attempts = row.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            self._finish(row.id, token, status="failed", dead=True, last_error=_reason(error))
            log.warning("notification %s exhausted its retries: %s", row.id, error)
            return Outcome("failed")
        wait = backoff(attempts, error.retry_after)
        self._finish(
            row.id, token, status=QUEUED, next_attempt_at=now + wait, last_error=_reason(error)
        )
        return Outcome(QUEUED, retry_in=wait)

    def _permanent(self, row: Any, token: str, error: PermanentChannelError) -> Outcome:
        with self._engine.begin() as connection:
            if error.opt_out:
                suppress(connection, row.channel, row.recipient, _reason(error))
            if error.gone and row.channel == "webhook":
                connection.execute(
                    update(db.webhooks)
                    .where(db.webhooks.c.id == row.recipient)
                    .values(active=False, disabled_reason=_reason(error))
                )
        self._finish(row.id, token, status="failed", last_error=_reason(error))
        return Outcome("failed", fallback=row.channel == "email")

    def _send(self, row: Any) -> SendResult:
        data, occurred = self._data(row)
        if row.channel == "webhook":
            return self._send_webhook(row, data, occurred)
        rendered = self._render(row, row.channel, data, row.locale)
        if row.channel == "email":
            message = EmailMessage(
                id=row.id,
                to=row.recipient,
                sender=self._email_from,
                subject=rendered.subject or "",
                text=rendered.text,
                html=rendered.html,
            )
            return self._senders.email.send(message)  # type: ignore[no-any-return]
        return self._senders.sms.send(  # type: ignore[no-any-return]
            SmsMessage(id=row.id, to=row.recipient, text=rendered.text)
        )

    def _render(
        self, row: Any, channel: str, data: Mapping[str, Any], locale: str
    ) -> RenderedMessage:
        return self._renderer.render(
            row.kind,
            channel,
            data,
            locale=locale,
            timezone=row.timezone,
            policy=resolve_policy(self._policy, data.get("policy")),
        )

    def _data(self, row: Any) -> tuple[dict[str, Any], str]:
        with self._engine.connect() as connection:
            snapshot = connection.execute(
                select(db.returns.c.snapshot).where(db.returns.c.return_id == row.return_id)
            ).scalar()
            if row.event_pk is None:
                data = dict(row.data or snapshot or {})
                return data, row.created_at.isoformat()
            payload = connection.execute(
                select(db.events.c.payload).where(db.events.c.pk == row.event_pk)
            ).scalar_one()
        return merge_snapshot(snapshot, payload, newer=True), payload["occurred_at"]

    def _send_webhook(self, row: Any, data: Mapping[str, Any], occurred: str) -> SendResult:
        with self._engine.connect() as connection:
            sub = connection.execute(
                select(db.webhooks).where(db.webhooks.c.id == row.recipient)
            ).first()
        if sub is None or not sub.active:
            raise PermanentChannelError("the webhook subscription was removed or disabled")
        message: dict[str, str] | None = None
        if row.kind in CUSTOMER_KINDS or row.kind in STAFF_KINDS:
            locale = self._staff_locale if row.kind.startswith("staff.") else row.locale
            rendered = self._render(row, "email", data, locale)
            message = {"subject": rendered.subject or "", "text": rendered.text}
        body = {
            "id": row.id,
            "type": row.kind,
            "timestamp": occurred,
            "data": {
                "return_id": row.return_id,
                "order_id": (data.get("return") or {}).get("order_id"),
                "status": data.get("type"),
                "locale": row.locale,
                "message": message,
                "customer_id": row.customer_id,
            },
        }
        return self._senders.webhook.send(  # type: ignore[no-any-return]
            WebhookMessage(
                id=row.id,
                url=sub.url,
                body=json.dumps(body, ensure_ascii=False).encode(),
                secret=sub.secret,
                timestamp=int(db.now().timestamp()),
            )
        )


def _reason(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]
