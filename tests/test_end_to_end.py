"""End to end: `notifier run` as a user starts it, the CONTRACT example posted over HTTP,
the email read at a loopback stand-in of SendGrid that the real SDK called."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from notifier.http import EXAMPLE_EVENT
from tests.running import AUTH, notifier_run, wait_for
from tests.standins import SendGridStandin


@pytest.fixture
def sendgrid() -> Iterator[SendGridStandin]:
    with SendGridStandin() as standin:
        yield standin


def test_the_contract_example_reaches_the_customer_by_email(
    tmp_path: Path, sendgrid: SendGridStandin
) -> None:
    with notifier_run(tmp_path, sendgrid.base_url) as base:
        # When the CONTRACT example is posted
        answer = httpx.post(f"{base}/v1/events", json=EXAMPLE_EVENT, headers=AUTH, timeout=10)
        wait_for(lambda: bool(sendgrid.mails), 20, "the email at SendGrid")
        detail = httpx.get(f"{base}/v1/returns/RMA-1001", headers=AUTH, timeout=10).json()

    # Then it was accepted and the Dutch refund email reached SendGrid through the SDK
    assert answer.status_code == 202
    [mail] = sendgrid.mails
    assert mail["personalizations"][0]["to"][0]["email"] == "sanne@example.nl"
    assert mail["from"]["email"] == "retouren@example.nl"
    parts = {c["type"]: c["value"] for c in mail["content"]}
    assert "€ 49,95" in parts["text/plain"]
    assert "text/html" in parts
    # And the read API shows it sent, with a masked recipient and the provider's id
    [email_note] = [n for n in detail["notifications"] if n["channel"] == "email"]
    assert email_note["status"] == "sent"
    assert email_note["recipient"] == "s***@example.nl"
    assert email_note["provider_message_id"]
