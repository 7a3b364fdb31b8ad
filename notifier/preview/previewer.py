"""The previewer: what notifier would send for an event, a stored return or a sample, without
sending or storing anything.

An event is judged against its stored return as intake judges it (a stale one sends
nothing), planned as dispatch plans it (channels, recipients, locale, preferences,
suppressions, the email-to-SMS fallback, webhook subscriptions), checked as delivery checks
a message before sending it (supersession, quiet hours), and rendered from the data
delivery would use: the return's snapshot merged with the event. All of it reads the
database through one read-only connection (:func:`notifier.db.read_only`), which is rolled
back: a preview writes no row and queues no job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from notifier import db
from notifier.delivery import checked, quiet_until, superseded, template_data
from notifier.dispatch import Planner
from notifier.masking import mask_recipient
from notifier.preview.composer import Composer
from notifier.preview.message import NOTHING, Content, PreviewMessage
from notifier.preview.occasion import Occasion, draft, for_event, for_return
from notifier.preview.samples import choose
from notifier.records import NotificationRecord
from notifier.rendering import Policy, Renderer, RenderError
from notifier.settings import QuietHours
from notifier.status import Channel, Decision, NotificationStatus

#: Decisions under which a message would be rendered and sent (now or later).
_GOING = frozenset({Decision.SEND, Decision.HOLD})


class Previewer:
    """Shows what would be sent, and what would become of each message.

    Args:
        engine: The database, only ever read.
        planner: Plans messages as dispatch does.
        renderer: Renders templates with the shop's brand.
        policy: The shop's return policy.
        quiet_hours: SMS quiet hours, or None when off.
        staff_email: Where staff alerts go by email, if anywhere (a sample's recipient).
        clock: The current time (aware).
    """

    def __init__(
        self,
        engine: Engine,
        planner: Planner,
        renderer: Renderer,
        *,
        policy: Policy,
        quiet_hours: QuietHours | None,
        staff_email: str | None = None,
        clock: Callable[[], datetime] = db.now,
    ) -> None:
        self._engine = engine
        self._planner = planner
        self._composer = Composer(renderer, policy)
        self._quiet = quiet_hours
        self._staff_email = staff_email
        self._clock = clock

    def preview_event(
        self, source: str, payload: Mapping[str, Any], *, now: datetime | None = None
    ) -> list[PreviewMessage]:
        """What posting ``payload`` now would send.

        Args:
            source: The name of the API key it would be posted with (event ids are unique
                per key: the same id again is a repeat, which sends nothing).
            payload: A validated event (``EventIn.payload()``).
            now: The moment to preview at; the clock's when None.

        Returns:
            One message per planned recipient and channel, webhooks last.
        """
        with db.read_only(self._engine) as connection:
            occasion = for_event(connection, source, payload)
            return self._preview(connection, occasion, now or self._clock())

    def preview_return(
        self, return_id: str, *, now: datetime | None = None
    ) -> list[PreviewMessage]:
        """What the latest event of stored return ``return_id`` would send now: with today's
        preferences, suppressions, subscriptions, quiet hours and later events.

        Raises:
            NotFoundError: no event was ever accepted for ``return_id``.
        """
        with db.read_only(self._engine) as connection:
            occasion = for_return(connection, return_id)
            return self._preview(connection, occasion, now or self._clock())

    def preview_sample(
        self, kind: str, locale: str, channel: str, sample: str | None = None
    ) -> PreviewMessage:
        """A built-in sample of ``kind``, rendered with the shop's brand and policy.

        Args:
            kind: A message kind with templates.
            locale: ``nl``, ``en``, or a regional form (``nl-BE``, ``en-GB``).
            channel: ``email`` or ``sms`` (staff alerts: ``email``).
            sample: The sample's name; the kind's first when None.

        Raises:
            UnknownSampleError: the kind, locale, channel or sample does not exist.
        """
        chosen = choose(kind, locale, channel, sample)
        if chosen.staff:
            address = self._staff_email
        else:
            customer = chosen.data.get("customer") or {}
            address = customer.get("phone" if chosen.channel == Channel.SMS else "email")
        reason = None
        try:
            content = self._composer.compose(
                kind,
                chosen.channel,
                chosen.data,
                locale=chosen.locale,
                timezone=chosen.timezone,
                now=chosen.now,
            )
        except RenderError as error:
            content, reason = NOTHING, _failure(error)
        return PreviewMessage(
            kind=kind,
            channel=chosen.channel,
            locale=chosen.locale,
            recipient=None if address is None else mask_recipient(chosen.channel, address),
            decision=Decision.SEND,
            reason=reason,
            send_at=None,
            content=content,
            timezone=chosen.timezone,
            data=chosen.data,
        )

    def _preview(
        self, connection: Connection, occasion: Occasion, now: datetime
    ) -> list[PreviewMessage]:
        payload = occasion.payload
        audience = self._planner.audience(connection, payload["customer"])
        planned = self._planner.plan(connection, occasion.source, payload["type"], audience)
        return [
            self._message(connection, draft(p, occasion, audience, now), occasion, now)
            for p in planned
        ]

    def _message(
        self,
        connection: Connection,
        row: NotificationRecord,
        occasion: Occasion,
        now: datetime,
    ) -> PreviewMessage:
        decision, reason, send_at = self._decide(connection, row, occasion.skip, now)
        data, occurred = template_data(row, occasion.snapshot, occasion.payload)
        try:
            content = self._content(row, data, occurred, now)
        except RenderError as error:
            content = NOTHING
            if decision in _GOING:
                reason = _failure(error)
        return PreviewMessage(
            kind=row.kind,
            channel=row.channel,
            locale=row.locale,
            recipient=mask_recipient(row.channel, row.recipient),
            decision=decision,
            reason=reason,
            send_at=send_at,
            content=content,
            timezone=row.timezone,
            data=data,
        )

    def _decide(
        self, connection: Connection, row: NotificationRecord, skip: str | None, now: datetime
    ) -> tuple[Decision, str | None, datetime | None]:
        """What delivery would do with ``row``: the decision, its reason and the hold's end."""
        if skip is not None:
            return Decision.SKIP, skip, None
        if row.status == NotificationStatus.SUPPRESSED:
            return Decision.SUPPRESS, row.reason, None
        if checked(row) and (moved_on := superseded(connection, row)) is not None:
            return Decision.SKIP, moved_on, None
        if row.channel == Channel.SMS and (held := quiet_until(now, row.timezone, self._quiet)):
            return Decision.HOLD, None, held
        return Decision.SEND, None, None

    def _content(
        self, row: NotificationRecord, data: Mapping[str, Any], occurred: str, now: datetime
    ) -> Content:
        if row.channel == Channel.WEBHOOK:
            return self._composer.webhook(row, data, occurred, now)
        return self._composer.compose(
            row.kind, row.channel, data, locale=row.locale, timezone=row.timezone, now=now
        )


def _failure(error: RenderError) -> str:
    """The reason a message that cannot be rendered shows: what delivery would record."""
    return f"RenderError: {error}"
