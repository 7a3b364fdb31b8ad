"""The console's Returns pages: find a return, read its story and every message as sent."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import icalendar
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import select

from channels.webhook import new_webhook_secret
from notifier import db
from notifier.http.staff.finder import PAGE, Finder
from notifier.service import Service
from notifier.settings import Settings
from tests.delivery_support import accept, subscribe, with_providers
from tests.drain import drain
from tests.factories import event
from tests.http.staff.support import Live, shot, sign_in
from tests.plans import plan, recorded
from tests.standins import SendGridStandin, TwilioStandin, WebhookReceiver, sendgrid_error


@pytest.fixture
def service(
    settings: Settings,
    make_service: Callable[[Settings], Service],
    sendgrid: SendGridStandin,
    twilio: TwilioStandin,
) -> Service:
    """The service sends through the SendGrid and Twilio stand-ins; its console is on http."""
    provided = with_providers(settings, sendgrid, twilio)
    return make_service(replace(provided, public_url="http://127.0.0.1:8000"))


def _customer(id: str, email: str, phone: str, name: str) -> dict[str, Any]:
    return {"id": id, "name": name, "email": email, "phone": phone}


SANNE = _customer("C-42", "sanne@example.nl", "+31612345678", "Sanne de Vries")
JORIS = _customer("C-77", "Joris@Example.com", "+31687654321", "Joris Bakker")


def _seed(service: Service) -> None:
    """Sanne's two returns and Joris's one, each with its messages planned."""
    accept(service, event(return_id="RMA-1001", customer=SANNE))
    accept(
        service,
        event(
            "return.received",
            "evt-1002",
            return_id="RMA-1002",
            occurred_at="2026-11-21T09:00:00+01:00",
            customer=SANNE,
            **{"return": {"id": "RMA-1002", "order_id": "ORD-5570"}},
        ),
    )
    accept(
        service,
        event(
            "return.label_created",
            "evt-3003",
            return_id="RMA-3003",
            occurred_at="2026-11-22T09:00:00+01:00",
            customer=JORIS,
            **{"return": {"id": "RMA-3003", "order_id": "ORD-7001"}},
        ),
    )


# Finding a return ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("RMA-3003", "RMA-3003"),  # a return id
        ("ORD-7001", "RMA-3003"),  # an order id
        ("joris@example.COM", "RMA-3003"),  # an email address, in any case
        ("06 8765 4321", "RMA-3003"),  # a phone number as people write it at home
        ("+31 6 87654321", "RMA-3003"),
    ],
)
def test_a_search_with_one_hit_goes_straight_to_the_return(
    signed_in_client: TestClient, service: Service, query: str, found: str
) -> None:
    _seed(service)

    answer = signed_in_client.get("/staff/returns", params={"q": query})

    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/staff/returns/{found}"


@pytest.mark.parametrize("query", ["SANNE@example.nl", "0612345678", "C-42"])
def test_a_search_with_several_hits_lists_them(
    signed_in_client: TestClient, service: Service, query: str
) -> None:
    _seed(service)

    answer = signed_in_client.get("/staff/returns", params={"q": query})

    # Then both of Sanne's returns are listed, the most recently changed first, and Joris's not
    assert answer.status_code == 200
    listed = re.findall(r'<a class="strong" href="/staff/returns/(RMA-\d+)">', answer.text)
    assert sorted(listed) == ["RMA-1001", "RMA-1002"]
    assert "ORD-5570" in answer.text and "ORD-5567" in answer.text


def test_a_search_that_finds_nothing_says_what_can_be_searched(
    signed_in_client: TestClient, service: Service
) -> None:
    _seed(service)

    answer = signed_in_client.get("/staff/returns", params={"q": "nobody@example.nl"})

    assert answer.status_code == 200
    assert "Geen retour gevonden voor “nobody@example.nl”." in answer.text
    assert "06 1234 5678 en +31 6 12345678 werken allebei" in answer.text
    assert "/staff/returns/RMA-" not in answer.text


def test_without_a_search_the_latest_changed_returns_are_listed_a_page_at_a_time(
    signed_in_client: TestClient, service: Service
) -> None:
    # Given more returns than fit on a page
    for number in range(PAGE + 3):
        accept(service, event(event_id=f"evt-{number}", return_id=f"RMA-{5000 + number}"))

    # When staff open the list, then its next page
    first = signed_in_client.get("/staff/returns")
    more = re.search(r'href="(/staff/returns\?after=[^"]+)"', first.text)
    assert more is not None
    second = signed_in_client.get(more.group(1).replace("&amp;", "&"))

    # Then the newest come first, and the second page holds the rest, each return once
    on_first = re.findall(r'<a class="strong" href="/staff/returns/(RMA-\d+)">', first.text)
    on_second = re.findall(r'<a class="strong" href="/staff/returns/(RMA-\d+)">', second.text)
    assert len(on_first) == PAGE and len(on_second) == 3
    assert on_first[0] == f"RMA-{5000 + PAGE + 2}"
    assert sorted(on_first + on_second) == sorted(f"RMA-{5000 + n}" for n in range(PAGE + 3))
    assert "Oudere retouren" not in second.text and "Terug naar de nieuwste" in second.text


# PostgreSQL's plans for a few rows say nothing about its plans for 100,000: SQLite's do.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_lookup_of_a_search_uses_an_index(service: Service) -> None:
    # Given returns
    _seed(service)
    finder = Finder(service.engine, "NL")

    # When it searches by each kind of value, and lists the latest
    with recorded(service.engine) as statements:
        for query in ("RMA-1001", "ORD-5567", "C-42", "Sanne@Example.nl", "06 1234 5678"):
            finder.find(query)
        finder.recent()

    # Then no statement scans a table: each reads an index
    plans = [plan(service.engine, sql, params) for sql, params in statements]
    assert len(plans) > 6
    for each in plans:
        scans = re.findall(r"SCAN [^/]*", each)
        assert all("USING" in scan for scan in scans), each
    assert any("ix_notifications_lower_recipient" in each for each in plans)
    assert any("ix_returns_updated_at_return_id" in each for each in plans)


# A return and its messages ---------------------------------------------------------------------


def test_a_return_page_shows_its_story_with_every_address_and_error_masked(
    signed_in_client: TestClient, service: Service, sendgrid: SendGridStandin
) -> None:
    # Given a refund whose email SendGrid refused, naming the address
    sendgrid.respond_with(400, body=sendgrid_error("Does not accept sanne@example.nl"))
    _seed(service)
    drain(service)

    # When staff open the return
    answer = signed_in_client.get("/staff/returns/RMA-1001")

    # Then they see its status, order, customer, facts, timeline and messages, masked
    html = answer.text
    assert answer.status_code == 200
    for shown in ("Retour RMA-1001", "Terugbetaald", "ORD-5567", "C-42", "PostNL", "Wollen trui"):
        assert shown in html
    assert "s***@example.nl" in html and "+316*****678" in html
    assert "Does not accept s***@example.nl" in html
    assert "evt-2f6c1a" in html
    assert 'badge badge-failed">mislukt<' in html and 'badge badge-sent">verstuurd<' in html
    assert "sanne@example.nl" not in html and "+31612345678" not in html
    # And a failed message offers to send it again
    assert "/resend" in html and "Opnieuw versturen" in html


def test_an_email_as_it_was_sent_offers_its_calendar_event(
    signed_in_client: TestClient, service: Service, sendgrid: SendGridStandin
) -> None:
    # Given an approval sent with its last day, two weeks away, as a calendar event
    approved = event("return.approved", "evt-approved-1")
    approved["return"]["ship_by"] = (db.now().date() + timedelta(days=14)).isoformat()
    accept(service, approved)
    drain(service)
    email_id = _notification_of(service, "RMA-1001", "email")

    # When staff open that email on the return's page
    answer = signed_in_client.get(f"/staff/returns/RMA-1001/notifications/{email_id}")

    # Then it shows the file the customer got, to download, with the event that was sent
    [(url, name)] = re.findall(r'<a href="(data:[^"]*)" download="([^"]+)">', answer.text)
    assert name == "retour-RMA-1001.ics"
    shown = icalendar.Calendar.from_ical(base64.b64decode(url.partition(";base64,")[2]))
    [mail] = sendgrid.mails
    sent = icalendar.Calendar.from_ical(base64.b64decode(mail["attachments"][0]["content"]))
    [shown_event], [sent_event] = shown.walk("VEVENT"), sent.walk("VEVENT")
    for field in ("UID", "SUMMARY", "DTSTART", "DESCRIPTION"):
        assert shown_event.decoded(field) == sent_event.decoded(field)


def test_an_unknown_return_or_message_is_a_404_page(
    signed_in_client: TestClient, service: Service
) -> None:
    _seed(service)

    unknown = signed_in_client.get("/staff/returns/RMA-9999")
    no_message = signed_in_client.get("/staff/returns/RMA-1001/notifications/ntf_nothing")
    elsewhere = _notification_of(service, "RMA-3003", "email")
    foreign = signed_in_client.get(f"/staff/returns/RMA-1001/notifications/{elsewhere}")

    assert unknown.status_code == 404 and "Er is geen retour met dit nummer." in unknown.text
    assert no_message.status_code == 404 and foreign.status_code == 404
    assert "Deze retour heeft geen bericht met dit nummer." in foreign.text


def test_the_returns_pages_need_a_session(client: TestClient, service: Service) -> None:
    _seed(service)

    for path in ("/staff/returns", "/staff/returns/RMA-1001", "/staff/returns?q=RMA-1001"):
        answer = client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/staff/sign-in?next=")


def _notification_of(service: Service, return_id: str, channel: str) -> str:
    n = db.notifications.c
    with service.engine.connect() as connection:
        found: str = connection.execute(
            select(n.id).where(n.return_id == return_id, n.channel == channel)
        ).scalar_one()
    return found


# Through the browser ---------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[tuple[WebhookReceiver, str]]:
    secret = new_webhook_secret()
    with WebhookReceiver(secret) as server:
        yield server, secret


def test_staff_find_returns_and_read_every_message_as_it_was_sent(
    page: Page,
    live: Live,
    sendgrid: SendGridStandin,
    twilio: TwilioStandin,
    receiver: tuple[WebhookReceiver, str],
) -> None:
    # Given three returns whose messages went out by email, SMS and webhook
    hooks, secret = receiver
    subscribe(live.service, f"{hooks.base_url}/hooks", secret)
    _seed(live.service)
    drain(live.service)
    sign_in(page, live)

    # When staff open the Returns page: the latest returns are listed
    page.get_by_role("navigation").get_by_role("link", name="Retouren").click()
    expect(page.get_by_role("heading", name="Retouren", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Recent gewijzigd")).to_be_visible()
    shot(page, "returns-latest")

    # And search for something that is not there
    page.get_by_label("Zoek een retour").fill("niemand@example.nl")
    page.get_by_role("button", name="Zoeken").click()
    expect(page.get_by_text("Geen retour gevonden voor “niemand@example.nl”.")).to_be_visible()
    shot(page, "returns-nothing-found")

    # And for the customer's phone number as she says it: both her returns
    page.get_by_label("Zoek een retour").fill("06 1234 5678")
    page.get_by_role("button", name="Zoeken").click()
    expect(page.get_by_role("heading", name="Gevonden voor “06 1234 5678”")).to_be_visible()
    expect(page.get_by_role("link", name="RMA-1002")).to_be_visible()
    shot(page, "returns-found")

    # When they open the refund: its facts, messages and timeline, addresses masked
    page.get_by_role("link", name="RMA-1001").click()
    expect(page.get_by_role("heading", name="Retour RMA-1001")).to_be_visible()
    expect(page.get_by_role("heading", name="Tijdlijn")).to_be_visible()
    messages = page.locator("table.messages")
    expect(messages.get_by_text("s***@example.nl")).to_be_visible()
    expect(messages.get_by_text("+316*****678")).to_be_visible()
    expect(page.get_by_text("sanne@example.nl")).to_have_count(0)
    shot(page, "return")

    # And its email: the subject, the HTML in a sandboxed frame, and the text as sent
    email_id = _notification_of(live.service, "RMA-1001", "email")
    [mail] = [m for m in sendgrid.mails if m["custom_args"]["notification_id"] == email_id]
    messages.get_by_role("row").filter(has_text="E-mail").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Het bericht zoals het verstuurd is")).to_be_visible()
    expect(page.get_by_text(mail["subject"], exact=True)).to_be_visible()
    frame = page.locator("iframe.frame-desktop")
    assert frame.get_attribute("sandbox") == ""
    text = {c["type"]: c["value"] for c in mail["content"]}["text/plain"]
    expect(page.locator("pre")).to_have_text(text)
    expect(page.frame_locator("iframe.frame-desktop").get_by_text("Sanne").first).to_be_visible()
    shot(page, "message-email")

    # And its SMS, as Twilio was given it
    page.get_by_role("link", name="RMA-1001").click()
    messages.get_by_role("row").filter(has_text="Sms").get_by_role("link").first.click()
    sms_id = _notification_of(live.service, "RMA-1001", "sms")
    [sms] = [m for m in twilio.messages if sms_id in m["StatusCallback"]]
    expect(page.locator(".sms-bubble")).to_have_text(sms["Body"])
    shot(page, "message-sms")

    # And its webhook, as the subscriber received it, in English this time
    page.goto(f"{page.url.split('/notifications/')[0]}?lang=en")
    messages.get_by_role("row").filter(has_text="Webhook").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="The message as it was sent")).to_be_visible()
    posted = [json.loads(d.body) for d in hooks.deliveries]
    [delivered] = [d for d in posted if d["data"]["return_id"] == "RMA-1001"]
    assert json.loads(page.locator("pre.json").inner_text()) == delivered
    shot(page, "message-webhook")

    # And a return that does not exist says so, and offers the search again
    page.goto(f"{live.url}/staff/returns/RMA-9999?lang=nl")
    expect(page.get_by_role("alert")).to_have_text("Er is geen retour met dit nummer.")
    expect(page.get_by_label("Zoek een retour")).to_be_visible()
    shot(page, "return-missing")
