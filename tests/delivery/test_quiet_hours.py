"""Quiet hours: no SMS in the customer's night; it is stored as scheduled and sent when they end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifier.delivery import quiet_until
from notifier.queue import Relay
from notifier.service import Service
from notifier.settings import QuietHours, Settings
from tests.delivery_support import accept, row, with_providers
from tests.factories import event
from tests.standins import SendGridStandin, TwilioStandin

NIGHT = QuietHours(time(21, 0), time(8, 0))
LUNCH = QuietHours(time(13, 0), time(14, 0))
AMS = ZoneInfo("Europe/Amsterdam")


def _ams(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=AMS)


def _tonight() -> tuple[datetime, datetime]:
    """23:10 tomorrow in Amsterdam, and 08:00 the morning after (notifications are due now)."""
    day = (datetime.now(AMS) + timedelta(days=1)).date()
    night = datetime.combine(day, time(23, 10), tzinfo=AMS)
    return night, datetime.combine(day + timedelta(days=1), time(8, 0), tzinfo=AMS)


@pytest.mark.parametrize(
    ("moment", "zone", "quiet", "until"),
    [
        ("2026-11-20T22:30", "Europe/Amsterdam", NIGHT, "2026-11-21T08:00"),
        ("2026-11-21T07:59", "Europe/Amsterdam", NIGHT, "2026-11-21T08:00"),
        ("2026-11-21T21:00", "Europe/Amsterdam", NIGHT, "2026-11-22T08:00"),
        ("2026-11-21T08:00", "Europe/Amsterdam", NIGHT, None),
        ("2026-11-21T20:59", "Europe/Amsterdam", NIGHT, None),
        ("2026-03-28T23:00", "Europe/Amsterdam", NIGHT, "2026-03-29T08:00"),  # DST starts
        ("2026-11-21T13:30", "Europe/Amsterdam", LUNCH, "2026-11-21T14:00"),
        ("2026-11-21T12:00", "Europe/Amsterdam", None, None),
    ],
)  # fmt: skip
def test_the_end_of_the_quiet_hours_in_the_customers_zone(
    moment: str, zone: str, quiet: QuietHours | None, until: str | None
) -> None:
    result = quiet_until(_ams(moment), zone, quiet)

    assert result == (None if until is None else _ams(until).astimezone(UTC))


def test_the_quiet_hours_follow_the_customers_zone_not_ours() -> None:
    # 22:30 in Amsterdam is 16:30 in New York: not quiet there
    moment = _ams("2026-11-20T22:30")

    assert quiet_until(moment, "America/New_York", NIGHT) is None
    assert quiet_until(moment, "Asia/Tokyo", NIGHT) == datetime(2026, 11, 20, 23, 0, tzinfo=UTC)


@pytest.fixture
def quiet(
    settings: Settings,
    make_service: Callable[[Settings], Service],
    sendgrid: SendGridStandin,
    twilio: TwilioStandin,
) -> Service:
    return make_service(replace(with_providers(settings, sendgrid, twilio), quiet_hours=NIGHT))


def test_an_sms_at_night_waits_as_scheduled_and_goes_out_when_the_quiet_hours_end(
    quiet: Service, sendgrid: SendGridStandin, twilio: TwilioStandin
) -> None:
    # Given a refund issued late in the customer's evening
    ids = accept(quiet, event())
    night, morning = _tonight()

    # When email and SMS are delivered at night, the SMS again at dawn and at the end
    mail = quiet.deliverer.deliver(ids["email"], night)
    held = quiet.deliverer.deliver(ids["sms"], night)
    dawn = quiet.deliverer.deliver(ids["sms"], morning - timedelta(minutes=5))
    stored = row(quiet, ids["sms"])
    sent = quiet.deliverer.deliver(ids["sms"], morning)

    # Then the email went at once; the SMS was stored as scheduled for 08:00 and sent then
    assert mail.status == "sent" and len(sendgrid.mails) == 1
    assert held.status == "scheduled"
    assert held.retry_in == morning - night
    assert (stored.status, stored.next_attempt_at, stored.attempts) == ("scheduled", morning, 0)
    assert dawn.status is None
    assert sent.status == "sent"
    assert len(twilio.messages) == 1


def test_a_scheduled_sms_survives_a_restart(
    quiet: Service,
    settings: Settings,
    make_service: Callable[[Settings], Service],
    sendgrid: SendGridStandin,
    twilio: TwilioStandin,
) -> None:
    # Given an SMS held at night, and its delayed job lost with the process
    ids = accept(quiet, event())
    night, morning = _tonight()
    quiet.deliverer.deliver(ids["email"])
    quiet.deliverer.deliver(ids["sms"], night)
    quiet.close()

    # When the service starts again and its relay runs after the quiet hours
    restarted = make_service(replace(with_providers(settings, sendgrid, twilio), quiet_hours=NIGHT))
    handed: list[str] = []
    relay = Relay(restarted.engine, lambda pk: None, handed.append, grace=30)
    early = relay.run_once(morning - timedelta(minutes=1))
    after = relay.run_once(morning + timedelta(seconds=31))
    outcome = restarted.deliverer.deliver(handed[0], morning + timedelta(seconds=31))

    # Then the relay found it once the hold was over and it was sent
    assert (early, after) == (0, 1)
    assert handed == [ids["sms"]]
    assert outcome.status == "sent"
    assert len(twilio.messages) == 1
