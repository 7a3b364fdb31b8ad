"""The suppressions page: addresses no message goes to, found, and lifted."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from html import unescape

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import insert, select

from notifier import db
from notifier.delivery import suppress, suppression
from notifier.service import Service
from notifier.settings import Settings
from notifier.status import Channel
from tests.delivery_support import accept, row, with_providers
from tests.drain import drain
from tests.factories import event
from tests.http.staff.support import STAFF_TOKEN, Live, csrf_of, shot, sign_in
from tests.standins import SendGridStandin, TwilioStandin

BOUNCE = "bounce: 550 5.1.1 <sanne@example.nl>: mailbox unknown"


@pytest.fixture
def service(
    settings: Settings,
    make_service: Callable[[Settings], Service],
    sendgrid: SendGridStandin,
    twilio: TwilioStandin,
) -> Service:
    """Email and SMS through the stand-ins, served over plain http (the session cookie is not
    ``Secure``)."""
    provided = with_providers(settings, sendgrid, twilio)
    return make_service(replace(provided, public_url=settings.public_url))


def suppressed(service: Service, channel: Channel, address: str, reason: str = BOUNCE) -> None:
    with service.engine.begin() as connection:
        suppress(connection, channel, address, reason)


def audited(service: Service) -> list[tuple[str, str | None, str | None, str | None]]:
    a = db.staff_audit.c
    with service.engine.connect() as connection:
        rows = connection.execute(
            select(a.action, a.staff, a.target, a.detail)
            .where(a.action != "sign_in")
            .order_by(a.id)
        ).all()
    return [(r.action, r.staff, r.target, r.detail) for r in rows]


def lift_links(html: str) -> list[str]:
    return [
        unescape(link) for link in re.findall(r'href="(/staff/suppressions/lift\?[^"]+)"', html)
    ]


def test_a_suppression_lifted_in_the_browser_lets_the_next_email_go_out(
    page: Page, live: Live, sendgrid: SendGridStandin
) -> None:
    # Given Sanne's email address, suppressed after a hard bounce: no email is made for her
    suppressed(live.service, Channel.EMAIL, "sanne@example.nl")
    before = accept(live.service, event(type="return.approved", event_id="evt-1"))
    drain(live.service)
    assert "email" not in before
    assert sendgrid.mails == []

    # When a staff member opens the suppressions
    sign_in(page, live)
    page.get_by_role("navigation").get_by_role("link", name="Geblokkeerd").click()

    # Then they see the address masked, with its reason (masked too) and date
    listed = page.get_by_role("row").filter(has_text="s***@example.nl")
    expect(listed).to_contain_text("E-mail")
    expect(listed).to_contain_text("bounce: 550 5.1.1 <s***@example.nl>: mailbox unknown")
    expect(listed).to_contain_text(f"{db.now():%Y-%m-%d}")
    assert "sanne@" not in page.content()
    shot(page, "suppressions")

    # When they lift it, reading what that means first
    listed.get_by_role("link", name="Opheffen").click()
    expect(
        page.get_by_role("heading", name="Blokkade van s***@example.nl opheffen?")
    ).to_be_visible()
    expect(
        page.get_by_text("Nieuwe berichten naar dit adres worden weer verstuurd.")
    ).to_be_visible()
    assert "sanne@" not in page.content()
    shot(page, "suppression-lift-email")
    page.get_by_role("button", name="Blokkade opheffen").click()

    # Then they are told, and the list is empty
    expect(page.get_by_role("status")).to_have_text(
        "Blokkade opgeheven. Nieuwe berichten naar dit adres worden weer verstuurd."
    )
    expect(page.get_by_text("Geen geblokkeerde adressen.")).to_be_visible()
    shot(page, "suppression-lifted")

    # And the next email to her goes out
    after = accept(live.service, event(type="return.received", event_id="evt-2"))
    drain(live.service)
    assert row(live.service, after["email"]).status == "sent"
    assert [m["custom_args"]["notification_id"] for m in sendgrid.mails] == [after["email"]]

    # And the audit log has the lifting, with the masked address only
    [(action, staff, target, detail)] = audited(live.service)
    assert (action, staff, target) == ("lift_suppression", "staff", "email s***@example.nl")
    assert detail is not None and "sanne@" not in detail and "s***@example.nl" in detail


def test_lifting_an_sms_suppression_says_the_customer_must_reply_start(
    page: Page, live: Live
) -> None:
    # Given a phone number that replied STOP
    suppressed(live.service, Channel.SMS, "+31612345678", "twilio 21610: recipient opted out")

    # When a staff member, in English, asks to lift it
    sign_in(page, live)
    page.goto(f"{live.url}/staff/suppressions?lang=en")
    page.get_by_role("link", name="Lift").click()

    # Then the confirmation explains that only the customer's START makes texts possible
    expect(
        page.get_by_role("heading", name="Lift the suppression of +316*****678?")
    ).to_be_visible()
    expect(page.get_by_text(re.compile("once they reply START"))).to_be_visible()
    assert "+31612345678" not in page.content()
    shot(page, "suppression-lift-sms")

    # When they think better of it
    page.get_by_role("link", name="Cancel").click()

    # Then nothing changed
    expect(page.get_by_role("row").filter(has_text="+316*****678")).to_be_visible()
    with live.service.engine.connect() as connection:
        assert suppression(connection, Channel.SMS, "+31612345678") is not None


def test_an_address_is_found_exactly_email_in_any_case_and_phone_as_intake_reads_it(
    page: Page, live: Live
) -> None:
    # Given an email address and a phone number suppressed, among others
    suppressed(live.service, Channel.EMAIL, "sanne@example.nl")
    suppressed(live.service, Channel.SMS, "+31612345678", "twilio 21610")
    suppressed(live.service, Channel.EMAIL, "sanne@example.com")

    # When a staff member searches for the email address in other capitals
    sign_in(page, live)
    page.goto(f"{live.url}/staff/suppressions")
    page.get_by_label("Zoek een adres").fill("Sanne@Example.NL")
    page.get_by_role("button", name="Zoeken").click()

    # Then they find that one only, masked, also in the heading
    expect(page.get_by_role("heading", name="Zoekresultaat voor s***@example.nl")).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(2)  # the header and the one address
    assert "sanne@" not in page.content().lower()
    shot(page, "suppressions-search")

    # When they search the phone number as a Dutch customer writes it
    page.get_by_label("Zoek een adres").fill("06 1234 5678")
    page.get_by_role("button", name="Zoeken").click()
    expect(page.get_by_role("row").filter(has_text="+316*****678")).to_be_visible()

    # When they search an address that is not suppressed, or something that is no address
    page.get_by_label("Zoek een adres").fill("someone@example.nl")
    page.get_by_role("button", name="Zoeken").click()
    expect(page.get_by_text("Dit adres is niet geblokkeerd.")).to_be_visible()
    shot(page, "suppressions-search-none")
    page.get_by_label("Zoek een adres").fill("sanne")
    page.get_by_role("button", name="Zoeken").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Dat is geen e-mailadres of telefoonnummer. Typ het hele adres."
    )


def test_the_list_is_filtered_by_channel_and_paged_without_a_clear_address(
    signed_in_client: TestClient, service: Service
) -> None:
    # Given 70 suppressed email addresses and 5 phone numbers
    now = db.now()
    rows = [
        {
            "channel": "email",
            "address": f"klant{i:03d}@example.nl",
            "reason": "bounce",
            "created_at": now - timedelta(minutes=i),
        }
        for i in range(70)
    ] + [
        {
            "channel": "sms",
            "address": f"+316123456{i:02d}",
            "reason": "twilio 21610",
            "created_at": now - timedelta(minutes=i, seconds=30),
        }
        for i in range(5)
    ]
    with service.engine.begin() as connection:
        connection.execute(insert(db.suppressions), rows)

    # When the list is read page by page, following the links, and then for SMS only
    pages = [signed_in_client.get("/staff/suppressions").text]
    while older := re.search(r'href="([^"]+)" rel="next"', pages[-1]):
        pages.append(signed_in_client.get(unescape(older.group(1))).text)
    texts = signed_in_client.get("/staff/suppressions?channel=sms").text

    # Then there are two pages, fifty and twenty-five, newest first, all masked
    masked = [re.findall(r'<td class="mono">([^<]+)</td>', html) for html in pages]
    assert [len(shown) for shown in masked] == [50, 25]
    newest_first = sorted(rows, key=lambda r: r["created_at"], reverse=True)
    assert [unescape(m) for m in sum(masked, [])] == [
        "k***@example.nl" if r["channel"] == "email" else f"+316*****{r['address'][-3:]}"
        for r in newest_first
    ]
    assert not any(re.search(r"klant\d|\+316123456", html) for html in pages + [texts])
    assert len(re.findall(r'<td class="mono">', texts)) == 5
    assert "5 geblokkeerde adressen, nieuwste eerst." in texts


def test_lifting_needs_a_session_the_form_s_token_and_a_key_of_the_console(
    client: TestClient, service: Service
) -> None:
    # Given a suppressed address, and the key a signed-in staff member's page gives it
    suppressed(service, Channel.EMAIL, "sanne@example.nl")
    client.post("/staff/sign-in", data={"token": STAFF_TOKEN})
    listing = client.get("/staff/suppressions").text
    [link] = lift_links(listing)
    key = link.split("key=", 1)[1]
    token = csrf_of(listing)

    # When a lifting is posted without the form's token, with a forged key, and signed out
    missing = client.post("/staff/suppressions/lift", data={"key": key})
    forged = client.post("/staff/suppressions/lift", data={"csrf": token, "key": key[:-4] + "AAAA"})
    foreign = client.get("/staff/suppressions/lift?key=sanne%40example.nl")
    client.cookies.clear()
    signed_out = client.post("/staff/suppressions/lift", data={"csrf": token, "key": key})
    page_signed_out = client.get("/staff/suppressions")

    # Then each is refused and the address is still suppressed, with nothing in the audit
    assert missing.status_code == 403
    assert forged.status_code == foreign.status_code == 404
    assert signed_out.status_code == 401
    assert page_signed_out.status_code == 303
    assert "/staff/sign-in" in page_signed_out.headers["location"]
    with service.engine.connect() as connection:
        assert suppression(connection, Channel.EMAIL, "sanne@example.nl") == BOUNCE
    assert audited(service) == []


def test_lifting_what_was_lifted_already_says_so(
    signed_in_client: TestClient, service: Service
) -> None:
    # Given a suppression, and its confirmation open in two tabs
    suppressed(service, Channel.EMAIL, "sanne@example.nl")
    listing = signed_in_client.get("/staff/suppressions").text
    [link] = lift_links(listing)
    confirmation = signed_in_client.get(link).text
    form = {
        "csrf": csrf_of(confirmation),
        "key": re.findall(r'name="key" value="([^"]+)"', confirmation)[0],
    }

    # When both are confirmed
    first = signed_in_client.post("/staff/suppressions/lift", data=form)
    second = signed_in_client.post("/staff/suppressions/lift", data=form)

    # Then the first lifts it, the second tells it was lifted already, and one is audited
    assert first.headers["location"] == "/staff/suppressions?notice=lifted"
    assert second.headers["location"] == "/staff/suppressions?notice=gone"
    gone = signed_in_client.get(second.headers["location"]).text
    assert "iemand heeft de blokkade al opgeheven" in gone
    assert [entry[0] for entry in audited(service)] == ["lift_suppression"]
    assert signed_in_client.get(link).status_code == 404


def test_the_empty_states_say_what_to_do(page: Page, live: Live) -> None:
    # Given no suppressions at all
    sign_in(page, live)
    page.goto(f"{live.url}/staff/suppressions")

    # Then the page says so and when an address would show up here
    expect(page.get_by_text("Geen geblokkeerde adressen.")).to_be_visible()
    expect(page.get_by_text(re.compile("STOP antwoordt op een sms"))).to_be_visible()
    shot(page, "suppressions-empty")

    # And a channel without suppressions offers the way back
    suppressed(live.service, Channel.EMAIL, "sanne@example.nl")
    page.get_by_label("Kanaal").select_option("sms")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("Geen geblokkeerde adressen op dit kanaal.")).to_be_visible()
    shot(page, "suppressions-empty-channel")
    page.get_by_role("link", name="Alle blokkades").click()
    expect(page.get_by_role("row").filter(has_text="s***@example.nl")).to_be_visible()
