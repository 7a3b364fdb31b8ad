"""The composer: a previewed message's content, rendered exactly as delivery renders it.

An email or SMS is its kind's template in the recipient's locale and time zone, with the
shop's policy overridden by the data's own (as :class:`~notifier.delivery.Sender` does);
a webhook is the body delivery signs (:func:`~notifier.delivery.webhook_body`), carrying the
email's subject and text for kinds that have templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from notifier.delivery import webhook_body
from notifier.preview.message import Content
from notifier.records import NotificationRecord
from notifier.rendering import (
    ALL_KINDS,
    Policy,
    RenderedMessage,
    Renderer,
    measure,
    resolve_policy,
)
from notifier.status import Channel


class Composer:
    """Renders previewed messages.

    Args:
        renderer: Renders templates with the shop's brand.
        policy: The shop's return policy.
    """

    def __init__(self, renderer: Renderer, policy: Policy) -> None:
        self._renderer = renderer
        self._policy = policy

    def compose(
        self,
        kind: str,
        channel: Channel,
        data: Mapping[str, Any],
        *,
        locale: str,
        timezone: str,
        now: datetime,
    ) -> Content:
        """The content of an email or SMS of ``kind``.

        Raises:
            RenderError: the message cannot be rendered.
        """
        rendered = self._render(kind, channel, data, locale, timezone, now)
        if channel == Channel.SMS:
            return Content(text=rendered.text, sms=measure(rendered.text))
        return Content(
            subject=rendered.subject,
            preheader=rendered.preheader,
            html=rendered.html,
            text=rendered.text,
            attachments=rendered.attachments,
        )

    def webhook(
        self, row: NotificationRecord, data: Mapping[str, Any], occurred: str, now: datetime
    ) -> Content:
        """The JSON body of the webhook notification ``row``, as delivery would sign it.

        Raises:
            RenderError: the email rendering the body carries cannot be rendered.
        """
        message = None
        # Events cause no staff alerts, so the email is in the customer's locale.
        if row.kind in ALL_KINDS:
            rendered = self._render(row.kind, Channel.EMAIL, data, row.locale, row.timezone, now)
            message = {"subject": rendered.subject or "", "text": rendered.text}
        return Content(text=webhook_body(row, data, occurred, message).decode())

    def _render(
        self,
        kind: str,
        channel: Channel,
        data: Mapping[str, Any],
        locale: str,
        timezone: str,
        now: datetime,
    ) -> RenderedMessage:
        return self._renderer.render(
            kind,
            channel,
            data,
            locale=locale,
            timezone=timezone,
            policy=resolve_policy(self._policy, data.get("policy")),
            now=now,
        )
