"""Sending a failed or bounced message again from the console, and everything it refuses."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from channels.tracking import TrackingEvent, TrackingStatus
from notifier import db
from notifier.service import Service
from notifier.settings import Settings
from tests.delivery_support import accept, row, with_providers
from tests.drain import drain
from tests.factories import event
from tests.http.staff.support import Live, csrf_of, shot, sign_in
from tests.standins import SendGridStandin, TwilioStandin


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


def _sent_refund(service: Service) -> dict[str, str]:
    """The refund's email, SMS and webhook sent; returns their ids by channel."""
    ids = accept(service, event())
    drain(service)
    return ids


def _bounced_refund(service: Service) -> dict[str, str]:
    """The refund sent, and its email then reported as a hard bounce by SendGrid."""
    ids = _sent_refund(service)
    bounce = TrackingEvent(
        "sendgrid",
        TrackingStatus.BOUNCED,
        ids["email"],
        None,
        "sanne@example.nl",
        None,
        "550 5.1.1 <sanne@example.nl>: mailbox unknown",
        True,
    )
    service.tracker.apply([bounce])
    drain(service)
    return ids


def _counts(service: Service) -> tuple[int, int]:
    """How many notifications are stored, and how many resends the audit recorded."""
    with service.engine.connect() as connection:
        notes = connection.execute(select(func.count()).select_from(db.notifications))
        resends = connection.execute(
            select(func.count())
            .select_from(db.staff_audit)
            .where(db.staff_audit.c.action == "resend")
        )
        return notes.scalar_one(), resends.scalar_one()


def _resend_path(notification_id: str) -> str:
    return f"/staff/returns/RMA-1001/notifications/{notification_id}/resend"


def _audit(service: Service) -> list[Any]:
    with service.engine.connect() as connection:
        return list(connection.execute(select(db.staff_audit).order_by(db.staff_audit.c.id)))


# Through the browser ---------------------------------------------------------------------------


