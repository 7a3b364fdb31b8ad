"""Planning: which messages an event calls for, on which channel, to whom, in which language.

The plan is written as notification rows with stable ids (derived from the event, the
message kind, the channel and the recipient), so planning the same event twice (a
redelivered job, a relay hand-over) writes nothing new and sends nothing twice.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from notifier import db
from notifier.delivery import suppression, suppressions_of
from notifier.lifecycle import ROUTES
from notifier.rendering import resolve_locale
from notifier.status import Channel, EventType, NotificationStatus


def notification_id(source: str, kind: str, channel: str, recipient: str) -> str:
    """The stable id of one message to one recipient on one channel for one source."""
    digest = hashlib.sha256("\x1f".join((source, kind, channel, recipient)).encode())
    return "ntf_" + digest.hexdigest()[:28]


def event_source(api_key: str, event_id: str) -> str:
    """The source key of the notifications one posted event causes."""
    return f"event:{api_key}:{event_id}"


@dataclass(frozen=True, slots=True)
class Audience:
    """Who can be reached, and how, after preferences and suppressions."""

    email: str | None
    phone: str | None
    email_allowed: bool
    sms_allowed: bool
    locale: str
    timezone: str


@dataclass(frozen=True, slots=True)
class Planned:
    """One notification to create."""

    id: str
    kind: str
    channel: str
    recipient: str
    status: str
    reason: str | None = None


#: Why an address is suppressed on a channel, or None: ``(channel, address) -> reason``.
Suppressed = Callable[[str, str], str | None]


@dataclass(frozen=True, slots=True)
class Known:
    """What planning reads, read once for many customers: their preferences (``customers``
    rows by id), the suppressions of their addresses and the active webhook subscriptions."""

    prefs: Mapping[Any, Any]
    reasons: Mapping[tuple[str, str], str]
    subscriptions: Sequence[Any]

    def suppressed(self, channel: str, address: str) -> str | None:
        """Why ``address`` is suppressed on ``channel``, or None."""
        return self.reasons.get((str(channel), address.lower()))


class Planner:
    """Turns stored events into notification rows."""

    def __init__(self, default_locale: str, default_timezone: str) -> None:
        self._default_locale = default_locale
        self._default_timezone = default_timezone

    def audience(self, connection: Connection, customer: Mapping[str, Any]) -> Audience:
        prefs = connection.execute(
            select(db.customers).where(db.customers.c.customer_id == customer["id"])
        ).first()
        return self._audience(prefs, customer)

    def _audience(self, prefs: Any, customer: Mapping[str, Any]) -> Audience:
        """The audience of ``customer`` given their ``customers`` row (None: no preferences)."""
        template_locale, formatting_locale = resolve_locale(
            prefs.locale if prefs else None, customer.get("locale"), self._default_locale
        )
        del template_locale
        timezone = (prefs.timezone if prefs else None) or customer.get("timezone")
        return Audience(
            email=customer.get("email"),
            phone=customer.get("phone"),
            email_allowed=not (prefs is not None and prefs.email is False),
            sms_allowed=not (prefs is not None and prefs.sms is False),
            locale=formatting_locale,
            timezone=timezone or self._default_timezone,
        )

    def known(self, connection: Connection, customers: Iterable[Mapping[str, Any]]) -> Known:
        """What planning reads for ``customers`` (snapshot ``customer`` objects), in three
        queries whatever their number."""
        customers = list(customers)
        ids = {customer.get("id") for customer in customers} - {None}
        prefs = (
            {
                row.customer_id: row
                for row in connection.execute(
                    select(db.customers).where(db.listed_in(db.customers.c.customer_id, values=ids))
                )
            }
            if ids
            else {}
        )
        addresses = {
            str(address).lower()
            for customer in customers
            for address in (customer.get("email"), customer.get("phone"))
            if address
        }
        subscriptions = connection.execute(
            select(db.webhooks.c.id, db.webhooks.c.types).where(db.webhooks.c.active.is_(True))
        ).all()
        return Known(prefs, suppressions_of(connection, addresses), subscriptions)

    def audience_known(self, known: Known, customer: Mapping[str, Any]) -> Audience:
        """:meth:`audience` from what :meth:`known` read."""
        return self._audience(known.prefs.get(customer.get("id")), customer)

    def plan_known(
        self,
        known: Known,
        source: str,
        kind: str,
        audience: Audience,
        *,
        email: bool,
        sms: bool,
        webhook: bool,
    ) -> list[Planned]:
        """:meth:`plan_customer`, and the webhook subscribers' messages if ``webhook``, from
        what :meth:`known` read."""
        planned = self._plan_customer(
            known.suppressed, source, kind, audience, email=email, sms=sms
        )
        if webhook:
            planned.extend(subscribed(known.subscriptions, source, kind))
        return planned

    def plan_customer(
        self,
        connection: Connection,
        source: str,
        kind: str,
        audience: Audience,
        *,
        email: bool,
        sms: bool,
    ) -> list[Planned]:
        """Plan the customer's messages of one kind; email falls back to SMS when unusable."""
        return self._plan_customer(
            lambda channel, address: suppression(connection, channel, address),
            source,
            kind,
            audience,
            email=email,
            sms=sms,
        )

    def _plan_customer(
        self,
        suppressed: Suppressed,
        source: str,
        kind: str,
        audience: Audience,
        *,
        email: bool,
        sms: bool,
    ) -> list[Planned]:
        planned: list[Planned] = []
        sms_needed = sms
        if email:
            if audience.email is None:
                sms_needed = True
            elif not audience.email_allowed:
                planned.append(self._held(source, kind, "email", audience.email, "opted out"))
                sms_needed = True
            elif suppressed(Channel.EMAIL, audience.email) is not None:
                planned.append(
                    self._held(source, kind, "email", audience.email, "address suppressed")
                )
                sms_needed = True
            else:
                planned.append(queued(source, kind, "email", audience.email))
        if sms_needed and audience.phone is not None:
            if not audience.sms_allowed:
                if sms:
                    planned.append(self._held(source, kind, "sms", audience.phone, "opted out"))
            elif suppressed(Channel.SMS, audience.phone) is not None:
                planned.append(self._held(source, kind, "sms", audience.phone, "number opted out"))
            else:
                planned.append(queued(source, kind, "sms", audience.phone))
        return planned

    def plan_event(self, connection: Connection, event: Any) -> tuple[Audience, list[Planned]]:
        """Plan everything one event sends. Stale events send nothing."""
        payload = event.payload
        audience = self.audience(connection, payload["customer"])
        if event.stale:
            return audience, []
        source = event_source(event.api_key, event.event_id)
        return audience, self.plan(connection, source, event.type, audience)

    def plan(
        self, connection: Connection, source: str, event_type: str, audience: Audience
    ) -> list[Planned]:
        """The messages an event of ``event_type`` sends ``audience`` and the subscribers,
        whether or not it is stale (the caller decides that)."""
        route = ROUTES[EventType(event_type)]
        planned = self.plan_customer(
            connection, source, event_type, audience, email=route.email, sms=route.sms
        )
        if route.webhook:
            planned.extend(webhooks(connection, source, event_type))
        return planned

    def plan_events(
        self, connection: Connection, events: Sequence[Any]
    ) -> list[tuple[Audience, list[Planned]]]:
        """:meth:`plan_event` for each of ``events`` (``events`` rows), with what planning
        reads (preferences, suppressions, subscriptions) read once for them all."""
        known = self.known(connection, (event.payload["customer"] for event in events))
        plans: list[tuple[Audience, list[Planned]]] = []
        for event in events:
            audience = self.audience_known(known, event.payload["customer"])
            if event.stale:
                plans.append((audience, []))
                continue
            route = ROUTES[EventType(event.type)]
            source = event_source(event.api_key, event.event_id)
            planned = self.plan_known(
                known,
                source,
                event.type,
                audience,
                email=route.email,
                sms=route.sms,
                webhook=route.webhook,
            )
            plans.append((audience, planned))
        return plans

    def _held(self, source: str, kind: str, channel: str, recipient: str, why: str) -> Planned:
        return Planned(
            notification_id(source, kind, channel, recipient),
            kind,
            channel,
            recipient,
            NotificationStatus.SUPPRESSED,
            why,
        )


