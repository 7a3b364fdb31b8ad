"""The explicit table of channel classes."""

from __future__ import annotations

import pytest

from channels.email_outbox import OutboxEmailChannel
from channels.email_sendgrid import SendGridEmailChannel
from channels.errors import ChannelConfigurationError
from channels.registry import CHANNEL_CLASSES, channel_class
from channels.sms_outbox import OutboxSmsChannel
from channels.sms_twilio import TwilioSmsChannel
from channels.webhook import WebhookChannel
from channels.webhook_outbox import OutboxWebhookChannel


def test_the_table_lists_every_channel() -> None:
    # Given the registry, Then it is exactly the known channels
    assert dict(CHANNEL_CLASSES) == {
        ("email", "sendgrid"): SendGridEmailChannel,
        ("email", "outbox"): OutboxEmailChannel,
        ("sms", "twilio"): TwilioSmsChannel,
        ("sms", "outbox"): OutboxSmsChannel,
        ("webhook", "http"): WebhookChannel,
        ("webhook", "outbox"): OutboxWebhookChannel,
    }


@pytest.mark.parametrize(("medium", "provider"), sorted(CHANNEL_CLASSES))
def test_each_class_names_its_medium(medium: str, provider: str) -> None:
    # Given a registered class, Then its name is the medium it is registered under
    assert channel_class(medium, provider).name == medium


def test_an_unknown_pair_is_a_configuration_error_listing_the_known_ones() -> None:
    # When an unknown provider is asked for, Then the error lists what exists
    with pytest.raises(ChannelConfigurationError, match="sms/twilio"):
        channel_class("sms", "messagebird")
