"""HTTP bodies: the event a return system posts, and the answers. Pydantic lives here only.

Validation is strict where a wrong value would reach a customer: money is a decimal string
(never a float), times carry an offset, phone numbers are normalized to E.164 with the
configured default region, e-mail addresses must look deliverable.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from notifier.status import (
    Channel,
    Decision,
    DeductionReason,
    Disposition,
    EventType,
    InspectionOutcome,
    NotificationEvent,
    NotificationStatus,
    PaymentMethod,
    RefundMethod,
    RejectionCode,
    ReturnMethod,
    ReturnShipping,
    ScheduledKind,
)

_EMAIL = re.compile(
    r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}$"
)
_MONEY = re.compile(r"^-?\d{1,12}(\.\d{1,4})?$")


def _money(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError('must be a decimal string such as "49.95", not a number')
    if not _MONEY.match(value):
        raise ValueError('must be a decimal string such as "49.95"')
    try:
        Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern already guarantees it
        raise ValueError('must be a decimal string such as "49.95"') from None
    return value


def email_address(value: str) -> str:
    """``value`` if it looks like a deliverable e-mail address, as intake accepts one.

    Raises:
        ValueError: it does not.
    """
    if not _EMAIL.match(value):
        raise ValueError("is not a valid e-mail address")
    return value


def phone_number(value: str, region: str) -> str:
    """``value`` as an E.164 number, read as intake reads a customer's phone number.

    Args:
        value: the number as written, with or without its country code.
        region: the region of a number without a country code (``NOTIFIER_DEFAULT_REGION``).

    Raises:
        ValueError: it is not a phone number, or not a possible one for its country.
    """
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise ValueError("is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("is not a possible phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


#: The years a return's times and dates may fall in. Anything outside is a mistake (and
#: year 1 or 9999 with an offset cannot even be turned into UTC, nor a reminder be counted
#: back from it).
FIRST_YEAR, LAST_YEAR = 2000, 2199


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must include a UTC offset, such as 2026-11-20T10:15:00+01:00")
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must be in the years {FIRST_YEAR} to {LAST_YEAR}")
    return value


def _in_range(value: date) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must be in the years {FIRST_YEAR} to {LAST_YEAR}")
    return value


def _written(example: str) -> Any:
    """A validator that refuses anything but a string (pydantic would read numbers as times)."""

    def check(value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError(f"must be a string such as {example}")
        return value

    return BeforeValidator(check)


Money = Annotated[str, BeforeValidator(_money)]
AwareDatetime = Annotated[datetime, _written("2026-11-20T10:15:00+01:00"), AfterValidator(_aware)]
CalendarDate = Annotated[date, _written("2026-12-04"), AfterValidator(_in_range)]
#: Identifiers are compared, stored in text columns and shown: tabs, newlines and NUL
#: (which PostgreSQL's text cannot hold) have no place in them. Free text may hold anything
#: but NUL. Patterns rather than Python validators, so they are checked in pydantic-core.
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"
NO_NUL = r"^[^\x00]*$"
#: Return and customer ids are read back in a URL path (``/v1/returns/{id}``), where a
#: slash would end the segment: refused at intake rather than stored unreadable.
NO_CONTROL_CHARACTERS_OR_SLASH = r"^[^\x00-\x1f\x7f/]*$"
#: What each pattern's 422 says instead of "String should match pattern ...".
PATTERN_MESSAGES = {
    NO_CONTROL_CHARACTERS: "must not contain control characters (tab, newline, NUL, ...)",
    NO_NUL: "must not contain a NUL character",
    NO_CONTROL_CHARACTERS_OR_SLASH: "must not contain a slash or control characters "
    "(it is read back in a URL path)",
}

Text = Annotated[str, Field(min_length=1, max_length=2000, pattern=NO_NUL)]
Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=NO_CONTROL_CHARACTERS)]
PathIdentifier = Annotated[
    str, Field(min_length=1, max_length=128, pattern=NO_CONTROL_CHARACTERS_OR_SLASH)
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, use_enum_values=True)


#: A time of day, ``HH:MM`` on the 24-hour clock.
ClockTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Variant = Annotated[str, Field(min_length=1, max_length=100, pattern=NO_CONTROL_CHARACTERS)]


class Item(_Body):
    sku: Identifier
    name: Text
    quantity: int = Field(ge=1, le=10_000, strict=True)
    unit_price: Money | None = None
    reason: Text | None = None
    variant: Variant | None = None


class Deduction(_Body):
    reason: DeductionReason
    amount: Money


class GiftCard(_Body):
    code: Annotated[str, Field(min_length=1, max_length=128, pattern=NO_CONTROL_CHARACTERS)]
    expires_on: CalendarDate | None = None


class StoreCredit(_Body):
    expires_on: CalendarDate | None = None


class Refund(_Body):
    amount: Money
    method: RefundMethod | None = None
    payment_method: PaymentMethod | None = None
    deductions: list[Deduction] = Field(default_factory=list, max_length=20)
    gift_card: GiftCard | None = None
    store_credit: StoreCredit | None = None

    @model_validator(mode="after")
    def _gift_card_has_a_code(self) -> Refund:
        if self.method == RefundMethod.GIFT_CARD and self.gift_card is None:
            raise ValueError("refund.gift_card (with its code) is required with method gift_card")
        return self


class Pickup(_Body):
    carrier: Text | None = None
    date: CalendarDate
    from_: ClockTime | None = Field(default=None, alias="from")
    to: ClockTime | None = None

    @model_validator(mode="after")
    def _a_window(self) -> Pickup:
        if self.from_ is not None and self.to is not None and self.from_ >= self.to:
            raise ValueError("pickup window must end after it starts (from before to)")
        return self


class Store(_Body):
    name: Text
    address: Text | None = None
    opening_hours: Text | None = None


class Label(_Body):
    url: Annotated[str, Field(pattern=r"^https?://", max_length=2048)] | None = None
    carrier: Text | None = None
    tracking_number: Text | None = None
    expires_at: AwareDatetime | None = None


class DropOff(_Body):
    name: Text | None = None
    address: Text | None = None


class RejectedItem(_Body):
    sku: Identifier
    quantity: int = Field(default=1, ge=1, le=10_000, strict=True)
    code: RejectionCode
    disposition: Disposition | None = None


class AcceptedItem(_Body):
    sku: Identifier
    quantity: int = Field(default=1, ge=1, le=10_000, strict=True)


class Inspection(_Body):
    outcome: InspectionOutcome | None = None
    note: Text | None = None
    accepted_items: list[AcceptedItem] = Field(default_factory=list, max_length=200)
    rejected_items: list[RejectedItem] = Field(default_factory=list, max_length=200)


class ExchangeItem(_Body):
    sku: Identifier
    name: Text
    quantity: int = Field(ge=1, le=10_000, strict=True)
    variant: Variant | None = None


class Exchange(_Body):
    items: list[ExchangeItem] = Field(default_factory=list, max_length=200)
    carrier: Text | None = None
    tracking_number: Text | None = None
    tracking_url: Annotated[str, Field(pattern=r"^https?://", max_length=2048)] | None = None


class Return(_Body):
    id: PathIdentifier
    order_id: Identifier
    method: ReturnMethod | None = None
    ship_by: CalendarDate | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"
    items: list[Item] = Field(default_factory=list, max_length=200)
    refund: Refund | None = None
    label: Label | None = None
    drop_off: DropOff | None = None
    pickup: Pickup | None = None
    store: Store | None = None
    inspection: Inspection | None = None
    rejection_code: RejectionCode | None = None
    rejection_reason: Text | None = None
    exchange: Exchange | None = None
    status_url: Annotated[str, Field(pattern=r"^https?://", max_length=2048)] | None = None


class Customer(_Body):
    id: PathIdentifier
    name: Annotated[str, Field(max_length=200, pattern=NO_NUL)] | None = None
    first_name: Annotated[str, Field(max_length=100, pattern=NO_NUL)] | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    phone: Annotated[str, Field(max_length=32)] | None = None
    locale: Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")] | None = None
    timezone: Annotated[str, Field(max_length=64)] | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        return email_address(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or value == "":
            return None
        return phone_number(value, (info.context or {}).get("region", "NL"))

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not an IANA time zone such as Europe/Amsterdam") from None
        return value

    @model_validator(mode="after")
    def _reachable(self) -> Customer:
        if self.email is None and self.phone is None:
            raise ValueError("customer needs at least one of email or phone")
        return self


class Policy(_Body):
    window_days: int | None = Field(default=None, ge=0, le=365, strict=True)
    return_shipping: ReturnShipping | None = None
    shipping_cost: Money | None = None


class EventIn(_Body):
    """A status event of one return, as a return system posts it (CONTRACT section 3)."""

    event_id: Identifier
    type: EventType
    occurred_at: AwareDatetime
    return_: Return = Field(alias="return")
    customer: Customer
    policy: Policy | None = None

    def payload(self) -> dict[str, Any]:
        """The normalized event as JSON-ready data, in the contract's shape."""
        return self.model_dump(mode="json", by_alias=True)


