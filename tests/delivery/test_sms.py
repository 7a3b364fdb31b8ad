"""SMS through the real ``twilio`` SDK: status callbacks, error codes, opt-outs, fallback."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from notifier import db
from notifier.delivery import suppress
from notifier.dispatch import Preferences
from notifier.http import create_app
from notifier.service import Service
from tests.delivery_support import PUBLIC_URL, TWILIO_TOKEN, accept, row, rows
from tests.drain import drain
from tests.factories import event
from tests.standins import SendGridStandin, TwilioStandin, twilio_error


def _post_status(client: TestClient, callback_url: str, form: dict[str, str]) -> Any:
    """Post a status callback as Twilio would: to the URL it was given, signed for that URL."""
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(callback_url, form)
    parts = urlsplit(callback_url)
    return client.post(
        f"{parts.path}?{parts.query}", data=form, headers={"X-Twilio-Signature": signature}
    )


def test_an_sms_goes_through_twilio_and_its_status_callback_finds_it(
    provided: Service, twilio: TwilioStandin
) -> None:
    # Given a refund SMS sent through Twilio
    ids = accept(provided, event())
    outcome = provided.deliverer.deliver(ids["sms"])
    [message] = twilio.messages
    callback_url = message["StatusCallback"]
    client = TestClient(create_app(provided))
    base = {
        "MessageSid": row(provided, ids["sms"]).provider_message_id,
        "AccountSid": "AC" + "1" * 32,
        "To": "+31612345678",
    }

    # When Twilio reports it delivered, then twice more out of order and again
    delivered = _post_status(client, callback_url, {**base, "MessageStatus": "delivered"})
    late = _post_status(client, callback_url, {**base, "MessageStatus": "sent"})
    again = _post_status(client, callback_url, {**base, "MessageStatus": "delivered"})

    # Then the callback URL is the public one with the notification id, and it stays delivered
    assert outcome.status == "sent"
    assert message["To"] == "+31612345678" and message["From"] == "+3197010000000"
    assert callback_url.startswith(f"{PUBLIC_URL}/v1/providers/twilio/status?")
    assert parse_qs(urlsplit(callback_url).query) == {"notification_id": [ids["sms"]]}
    assert [a.status_code for a in (delivered, late, again)] == [204, 204, 204]
    assert row(provided, ids["sms"]).status == "delivered"


def test_a_callback_matched_by_notification_id_alone_moves_the_sms(
    provided: Service, twilio: TwilioStandin
) -> None:
    # Given a sent SMS, and a callback carrying a MessageSid we never recorded
    ids = accept(provided, event())
    provided.deliverer.deliver(ids["sms"])
    [message] = twilio.messages
    client = TestClient(create_app(provided))

    # When Twilio reports it undelivered
    answer = _post_status(
        client,
        message["StatusCallback"],
        {"MessageSid": "SM" + "f" * 32, "MessageStatus": "undelivered", "ErrorCode": "30003"},
    )

    # Then the notification id in the URL found it
    assert answer.status_code == 204
    record = row(provided, ids["sms"])
    assert record.status == "failed"
    assert "30003" in record.last_error


_JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("status", "headers", "body", "outcome", "error"),
    [
        (400, _JSON, twilio_error(21211, "The 'To' number is not valid."), "failed", "21211"),
        (400, _JSON, twilio_error(21614, "'To' is not a mobile number"), "failed", "21614"),
        (400, _JSON, twilio_error(21408, "Permission not enabled"), "failed", "21408"),
        (
            429,
            {**_JSON, "Retry-After": "120"},
            twilio_error(20429, "Too Many", 429),
            "queued",
            "20429",
        ),
        (503, _JSON, twilio_error(20500, "Internal Server Error", 503), "queued", "20500"),
    ],
)
def test_twilio_answers_are_classified(
    provided: Service,
    twilio: TwilioStandin,
    status: int,
    headers: dict[str, str],
    body: bytes,
    outcome: str,
    error: str,
) -> None:
    ids = accept(provided, event())
    twilio.respond_with(status, headers, body, times=1)

    result = provided.deliverer.deliver(ids["sms"])

    record = row(provided, ids["sms"])
    assert (result.status, record.status, record.attempts) == (outcome, outcome, 1)
    assert error in record.last_error
    if outcome == "queued":
        assert result.retry_in is not None
        assert result.retry_in.total_seconds() >= (120 if status == 429 else 12)
    else:
        assert result.retry_in is None


def test_an_unsubscribed_number_is_recorded_as_suppressed_and_not_texted_again(
    provided: Service, twilio: TwilioStandin
) -> None:
    # Given Twilio says the customer replied STOP
    ids = accept(provided, event())
    twilio.respond_with(
        400,
        {"Content-Type": "application/json"},
        twilio_error(21610, "Attempt to send to unsubscribed recipient"),
        times=1,
    )

    # When the SMS is delivered, and a later event would text the customer again
    outcome = provided.deliverer.deliver(ids["sms"])
    later = accept(provided, event(type="return.exchange_shipped", event_id="evt-later"))

    # Then the first is suppressed with Twilio's reason, the number is suppressed, and the
    # later SMS is planned as suppressed instead of being sent
    record = row(provided, ids["sms"])
    assert (outcome.status, record.status) == ("suppressed", "suppressed")
    assert "21610" in record.last_error
    with provided.engine.connect() as connection:
        suppressed = connection.execute(
            select(db.suppressions.c.channel, db.suppressions.c.address)
        ).all()
    assert suppressed == [("sms", "+31612345678")]
    assert "sms" not in later
    [held] = [
        r for r in rows(provided) if r.kind == "return.exchange_shipped" and r.channel == "sms"
    ]
    assert held.status == "suppressed"
    assert len(twilio.messages) == 1


def test_a_customer_without_email_gets_an_email_only_message_by_sms(
    provided: Service, sendgrid: SendGridStandin, twilio: TwilioStandin
) -> None:
    body = event(type="return.approved", customer={"email": None})

    ids = accept(provided, body)
    outcome = provided.deliverer.deliver(ids["sms"])

    assert set(ids) == {"sms"}
    assert outcome.status == "sent"
    assert sendgrid.mails == []
    assert [m["To"] for m in twilio.messages] == ["+31612345678"]


def test_an_sms_opt_out_after_planning_is_recorded_as_suppressed(
    provided: Service, twilio: TwilioStandin
) -> None:
    ids = accept(provided, event())
    Preferences(provided.engine).put("C-42", {"sms": False})

    outcome = provided.deliverer.deliver(ids["sms"])

    record = row(provided, ids["sms"])
    assert (outcome.status, record.status) == ("suppressed", "suppressed")
    assert record.reason == "the customer opted out of sms"
    assert twilio.messages == []


def test_an_address_suppressed_after_planning_sends_the_email_by_sms_instead(
    provided: Service, sendgrid: SendGridStandin, twilio: TwilioStandin
) -> None:
    # Given an email-only message planned, then a hard bounce of the address from elsewhere
    ids = accept(provided, event(type="return.approved"))
    with provided.engine.begin() as connection:
        suppress(connection, "email", "Sanne@Example.nl", "sendgrid bounced: 550")

    # When the worker runs
    drain(provided)

    # Then the email is recorded as suppressed and the customer got an SMS
    kinds = {(r.channel, r.status) for r in rows(provided)}
    assert kinds == {("email", "suppressed"), ("sms", "sent")}
    assert row(provided, ids["email"]).reason == "address suppressed: sendgrid bounced: 550"
    assert sendgrid.mails == []
    assert len(twilio.messages) == 1