def test_a_bounced_email_is_sent_again_to_a_corrected_address(
    page: Page, live: Live, sendgrid: SendGridStandin
) -> None:
    # Given a refund email that bounced (which also suppressed the address)
    ids = _bounced_refund(live.service)
    sign_in(page, live)

    # When staff open the return: the bounced email offers to send it again
    page.goto(f"{live.url}/staff/returns?q=RMA-1001")
    expect(page.get_by_role("heading", name="Retour RMA-1001")).to_be_visible()
    bounced = page.locator("table.messages tr").filter(has_text="onbestelbaar")
    expect(bounced).to_contain_text("s***@example.nl")
    bounced.get_by_role("link", name="Opnieuw versturen").click()

    # Then a form shows where it went, masked, with an empty field for a corrected address
    expect(page.get_by_role("heading", name="Dit bericht opnieuw versturen")).to_be_visible()
    address = page.get_by_label("Verbeterd e-mailadres")
    expect(address).to_have_value("")
    expect(page.get_by_text("Laat het leeg om naar hetzelfde adres te versturen")).to_contain_text(
        "s***@example.nl"
    )
    shot(page, "resend-form")

    # When they leave it empty: the confirmation says the suppressed address gets nothing
    page.get_by_role("button", name="Verder").click()
    expect(page.get_by_role("heading", name="Opnieuw versturen bevestigen")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Dit bericht gaat niet weg.")
    expect(page.get_by_role("alert")).to_contain_text("address suppressed")
    shot(page, "resend-confirm-suppressed")

    # When they go back and type a corrected address that is not one
    page.get_by_role("link", name="Adres wijzigen").click()
    page.get_by_label("Verbeterd e-mailadres").fill("sanne@devries")
    page.get_by_role("button", name="Verder").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("Dit is geen geldig e-mailadres"))
    expect(page.get_by_label("Verbeterd e-mailadres")).to_have_attribute("aria-invalid", "true")
    shot(page, "resend-invalid")

    # And then the right one
    page.get_by_label("Verbeterd e-mailadres").fill("sanne@devries.nl")
    page.get_by_role("button", name="Verder").click()

    # Then the confirmation says exactly what goes to whom, masked, and nothing holds it back
    expect(page.get_by_role("heading", name="Opnieuw versturen bevestigen")).to_be_visible()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("s***@devries.nl")
    expect(facts).to_contain_text("verbeterd adres")
    expect(facts).to_contain_text("Je terugbetaling van € 49,95 is onderweg")
    expect(page.get_by_role("alert")).to_have_count(0)
    assert "sanne@example.nl" not in page.locator("main").inner_text()
    shot(page, "resend-confirm")
    assert len(sendgrid.mails) == 1  # nothing sent yet

    # When they confirm
    page.get_by_role("button", name="Ja, verstuur opnieuw").click()

    # Then the return shows the new message, queued, and the original still bounced
    expect(page.get_by_role("status")).to_contain_text("s***@devries.nl")
    rows = page.locator("table.messages tbody tr")
    expect(rows.filter(has_text="s***@devries.nl")).to_contain_text("in de wachtrij")
    expect(rows.filter(has_text="s***@example.nl").filter(has_text="E-mail")).to_contain_text(
        "onbestelbaar"
    )
    shot(page, "resend-done")

    # And once the worker ran, the corrected address got the message at SendGrid
    drain(live.service)
    [again] = [m for m in sendgrid.mails if m["custom_args"]["notification_id"] != ids["email"]]
    assert again["personalizations"][0]["to"][0]["email"] == "sanne@devries.nl"
    assert again["subject"] == sendgrid.mails[0]["subject"]
    new_id = again["custom_args"]["notification_id"]
    assert row(live.service, new_id).status == "sent"
    assert row(live.service, ids["email"]).status == "bounced"
    page.reload()
    expect(rows.filter(has_text="s***@devries.nl")).to_contain_text("verstuurd")

    # And the audit log names who resent what, with the address masked
    [entry] = [e for e in _audit(live.service) if e.action == "resend"]
    assert (entry.staff, entry.target) == ("staff", ids["email"])
    assert entry.detail == f"{new_id} to s***@devries.nl"
    page.goto(f"{live.url}/staff/audit")
    expect(page.locator("tbody tr").first).to_contain_text(f"{new_id} to s***@devries.nl")

    # And a message that was sent does not offer it, and is refused when asked anyway
    page.goto(f"{live.url}{_resend_path(ids['sms'])}")
    expect(page.get_by_role("alert")).to_contain_text(
        "Alleen een mislukt of onbestelbaar bericht kun je opnieuw versturen."
    )
    expect(page.get_by_role("button", name="Verder")).to_have_count(0)
    shot(page, "resend-refused")


# Over HTTP -------------------------------------------------------------------------------------


def test_a_failed_sms_goes_to_a_corrected_number_written_as_at_home(
    signed_in_client: TestClient, service: Service, twilio: TwilioStandin
) -> None:
    # Given a refund SMS that Twilio refused for good
    twilio.respond_with(400, body={"code": 21211, "message": "Invalid 'To' Phone Number"})
    ids = _sent_refund(service)
    assert row(service, ids["sms"]).status == "failed"
    form = signed_in_client.get(_resend_path(ids["sms"]))
    token = csrf_of(form.text)

    # When staff check and confirm a corrected number written the Dutch way
    check = signed_in_client.post(
        _resend_path(ids["sms"]) + "/check", data={"csrf": token, "to": "06 8765 4321"}
    )
    number = re.search(r'name="number" value="(\d+)"', check.text)
    assert check.status_code == 200 and number is not None
    assert "+316*****321" in check.text and "+31687654321" in check.text  # the form carries it
    confirmed = signed_in_client.post(
        _resend_path(ids["sms"]),
        data={"csrf": token, "to": "+31687654321", "number": number.group(1)},
    )

    # Then the resend went to that number in E.164
    assert confirmed.status_code == 303
    new_id = confirmed.headers["location"].split("resent=")[1]
    drain(service)
    assert row(service, new_id).recipient == "+31687654321"
    assert [m["To"] for m in twilio.messages][-1] == "+31687654321"


