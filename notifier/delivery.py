"""Delivery: claim one notification, render it, hand it to its channel, record the outcome.

Exactly once in practice: a worker first *claims* the notification with one conditional
UPDATE (status still ``queued``, due, and no live claim by another worker). Only the
worker whose UPDATE matched calls the provider, so a redelivered job, a relay hand-over or
a second worker finds nothing to do. The claim is a lease (``NOTIFIER_CLAIM_LEASE``, longer
than any provider call may take): a worker killed mid-send leaves it to expire, and the
notification is tried again (at least once).

Before sending, a claimed notification is checked once more against what may have changed
since it was planned: a suppressed address or an opted-out customer makes it
``suppressed`` (an email then falls back to SMS), and an SMS inside the quiet hours waits,
as ``scheduled``, for their end. Transient failures are retried on the schedule of
:mod:`notifier.retry`; exhausted ones become dead letters.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, case, or_, select, update

from channels.base import EmailMessage, SendResult, SmsMessage, WebhookMessage
from channels.errors import (
    ChannelConfigurationError,
    PermanentChannelError,
    TransientChannelError,
)
from notifier import db
from notifier.gate import SubscriberGate
from notifier.intake import merge_snapshot
from notifier.planner import QUEUED, SCHEDULED, SUPPRESSED
from notifier.policy import Policy, resolve_policy
from notifier.quiet import quiet_until
from notifier.render import CUSTOMER_KINDS, STAFF_KINDS, RenderedMessage, Renderer, RenderError
from notifier.retry import RetryPolicy
from notifier.settings import QuietHours
from notifier.tracking import suppress

log = logging.getLogger(__name__)

#: Default claim lease; must outlast the slowest provider call (the channels time out at 10 s).
CLAIM_LEASE = timedelta(seconds=60)
#: Status of a reminder or nudge not sent because its rule no longer holds.
SKIPPED = "skipped"
#: How long a webhook send waits for its subscriber's slot before the job is put back.
GATE_WAIT = 0.25
#: Around how long a job put back for a busy subscriber waits before it is tried again.
BUSY_DELAY = timedelta(seconds=2)
#: HTTP statuses of a permanent email failure that are the sender's problem, not the
#: recipient's (a bad or under-privileged API key): no SMS fallback for those.
_SENDER_FAULTS = frozenset({401, 403})


class SubscriberBusy(Exception):
    """Raised when a webhook's subscriber already has as many sends in flight as allowed."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one delivery attempt.

    ``retry_in`` set means hand the notification to the queue again after that long;
    ``fallback`` means the email will not reach the customer and the message should go by
    SMS where the customer allows it.
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
    """Delivers notifications by id.

    Args:
        engine: The database.
        renderer: Renders templates.
        senders: The channel of each medium.
        policy: The shop's return policy, for messages that quote it.
        email_from: The sender of every email.
        staff_locale: The locale of staff alerts.
        quiet_hours: SMS quiet hours, or None when off.
        retry: The retry schedule.
        lease: How long a claim protects a notification being sent.
        gate: Bounds concurrent sends per webhook subscriber in this process.
        recheck: For a notification a rule planned (``rule`` set): given it, the return's
            current ``returns`` row (or None) and the moment of sending, why the rule no
            longer holds, or None to send it.
    """

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
        retry: RetryPolicy | None = None,
        lease: timedelta = CLAIM_LEASE,
        gate: SubscriberGate | None = None,
        recheck: Callable[[Any, Any, datetime], str | None] | None = None,
    ) -> None:
        self._engine = engine
        self._renderer = renderer
        self._senders = senders
        self._policy = policy
        self._email_from = email_from
        self._staff_locale = staff_locale
        self._quiet = quiet_hours
        self._retry = retry or RetryPolicy()
        self._lease = lease
        self._gate = gate or SubscriberGate(limit=1, wait=GATE_WAIT)
        self._recheck = recheck

    def deliver(self, notification_id: str, now: datetime | None = None) -> Outcome:
        """Try to send notification ``notification_id`` once, if it is still due and unclaimed.

        Raises:
            ChannelConfigurationError: a channel is misconfigured; the claim is released
                and the error recorded, but no attempt is counted.
        """
        now = now or db.now()
        token = secrets.token_hex(8)
        row = self._claim(notification_id, token, now)
        if row is None:
            return Outcome("not-claimed")
        lapsed = self._lapsed(row, now)
        if lapsed is not None:
            self._finish(row.id, token, status=SKIPPED, reason=lapsed, count=False)
            return Outcome(SKIPPED)
        blocked = self._blocked(row)
        if blocked is not None:
            self._finish(row.id, token, status=SUPPRESSED, reason=blocked, count=False)
            return Outcome(SUPPRESSED, fallback=row.channel == "email")
        if row.channel == "sms" and (held := quiet_until(now, row.timezone, self._quiet)):
            self._finish(row.id, token, status=SCHEDULED, next_attempt_at=held, count=False)
            return Outcome(SCHEDULED, retry_in=held - now)
        return self._attempt(row, token, now)

    def _attempt(self, row: Any, token: str, now: datetime) -> Outcome:
        try:
            result = self._send(row)
        except SubscriberBusy:
            self._finish(row.id, token, count=False)
            return Outcome(QUEUED, retry_in=BUSY_DELAY * random.uniform(0.5, 1.5))
        except TransientChannelError as error:
            return self._transient(row, token, now, error)
        except PermanentChannelError as error:
            return self._permanent(row, token, error)
        except RenderError as error:
            self._finish(row.id, token, status="failed", last_error=_reason(error))
            return Outcome("failed")
        except ChannelConfigurationError as error:
            self._finish(row.id, token, count=False, last_error=_reason(error))
            raise
        # A provider callback may have moved the notification on while we waited for the
        # provider's answer: never downgrade ``delivered`` or ``bounced`` to ``sent``.
        n = db.notifications.c
        self._finish(
            row.id,
            token,
            status=case((n.status.in_((QUEUED, SCHEDULED)), "sent"), else_=n.status),
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
                .values(claimed_until=now + self._lease, claim_token=token, status=QUEUED)
            ).rowcount
            if claimed != 1:
                return None
            return connection.execute(
                select(db.notifications).where(n.id == notification_id)
            ).first()

    def _lapsed(self, row: Any, now: datetime) -> str | None:
        """Why a reminder or nudge no longer holds (the return moved on), or None."""
        if row.rule is None or self._recheck is None:
            return None
        with self._engine.connect() as connection:
            current = connection.execute(
                select(db.returns).where(db.returns.c.return_id == row.return_id)
            ).first()
        return self._recheck(row, current, now)

    def _blocked(self, row: Any) -> str | None:
        """Why a claimed email or SMS may no longer go out, or None if it may."""
        if row.channel not in ("email", "sms"):
            return None
        s, c = db.suppressions.c, db.customers.c
        with self._engine.connect() as connection:
            suppressed = connection.execute(
                select(s.reason).where(s.channel == row.channel, s.address == row.recipient.lower())
            ).first()
            prefs = connection.execute(
                select(c.email, c.sms).where(c.customer_id == row.customer_id)
            ).first()
        if suppressed is not None:
            return f"address suppressed: {suppressed.reason}"[:2000]
        if row.kind.startswith("staff.") or prefs is None:
            return None
        if getattr(prefs, row.channel) is False:
            return f"the customer opted out of {row.channel}"
        return None

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
        failed = row.attempts + 1
        if self._retry.exhausted(failed):
            self._finish(row.id, token, status="failed", dead=True, last_error=_reason(error))
            log.warning("notification %s exhausted its retries: %s", row.id, error)
            return Outcome("failed")
        wait = self._retry.wait(failed, error.retry_after)
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
        status = SUPPRESSED if error.opt_out else "failed"
        self._finish(row.id, token, status=status, last_error=_reason(error))
        fallback = row.channel == "email" and error.status not in _SENDER_FAULTS
        return Outcome(status, fallback=fallback)

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
        with self._gate.hold(sub.id) as admitted:
            if not admitted:
                raise SubscriberBusy(sub.id)
            message = WebhookMessage(
                id=row.id,
                url=sub.url,
                body=self._webhook_body(row, data, occurred),
                secret=sub.secret,
                timestamp=int(db.now().timestamp()),
            )
            return self._senders.webhook.send(message)  # type: ignore[no-any-return]

    def _webhook_body(self, row: Any, data: Mapping[str, Any], occurred: str) -> bytes:
        """The CONTRACT section 6 body; ``id`` is the notification id, stable across retries."""
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
        return json.dumps(body, ensure_ascii=False).encode()


def _reason(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]
