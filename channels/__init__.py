"""Channels: sending rendered messages through providers, and reading their callbacks.

A leaf package: it imports the standard library, the provider SDKs
(``sendgrid``, ``twilio``), ``httpx`` and ``cryptography``, and nothing of the
service. Modules:

- ``base``: the message types, ``SendResult`` and the ``Channel`` protocol;
- ``errors``: the error tree (transient, permanent, configuration, callbacks);
- ``answers``: the one rule for a provider's refusal, transient or permanent;
- ``tracking``: the shared delivery-status vocabulary of callbacks;
- ``email_sendgrid``, ``email_sendgrid_events``: SendGrid mail and its Event Webhook;
- ``sms_twilio``, ``sms_twilio_events``: Twilio SMS and its status callbacks;
- ``webhook``, ``address_guard``: signed outbound webhooks and their SSRF guard;
- ``email_outbox``, ``sms_outbox``, ``outbox_file``: the development outbox used
  when no provider is configured;
- ``memory``: in-memory channels for tests, which keep what they are asked to
  send and answer as told;
- ``retry_after``: reading ``Retry-After`` and ``X-RateLimit-Reset``.

Which channel sends each medium is decided by the service's composition root
(``notifier/service.py``, ``build_senders``) from its settings: an explicit
table there, not discovery.
"""

from channels.base import (
    Channel,
    EmailAttachment,
    EmailMessage,
    SendResult,
    SmsMessage,
    WebhookMessage,
)
from channels.email_outbox import OutboxEmailChannel
from channels.email_sendgrid import (
    SendGridEmailChannel,
    parse_sendgrid_events,
    verify_sendgrid_signature,
)
from channels.errors import (
    CallbackError,
    ChannelConfigurationError,
    ChannelError,
    MalformedCallbackError,
    PermanentChannelError,
    SignatureError,
    TransientChannelError,
)
from channels.memory import (
    MemoryChannel,
    MemoryEmailChannel,
    MemorySmsChannel,
    MemoryWebhookChannel,
)
from channels.sms_outbox import OutboxSmsChannel
from channels.sms_twilio import TwilioSmsChannel, parse_twilio_status, verify_twilio_signature
from channels.tracking import TrackingEvent, TrackingStatus
from channels.webhook import WebhookChannel, new_webhook_secret, sign_webhook

__all__ = [
    "CallbackError",
    "Channel",
    "ChannelConfigurationError",
    "ChannelError",
    "EmailAttachment",
    "EmailMessage",
    "MalformedCallbackError",
    "MemoryChannel",
    "MemoryEmailChannel",
    "MemorySmsChannel",
    "MemoryWebhookChannel",
    "OutboxEmailChannel",
    "OutboxSmsChannel",
    "PermanentChannelError",
    "SendGridEmailChannel",
    "SendResult",
    "SignatureError",
    "SmsMessage",
    "TrackingEvent",
    "TrackingStatus",
    "TransientChannelError",
    "TwilioSmsChannel",
    "WebhookChannel",
    "WebhookMessage",
    "new_webhook_secret",
    "parse_sendgrid_events",
    "parse_twilio_status",
    "sign_webhook",
    "verify_sendgrid_signature",
    "verify_twilio_signature",
]
