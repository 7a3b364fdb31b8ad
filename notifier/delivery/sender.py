"""The sender: a claimed notification rendered for its channel and handed to it.

An email or SMS is its kind's template rendered in the recipient's locale; a webhook is the
body of :mod:`notifier.delivery.payload`, signed with its subscription's secret, and carries
the email rendering of kinds that have one. Webhook sends pass the subscriber gate
(:mod:`notifier.delivery.subscriber_gate`): a subscriber at its limit raises
:class:`SubscriberBusy`. A stored notification can also be rendered again, without sending,
for staff to read what was sent.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from channels.base import (
    Channel,
    EmailAttachment,
    EmailMessage,
    SendResult,
    SmsMessage,
    WebhookMessage,
)
from channels.errors import PermanentChannelError
from notifier import db, status
from notifier.delivery.payload import template_data, webhook_body
from notifier.delivery.subscriber_gate import SubscriberGate
from notifier.records import NotificationRecord
from notifier.rendering import (
    CUSTOMER_KINDS,
    STAFF_KINDS,
    Attachment,
    Policy,
    RenderedMessage,
    Renderer,
    resolve_policy,
)

#: How long a webhook send waits for its subscriber's slot before the job is put back.
GATE_WAIT = 0.25


#: What marks a test message: in front of its subject, or of an SMS text.
TEST_MARK = "[TEST]"


class SubscriberBusy(Exception):
    """Raised when a webhook's subscriber already has as many sends in flight as allowed."""


#: How long an email or SMS rendered ahead (:meth:`Sender.render_ahead`) is sent as
#: rendered. Older (a slow provider held up the messages before it), it is rendered again at
#: its turn: what a message says of the moment (days left, a calendar event's stamp) is never
#: more than this older than its send.
RENDERED_AHEAD_FOR = 1.0

#: The clock a message's age is read on.
_clock = time.monotonic


@dataclass(frozen=True, slots=True)
class Prepared:
    """An email or SMS rendered ahead of its send (:meth:`Sender.render_ahead`), and when (on
    :data:`_clock`)."""

    message: EmailMessage | SmsMessage
    made: float

    def fresh(self) -> bool:
        """Whether it may still be sent as rendered (:data:`RENDERED_AHEAD_FOR`)."""
        return _clock() - self.made <= RENDERED_AHEAD_FOR


@dataclass(frozen=True, slots=True)
class Senders:
    """The channels delivery uses, one per medium."""

    email: Channel[EmailMessage]
    sms: Channel[SmsMessage]
    webhook: Channel[WebhookMessage]

    def close(self) -> None:
        """Close the channels that keep connections open (those with a ``close``)."""
        for channel in (self.email, self.sms, self.webhook):
            close = getattr(channel, "close", None)
            if close is not None:
                close()


