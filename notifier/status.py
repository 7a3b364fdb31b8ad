"""The service's vocabulary: every closed set of values, defined once.

Each set is a :class:`~enum.StrEnum`, so a member is also the plain string stored in the
database, written in JSON and shown in the API. The store, delivery, tracking, the read
API, its schemas and OpenAPI document, and the metrics all use these; the database refuses
any other value (CHECK constraints, :mod:`notifier.db`). A value one layer writes can
therefore never be one another layer does not know.
"""

from __future__ import annotations

from enum import StrEnum


class NotificationStatus(StrEnum):
    """Where one notification stands (CONTRACT section 4).

    A dead letter is ``failed`` with the ``dead`` flag set: it exhausted its retries.
    """

    #: Held until a later moment: an SMS waiting for the end of the quiet hours.
    SCHEDULED = "scheduled"
    #: Waiting for its (next) delivery attempt.
    QUEUED = "queued"
    #: Accepted by the provider.
    SENT = "sent"
    #: The provider reports it reached the recipient.
    DELIVERED = "delivered"
    #: The provider accepted it and the address rejected it (a hard bounce).
    BOUNCED = "bounced"
    #: The provider refused it for good, or every retry failed (then a dead letter).
    FAILED = "failed"
    #: Not sent: the address is suppressed or the customer opted out of the channel.
    SUPPRESSED = "suppressed"
    #: Not sent: no longer relevant when its time came (the return moved on).
    SKIPPED = "skipped"


#: Statuses of a notification that may still be sent.
PENDING: frozenset[NotificationStatus] = frozenset(
    {NotificationStatus.SCHEDULED, NotificationStatus.QUEUED}
)

#: Statuses saying the message will not reach the recipient on its channel.
UNDELIVERABLE: frozenset[NotificationStatus] = frozenset(
    {NotificationStatus.BOUNCED, NotificationStatus.FAILED}
)

#: How far along each status is, for provider callbacks that arrive late, twice and out of
#: order: a callback only ever moves a notification to a higher rank. Statuses without a
#: rank (suppressed, skipped) are final and never moved by a callback.
PROGRESS: dict[NotificationStatus, int] = {
    NotificationStatus.QUEUED: 0,
    NotificationStatus.SCHEDULED: 0,
    NotificationStatus.SENT: 1,
    NotificationStatus.DELIVERED: 2,
    NotificationStatus.BOUNCED: 3,
    NotificationStatus.FAILED: 3,
}


#: A notification's recipient once its personal data was removed (retention): what it was
#: is gone, that it was sent (or not) stays.
REMOVED_RECIPIENT = "[removed]"


class Decision(StrEnum):
    """What would become of one message a preview shows (CONTRACT section 4, ``POST
    /v1/preview``)."""

    #: It would be sent now.
    SEND = "send"
    #: It would wait, as ``scheduled``, until ``send_at``: an SMS in the quiet hours.
    HOLD = "hold"
    #: It would not be sent: the address is suppressed or the customer opted out.
    SUPPRESS = "suppress"
    #: It would not be sent: the event is stale, a duplicate, or the return has moved on.
    SKIP = "skip"


class Channel(StrEnum):
    """A way to reach someone."""

    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"


class EventType(StrEnum):
    """The status events a return system may post (CONTRACT section 3), in the order a
    return normally moves through them. A return's current status is one of these."""

    REQUESTED = "return.requested"
    APPROVED = "return.approved"
    REJECTED = "return.rejected"
    LABEL_CREATED = "return.label_created"
    IN_TRANSIT = "return.in_transit"
    RECEIVED = "return.received"
    INSPECTED = "return.inspected"
    REFUND_ISSUED = "return.refund_issued"
    EXCHANGE_SHIPPED = "return.exchange_shipped"
    CANCELLED = "return.cancelled"
    CLOSED = "return.closed"