class BatchIn(_Body):
    """Up to 500 events; each is validated on its own, so one bad event spoils no other."""

    events: list[Any] = Field(min_length=1, max_length=500)


class EventAnswer(BaseModel):
    event_id: str
    return_id: str
    duplicate: bool


class Problem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ProblemAnswer(BaseModel):
    detail: list[Problem] | str


class Preferences(_Body):
    email: bool | None = None
    sms: bool | None = None
    locale: Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")] | None = None
    timezone: str | None = None

    _tz = field_validator("timezone")(Customer._timezone.__func__)  # type: ignore[attr-defined]


#: The ``notification.*`` types a subscription may name.
NOTIFICATION_TYPES = ("notification.*", *(event.value for event in NotificationEvent))


def _notification_type(value: str) -> str:
    """Refuse a ``notification.`` type that is not one notifier tells of."""
    if value.startswith("notification.") and value not in NOTIFICATION_TYPES:
        raise ValueError(f"unknown notification event {value!r}: one of {NOTIFICATION_TYPES}")
    return value


WebhookType = Annotated[
    str,
    Field(
        pattern=r"^(\*|return\.\*|[a-z]+\.[a-z_]+|[a-z]+\.\*)$",
        description="A return event (`return.refund_issued`), a scheduled kind "
        "(`reminder.ship_by`), a family (`return.*`, `reminder.*`), `*` for every return "
        "event and scheduled kind, or what became of a customer's message: "
        + ", ".join(f"`{t}`" for t in NOTIFICATION_TYPES)
        + " (only named: `*` does not include them).",
        examples=["return.*", "notification.*", "notification.bounced"],
    ),
    AfterValidator(_notification_type),
]


