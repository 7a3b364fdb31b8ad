"""The message gallery with a template directory that fails the template check."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from notifier.rendering import default_template_dir
from notifier.settings import Settings
from tests.http.staff.support import Live, shot, sign_in

#: The one template broken here, and what the check says of it.
BROKEN = "en/return.received.sms.txt"
FINDING = "uses variable 'voucher_code', which return.received does not provide"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The tests' settings, with templates whose English received SMS uses an unknown
    variable, and a file that is no template of any message."""
    templates = tmp_path / "templates"
    shutil.copytree(default_template_dir(), templates)
    sms = templates / BROKEN
    sms.write_text(sms.read_text().rstrip() + " Code: {{ voucher_code }}\n")
    (templates / "nl" / "notes.txt").write_text("Notes for the copywriters.\n")
    return replace(settings, template_dir=templates)


def test_a_finding_is_shown_next_to_its_template_and_the_message_fails_in_place(
    page: Page, live: Live
) -> None:
    # Given the gallery of a shop whose English received SMS uses an unknown variable
    sign_in(page, live)
    page.goto(f"{live.url}/staff/messages")

    # Then the index says so, counts it against that message, and lists the stray file (which
    # the English templates lack)
    expect(page.get_by_role("status")).to_contain_text("De templatecontrole vond 3 problemen.")
    row = page.get_by_role("row").filter(has_text="Retour ontvangen")
    expect(row.get_by_role("link", name="1 bevinding")).to_be_visible()
    shared = page.locator("section.lint")
    expect(shared).to_contain_text("nl/notes.txt")
    expect(shared).to_contain_text("not a template of any message kind")
    expect(shared).to_contain_text("en/notes.txt missing, but present in nl/")
    shot(page, "messages-index-findings")

    # When they follow the count to the finding
    row.get_by_role("link", name="1 bevinding").click()
    expect(page).to_have_url(re.compile(r"/staff/messages/return.received\?channel=sms$"))

    # Then the finding stands in the English column with its file, above the render error;
    # the Dutch column shows its SMS and no finding
    english, dutch = (
        page.locator('section.message[lang="en"]'),
        page.locator('section.message[lang="nl"]'),
    )
    expect(english.locator(".lint")).to_contain_text(BROKEN)
    expect(english.locator(".lint")).to_contain_text(FINDING)
    expect(english.get_by_role("alert")).to_contain_text("Dit bericht lukt niet")
    expect(english.get_by_role("alert")).to_contain_text(BROKEN)
    expect(dutch.locator(".lint")).to_have_count(0)
    expect(dutch.locator(".sms-bubble")).to_contain_text("we hebben je retour")
    shot(page, "messages-sms-finding")

    # When they switch to the email, which the finding does not concern
    page.get_by_role("link", name="E-mail", exact=True).click()

    # Then the finding is listed as one about this message on another channel
    expect(page).to_have_url(re.compile(r"channel=email"))
    expect(page.locator("section.message .lint")).to_have_count(0)
    expect(page.get_by_role("heading", name=re.compile("andere kanalen"))).to_be_visible()
    expect(page.locator("section.lint")).to_contain_text(BROKEN)
    expect(page.locator("iframe.frame-desktop")).to_have_count(2)


def test_a_page_whose_message_does_not_render_still_answers(
    signed_in_client: TestClient,
) -> None:
    answer = signed_in_client.get(
        "/staff/messages/return.received", params={"channel": "webhook", "sample": "card"}
    )

    assert answer.status_code == 200
    assert answer.text.count('class="webhook-body"') == 2
    sms = signed_in_client.get("/staff/messages/return.received", params={"channel": "sms"})
    assert sms.status_code == 200
    assert sms.text.count('<p class="sms-bubble">') == 1
    assert "UndefinedError" in sms.text or "voucher_code" in sms.text