class ScheduledKind(StrEnum):
    """The message kinds the scheduler sends; no one posts these."""

    SHIP_BY = "reminder.ship_by"
    LABEL_EXPIRING = "reminder.label_expiring"
    #: The ship-by date has passed and the items were not handed in.
    EXPIRED = "return.expired"
    STALE = "nudge.stale"
    STAFF_STALE = "staff.stale_return"


class NotificationEvent(StrEnum):
    """What became of a customer's email or SMS, told to the webhook subscribers that asked
    for it (``notification.*``); no one posts these, and none is told about a webhook."""

    #: The provider reports it reached the recipient.
    DELIVERED = "notification.delivered"
    #: The provider accepted it and the address rejected it.
    BOUNCED = "notification.bounced"
    #: The provider refused it for good, it could not be rendered, or every retry failed.
    FAILED = "notification.failed"
    #: Not sent: the address is suppressed or the customer opted out of the channel.
    SUPPRESSED = "notification.suppressed"


#: The webhook event each notification status is told as; other statuses are not told.
STATUS_EVENTS: dict[NotificationStatus, NotificationEvent] = {
    NotificationStatus.DELIVERED: NotificationEvent.DELIVERED,
    NotificationStatus.BOUNCED: NotificationEvent.BOUNCED,
    NotificationStatus.FAILED: NotificationEvent.FAILED,
    NotificationStatus.SUPPRESSED: NotificationEvent.SUPPRESSED,
}


class EventOutcome(StrEnum):
    """What became of one posted event, as counted in ``notifier_events_total``."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    INVALID = "invalid"


class InspectionOutcome(StrEnum):
    """The warehouse's verdict on a returned parcel (``return.inspection.outcome``)."""

    ACCEPTED = "accepted"
    PARTIALLY_ACCEPTED = "partially_accepted"
    REJECTED = "rejected"


class RejectionCode(StrEnum):
    """Why a return or an item was not accepted (``return.rejection_code``, and ``code`` of
    ``return.inspection.rejected_items``); the templates say it in the customer's language."""

    OUTSIDE_WINDOW = "outside_window"
    NOT_ELIGIBLE = "not_eligible"
    USED_OR_WORN = "used_or_worn"
    TAGS_REMOVED = "tags_removed"
    DAMAGED = "damaged"
    INCOMPLETE = "incomplete"
    OTHER = "other"


class Disposition(StrEnum):
    """What happens to an item the inspection did not accept."""

    #: We send it back to the customer.
    SENT_BACK = "sent_back"
    #: We keep it until the customer chooses.
    HELD = "held"
    #: Disposed of, with the customer's consent.
    DISPOSED = "disposed"


class ReturnMethod(StrEnum):
    """How the parcel gets back to the shop (``return.method``)."""

    #: The customer takes it to a carrier's drop-off point.
    DROP_OFF = "drop_off"
    #: The carrier collects it from the customer (``return.pickup``).
    PICKUP = "pickup"
    #: The customer hands it in at a store (``return.store``).
    IN_STORE = "in_store"


class RefundMethod(StrEnum):
    """Where the money of a refund goes (``return.refund.method``)."""

    ORIGINAL_PAYMENT = "original_payment"
    STORE_CREDIT = "store_credit"
    GIFT_CARD = "gift_card"


class PaymentMethod(StrEnum):
    """How the customer paid (``return.refund.payment_method``): decides how long a refund to
    the original payment method takes to arrive."""

    IDEAL = "ideal"
    CARD = "card"
    PAYPAL = "paypal"
    #: The Klarna invoice is adjusted rather than money paid back.
    KLARNA = "klarna"
    BANCONTACT = "bancontact"
    OTHER = "other"


class DeductionReason(StrEnum):
    """Why part of a refund was kept back (``return.refund.deductions[].reason``)."""

    RETURN_SHIPPING = "return_shipping"
    DAMAGE = "damage"


class ReturnShipping(StrEnum):
    """Who pays the return shipping (``policy.return_shipping``)."""

    FREE = "free"
    PAID = "paid"
    DEDUCTED = "deducted"