class WebhookIn(_Body):
    url: Annotated[str, Field(pattern=r"^https?://[^\s\x00-\x1f\x7f]+$", max_length=2048)]
    types: list[WebhookType] = Field(
        default_factory=lambda: ["return.*"], min_length=1, max_length=50
    )


class TimelineEntry(BaseModel):
    """One step in a return's story, in the order things happened: an accepted event, or a
    reminder or nudge the scheduler sent (``rule`` set, no ``event_id``)."""

    event_id: str | None
    type: EventType | ScheduledKind
    occurred_at: datetime
    received_at: datetime
    stale: bool = Field(description="older than the status known when it arrived: sent nothing")
    note: str | None = Field(
        description="why the step is unusual (stale, unexpected, ...); for a reminder or "
        "nudge, what became of it on each channel"
    )
    rule: str | None = Field(
        default=None,
        description="the scheduler rule of a reminder or nudge",
        examples=["ship_by-3d"],
    )


class NotificationOut(BaseModel):
    """One message to one recipient on one channel; the recipient is masked."""

    id: str
    kind: str
    channel: Channel
    recipient: str = Field(examples=["s***@example.nl", "+316*****678"])
    status: NotificationStatus
    attempts: int
    provider_message_id: str | None
    last_error: str | None
    return_id: str
    event_id: str | None
    rule: str | None
    reason: str | None
    dead_letter: bool
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None


