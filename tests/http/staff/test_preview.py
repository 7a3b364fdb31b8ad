"""The console's preview: a pasted event or a stored return, and test sends."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta

import icalendar
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from notifier import db
from notifier.http import EXAMPLE_EVENT
from notifier.service import Service
from notifier.settings import Settings
from tests.delivery_support import accept, with_providers
from tests.factories import event
from tests.http.staff.conftest import serve
from tests.http.staff.support import Live, csrf_of, shot, sign_in
from tests.standins import SendGridStandin, TwilioStandin


@pytest.fixture
def provided_live(
    settings: Settings,
    make_service: Callable[[Settings], Service],
    sendgrid: SendGridStandin,
    twilio: TwilioStandin,
) -> Iterator[Live]:
    """The console of a service that sends through the SendGrid and Twilio stand-ins."""
    service = make_service(with_providers(settings, sendgrid, twilio))
    with serve(service) as live:
        yield live


def _counts(service: Service) -> dict[str, int]:
    tables = (db.events, db.returns, db.notifications, db.outbox, db.customers)
    with service.engine.connect() as connection:
        return {
            t.name: connection.execute(select(func.count()).select_from(t)).scalar_one()
            for t in tables
        }


def test_a_pasted_event_shows_its_problems_then_what_it_would_send(
    page: Page, provided_live: Live, sendgrid: SendGridStandin
) -> None:
    # Given a signed-in staff member on the preview page
    sign_in(page, provided_live)
    page.goto(f"{provided_live.url}/staff/preview")
    before = _counts(provided_live.service)

    # When they paste an event with a float amount
    broken = json.loads(json.dumps(EXAMPLE_EVENT))
    broken["return"]["refund"]["amount"] = 49.95
    page.get_by_label("Gebeurtenis (JSON), zoals een retoursysteem die stuurt").fill(
        json.dumps(broken)
    )
    page.get_by_role("button", name="Toon wat er verstuurd zou worden").first.click()

    # Then they see the same problem a 422 names
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Deze gebeurtenis zou worden geweigerd (422)")
    expect(alert).to_contain_text("return.refund.amount")
    shot(page, "preview-invalid")

    # When they paste the CONTRACT's event
    page.get_by_label("Gebeurtenis (JSON), zoals een retoursysteem die stuurt").fill(
        json.dumps(EXAMPLE_EVENT)
    )
    page.get_by_role("button", name="Toon wat er verstuurd zou worden").first.click()

    # Then they see the email and the SMS, rendered, with masked recipients
    expect(page.get_by_role("heading", name="Wat er verstuurd zou worden")).to_be_visible()
    email = page.locator("article.message").filter(has_text="return.refund_issued · email")
    expect(email).to_contain_text("s***@example.nl")
    frames = email.locator("iframe")
    expect(frames).to_have_count(2)
    assert frames.first.get_attribute("sandbox") == ""
    assert "terugbetaling" in (frames.first.get_attribute("srcdoc") or "").lower()
    sms = page.locator("article.message").filter(has_text="return.refund_issued · sms")
    expect(sms).to_contain_text("GSM-7")
    shot(page, "preview-event")

    # And nothing was sent or stored
    assert _counts(provided_live.service) == before
    assert sendgrid.mails == []


def test_a_test_send_goes_to_the_typed_address_marked_as_a_test(
    page: Page, provided_live: Live, sendgrid: SendGridStandin, twilio: TwilioStandin
) -> None:
    # Given a preview of the CONTRACT's event
    sign_in(page, provided_live)
    page.goto(f"{provided_live.url}/staff/preview")
    page.get_by_role("button", name="Toon wat er verstuurd zou worden").first.click()

    # When the staff member sends the email and the SMS to themselves
    email = page.locator("article.message").filter(has_text="return.refund_issued · email")
    email.get_by_label("Stuur een test naar").fill("support@winkel.example")
    email.get_by_role("button", name="Test versturen").click()
    expect(page.get_by_role("status")).to_have_text(
        "Testbericht verstuurd naar s***@winkel.example."
    )
    sms = page.locator("article.message").filter(has_text="return.refund_issued · sms")
    sms.get_by_label("Stuur een test naar").fill("06 2222 3333")
    sms.get_by_role("button", name="Test versturen").click()
    expect(page.get_by_role("status")).to_contain_text("Testbericht verstuurd naar +316")
    shot(page, "preview-test-sent")

    # Then the stand-ins received them, marked as tests, and never at the customer
    assert [m["personalizations"][0]["to"][0]["email"] for m in sendgrid.mails] == [
        "support@winkel.example"
    ]
    assert sendgrid.mails[0]["subject"].startswith("[TEST] ")
    assert [m["To"] for m in twilio.messages] == ["+31622223333"]
    assert twilio.messages[0]["Body"].startswith("[TEST] ")
    # And each is in the audit log, with the address masked
    with provided_live.service.engine.connect() as connection:
        entries = connection.execute(
            select(db.staff_audit.c.action, db.staff_audit.c.detail).where(
                db.staff_audit.c.action == "test_send"
            )
        ).all()
    assert len(entries) == 2
    assert all("support@winkel.example" not in (e.detail or "") for e in entries)


def test_an_emails_calendar_event_is_shown_downloaded_and_sent_with_a_test(
    page: Page, provided_live: Live, sendgrid: SendGridStandin
) -> None:
    # Given a preview of an approved return whose last day is two weeks away
    approved = event("return.approved", "evt-approved-1")
    approved["return"]["ship_by"] = (db.now().date() + timedelta(days=14)).isoformat()
    sign_in(page, provided_live)
    answer = page.goto(f"{provided_live.url}/staff/preview")
    page.get_by_label("Gebeurtenis (JSON), zoals een retoursysteem die stuurt").fill(
        json.dumps(approved)
    )
    page.get_by_role("button", name="Toon wat er verstuurd zou worden").first.click()

    # Then the email names the file it would carry
    email = page.locator("article.message").filter(has_text="return.approved · email")
    expect(email.locator("dd.attachments")).to_contain_text("retour-RMA-1001.ics text/calendar")
    shot(page, "preview-attachment")

    # When the staff member downloads it, under the page's strict policy
    assert answer is not None and "default-src 'none'" in answer.headers["content-security-policy"]
    with page.expect_download() as download:
        email.get_by_role("link", name="retour-RMA-1001.ics").click()

    # Then they get the calendar file itself
    assert download.value.suggested_filename == "retour-RMA-1001.ics"
    path = download.value.path()
    [vevent] = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Winkel: laatste dag om je retour RMA-1001 in te leveren"

    # When they send the email to themselves as a test
    email.get_by_label("Stuur een test naar").fill("support@winkel.example")
    email.get_by_role("button", name="Test versturen").click()
    expect(page.get_by_role("status")).to_contain_text("Testbericht verstuurd naar")

    # Then the test carries the calendar file as the customer's email would
    [mail] = sendgrid.mails
    assert [(a["filename"], a["type"]) for a in mail["attachments"]] == [
        ("retour-RMA-1001.ics", "text/calendar")
    ]


def test_test_sends_are_limited_per_staff_member(
    signed_in_client: TestClient, service: Service
) -> None:
    # Given a staff member who sent ten tests in the last minutes
    with service.engine.begin() as connection:
        for minutes in range(10):
            connection.execute(
                db.staff_audit.insert().values(
                    at=db.now() - timedelta(minutes=minutes), staff="staff", action="test_send"
                )
            )
    preview = signed_in_client.get("/staff/preview")
    token = csrf_of(preview.text)

    # When they send one more
    answer = signed_in_client.post(
        "/staff/preview/test-send",
        data={
            "csrf": token,
            "mode": "event",
            "event": json.dumps(EXAMPLE_EVENT),
            "index": "0",
            "to": "support@winkel.example",
        },
    )

    # Then it is refused with a clear message, and nothing more is recorded
    assert answer.status_code == 200
    assert "de afgelopen 10 minuten 10 testberichten verstuurd" in answer.text
    with service.engine.connect() as connection:
        count = connection.execute(
            select(func.count())
            .select_from(db.staff_audit)
            .where(db.staff_audit.c.action == "test_send")
        ).scalar_one()
    assert count == 10


def test_a_test_send_needs_an_address_of_the_channel_and_the_csrf_token(
    signed_in_client: TestClient,
) -> None:
    token = csrf_of(signed_in_client.get("/staff/preview").text)
    form = {"mode": "event", "event": json.dumps(EXAMPLE_EVENT), "index": "0"}

    bad_address = signed_in_client.post(
        "/staff/preview/test-send", data={**form, "csrf": token, "to": "not an address"}
    )
    no_token = signed_in_client.post(
        "/staff/preview/test-send", data={**form, "to": "support@winkel.example"}
    )

    assert "Naar dat adres kan dit bericht niet." in bad_address.text
    assert no_token.status_code == 403


def test_a_stored_return_is_previewed_as_its_latest_event_would_send_now(
    page: Page, live: Live
) -> None:
    # Given a stored return
    accept(live.service, event("return.received", "evt-received"))

    # When the staff member picks it
    sign_in(page, live)
    page.goto(f"{live.url}/staff/preview")
    page.get_by_label("Retournummer").fill("RMA-1001")
    page.get_by_label("Retournummer").press("Enter")

    # Then they see what its latest event would send, and an unknown one is said so
    expect(page.locator("article.message").first).to_contain_text("return.received")
    shot(page, "preview-return")
    page.get_by_label("Retournummer").fill("RMA-9999")
    page.get_by_label("Retournummer").press("Enter")
    expect(page.get_by_role("alert")).to_have_text("Retour RMA-9999 staat er niet in.")


def test_the_preview_api_takes_a_staff_session_but_not_without_one(
    signed_in_client: TestClient, client: TestClient
) -> None:
    body = {"event": EXAMPLE_EVENT}

    with_session = signed_in_client.post("/v1/preview", json=body)
    signed_in_client.cookies.clear()
    without = signed_in_client.post("/v1/preview", json=body)

    assert with_session.status_code == 200
    assert {m["channel"] for m in with_session.json()["messages"]} == {"email", "sms"}
    assert without.status_code == 401


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("pasted", "words"),
    [
        ("[" * 5000 + "]" * 5000, "nested deeper than 1,024 levels"),
        ('{"event_id": ' + "9" * 5000 + "}", "a number of more than 4,300 digits"),
    ],
)
def test_a_pasted_text_no_parser_should_read_is_told_as_such(
    signed_in_client: TestClient, pasted: str, words: str
) -> None:
    # Given a signed-in staff member on the preview page
    token = csrf_of(signed_in_client.get("/staff/preview").text)
    # When they paste JSON nested 5,000 deep, or holding a 5,000-digit number
    answer = signed_in_client.post("/staff/preview", data={"csrf": token, "event": pasted})
    # Then the page says what is wrong with it, as it does for any event a 422 would refuse
    assert answer.status_code == 422
    assert words in answer.text
