"""The table of channel classes, by medium and provider.

An explicit table, not discovery: adding a channel means writing its module
and adding one line here. The service's composition root picks a class from
this table according to its settings and builds it with that class's own
arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from channels.base import Channel
from channels.email_outbox import OutboxEmailChannel
from channels.email_sendgrid import SendGridEmailChannel
from channels.errors import ChannelConfigurationError
from channels.sms_outbox import OutboxSmsChannel
from channels.sms_twilio import TwilioSmsChannel
from channels.webhook import WebhookChannel
from channels.webhook_outbox import OutboxWebhookChannel

__all__ = ["CHANNEL_CLASSES", "channel_class"]

#: ``(medium, provider)`` -> the class that sends that medium through that provider.
CHANNEL_CLASSES: Final[Mapping[tuple[str, str], type[Channel[Any]]]] = {
    ("email", "sendgrid"): SendGridEmailChannel,
    ("email", "outbox"): OutboxEmailChannel,
    ("sms", "twilio"): TwilioSmsChannel,
    ("sms", "outbox"): OutboxSmsChannel,
    ("webhook", "http"): WebhookChannel,
    ("webhook", "outbox"): OutboxWebhookChannel,
}


def channel_class(medium: str, provider: str) -> type[Channel[Any]]:
    """The class registered for ``medium`` and ``provider``.

    Raises:
        ChannelConfigurationError: No such pair; the message lists the known ones.
    """
    try:
        return CHANNEL_CLASSES[(medium, provider)]
    except KeyError:
        known = ", ".join(f"{m}/{p}" for m, p in sorted(CHANNEL_CLASSES))
        raise ChannelConfigurationError(
            f"no {medium} channel for provider {provider!r}; known: {known}"
        ) from None