class ReturnDetail(BaseModel):
    """A return's current status, its timeline and every notification sent about it."""

    return_id: str
    order_id: str
    customer_id: str
    status: EventType
    status_at: datetime
    timeline: list[TimelineEntry]
    notifications: list[NotificationOut]
    personal_data_removed_at: datetime | None = Field(
        None,
        description="When retention removed the personal data of the return's events and "
        "notifications (their payloads, recipients, template data and errors); null if it "
        "has not.",
    )
    personal_data: str | None = Field(
        None,
        description="What a reader is told once personal data was removed, such as "
        "'personal data removed after 90 days (2026-11-26)'; null while it is all there.",
    )


class ErasureResult(BaseModel):
    """What ``DELETE /v1/customers/{customer_id}`` erased, by table."""

    customer_id: str
    erased: dict[str, int] = Field(
        description="Rows by table: returns, events, notifications (of which cancelled: "
        "still to be sent; dead_letters), outbox, agenda (reminders the scheduler would "
        "have sent), preferences, and suppressions (kept, under a pseudonym instead of the "
        "address). All zero when nothing was stored.",
        examples=[
            {
                "returns": 1,
                "events": 3,
                "notifications": 5,
                "cancelled": 1,
                "dead_letters": 0,
                "outbox": 3,
                "agenda": 2,
                "preferences": 1,
                "suppressions": 0,
            }
        ],
    )


class CustomerEvent(BaseModel):
    event_id: str
    type: str
    occurred_at: datetime
    received_at: datetime
    payload: dict[str, Any] = Field(description="The event as posted ({} once purged).")


class CustomerReturn(BaseModel):
    return_id: str
    order_id: str
    status: str
    status_at: datetime
    created_at: datetime
    updated_at: datetime
    personal_data_removed_at: datetime | None
    facts: dict[str, Any] = Field(description="The return's latest known facts.")
    events: list[CustomerEvent]


class CustomerNotification(BaseModel):
    id: str
    return_id: str
    kind: str
    channel: str
    recipient: str = Field(description="In clear: this answer is for the customer.")
    locale: str
    timezone: str
    status: str
    reason: str | None
    data: dict[str, Any] | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class CustomerPreferences(BaseModel):
    email: bool | None
    sms: bool | None
    locale: str | None
    timezone: str | None
    updated_at: datetime


class CustomerSuppression(BaseModel):
    channel: str
    address: str
    reason: str
    created_at: datetime


class CustomerData(BaseModel):
    """Everything stored about one customer (GDPR/AVG access request)."""

    customer_id: str
    returns: list[CustomerReturn]
    notifications: list[CustomerNotification]
    preferences: CustomerPreferences | None
    suppressions: list[CustomerSuppression]


class NotificationPage(BaseModel):
    """One page of notifications, newest first; pass ``next_cursor`` for the next page."""

    notifications: list[NotificationOut]
    next_cursor: str | None


class PreferencesOut(BaseModel):
    """A customer's stored preferences; ``null`` means not set (the event's value is used)."""

    customer_id: str
    email: bool | None
    sms: bool | None
    locale: str | None
    timezone: str | None


class WebhookOut(BaseModel):
    """A webhook subscription, without its secret."""

    id: str
    url: str
    types: list[str]
    active: bool
    disabled_reason: str | None
    created_at: datetime


class ToldNotification(BaseModel):
    """The customer's message a ``notification.*`` webhook tells of."""

    id: str = Field(description="the message's notification id", examples=["ntf_3f9c..."])
    return_id: str
    customer_id: str
    kind: EventType | ScheduledKind = Field(description="the message kind")
    channel: Literal[Channel.EMAIL, Channel.SMS]
    status: Literal[
        NotificationStatus.DELIVERED,
        NotificationStatus.BOUNCED,
        NotificationStatus.FAILED,
        NotificationStatus.SUPPRESSED,
    ]
    recipient: str = Field(
        description="the address, masked as the read API masks it",
        examples=["s***@example.nl", "+316*****678"],
    )
    reason: str | None = Field(
        description="why it bounced, failed or was suppressed, as the provider or delivery "
        "said it, with addresses, phone numbers and the customer's name masked; null when "
        "delivered",
        examples=["sendgrid bounced: 550 5.1.1 s***@example.nl: user unknown"],
    )


