"""Previewing an event or a stored return: what would be sent, to whom, and what would become
of each message, exactly as dispatch and delivery would do it, with nothing written."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, time
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text

from channels.webhook import new_webhook_secret
from notifier import db
from notifier.delivery import suppress
from notifier.dispatch import Preferences
from notifier.errors import NotFoundError
from notifier.http import EventIn
from notifier.preview import PreviewMessage
from notifier.rendering import DEFAULT_POLICY, measure, resolve_policy
from notifier.service import Service
from notifier.settings import QuietHours, Settings
from notifier.status import Channel, Decision
from tests.delivery_support import Twins, accept, subscribe
from tests.factories import event

#: A quarter past ten at night in Amsterdam (CET), inside the default quiet hours.
NIGHT = datetime(2026, 11, 20, 21, 15, tzinfo=UTC)


def payload(body: dict[str, Any] | None = None) -> dict[str, Any]:
    """A validated event, as the API hands it over."""
    return EventIn.model_validate(body or event()).payload()


def by_channel(messages: list[PreviewMessage]) -> dict[Channel, PreviewMessage]:
    found = {m.channel: m for m in messages}
    assert len(found) == len(messages)
    return found


def decisions(messages: list[PreviewMessage]) -> list[tuple[str, str, str | None]]:
    return [(m.channel, m.decision, m.reason) for m in messages]


def test_an_event_shows_each_message_as_delivery_sends_it(twinned: Service, twins: Twins) -> None:
    # Given a webhook subscriber, and a refund for a customer reachable by email and SMS
    subscription = subscribe(twinned, "https://shop.example/hooks", new_webhook_secret())

    # When the refund is previewed, then posted and delivered
    messages = by_channel(twinned.previewer.preview_event("shop", payload()))
    ids = accept(twinned, event())
    for notification_id in ids.values():
        twinned.deliverer.deliver(notification_id)

    # Then each message would be sent, to its masked recipient
    email, sms, webhook = messages[Channel.EMAIL], messages[Channel.SMS], messages[Channel.WEBHOOK]
    assert [(m.decision, m.reason, m.send_at) for m in messages.values()] == [
        (Decision.SEND, None, None)
    ] * 3
    assert (email.recipient, sms.recipient, webhook.recipient) == (
        "s***@example.nl",
        "+316*****678",
        f"webhook:{subscription}",
    )
    assert {m.kind for m in messages.values()} == {"return.refund_issued"}
    assert {m.locale for m in messages.values()} == {"nl_NL"}
    # And it says exactly what the providers were handed
    [mail], [sent_sms], [delivery] = twins.email.outbox, twins.sms.outbox, twins.webhook.outbox
    assert (email.content.subject, email.content.text, email.content.html) == (
        mail.subject,
        mail.text,
        mail.html,
    )
    assert email.content.preheader == "Meestal zie je € 49,95 binnen 5 werkdagen terug."
    assert (email.content.attachments, email.content.sms) == ((), None)
    assert sms.content.text == sent_sms.text
    assert (sms.content.subject, sms.content.preheader, sms.content.html) == (None, None, None)
    assert sms.content.attachments is None
    assert webhook.content.text == delivery.body.decode()
    body = json.loads(webhook.content.text or "")
    assert (body["id"], body["type"], body["data"]["message"]["subject"]) == (
        ids["webhook"],
        "return.refund_issued",
        email.content.subject,
    )
    assert (webhook.content.subject, webhook.content.html, webhook.content.sms) == (None,) * 3


def test_a_message_keeps_what_it_takes_to_render_it_again(service: Service) -> None:
    # Given a previewed email and SMS
    messages = service.previewer.preview_event("shop", payload())

    # When each is rendered again from what the preview kept
    again = [
        service.renderer.render(
            m.kind,
            m.channel,
            m.data,
            locale=m.locale,
            timezone=m.timezone,
            policy=resolve_policy(DEFAULT_POLICY, m.data.get("policy")),
        )
        for m in messages
    ]

    # Then it is the same message
    assert [m.timezone for m in messages] == ["Europe/Amsterdam"] * 2
    assert [(r.subject, r.text, r.html) for r in again] == [
        (m.content.subject, m.content.text, m.content.html) for m in messages
    ]


def test_the_data_is_the_stored_return_merged_with_the_event(service: Service) -> None:
    # Given a stored return whose label was created, and a refund that says nothing of it
    accept(service, event("return.label_created", "evt-label"))
    refund = event("return.refund_issued", "evt-refund", occurred_at="2026-11-25T10:00:00+01:00")
    del refund["return"]["label"]

    # When the refund is previewed
    [email, _] = service.previewer.preview_event("shop", payload(refund))

    # Then its data knows the label from the stored return, and the refund from the event
    assert email.data["return"]["label"]["carrier"] == "PostNL"
    assert (email.data["type"], email.data["event_id"]) == ("return.refund_issued", "evt-refund")


def test_an_sms_at_night_is_held_until_the_quiet_hours_end(
    settings: Settings, make_service: Callable[[Settings], Service]
) -> None:
    # Given quiet hours from nine at night to eight in the morning
    service = make_service(replace(settings, quiet_hours=QuietHours(time(21), time(8))))

    # When a refund is previewed at a quarter past ten at night, Amsterdam time
    messages = by_channel(service.previewer.preview_event("shop", payload(), now=NIGHT))

    # Then the SMS would wait until eight in the morning, and the email go now
    sms, email = messages[Channel.SMS], messages[Channel.EMAIL]
    assert (sms.decision, sms.reason) == (Decision.HOLD, None)
    assert sms.send_at == datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
    assert sms.content.text and sms.content.sms is not None
    assert (email.decision, email.send_at) == (Decision.SEND, None)


def test_an_email_the_customer_opted_out_of_is_suppressed_and_goes_by_sms(
    service: Service,
) -> None:
    # Given a customer who opted out of email
    Preferences(service.engine).put("C-42", {"email": False})

    # When an email-only event is previewed
    messages = service.previewer.preview_event("shop", payload(event("return.approved")))

    # Then the email is suppressed, and the message would go by SMS instead
    assert decisions(messages) == [
        ("email", Decision.SUPPRESS, "opted out"),
        ("sms", Decision.SEND, None),
    ]
    assert messages[1].content.text and "RMA-1001" in messages[1].content.text
    assert messages[0].content.subject  # shown all the same


def test_an_sms_the_customer_opted_out_of_is_suppressed(service: Service) -> None:
    # Given a customer who opted out of SMS
    Preferences(service.engine).put("C-42", {"sms": False})

    # When a refund is previewed
    messages = service.previewer.preview_event("shop", payload())

    # Then the email would go and the SMS is suppressed
    assert decisions(messages) == [
        ("email", Decision.SEND, None),
        ("sms", Decision.SUPPRESS, "opted out"),
    ]


def test_a_suppressed_address_is_suppressed_and_the_message_goes_by_sms(service: Service) -> None:
    # Given an email address that bounced
    with service.engine.begin() as connection:
        suppress(connection, Channel.EMAIL, "Sanne@example.nl", "hard bounce")

    # When an email-only event is previewed
    messages = service.previewer.preview_event("shop", payload(event("return.approved")))

    # Then the email is suppressed, and the message would go by SMS instead
    assert decisions(messages) == [
        ("email", Decision.SUPPRESS, "address suppressed"),
        ("sms", Decision.SEND, None),
    ]
    assert [m.recipient for m in messages] == ["s***@example.nl", "+316*****678"]


def test_a_stale_event_sends_nothing(service: Service) -> None:
    # Given a return whose parcel was received
    accept(service, event("return.received", "evt-received", occurred_at="2026-11-21T09:00:00Z"))
    subscribe(service, "https://shop.example/hooks", new_webhook_secret())

    # When a late in-transit event from before that is previewed
    late = event("return.in_transit", "evt-late", occurred_at="2026-11-20T09:00:00Z")
    messages = service.previewer.preview_event("shop", payload(late))

    # Then every message, webhook included, is skipped as stale
    reason = "older than the current status return.received: recorded, nothing sent"
    assert decisions(messages) == [
        ("email", Decision.SKIP, reason),
        ("webhook", Decision.SKIP, reason),
    ]


def test_an_event_posted_before_sends_nothing_again(service: Service) -> None:
    # Given a refund that was posted
    accept(service, event())

    # When the same event, and another body under its id, are previewed
    again = service.previewer.preview_event("shop", payload())
    changed = event(customer={"name": "Sanne Jansen"})
    conflict = service.previewer.preview_event("shop", payload(changed))
    other_key = service.previewer.preview_event("other-shop", payload())

    # Then the repeat sends nothing, the conflict would be refused, another key's is new
    assert {(m.decision, m.reason) for m in again} == {
        (Decision.SKIP, "duplicate: event 'evt-2f6c1a' was already accepted; nothing is sent twice")
    }
    assert {m.decision for m in conflict} == {Decision.SKIP}
    assert all("(409)" in (m.reason or "") for m in conflict)
    assert {m.decision for m in other_key} == {Decision.SEND}


def test_a_message_that_cannot_be_rendered_shows_why(service: Service) -> None:
    # Given an event whose policy asks for paid return shipping without a cost
    body = event(policy={"return_shipping": "paid", "shipping_cost": None})

    # When it is previewed
    messages = service.previewer.preview_event("shop", payload(body))

    # Then each message would fail, and says why instead of raising
    assert {m.decision for m in messages} == {Decision.SEND}
    reason = "RenderError: policy: field 'shipping_cost' is required when return_shipping is 'paid'"
    assert {m.reason for m in messages} == {reason}
    assert {(m.content.subject, m.content.text) for m in messages} == {(None, None)}


@pytest.mark.parametrize(
    ("name", "encoding"), [("Sanne de Vries", "GSM-7"), ("Анна Петрова", "UCS-2")]
)
def test_an_sms_is_measured_in_its_encoding(service: Service, name: str, encoding: str) -> None:
    # Given a refund for a customer whose name is or is not in the GSM-7 alphabet
    body = event(customer={"name": name})

    # When it is previewed
    sms = by_channel(service.previewer.preview_event("shop", payload(body)))[Channel.SMS]

    # Then the SMS is measured as the provider will count it
    text_ = sms.content.text or ""
    assert name.split()[0] in text_
    assert sms.content.sms == measure(text_)
    assert sms.content.sms.encoding == encoding
    if encoding == "GSM-7":  # the euro sign is an escape plus a character: two septets
        assert sms.content.sms.units == len(text_) + text_.count("€")
        assert sms.content.sms.segments == 1
    else:  # over 70 UTF-16 units: parts of 67
        assert sms.content.sms.units == len(text_) > 70
        assert sms.content.sms.segments == -(-len(text_) // 67)


def test_a_stored_return_shows_what_its_latest_event_would_send_now(service: Service) -> None:
    # Given a refund that was posted, previewed before it was
    before = service.previewer.preview_event("other", payload())
    accept(service, event())

    # When the return is previewed, before and after the customer opted out of SMS
    now = service.previewer.preview_return("RMA-1001")
    Preferences(service.engine).put("C-42", {"sms": False})
    later = service.previewer.preview_return("RMA-1001")

    # Then it shows the same messages, with today's preferences
    assert [(m.channel, m.decision, m.content) for m in now] == [
        (m.channel, m.decision, m.content) for m in before
    ]
    assert decisions(later) == [
        ("email", Decision.SEND, None),
        ("sms", Decision.SUPPRESS, "opted out"),
    ]


def test_an_unknown_return_is_not_found(service: Service) -> None:
    with pytest.raises(NotFoundError, match="RMA-404"):
        service.previewer.preview_return("RMA-404")


def _contents(service: Service) -> dict[str, list[str]]:
    """Every row of every table, as text."""
    with service.engine.connect() as connection:
        tables = inspect(connection).get_table_names()
        return {
            table: sorted(map(str, connection.execute(text(f'SELECT * FROM "{table}"')).all()))
            for table in tables
        }


def _counts(service: Service) -> dict[str, int]:
    with service.engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in db.metadata.sorted_tables
        }


def _queued(service: Service) -> dict[str, int]:
    """The jobs waiting in each queue of the (in-memory) broker."""
    return {name: queue.qsize() for name, queue in service.broker.queues.items()}  # type: ignore[attr-defined]


def test_a_preview_writes_nothing_and_queues_nothing(service: Service) -> None:
    # Given a return with notifications, a customer's preferences, a suppression, a subscriber
    subscribe(service, "https://shop.example/hooks", new_webhook_secret())
    accept(service, event("return.received", "evt-received"))
    Preferences(service.engine).put("C-42", {"locale": "en"})
    with service.engine.begin() as connection:
        suppress(connection, Channel.SMS, "+31600000000", "STOP")
    counts, contents, queued = _counts(service), _contents(service), _queued(service)

    # When a new event, a stale one, the stored return and a sample are previewed
    refund = event("return.refund_issued", "evt-refund", occurred_at="2026-11-25T10:00:00+01:00")
    stale = event("return.approved", "evt-stale", occurred_at="2026-11-19T10:00:00+01:00")
    new_return = event("return.requested", "evt-new", return_id="RMA-2002")
    previews = [
        service.previewer.preview_event("shop", payload(refund)),
        service.previewer.preview_event("shop", payload(stale)),
        service.previewer.preview_event("shop", payload(new_return)),
        service.previewer.preview_return("RMA-1001"),
        [service.previewer.preview_sample("return.refund_issued", "nl", "email")],
    ]

    # Then there was something to show, and no row of any table changed, nor any job queued
    assert all(previews)
    assert counts["events"] == 1 and counts["notifications"] == 3 and counts["customers"] == 1
    assert _counts(service) == counts
    assert _contents(service) == contents
    assert _queued(service) == queued
