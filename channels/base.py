"""The messages a channel sends, the result it returns and the ``Channel`` protocol.

A channel is one way of reaching someone (email, SMS, webhook) through one
provider. The service hands it a fully rendered message and gets back a
``SendResult``, or one of the errors in ``channels.errors``:

- ``TransientChannelError``: try again later (``retry_after`` seconds when known);
- ``PermanentChannelError``: record the provider's ``reason`` and give up;
- ``ChannelConfigurationError``: a setting is wrong; stop and tell the operator.

Every message carries the notification's stable ``id``. Channels pass it to the
provider where the provider can carry it (SendGrid custom args, the Twilio
status callback URL, the ``webhook-id`` header) so callbacks map back to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

__all__ = [
    "Channel",
    "EmailAttachment",
    "EmailMessage",
    "SendResult",
    "SmsMessage",
    "WebhookMessage",
]


@dataclass(frozen=True, slots=True)
class EmailAttachment:
    """A file attached to an email.

    Attributes:
        filename: The file's name, safe characters only (``retour-RMA-1001.ics``).
        content_type: Its MIME type, with parameters
            (``text/calendar; charset=utf-8; method=PUBLISH``).
        content: The file itself.
    """

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """A rendered email.

    Attributes:
        id: The notification's stable id, also the dedupe key across retries.
        to: The recipient's address.
        sender: The sender, bare or with a display name (``Shop <returns@shop.example>``).
        subject: The subject line.
        text: The plain-text body.
        html: The HTML body, if any.
        reply_to: Where replies go, if not to the sender.
        attachments: Files the email carries, in order.
        click_tracking: Whether the provider may rewrite the links to count clicks. Off by
            default: a label, a return's page or a support link must reach the customer
            as written, not through a tracker's redirect.
    """

    id: str
    to: str
    sender: str
    subject: str
    text: str
    html: str | None = None
    reply_to: str | None = None
    attachments: tuple[EmailAttachment, ...] = ()
    click_tracking: bool = False


@dataclass(frozen=True, slots=True)
class SmsMessage:
    """A rendered text message.

    Attributes:
        id: The notification's stable id.
        to: The recipient's number in E.164 form (``+31612345678``).
        text: The body.
    """

    id: str
    to: str
    text: str


@dataclass(frozen=True, slots=True)
class WebhookMessage:
    """A webhook delivery to one subscribed endpoint.

    Attributes:
        id: The stable ``webhook-id``, the same on every retry.
        url: The subscriber's endpoint.
        body: The JSON body, already serialized.
        secret: The subscription's ``whsec_`` secret.
        timestamp: Unix seconds of this attempt (``webhook-timestamp``).
    """

    id: str
    url: str
    body: bytes
    secret: str
    timestamp: int


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the provider said when it accepted a message.

    Attributes:
        provider: The provider's short name (``sendgrid``, ``twilio``, ``outbox``, ``webhook``).
        provider_message_id: The provider's id for the message, used to match
            its delivery callbacks; None when the provider gives none.
    """

    provider: str
    provider_message_id: str | None


M_contra = TypeVar("M_contra", contravariant=True)


class Channel(Protocol[M_contra]):
    """One way of sending one kind of message.

    Attributes:
        name: The medium: ``email``, ``sms`` or ``webhook``.
    """

    name: str

    def send(self, message: M_contra) -> SendResult:
        """Hand one message to the provider.

        Args:
            message: The rendered message.

        Returns:
            The provider's acceptance.

        Raises:
            TransientChannelError: The provider may accept it later.
            PermanentChannelError: The provider refused it for good.
            ChannelConfigurationError: The channel is misconfigured.
        """
        ...
