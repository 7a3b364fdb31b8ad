"""Customer emails reply to the shop's support address; staff alerts do not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from notifier.http import EventIn
from notifier.service import Service
from notifier.settings import Settings
from tests.delivery_support import Twins, rows
from tests.drain import drain
from tests.factories import event

REPLY_TO = "De Wolwinkel <klantenservice@dewolwinkel.example>"
STAFF = "support@dewolwinkel.example"


@pytest.fixture
def shop_file(tmp_path: Path) -> Path:
    path = tmp_path / "shop.toml"
    path.write_text(
        '[brand]\nname = "De Wolwinkel"\n\n'
        f'[support]\nreply_to = "{REPLY_TO}"\nphone = "030 123 45 67"\n'
    )
    return path


def test_customer_emails_reply_to_the_shop_and_staff_alerts_do_not(
    settings: Settings,
    make_service: Callable[..., Service],
    twins: Twins,
    shop_file: Path,
) -> None:
    # Given a shop with a reply-to address, a staff address, and a return received days ago
    service = make_service(
        replace(settings, shop_file=shop_file, staff_email=STAFF), channels=twins.senders
    )
    body = event("return.received", occurred_at="2026-12-01T10:00:00+01:00")
    service.intake.accept("shop", EventIn.model_validate(body).payload())
    drain(service)

    # When the scheduler finds it stale and its emails are delivered
    now = datetime.fromisoformat("2026-12-06T10:01:00+01:00")
    service.scheduler.scan(now)
    for notification in rows(service):
        if notification.rule is not None and notification.channel == "email":
            assert service.deliverer.deliver(notification.id, now=now).status == "sent"

    # Then the customer's emails reply to the shop, the staff alert to its sender
    replies = [(message.to, message.subject, message.reply_to) for message in twins.email.outbox]
    customer = [reply for to, _, reply in replies if to == "sanne@example.nl"]
    staff = [reply for to, _, reply in replies if to == STAFF]
    assert len(customer) == 2 and set(customer) == {REPLY_TO}
    assert staff == [None]
