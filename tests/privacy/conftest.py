"""Fixtures of the privacy tests: a service the canary customer's data has reached."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from channels.errors import TransientChannelError
from channels.tracking import TrackingEvent, TrackingStatus
from notifier import db
from notifier.dispatch import Resends
from notifier.http import create_app
from notifier.http.schemas import EventIn
from notifier.service import Service
from notifier.settings import Settings
from tests.delivery_support import Twins, subscribe
from tests.drain import drain
from tests.privacy.support import CUSTOMER, EMAIL, NAME, PHONE, canary_event


@pytest.fixture
def twins() -> Twins:
    return Twins()


@pytest.fixture
def busy(
    settings: Settings, make_service: Callable[..., Service], twins: Twins
) -> Iterator[tuple[Service, TestClient]]:
    """A service in which the canary customer's data has reached every place it can.

    Email sent then bounced (a suppression, a provider error quoting the address) and
    resent (suppressed, its reason quoting the suppression's), the SMS a dead letter, the
    fallback SMS sent, a webhook sent, preferences set, a second return accepted and queued
    but not dispatched (an outbox row and a queued job).
    """
    service = make_service(replace(settings, retry_attempts=1), channels=twins.senders)
    subscribe(service, "https://hooks.example/in", "whsec_canary", ["return.*"])
    with TestClient(create_app(service)) as client:
        auth = {"Authorization": "Bearer test-key-0123456789"}
        answer = client.put(
            f"/v1/customers/{CUSTOMER}/preferences", json={"locale": "en"}, headers=auth
        )
        assert answer.status_code == 200, answer.text
        twins.sms.answer(TransientChannelError(f"503 for {PHONE}"))
        answer = client.post(
            "/v1/events", json=canary_event("evt-c1", "return.label_created"), headers=auth
        )
        assert answer.status_code == 202, answer.text
        drain(service)
        n = db.notifications.c
        with service.engine.connect() as connection:
            email_id = connection.execute(select(n.id).where(n.channel == "email")).scalar_one()
        service.tracker.apply(
            [
                TrackingEvent(
                    "sendgrid",
                    TrackingStatus.BOUNCED,
                    email_id,
                    None,
                    EMAIL,
                    None,
                    f"550 5.1.1 <{EMAIL}>: mailbox of {NAME} unknown",
                    True,
                )
            ]
        )
        drain(service)
        # A staff resend of the bounced email, held back by the suppression it quotes
        Resends(service.engine, service.actors.enqueue_delivery).resend(email_id, None, 1)
        drain(service)
        payload = EventIn.model_validate(
            canary_event("evt-c2", "return.requested", "RMA-CANARY-2")
        ).payload()
        service.intake.accept("shop", payload)  # stored and queued, not dispatched
        yield service, client