class StatusHookBody(BaseModel):
    """The JSON body of a ``notification.*`` webhook, signed as every webhook is (Standard
    Webhooks; ``webhook-id`` is ``id``)."""

    id: str = Field(description="this webhook's id: unique, the same on every retry")
    type: NotificationEvent
    occurred_at: datetime = Field(description="when the message reached the status")
    notification: ToldNotification


class WebhookCreated(BaseModel):
    """A new subscription; the only answer that shows its signing secret."""

    id: str
    url: str
    types: list[str]
    secret: str = Field(examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
    created_at: datetime


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]


class BatchResult(BaseModel):
    """The outcome of one event of a batch: the status a single post would have had."""

    status: Literal[200, 202, 409, 422]
    event_id: str | None = None
    return_id: str | None = None
    duplicate: bool | None = None
    detail: list[Problem] | str | None = None


class BatchAnswer(BaseModel):
    results: list[BatchResult]


class PreviewEventIn(BaseModel):
    """An event to preview: what posting it now would send (nothing is sent or stored)."""

    model_config = ConfigDict(extra="forbid")

    event: EventIn = Field(description="an event as POST /v1/events takes it, validated alike")


class PreviewSampleIn(BaseModel):
    """A built-in sample of a message kind to preview, rendered with the shop's brand."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Annotated[str, Field(min_length=1, max_length=64, examples=["return.refund_issued"])]
    locale: Annotated[
        str,
        Field(
            min_length=1,
            max_length=35,
            description="nl or en, or a regional form (nl-BE, en-GB)",
            examples=["nl"],
        ),
    ]
    channel: Annotated[
        str,
        Field(
            min_length=1,
            max_length=16,
            description="email or sms (staff alerts: email)",
            examples=["sms"],
        ),
    ]
    sample: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=64,
            description="the sample's name; the kind's first when left out",
            examples=["card"],
        ),
    ] = None


class AttachmentOut(BaseModel):
    """A file an email would carry."""

    filename: str
    content_type: str


class SmsSizeOut(BaseModel):
    """How an SMS text would be encoded and what it would cost."""

    encoding: Literal["GSM-7", "UCS-2"]
    characters: int = Field(
        description="the text's length in the encoding's units: septets for GSM-7 (an "
        "extension character such as € takes two), UTF-16 code units for UCS-2"
    )
    segments: int = Field(description="SMS parts it is sent as")


class PreviewMessageOut(BaseModel):
    """One message notifier would send, and what would become of it. Email fields are null
    for SMS and webhooks, the SMS measurement for email and webhooks."""

    kind: str
    channel: Channel
    locale: str = Field(examples=["nl_NL"])
    recipient: str | None = Field(examples=["s***@example.nl", "+316*****678"])
    decision: Decision = Field(
        description="send; hold (an SMS in the quiet hours, sent at send_at); suppress "
        "(address suppressed or customer opted out); skip (stale or repeated event, or the "
        "return moved on)"
    )
    reason: str | None = Field(
        description="why it is suppressed or skipped, or why it would fail (it cannot be "
        "rendered: its content is then null)"
    )
    send_at: datetime | None = Field(description="when a held message would be sent")
    subject: str | None
    preheader: str | None = Field(description="the email's preview line, as plain text")
    html: str | None
    text: str | None = Field(
        description="the email's plain-text body, the SMS text, or the webhook's JSON body "
        "as it would be signed"
    )
    attachments: list[AttachmentOut] | None
    sms: SmsSizeOut | None


class PreviewAnswer(BaseModel):
    """What would be sent: one message per recipient and channel."""

    messages: list[PreviewMessageOut]