def test_a_confirmation_sent_twice_resends_once(
    signed_in_client: TestClient, service: Service, sendgrid: SendGridStandin
) -> None:
    ids = _bounced_refund(service)
    token = csrf_of(signed_in_client.get(_resend_path(ids["email"])).text)
    before = _counts(service)
    confirm = {"csrf": token, "to": "sanne@devries.nl", "number": "1"}

    first = signed_in_client.post(_resend_path(ids["email"]), data=confirm)
    second = signed_in_client.post(_resend_path(ids["email"]), data=confirm)
    drain(service)

    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert _counts(service) == (before[0] + 1, before[1] + 1)
    assert [m["personalizations"][0]["to"][0]["email"] for m in sendgrid.mails][1:] == [
        "sanne@devries.nl"
    ]


def test_a_message_that_was_sent_is_not_sent_again(
    signed_in_client: TestClient, service: Service
) -> None:
    # Given a refund email that was sent
    ids = _sent_refund(service)
    token = csrf_of(signed_in_client.get("/staff/returns/RMA-1001").text)
    before = _counts(service)

    # When staff ask to send it again, by the form or by posting
    form = signed_in_client.get(_resend_path(ids["email"]) + "?lang=en")
    check = signed_in_client.post(_resend_path(ids["email"]) + "/check", data={"csrf": token})
    confirm = signed_in_client.post(
        _resend_path(ids["email"]), data={"csrf": token, "to": "", "number": "1"}
    )

    # Then each is refused, saying why, and nothing changed
    assert (form.status_code, check.status_code, confirm.status_code) == (409, 409, 409)
    assert "Only a failed or bounced message can be sent again. This one is “sent”." in form.text
    assert "<form" not in form.text.split("</header>")[1]
    assert _counts(service) == before
    assert row(service, ids["email"]).status == "sent"


def test_an_invalid_corrected_address_is_refused_and_nothing_is_sent(
    signed_in_client: TestClient, service: Service
) -> None:
    ids = _bounced_refund(service)
    token = csrf_of(signed_in_client.get(_resend_path(ids["email"])).text)
    before = _counts(service)

    checks = [
        signed_in_client.post(_resend_path(ids["email"]) + "/check", data={"csrf": token, "to": to})
        for to in ("sanne@", "+31612345678", "x" * 300 + "@example.nl")
    ]
    confirm = signed_in_client.post(
        _resend_path(ids["email"]), data={"csrf": token, "to": "sanne at devries", "number": "1"}
    )

    assert [answer.status_code for answer in checks] == [422, 422, 422]
    assert confirm.status_code == 422
    assert "Dit is geen geldig e-mailadres." in confirm.text
    assert 'value="sanne at devries"' in confirm.text  # kept, to correct it
    assert _counts(service) == before


def test_sending_again_needs_a_session_and_the_forms_token(
    client: TestClient, service: Service
) -> None:
    ids = _bounced_refund(service)
    before = _counts(service)
    path = _resend_path(ids["email"])

    # Without a session: the form asks to sign in, and posts are refused
    form = client.get(path)
    confirm = client.post(path, data={"to": "sanne@devries.nl", "number": "1"})
    assert form.status_code == 303 and form.headers["location"].startswith("/staff/sign-in")
    assert confirm.status_code == 401

    # Signed in, but without the form's token or with another one: refused
    client.post("/staff/sign-in", data={"token": "staff:staff-token-0123456789"})
    missing = client.post(path, data={"to": "sanne@devries.nl", "number": "1"})
    wrong = client.post(path, data={"csrf": "forged", "to": "sanne@devries.nl", "number": "1"})
    check = client.post(path + "/check", data={"to": "sanne@devries.nl"})
    assert (missing.status_code, wrong.status_code, check.status_code) == (403, 403, 403)
    assert "Dit formulier is verlopen." in missing.text

    # And nothing changed
    assert _counts(service) == before


def test_resending_an_unknown_message_is_a_404(
    signed_in_client: TestClient, service: Service
) -> None:
    ids = _bounced_refund(service)
    token = csrf_of(signed_in_client.get(_resend_path(ids["email"])).text)

    unknown = signed_in_client.get(_resend_path("ntf_unknown"))
    foreign = signed_in_client.post(
        f"/staff/returns/RMA-2002/notifications/{ids['email']}/resend",
        data={"csrf": token, "number": "1"},
    )

    assert unknown.status_code == foreign.status_code == 404
