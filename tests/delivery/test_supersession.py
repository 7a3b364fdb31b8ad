"""A progress message held back (quiet hours, retries) is skipped once the return moved on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from notifier import db
from notifier.http.app import create_app
from notifier.service import Service
from notifier.settings import QuietHours, Settings
from tests.conftest import API_KEY
from tests.delivery_support import accept, row, with_providers
from tests.factories import event
from tests.standins import SendGridStandin, TwilioStandin, sendgrid_error

AMS = ZoneInfo("Europe/Amsterdam")


def _tomorrow(clock: time, days: int = 0) -> datetime:
    """``clock`` in Amsterdam, tomorrow (plus ``days``): notifications planned now are due."""
    day = (datetime.now(AMS) + timedelta(days=1 + days)).date()
    return datetime.combine(day, clock, tzinfo=AMS)


def _post(service: Service, type: str, event_id: str, moment: datetime) -> dict[str, str]:
    return accept(service, event(type, event_id, occurred_at=moment.isoformat()))


def _read_back(service: Service, notification_id: str) -> dict[str, Any]:
    """The notification as support staff read it (``GET /v1/returns/{id}``)."""
    with TestClient(create_app(service)) as client:
        answer = client.get("/v1/returns/RMA-1001", headers={"Authorization": f"Bearer {API_KEY}"})
    [found] = [n for n in answer.json()["notifications"] if n["id"] == notification_id]
    return found  # type: ignore[no-any-return]


@pytest.fixture
def quiet(
    settings: Settings,
    make_service: Callable[[Settings], Service],
    sendgrid: SendGridStandin,
    twilio: TwilioStandin,
) -> Service:
    night = QuietHours(time(21, 0), time(8, 0))
    return make_service(replace(with_providers(settings, sendgrid, twilio), quiet_hours=night))


def test_a_label_sms_held_overnight_is_skipped_when_the_parcel_arrived_by_morning(
    quiet: Service, twilio: TwilioStandin
) -> None:
    # Given a label created at 22:00, its SMS held by the quiet hours
    evening, dawn, morning = _tomorrow(time(22)), _tomorrow(time(7), 1), _tomorrow(time(8), 1)
    label = _post(quiet, "return.label_created", "evt-label", evening)
    assert quiet.deliverer.deliver(label["sms"], evening).status == "scheduled"

    # When the return is received at 07:00 and the held SMS's time comes at 08:00
    received = _post(quiet, "return.received", "evt-received", dawn)
    outcome = quiet.deliverer.deliver(label["sms"], morning)
    news = quiet.deliverer.deliver(received["sms"], morning)

    # Then the label SMS is skipped, saying why, and only the news of the receipt is sent
    assert outcome.status == "skipped"
    read = _read_back(quiet, label["sms"])
    assert read["status"] == "skipped"
    assert read["reason"] == (
        f"superseded: the return is now return.received ({dawn:%Y-%m-%d} 07:00 {dawn.tzname()})"
    )
    assert news.status == "sent"
    [sent] = twilio.messages
    assert f"notification_id={received['sms']}" in sent["StatusCallback"]


def test_a_refund_sms_held_overnight_is_still_sent_after_the_return_closed(
    quiet: Service, twilio: TwilioStandin
) -> None:
    # Given a refund issued at 22:00, its SMS held by the quiet hours
    evening, dawn, morning = _tomorrow(time(22)), _tomorrow(time(7), 1), _tomorrow(time(8), 1)
    refund = _post(quiet, "return.refund_issued", "evt-refund", evening)
    assert quiet.deliverer.deliver(refund["sms"], evening).status == "scheduled"

    # When the return is closed at 07:00 and the held SMS's time comes at 08:00
    _post(quiet, "return.closed", "evt-closed", dawn)
    outcome = quiet.deliverer.deliver(refund["sms"], morning)

    # Then the refund SMS goes out: what it says is still true and needed
    assert outcome.status == "sent"
    assert _read_back(quiet, refund["sms"])["status"] == "sent"
    assert len(twilio.messages) == 1


def test_a_progress_email_delayed_by_retries_is_skipped_once_the_return_moved_on(
    quiet: Service, sendgrid: SendGridStandin
) -> None:
    # Given an approval email SendGrid could not take, waiting for its retry
    moment = _tomorrow(time(10))
    approved = _post(quiet, "return.approved", "evt-approved", moment)
    sendgrid.respond_with(503, body=sendgrid_error("Service Unavailable"), times=1)
    first = quiet.deliverer.deliver(approved["email"], moment)
    assert first.retry_in is not None

    # When the label is created before the retry
    _post(quiet, "return.label_created", "evt-label", moment + timedelta(minutes=1))
    retry = quiet.deliverer.deliver(approved["email"], moment + first.retry_in)

    # Then the approval email is not sent again: the label email says where things stand
    assert retry.status == "skipped"
    assert row(quiet, approved["email"]).reason.startswith(
        "superseded: the return is now return.label_created"
    )
    assert len(sendgrid.mails) == 1


@pytest.mark.parametrize(
    ("first", "then", "status"),
    [
        ("return.requested", "return.approved", "skipped"),
        ("return.in_transit", "return.received", "skipped"),
        ("return.received", "return.inspected", "skipped"),
        ("return.received", "return.cancelled", "skipped"),
        ("return.label_created", "return.label_created", "skipped"),  # a new label
        ("return.received", "return.closed", "sent"),  # tells the customer nothing
        ("return.inspected", "return.refund_issued", "sent"),
        ("return.refund_issued", "return.exchange_shipped", "sent"),
        ("return.rejected", "return.cancelled", "sent"),
        ("return.approved", "return.rejected", "skipped"),
    ],
)
def test_only_progress_messages_are_superseded_by_a_later_message_to_the_customer(
    service: Service, first: str, then: str, status: str
) -> None:
    # Given a message not yet sent when a later event of the same return is recorded
    moment = _tomorrow(time(10))
    held = _post(service, first, "evt-first", moment)
    _post(service, then, "evt-then", moment + timedelta(hours=1))

    # When it is delivered
    outcome = service.deliverer.deliver(held["email"], db.now())

    # Then only a progress message followed by news for the customer is skipped
    assert outcome.status == status
    assert row(service, held["email"]).status == status


def test_an_event_reported_late_supersedes_nothing(service: Service) -> None:
    # Given a label created, then an older in-transit event reported late (stale)
    moment = _tomorrow(time(10))
    label = _post(service, "return.label_created", "evt-label", moment)
    _post(service, "return.in_transit", "evt-late", moment - timedelta(hours=1))

    # When the label email is delivered
    outcome = service.deliverer.deliver(label["email"], db.now())

    # Then it is sent: the late event is older than the label
    assert outcome.status == "sent"
