"""A previewed message: what would be sent, to whom, and what would become of it.

A :class:`PreviewMessage` shows one message as ``POST /v1/preview`` lists it (CONTRACT
section 4), and keeps what it takes to render the same message again (kind, channel,
locale, time zone and template data), so that it can be sent as a test to another address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notifier.rendering import Attachment, SmsSize
from notifier.status import Channel, Decision


@dataclass(frozen=True, slots=True)
class Content:
    """A message's rendered content on its channel; every field None that the channel lacks
    (and all of them when the message cannot be rendered).

    Attributes:
        subject: the email's subject line.
        preheader: the email's preview line, as plain text.
        html: the email's HTML body, as sent (CSS inlined).
        text: the email's plain-text body, the SMS text, or a webhook's JSON body.
        attachments: the files an email carries (its calendar event, if any); None for SMS
            and webhooks.
        sms: the SMS text's encoding, length in that encoding's units, and segments.
    """

    subject: str | None = None
    preheader: str | None = None
    html: str | None = None
    text: str | None = None
    attachments: tuple[Attachment, ...] | None = None
    sms: SmsSize | None = None


#: The content of a message that could not be rendered.
NOTHING = Content()


@dataclass(frozen=True, slots=True)
class PreviewMessage:
    """One message notifier would send, and what would become of it.

    Attributes:
        kind: the message kind, e.g. ``return.refund_issued``.
        channel: email, SMS or webhook.
        locale: the locale it is rendered in (e.g. ``nl_NL``).
        recipient: the masked address, number or ``webhook:<subscription id>``; None for a
            sample without one.
        decision: send, hold (until ``send_at``), suppress or skip.
        reason: why it is suppressed or skipped, or why it would fail (it cannot be
            rendered); None for a message that would go as shown.
        send_at: for ``hold``, when it would be sent (the end of the quiet hours, UTC).
        content: what it would say.
        timezone: the recipient's time zone, the one its times are shown in.
        data: the template data it is rendered from, to render it again.
    """

    kind: str
    channel: Channel
    locale: str
    recipient: str | None
    decision: Decision
    reason: str | None
    send_at: datetime | None
    content: Content
    timezone: str
    data: Mapping[str, Any]
