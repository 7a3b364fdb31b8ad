"""Fixtures and helpers for the delivery tests: a service whose real SDKs call loopback stand-ins,
or one whose channels are in-memory twins.

``tests/conftest.py`` loads this module as a plugin, so its fixtures are available everywhere.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from channels.memory import MemoryEmailChannel, MemorySmsChannel, MemoryWebhookChannel
from notifier import db
from notifier.delivery import Senders
from notifier.http import EventIn
from notifier.service import Service
from notifier.settings import Settings
from tests.factories import event
from tests.standins import SendGridStandin, TwilioStandin

TWILIO_ACCOUNT = "AC" + "1" * 32
TWILIO_TOKEN = "twilio-auth-token-0123456789"
PUBLIC_URL = "https://notify.example.nl"


@pytest.fixture
def sendgrid() -> Iterator[SendGridStandin]:
    with SendGridStandin() as standin:
        yield standin


@pytest.fixture
def twilio() -> Iterator[TwilioStandin]:
    with TwilioStandin() as standin:
        yield standin


def with_providers(
    settings: Settings, sendgrid: SendGridStandin, twilio: TwilioStandin
) -> Settings:
    """``settings`` with SendGrid and Twilio configured against the stand-ins."""
    return replace(
        settings,
        sendgrid_api_key="SG.test-key",
        sendgrid_base_url=sendgrid.base_url,
        email_from="Winkel Retouren <retouren@example.nl>",
        twilio_account_sid=TWILIO_ACCOUNT,
        twilio_auth_token=TWILIO_TOKEN,
        twilio_from="+3197010000000",
        twilio_base_url=twilio.base_url,
        public_url=PUBLIC_URL,
    )


@pytest.fixture
def provided(
    settings: Settings,
    make_service: Callable[[Settings], Service],
    sendgrid: SendGridStandin,
    twilio: TwilioStandin,
) -> Service:
    """A service that sends email through SendGrid and SMS through Twilio (the stand-ins)."""
    return make_service(with_providers(settings, sendgrid, twilio))


@dataclass(frozen=True, slots=True)
class Twins:
    """An in-memory channel for each medium (``channels.memory``)."""

    email: MemoryEmailChannel = field(default_factory=MemoryEmailChannel)
    sms: MemorySmsChannel = field(default_factory=MemorySmsChannel)
    webhook: MemoryWebhookChannel = field(default_factory=MemoryWebhookChannel)

    @property
    def senders(self) -> Senders:
        """The twins as the channels a service is built with."""
        return Senders(email=self.email, sms=self.sms, webhook=self.webhook)


@pytest.fixture
def twins() -> Twins:
    return Twins()


@pytest.fixture
def twinned(settings: Settings, make_service: Callable[..., Service], twins: Twins) -> Service:
    """A service whose channels are ``twins``: nothing leaves the process."""
    return make_service(settings, channels=twins.senders)


def accept(service: Service, body: dict[str, Any] | None = None) -> dict[str, str]:
    """Store and plan one event; returns the queued notification ids by channel."""
    payload = EventIn.model_validate(body or event()).payload()
    accepted = service.intake.accept("shop", payload)
    ids = service.dispatcher.dispatch(accepted.event_pk)
    with service.engine.connect() as connection:
        rows = connection.execute(
            select(db.notifications.c.id, db.notifications.c.channel).where(
                db.notifications.c.id.in_(ids)
            )
        ).all()
    return {row.channel: row.id for row in rows}


def row(service: Service, notification_id: str) -> Any:
    """The notification's database row."""
    with service.engine.connect() as connection:
        return connection.execute(
            select(db.notifications).where(db.notifications.c.id == notification_id)
        ).one()


def rows(service: Service) -> list[Any]:
    """Every notification, oldest first."""
    with service.engine.connect() as connection:
        return list(
            connection.execute(
                select(db.notifications).order_by(db.notifications.c.created_at)
            ).all()
        )


def subscribe(service: Service, url: str, secret: str, types: list[str] | None = None) -> str:
    """Add a webhook subscription with a known secret; returns its id."""
    subscription_id = "wh_" + secrets.token_hex(6)
    with service.engine.begin() as connection:
        connection.execute(
            insert(db.webhooks).values(
                id=subscription_id,
                url=url,
                types=types or ["return.*"],
                secret=secret,
                active=True,
                created_at=db.now(),
            )
        )
    return subscription_id


def bury(
    service: Service,
    count: int = 1,
    *,
    channel: str = "email",
    kind: str = "return.approved",
    died: datetime | None = None,
    prefix: str = "ntf_buried",
    status: str = "failed",
    dead: bool = True,
) -> list[str]:
    """Store ``count`` dead letters that died at ``died`` (default now), one second apart,
    the first the newest; returns their ids."""
    died = died or db.now()
    recipient = {"email": "sanne@example.nl", "sms": "+31612345678"}.get(channel, "wh_1")
    ids = [f"{prefix}_{i:04d}" for i in range(count)]
    with service.engine.begin() as connection:
        connection.execute(
            insert(db.notifications),
            [
                {
                    "id": notification_id,
                    "source": f"test:{notification_id}",
                    "return_id": "RMA-1001",
                    "customer_id": "C-42",
                    "kind": kind,
                    "channel": channel,
                    "recipient": recipient,
                    "locale": "nl",
                    "timezone": "Europe/Amsterdam",
                    "status": status,
                    "attempts": 12,
                    "dead": dead,
                    "last_error": "503: down for maintenance",
                    "created_at": died - timedelta(hours=4),
                    "updated_at": died - timedelta(seconds=i),
                }
                for i, notification_id in enumerate(ids)
            ],
        )
    return ids