def queued(source: str, kind: str, channel: str, recipient: str) -> Planned:
    """One message of ``kind`` to ``recipient`` on ``channel``, queued to be sent."""
    return Planned(
        notification_id(source, kind, channel, recipient),
        kind,
        channel,
        recipient,
        NotificationStatus.QUEUED,
    )


def webhooks(connection: Connection, source: str, event_type: str) -> list[Planned]:
    """A queued message to every active webhook subscription whose types cover ``event_type``."""
    subscriptions = connection.execute(
        select(db.webhooks.c.id, db.webhooks.c.types).where(db.webhooks.c.active.is_(True))
    ).all()
    return subscribed(subscriptions, source, event_type)


def subscribed(subscriptions: Sequence[Any], source: str, event_type: str) -> list[Planned]:
    """A queued message to each of ``subscriptions`` (active ``webhooks`` rows: id, types)
    whose types cover ``event_type``."""
    return [
        queued(source, event_type, "webhook", sub.id)
        for sub in subscriptions
        if matches(sub.types, event_type)
    ]


def matches(patterns: Sequence[str], event_type: str) -> bool:
    """Whether a subscription's type patterns (``return.*``, ``*``) cover ``event_type``."""
    return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in patterns)


def rows(
    planned: Sequence[Planned],
    *,
    source: str,
    event_pk: int | None,
    return_id: str,
    customer_id: str,
    audience: Audience,
    now: datetime,
    rule: str | None = None,
    data: Mapping[str, Any] | None = None,
    not_before: datetime | None = None,
) -> list[dict[str, Any]]:
    """Notification rows for ``planned``, ready to insert (sharing ``data``: not to be
    changed)."""
    return [
        {
            "id": p.id,
            "source": source,
            "event_pk": event_pk,
            "return_id": return_id,
            "customer_id": customer_id,
            "kind": p.kind,
            "channel": p.channel,
            "recipient": p.recipient,
            "locale": audience.locale,
            "timezone": audience.timezone,
            "rule": rule,
            "reason": p.reason,
            "data": data,  # one for all of them: written once
            "status": p.status,
            "attempts": 0,
            "dead": False,
            "next_attempt_at": not_before or now,
            "enqueued_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for p in planned
    ]
