"""A stored notification rendered again is the message that was sent, and delivery can tell
beforehand why it would not send one."""

from __future__ import annotations

import json
from dataclasses import replace

from channels.webhook import new_webhook_secret
from notifier.delivery import suppress
from notifier.records import NotificationRecord
from notifier.service import Service
from notifier.status import NotificationStatus
from tests.delivery_support import Twins, accept, row, subscribe
from tests.drain import drain
from tests.factories import event


def _record(service: Service, notification_id: str) -> NotificationRecord:
    return NotificationRecord.from_row(row(service, notification_id))


def test_an_email_and_an_sms_rendered_again_are_the_ones_sent(
    twinned: Service, twins: Twins
) -> None:
    # Given a refund whose email and SMS were sent
    ids = accept(twinned, event(customer={"locale": "en-GB"}))
    drain(twinned)
    [mail] = twins.email.outbox
    [text] = twins.sms.outbox

    # When each is rendered again from what was stored
    email_again = twinned.sender.render_again(_record(twinned, ids["email"]))
    sms_again = twinned.sender.render_again(_record(twinned, ids["sms"]))

    # Then they are the messages the channels were given, word for word
    assert (email_again.subject, email_again.text, email_again.html) == (
        mail.subject,
        mail.text,
        mail.html,
    )
    assert "€49.95" in email_again.text
    assert sms_again.text == text.text and sms_again.subject is None


def test_a_webhook_body_built_again_is_the_one_posted(twinned: Service, twins: Twins) -> None:
    # Given a subscriber that received a refund event
    subscribe(twinned, "https://shop.example/hooks", new_webhook_secret())
    ids = accept(twinned, event())
    drain(twinned)
    [posted] = twins.webhook.outbox

    # When its body is built again
    body = twinned.sender.webhook_body_again(_record(twinned, ids["webhook"]))

    # Then it is the body that was posted, with the message it carried
    assert body == posted.body
    assert json.loads(body)["data"]["message"]["subject"]


def test_delivery_tells_why_it_would_not_send_a_notification(twinned: Service) -> None:
    # Given a label-created email, and a later event that told the customer more
    ids = accept(twinned, event("return.label_created", "evt-label"))
    label_email = _record(twinned, ids["email"])
    later = "2026-11-22T10:15:00+01:00"
    received = accept(twinned, event("return.received", "evt-received", occurred_at=later))
    received_email = _record(twinned, received["email"])

    # When delivery is asked about them, and about the received email to a suppressed address
    moved_on = twinned.deliverer.why_not_sent(label_email)
    fine = twinned.deliverer.why_not_sent(received_email)
    with twinned.engine.begin() as connection:
        suppress(connection, "email", "Sanne@Example.nl", "bounce: mailbox unknown")
    blocked = twinned.deliverer.why_not_sent(received_email)
    elsewhere = twinned.deliverer.why_not_sent(replace(received_email, recipient="s@example.org"))

    # Then the label email would be skipped, the received one sent until its address is
    # suppressed, and another address is not held back; nothing is recorded
    assert moved_on is not None and moved_on[0] == NotificationStatus.SKIPPED
    assert "superseded: the return is now return.received" in moved_on[1]
    assert fine is None
    assert blocked == (
        NotificationStatus.SUPPRESSED,
        "address suppressed: bounce: mailbox unknown",
    )
    assert elsewhere is None
    assert [row(twinned, i).status for i in (ids["email"], received["email"])] == [
        "queued",
        "queued",
    ]
