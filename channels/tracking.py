"""The shared status vocabulary that provider callbacks are mapped to.

Each provider reports delivery in its own words (SendGrid's ``processed``,
``bounce``, ``dropped``; Twilio's ``sent``, ``undelivered``). Their parsers turn
those into ``TrackingEvent`` values with one of the ``TrackingStatus`` values
below, so the service handles every provider the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["TrackingEvent", "TrackingStatus"]


class TrackingStatus(StrEnum):
    """What happened to a message, in provider-neutral words."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    DEFERRED = "deferred"
    BOUNCED = "bounced"
    FAILED = "failed"
    COMPLAINED = "complained"
    UNSUBSCRIBED = "unsubscribed"
    OPENED = "opened"
    CLICKED = "clicked"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    """One status report from a provider callback.

    Attributes:
        provider: The provider's short name (``sendgrid``, ``twilio``).
        status: The normalized status.
        notification_id: The notification's id when the provider carried it back.
        provider_message_id: The provider's id for the message, as returned by ``send()``.
        recipient: The address or number the report is about.
        timestamp: When the provider says it happened (timezone-aware), if it says.
        reason: The provider's explanation (bounce reason, error code), if any.
        hard: True when the failure is permanent for this recipient (a hard
            bounce, an unknown or opted-out number): the address should not be
            tried again.
    """

    provider: str
    status: TrackingStatus
    notification_id: str | None
    provider_message_id: str | None
    recipient: str | None
    timestamp: datetime | None
    reason: str | None
    hard: bool
