"""An email's calendar event travels with it to every channel: SendGrid, the outbox and the
in-memory twin; the SMS of the same event carries nothing."""

from __future__ import annotations

import base64
import email
import email.policy
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from notifier import db
from notifier.service import Service
from tests.delivery_support import PUBLIC_URL, Twins, accept
from tests.factories import event
from tests.standins import SendGridStandin, TwilioStandin

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def ahead(days: int) -> date:
    """A day ``days`` from today: delivery renders at the clock's time."""
    return db.now().astimezone(AMSTERDAM).date() + timedelta(days=days)


def pickup_label(event_id: str = "evt-pickup-1", return_id: str = "RMA-1001") -> dict[str, Any]:
    """A label for a pickup return whose carrier comes in ten days, 09:00-13:00."""
    body = event("return.label_created", event_id, return_id=return_id)
    body["return"].update(
        method="pickup",
        ship_by=ahead(14).isoformat(),
        pickup={"carrier": "DHL", "date": ahead(10).isoformat(), "from": "09:00", "to": "13:00"},
        drop_off=None,
    )
    return body


def test_sendgrid_receives_the_pickup_window_and_twilio_nothing_more(
    provided: Service, sendgrid: SendGridStandin, twilio: TwilioStandin
) -> None:
    # Given a pickup return's label event, sent through SendGrid and Twilio
    ids = accept(provided, pickup_label())

    # When its email and SMS are delivered
    provided.deliverer.deliver(ids["email"])
    provided.deliverer.deliver(ids["sms"])

    # Then SendGrid got the calendar file, base64, with its type and Dutch file name
    [mail] = sendgrid.mails
    [attachment] = mail["attachments"]
    assert (attachment["filename"], attachment["type"], attachment["disposition"]) == (
        "retour-RMA-1001.ics",
        "text/calendar",
        "attachment",
    )
    calendar = icalendar.Calendar.from_ical(base64.b64decode(attachment["content"]))
    [vevent] = calendar.walk("VEVENT")
    assert vevent.decoded("DTSTART") == datetime.combine(
        ahead(10), datetime.min.time().replace(hour=9), tzinfo=AMSTERDAM
    )
    # And its UID names the service's public host
    assert str(vevent["UID"]) == f"pickup-RMA-1001@{PUBLIC_URL.removeprefix('https://')}"
    # And the SMS is text alone
    [sms] = twilio.messages
    assert not any(key.startswith("MediaUrl") for key in sms)


def test_the_outbox_writes_the_event_as_a_part_of_the_eml(service: Service) -> None:
    # Given a service without an email provider, and an approved drop-off return
    body = event("return.approved", "evt-approved-1")
    body["return"]["ship_by"] = ahead(14).isoformat()
    ids = accept(service, body)

    # When its email is delivered
    service.deliverer.deliver(ids["email"])

    # Then its .eml carries the last day as a text/calendar attachment
    raw = (service.settings.outbox_dir / f"{ids['email']}.eml").read_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    [part] = parsed.iter_attachments()
    assert (part.get_content_type(), part.get_filename()) == (
        "text/calendar",
        "retour-RMA-1001.ics",
    )
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    [vevent] = icalendar.Calendar.from_ical(payload).walk("VEVENT")
    assert vevent.decoded("DTSTART") == ahead(14)


def test_the_in_memory_twin_keeps_the_attachment(twinned: Service, twins: Twins) -> None:
    # Given a label event whose ship-by date has passed, and one whose date lies ahead
    late = event("return.label_created", "evt-late-1")
    late["return"]["ship_by"] = ahead(-1).isoformat()
    ids = [accept(twinned, late), accept(twinned, pickup_label("evt-pickup-2", "RMA-1002"))]

    # When their emails and SMS are delivered
    for sent in ids:
        twinned.deliverer.deliver(sent["email"])
        twinned.deliverer.deliver(sent["sms"])

    # Then only the email with a date ahead carries an event
    assert [[a.filename for a in mail.attachments] for mail in twins.email.outbox] == [
        [],
        ["retour-RMA-1002.ics"],
    ]
    attachment = twins.email.outbox[1].attachments[0]
    assert attachment.content_type == "text/calendar; charset=utf-8; method=PUBLISH"
    assert attachment.content.startswith(b"BEGIN:VCALENDAR\r\n")
    assert len(twins.sms.outbox) == 2
