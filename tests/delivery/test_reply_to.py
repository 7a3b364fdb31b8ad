"""Customer emails reply to the shop's support address and keep their links as written: at
SendGrid, in the development outbox and in the in-memory twin."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from notifier.http import EventIn
from notifier.service import Service
from notifier.settings import Settings
from tests.delivery_support import Twins, accept, rows, with_providers
from tests.drain import drain
from tests.factories import event
from tests.standins import SendGridStandin, TwilioStandin

STATUS_URL = "https://shop.example/retour/RMA-1001"
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


def anchors(html: str) -> list[str]:
    """Every ``<a ...>`` start tag of an HTML body."""
    return re.findall(r"<a\s[^>]*>", html)


def test_sendgrid_gets_the_reply_to_and_click_tracking_off(
    settings: Settings,
    make_service: Callable[[Settings], Service],
    sendgrid: SendGridStandin,
    twilio: TwilioStandin,
    shop_file: Path,
) -> None:
    # Given a shop profile with a reply-to address, and an approved return with its page
    service = make_service(replace(with_providers(settings, sendgrid, twilio), shop_file=shop_file))
    body = event("return.approved")
    body["return"]["status_url"] = STATUS_URL

    # When its email is delivered through SendGrid
    ids = accept(service, body)
    assert service.deliverer.deliver(ids["email"]).status == "sent"

    # Then SendGrid was asked to set the Reply-To and to leave every link as written
    [mail] = sendgrid.mails
    assert mail["reply_to"] == {
        "email": "klantenservice@dewolwinkel.example",
        "name": "De Wolwinkel",
    }
    assert mail["tracking_settings"] == {"click_tracking": {"enable": False, "enable_text": False}}
    html = mail["content"][1]["value"]
    links = anchors(html)
    assert any(f'href="{STATUS_URL}"' in link for link in links)
    assert links and all('clicktracking="off"' in link for link in links)


def test_the_outbox_eml_has_the_reply_to_and_untracked_links(
    settings: Settings, make_service: Callable[[Settings], Service], shop_file: Path
) -> None:
    # Given no email provider (the development outbox) and a shop profile with a reply-to
    service = make_service(replace(settings, shop_file=shop_file))
    body = event("return.label_created")
    body["return"]["status_url"] = STATUS_URL

    # When the label email is delivered
    ids = accept(service, body)
    assert service.deliverer.deliver(ids["email"]).status == "sent"

    # Then its .eml replies to the shop, and neither the label nor the status link is tracked
    raw = (settings.outbox_dir / f"{ids['email']}.eml").read_bytes()
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert mail["Reply-To"] == REPLY_TO
    part = mail.get_body(("html",))
    assert part is not None
    links = anchors(part.get_content())
    label = [link for link in links if "labels.example/RMA-1001.pdf" in link]
    status = [link for link in links if f'href="{STATUS_URL}"' in link]
    assert label and status
    assert all('clicktracking="off"' in link for link in links)


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
