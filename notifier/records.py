"""Typed records: rows as they leave the store for another layer.

Inside a module a query may use SQLAlchemy's rows as they come; a row that travels to
another stage (a claimed notification to the sender, a return to the rule that rechecks
it, a dead letter to the CLI) travels as one of these frozen dataclasses, whose closed
sets are the enums of :mod:`notifier.status`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, Self

from sqlalchemy import Row

from notifier.status import Channel, EventType, NotificationStatus

#: A selected row, whatever its columns.
AnyRow = Row[*tuple[Any, ...]]


def _columns(cls: type[Any], row: AnyRow) -> dict[str, Any]:
    """The values of ``row`` for the fields of dataclass ``cls``."""
    mapping = row._mapping
    return {f.name: mapping[f.name] for f in fields(cls)}


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """One ``notifications`` row: one message to one recipient on one channel."""

    id: str
    event_pk: int | None
    source: str
    return_id: str
    customer_id: str
    kind: str
    channel: Channel
    recipient: str
    locale: str
    timezone: str
    rule: str | None
    reason: str | None
    data: dict[str, Any] | None
    status: NotificationStatus
    attempts: int
    dead: bool
    provider: str | None
    provider_message_id: str | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None

    @classmethod
    def from_row(cls, row: AnyRow) -> Self:
        """The record of a row selected with every column of ``notifications``."""
        values = _columns(cls, row)
        values["channel"] = Channel(values["channel"])
        values["status"] = NotificationStatus(values["status"])
        values["dead"] = bool(values["dead"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class ReturnRecord:
    """One ``returns`` row: a return's latest known status and facts."""

    return_id: str
    order_id: str
    customer_id: str
    status: EventType
    status_at: datetime
    snapshot: dict[str, Any]
    ship_by: date | None
    label_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: AnyRow) -> Self:
        """The record of a row selected with every column of ``returns``."""
        values = _columns(cls, row)
        values["status"] = EventType(values["status"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class WebhookSubscription:
    """One ``webhooks`` row without its secret: where a return system wants events pushed."""

    id: str
    url: str
    types: list[str]
    active: bool
    disabled_reason: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: AnyRow) -> Self:
        """The record of a selected ``webhooks`` row."""
        values = _columns(cls, row)
        values["types"] = list(values["types"])
        values["active"] = bool(values["active"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class CustomerPreferences:
    """One ``customers`` row: what a customer chose (None where they chose nothing)."""

    customer_id: str
    email: bool | None
    sms: bool | None
    locale: str | None
    timezone: str | None

    @classmethod
    def from_row(cls, row: AnyRow) -> Self:
        """The record of a selected ``customers`` row."""
        return cls(**_columns(cls, row))


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A notification that exhausted its retries, as staff see it (recipient masked)."""

    id: str
    return_id: str
    kind: str
    channel: Channel
    recipient: str
    attempts: int
    last_error: str | None
    updated_at: datetime

    @classmethod
    def from_row(cls, row: AnyRow) -> Self:
        """The record of a selected ``notifications`` row, as it is stored (unmasked)."""
        values = _columns(cls, row)
        values["channel"] = Channel(values["channel"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Suppression:
    """One ``suppressions`` row: an address never to message again on a channel, and why."""

    channel: Channel
    address: str
    reason: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: AnyRow) -> Self:
        """The record of a selected ``suppressions`` row."""
        values = _columns(cls, row)
        values["channel"] = Channel(values["channel"])
        return cls(**values)
