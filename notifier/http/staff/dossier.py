"""A return as the console shows it, and one of its notifications with the message it carried.

The return's status, timeline and notifications are the read API's
(:meth:`~notifier.http.reads.Reads.return_detail`: recipients and errors masked); its facts
come from its snapshot, with the customer's email address and phone number masked. A
notification's message is rendered again by the sender, exactly as it renders one to send
it (:meth:`~notifier.delivery.Sender.render_again`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from notifier import db
from notifier.delivery import Sender
from notifier.errors import NotFoundError
from notifier.http.reads import Reads
from notifier.masking import mask_email, mask_phone, mask_text
from notifier.records import NotificationRecord
from notifier.rendering import RenderedMessage, RenderError, measure
from notifier.status import REMOVED_RECIPIENT, Channel


@dataclass(frozen=True, slots=True)
class Dossier:
    """One return: the read API's detail, and the facts of its snapshot.

    Attributes:
        detail: ``return_id``, ``order_id``, ``customer_id``, ``status``, ``status_at``,
            ``timeline`` and ``notifications``, as ``GET /v1/returns/{id}`` gives them.
        facts: the snapshot's ``return`` section (method, ship-by, label, items, ...).
        customer: the snapshot's ``customer`` section, email address and phone masked.
        snapshot: the whole stored snapshot, unmasked, to render its messages again from
            (never shown as it is).
    """

    detail: dict[str, Any]
    facts: dict[str, Any]
    customer: dict[str, Any]
    snapshot: dict[str, Any]

    @property
    def notifications(self) -> list[dict[str, Any]]:
        """The return's notifications, oldest first, as the read API shows them."""
        notes: list[dict[str, Any]] = self.detail["notifications"]
        return notes

    def notification(self, notification_id: str) -> dict[str, Any]:
        """One of the return's notifications, as the read API shows it.

        Raises:
            NotFoundError: the return has no such notification.
        """
        for note in self.notifications:
            if note["id"] == notification_id:
                return note
        raise NotFoundError(f"notification {notification_id!r} is unknown")


@dataclass(frozen=True, slots=True)
class Message:
    """A notification's message rendered again.

    Attributes:
        rendered: the email (subject, HTML, text) or the SMS text; None for a webhook.
        body: the webhook's JSON body, indented; None for email and SMS.
        encoding: the SMS's encoding (``GSM-7`` or ``UCS-2``); None for the others.
        segments: the SMS parts it takes; None for the others.
        problem: why the message cannot be rendered (masked); None when it can.
    """

    rendered: RenderedMessage | None = None
    body: str | None = None
    encoding: str | None = None
    segments: int | None = None
    problem: str | None = None


def dossier(reads: Reads, engine: Engine, return_id: str) -> Dossier:
    """The return ``return_id`` as the console shows it.

    Raises:
        NotFoundError: no event was ever accepted for it.
    """
    detail = reads.return_detail(return_id)
    with engine.connect() as connection:
        snapshot = connection.execute(
            select(db.returns.c.snapshot).where(db.returns.c.return_id == return_id)
        ).scalar_one_or_none()
    snapshot = snapshot or {}
    customer = dict(snapshot.get("customer") or {})
    if customer.get("email"):
        customer["email"] = mask_email(customer["email"])
    if customer.get("phone"):
        customer["phone"] = mask_phone(customer["phone"])
    return Dossier(detail, dict(snapshot.get("return") or {}), customer, dict(snapshot))


def stored(engine: Engine, return_id: str, notification_id: str) -> NotificationRecord:
    """The stored notification ``notification_id`` of the return ``return_id``.

    Raises:
        NotFoundError: the return has no such notification.
    """
    n = db.notifications.c
    with engine.connect() as connection:
        row = connection.execute(
            select(db.notifications).where(n.id == notification_id, n.return_id == return_id)
        ).first()
    if row is None:
        raise NotFoundError(f"notification {notification_id!r} is unknown")
    return NotificationRecord.from_row(row)


#: What a message whose personal data retention removed shows instead of itself.
REMOVED_MESSAGE = (
    "Its personal data was removed after the retention period: it cannot be shown again."
)


def message(
    sender: Sender, record: NotificationRecord, snapshot: dict[str, Any] | None = None
) -> Message:
    """The message of ``record`` as it was sent (or will be), rendered again by ``sender``
    (from ``snapshot`` when the caller has read the return already). Once retention removed
    the personal data it was rendered from, it says so instead."""
    if record.recipient == REMOVED_RECIPIENT or snapshot == {}:
        return Message(problem=REMOVED_MESSAGE)
    try:
        if record.channel == Channel.WEBHOOK:
            body = json.loads(sender.webhook_body_again(record, snapshot))
            return Message(body=json.dumps(body, indent=2, ensure_ascii=False))
        rendered = sender.render_again(record, snapshot)
    except RenderError as error:
        return Message(problem=mask_text(str(error)))
    if record.channel == Channel.SMS:
        size = measure(rendered.text)
        return Message(rendered, encoding=size.encoding, segments=size.segments)
    return Message(rendered)