class Sender:
    """Renders claimed notifications and sends them on their channel.

    Args:
        engine: The database.
        renderer: Renders templates.
        senders: The channel of each medium.
        policy: The shop's return policy, for messages that quote it.
        email_from: The sender of every email.
        staff_locale: The locale of staff alerts.
        gate: Bounds concurrent sends per webhook subscriber in this process.
        reply_to: Where replies to customer emails and tests go (``Reply-To``); None leaves
            them to the sender. Staff alerts never carry it.
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
        gate: SubscriberGate,
        reply_to: str | None = None,
    ) -> None:
        self._engine = engine
        self._renderer = renderer
        self._senders = senders
        self._policy = policy
        self._email_from = email_from
        self._reply_to = reply_to
        self._staff_locale = staff_locale
        self._gate = gate

    def close(self) -> None:
        """Close the channels' kept-alive connections."""
        self._senders.close()

    def send(
        self,
        row: NotificationRecord,
        snapshot: Mapping[str, Any] | None,
        event: Mapping[str, Any] | None = None,
        *,
        prepared: Prepared | None = None,
    ) -> SendResult:
        """Send the ``notifications`` row ``row`` once.

        Args:
            row: The claimed notification.
            snapshot: Its return's snapshot now, or None if the return is unknown.
            event: The payload of the event that caused it, when the caller has read it
                already (read here otherwise).
            prepared: The email or SMS of ``row`` rendered ahead (:meth:`render_ahead`), sent
                as it is while fresh, rendered again after.

        Raises:
            SubscriberBusy: the webhook's subscriber has no free slot; nothing was sent.
            RenderError: the message cannot be rendered.
            TransientChannelError, PermanentChannelError, ChannelConfigurationError: as the
                channel raises them.
        """
        if prepared is None or not prepared.fresh():
            if row.channel == status.Channel.WEBHOOK:
                data, occurred = self._data(row, snapshot, event)
                return self._send_webhook(row, data, occurred)
            message = self._message_of(row, snapshot, event)
        else:
            message = prepared.message
        if isinstance(message, EmailMessage):
            return self._senders.email.send(message)
        return self._senders.sms.send(message)

    def render_ahead(
        self,
        row: NotificationRecord,
        snapshot: Mapping[str, Any] | None,
        event: Mapping[str, Any] | None = None,
    ) -> Prepared | None:
        """The email or SMS ``row`` rendered for :meth:`send` ahead of its turn, or None (a
        webhook, or a message that fails to render now: it is rendered at its turn, where its
        error comes out as it always did).

        Delivery renders a group's messages one after another before it sends any, so the
        templates' code and data stay in the processor's caches from one render to the next
        (and the database's and the provider's from one send to the next): some 10-15% less
        CPU an email than rendering each just before its send. A message rendered ahead is
        sent as rendered for :data:`RENDERED_AHEAD_FOR` (see :meth:`Prepared.fresh`).
        """
        if row.channel not in (status.Channel.EMAIL, status.Channel.SMS):
            return None
        try:
            return Prepared(self._message_of(row, snapshot, event), _clock())
        except Exception:  # noqa: BLE001 - rendered again at its turn, and failing there
            return None

    def _message_of(
        self,
        row: NotificationRecord,
        snapshot: Mapping[str, Any] | None,
        event: Mapping[str, Any] | None,
    ) -> EmailMessage | SmsMessage:
        """The email or SMS of ``row``, rendered now."""
        data, _ = self._data(row, snapshot, event)
        rendered = self._render(row, row.channel, data, row.locale)
        if row.channel == status.Channel.SMS:
            return SmsMessage(id=row.id, to=row.recipient, text=rendered.text)
        return EmailMessage(
            id=row.id,
            to=row.recipient,
            sender=self._email_from,
            subject=rendered.subject or "",
            text=rendered.text,
            html=rendered.html,
            attachments=_email_attachments(rendered.attachments),
            reply_to=None if row.kind in STAFF_KINDS else self._reply_to,
        )

    def send_test(
        self,
        channel: str,
        to: str,
        *,
        subject: str | None,
        text: str,
        html: str | None,
        attachments: tuple[Attachment, ...] = (),
    ) -> SendResult:
        """Send an already rendered message to ``to`` as a test, marked as one.

        The subject gets ``[TEST]`` in front, an SMS text too; the message gets an id of its
        own (``test_...``), so it can never be taken for a customer's notification. An email
        carries its ``attachments`` as the customer's would.

        Raises:
            TransientChannelError, PermanentChannelError: the provider refused it.
        """
        test_id = "test_" + secrets.token_hex(12)
        if channel == status.Channel.EMAIL:
            message = EmailMessage(
                id=test_id,
                to=to,
                sender=self._email_from,
                subject=f"{TEST_MARK} {subject or ''}".strip(),
                text=text,
                html=html,
                attachments=_email_attachments(attachments),
                reply_to=self._reply_to,
            )
            return self._senders.email.send(message)
        if channel == status.Channel.SMS:
            return self._senders.sms.send(SmsMessage(id=test_id, to=to, text=f"{TEST_MARK} {text}"))
        raise ValueError(f"a test can be sent by email or SMS, not by {channel}")

    def render_again(
        self, row: NotificationRecord, snapshot: Mapping[str, Any] | None = None
    ) -> RenderedMessage:
        """The email or SMS of ``row`` rendered again, as :meth:`send` renders it.

        The message is rendered from what is stored: the event that caused it (or the data a
        rule planned it with), merged over its return's snapshot, in its locale and time zone,
        as of the moment it was sent (or last tried; now for one still to be sent).

        Args:
            row: An email or SMS notification.

        Raises:
            RenderError: the message cannot be rendered.
        """
        data, _ = self._data(row, snapshot or self._snapshot(row.return_id))
        return self._render(row, row.channel, data, row.locale, now=_as_of(row))

    def webhook_body_again(
        self, row: NotificationRecord, snapshot: Mapping[str, Any] | None = None
    ) -> bytes:
        """The body :meth:`send` posts for the webhook notification ``row``, built again.

        Raises:
            RenderError: the message the body carries cannot be rendered.
        """
        data, occurred = self._data(row, snapshot or self._snapshot(row.return_id))
        return webhook_body(row, data, occurred, self._message(row, data, now=_as_of(row)))

    def _snapshot(self, return_id: str) -> Mapping[str, Any] | None:
        with self._engine.connect() as connection:
            snapshot: Mapping[str, Any] | None = connection.execute(
                select(db.returns.c.snapshot).where(db.returns.c.return_id == return_id)
            ).scalar_one_or_none()
        return snapshot

    def _data(
        self,
        row: NotificationRecord,
        snapshot: Mapping[str, Any] | None,
        event: Mapping[str, Any] | None = None,
    ) -> tuple[dict[str, Any], str]:
        if row.event_pk is None or event is not None:
            return template_data(row, snapshot, event)
        with self._engine.connect() as connection:
            event = connection.execute(
                select(db.events.c.payload).where(db.events.c.pk == row.event_pk)
            ).scalar_one()
        return template_data(row, snapshot, event)

    def _render(
        self,
        row: NotificationRecord,
        channel: str,
        data: Mapping[str, Any],
        locale: str,
        now: datetime | None = None,
    ) -> RenderedMessage:
        return self._renderer.render(
            row.kind,
            channel,
            data,
            locale=locale,
            timezone=row.timezone,
            policy=resolve_policy(self._policy, data.get("policy")),
            now=now,
        )

    def _send_webhook(
        self, row: NotificationRecord, data: Mapping[str, Any], occurred: str
    ) -> SendResult:
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
                body=webhook_body(row, data, occurred, self._message(row, data)),
                secret=sub.secret,
                timestamp=int(db.now().timestamp()),
            )
            return self._senders.webhook.send(message)

    def _message(
        self, row: NotificationRecord, data: Mapping[str, Any], now: datetime | None = None
    ) -> dict[str, str] | None:
        """The email rendering a webhook carries, for kinds that have templates."""
        if row.kind not in CUSTOMER_KINDS and row.kind not in STAFF_KINDS:
            return None
        locale = self._staff_locale if row.kind.startswith("staff.") else row.locale
        rendered = self._render(row, "email", data, locale, now)
        return {"subject": rendered.subject or "", "text": rendered.text}


def _email_attachments(attachments: tuple[Attachment, ...]) -> tuple[EmailAttachment, ...]:
    """A rendered email's files, as its channel takes them."""
    return tuple(EmailAttachment(a.filename, a.content_type, a.content) for a in attachments)


def _as_of(row: NotificationRecord) -> datetime | None:
    """The moment a message was sent, or last tried; None (now) for one still to be sent."""
    if row.sent_at is not None:
        return row.sent_at
    return None if row.status in status.PENDING else row.updated_at
