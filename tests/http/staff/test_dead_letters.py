"""The dead letters page: finding what failed every attempt, and replaying it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import select

from notifier import db
from notifier.service import Service
from notifier.settings import Settings
from tests.conftest import API_KEY
from tests.delivery_support import accept, bury, row, with_providers
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
    """Email and SMS through the stand-ins, and two attempts in all before a dead letter;
    served over plain http, so the session cookie is not ``Secure``."""
    provided = with_providers(settings, sendgrid, twilio)
    return make_service(replace(provided, retry_attempts=2, public_url=settings.public_url))


def exhaust(service: Service, sendgrid: SendGridStandin) -> str:
    """The email of a ``return.approved`` event, after SendGrid refused both its attempts."""
    ids = accept(service, event(type="return.approved"))
    sendgrid.respond_with(503, body=b"mailbox sanne@example.nl: down for maintenance", times=2)
    now = db.now()
    for hours in range(2):
        service.deliverer.deliver(ids["email"], now + timedelta(hours=hours))
    assert row(service, ids["email"]).dead
    return ids["email"]


def audited(service: Service) -> list[tuple[str, str | None, str | None]]:
    a = db.staff_audit.c
    with service.engine.connect() as connection:
        rows = connection.execute(
            select(a.action, a.staff, a.target).where(a.action != "sign_in").order_by(a.id)
        ).all()
    return [(r.action, r.staff, r.target) for r in rows]


def ids_on(html: str) -> list[str]:
    """The dead letters a page lists, in order (their checkboxes)."""
    return re.findall(r'type="checkbox" name="id" value="([^"]+)"', html)


def test_a_dead_letter_replayed_in_the_browser_is_sent_once_more(
    page: Page, live: Live, sendgrid: SendGridStandin
) -> None:
    # Given an email that SendGrid refused at both attempts
    dead = exhaust(live.service, sendgrid)

    # When a staff member opens the dead letters
    sign_in(page, live)
    page.get_by_role("navigation").get_by_role("link", name="Onbezorgd").click()

    # Then they see it with its kind, masked recipient, return, attempts and masked error
    expect(page.get_by_role("heading", name="Onbezorgd")).to_be_visible()
    letter = page.get_by_role("row").filter(has_text="return.approved")
    expect(letter).to_contain_text("E-mail")
    expect(letter).to_contain_text("s***@example.nl")
    expect(letter).to_contain_text("mailbox s***@example.nl: down for maintenance")
    expect(letter.get_by_role("cell").nth(5)).to_have_text("2")
    link = letter.get_by_role("link", name="RMA-1001")
    expect(link).to_have_attribute("href", "/staff/returns/RMA-1001")
    assert "sanne@" not in page.content()
    shot(page, "dead-letters")

    # When they tick it and replay it, confirming
    letter.get_by_role("checkbox").check()
    page.get_by_role("button", name="Aangevinkte opnieuw proberen").click()
    expect(
        page.get_by_role("heading", name="1 onbezorgd bericht opnieuw proberen?")
    ).to_be_visible()
    shot(page, "dead-letters-confirm-ticked")
    page.get_by_role("button", name="Ja, probeer 1 bericht opnieuw").click()

    # Then they are told it is queued again, and it is no dead letter any more
    expect(page.get_by_role("status")).to_contain_text("1 bericht staat weer in de wachtrij")
    expect(page.get_by_text("Geen onbezorgde berichten.")).to_be_visible()
    shot(page, "dead-letters-replayed")

    # And a worker sends it under the same id: the third request SendGrid got for it
    drain(live.service)
    sent = [m["custom_args"]["notification_id"] for m in sendgrid.mails].count(dead)
    assert (row(live.service, dead).status, sent) == ("sent", 3)
    answer = httpx.get(
        f"{live.url}/v1/returns/RMA-1001", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    [shown] = [n for n in answer.json()["notifications"] if n["id"] == dead]
    assert (shown["status"], shown["dead_letter"]) == ("sent", False)

    # And the audit log says who replayed which notification
    assert audited(live.service) == [("replay", "staff", dead)]


def test_every_dead_letter_the_filter_shows_is_replayed_after_confirming_how_many(
    page: Page, live: Live
) -> None:
    # Given five email and two SMS dead letters
    email = bury(live.service, 5, prefix="ntf_email")
    sms = bury(live.service, 2, channel="sms", prefix="ntf_sms")

    # When a staff member shows only the email ones, in English
    sign_in(page, live)
    page.goto(f"{live.url}/staff/dead-letters?lang=en")
    page.get_by_label("Channel").select_option("email")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("5 of 7 dead letters match the filter")).to_be_visible()
    shot(page, "dead-letters-filtered")

    # And replays all the filter shows
    page.get_by_role("button", name="Replay all 5 shown by the filter").click()

    # Then the confirmation says how many and which filter
    expect(page.get_by_role("heading", name="Replay 5 dead letters?")).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("Email")
    shot(page, "dead-letters-confirm-filter")
    page.get_by_role("button", name="Yes, replay 5 messages").click()

    # Then the five email ones are queued again, the SMS ones are still dead letters
    expect(page.get_by_role("status")).to_have_text(
        "5 messages queued again. They go out within a few minutes."
    )
    assert [(row(live.service, i).status, row(live.service, i).dead) for i in email] == [
        ("queued", False)
    ] * 5
    assert all(row(live.service, i).dead for i in sms)
    assert sorted(audited(live.service)) == [("replay", "staff", i) for i in email]


def test_the_list_is_filtered_by_channel_kind_and_age(
    signed_in_client: TestClient, service: Service
) -> None:
    # Given dead letters of each channel, two kinds, from now and from two days ago
    now = db.now()
    email = bury(service, prefix="ntf_email")
    sms = bury(service, channel="sms", prefix="ntf_sms")
    webhook = bury(service, channel="webhook", prefix="ntf_webhook")
    reminder = bury(service, kind="reminder.ship_by", prefix="ntf_reminder")
    old = bury(service, died=now - timedelta(days=2), prefix="ntf_old")

    def listed(query: str) -> set[str]:
        answer = signed_in_client.get(f"/staff/dead-letters?{query}")
        assert answer.status_code == 200
        return set(ids_on(answer.text))

    # Then each filter shows its own, and a value it does not know filters nothing
    assert listed("") == {*email, *sms, *webhook, *reminder, *old}
    assert listed("channel=sms") == set(sms)
    assert listed("channel=webhook") == set(webhook)
    assert listed("kind=reminder.ship_by") == set(reminder)
    assert listed("age=day") == set(old)
    assert listed("age=last-hour") == {*email, *sms, *webhook, *reminder}
    assert listed("channel=email&age=last-week") == {*email, *reminder, *old}
    assert listed("channel=fax&kind=nonsense&age=soon") == listed("")


def test_long_lists_are_paged_fifty_at_a_time(page: Page, live: Live) -> None:
    # Given 120 dead letters
    ids = bury(live.service, 120)

    # When a staff member pages through them, older and older, then back
    sign_in(page, live)
    page.goto(f"{live.url}/staff/dead-letters")
    seen = [ids_on(page.content())]
    shot(page, "dead-letters-paged")
    with page.expect_navigation():  # the next page, not the one the click left
        page.get_by_role("link", name="Ouder").click()
    seen.append(ids_on(page.content()))
    with page.expect_navigation():  # the next page, not the one the click left
        page.get_by_role("link", name="Ouder").click()
    seen.append(ids_on(page.content()))
    expect(page.get_by_role("link", name="Ouder")).to_have_count(0)
    with page.expect_navigation():
        page.get_by_role("link", name="Nieuwer").click()

    # Then they saw each dead letter once, newest first, fifty a page
    assert [len(ids) for ids in seen] == [50, 50, 20]
    assert sum(seen, []) == ids
    assert ids_on(page.content()) == seen[1]
    expect(page.get_by_text("120 onbezorgde berichten, nieuwste eerst.")).to_be_visible()


def test_the_empty_states_say_what_to_do(page: Page, live: Live) -> None:
    # Given no dead letters at all
    sign_in(page, live)
    page.goto(f"{live.url}/staff/dead-letters")

    # Then the page says so, and what would show up here
    expect(page.get_by_text("Geen onbezorgde berichten.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("opnieuw proberen"))).to_have_count(0)
    shot(page, "dead-letters-empty")

    # And a filter that matches nothing offers the way back
    bury(live.service, channel="sms")
    page.goto(f"{live.url}/staff/dead-letters?channel=email")
    expect(page.get_by_text("Geen onbezorgde berichten bij dit filter.")).to_be_visible()
    shot(page, "dead-letters-empty-filter")
    page.get_by_role("link", name="Toon alle onbezorgde berichten").click()
    expect(page.get_by_role("checkbox")).to_have_count(1)


def test_replaying_with_nothing_ticked_asks_to_tick_first(page: Page, live: Live) -> None:
    # Given a dead letter
    [dead] = bury(live.service)

    # When a staff member presses replay without ticking anything
    sign_in(page, live)
    page.goto(f"{live.url}/staff/dead-letters")
    page.get_by_role("button", name="Aangevinkte opnieuw proberen").click()

    # Then they are asked to tick first, and nothing was replayed
    expect(page.get_by_role("alert")).to_have_text(
        "Vink eerst de berichten aan die je opnieuw wilt proberen, of probeer ze allemaal opnieuw."
    )
    shot(page, "dead-letters-none-ticked")
    assert row(live.service, dead).dead


def test_a_filter_replay_leaves_dead_letters_that_died_after_the_confirmation(
    signed_in_client: TestClient, service: Service
) -> None:
    # Given a dead letter, and the confirmation of replaying every one
    [before] = bury(service, died=db.now() - timedelta(seconds=5), prefix="ntf_before")
    confirmation = signed_in_client.get("/staff/dead-letters/replay?scope=all")
    pinned = re.search(r'name="before" value="([^"]+)"', confirmation.text)
    assert pinned and "1 onbezorgd bericht opnieuw proberen?" in confirmation.text

    # When another one dies before the staff member confirms
    [after] = bury(service, died=db.now() + timedelta(seconds=1), prefix="ntf_after")
    answer = signed_in_client.post(
        "/staff/dead-letters/replay",
        data={"csrf": csrf_of(confirmation.text), "scope": "all", "before": pinned.group(1)},
    )

    # Then only the one they were told about is replayed
    assert answer.status_code == 303
    assert parse_qs(urlsplit(answer.headers["location"]).query) == {"queued": ["1"]}
    assert (row(service, before).dead, row(service, after).dead) == (False, True)


def test_replaying_what_is_not_a_dead_letter_changes_nothing(
    signed_in_client: TestClient, service: Service, sendgrid: SendGridStandin
) -> None:
    # Given a notification that was sent, and one that failed for good without retries
    ids = accept(service, event(type="return.approved"))
    service.deliverer.deliver(ids["email"])
    [refused] = bury(service, dead=False, prefix="ntf_refused")
    csrf = csrf_of(signed_in_client.get("/staff/dead-letters").text)

    # When a replay of both is posted
    answer = signed_in_client.post(
        "/staff/dead-letters/replay",
        data={"csrf": csrf, "scope": "ticked", "id": [ids["email"], refused, "ntf_unknown"]},
    )

    # Then nothing is queued, and the staff member is told so
    assert answer.status_code == 303
    notice = signed_in_client.get(answer.headers["location"])
    assert "Er is niets opnieuw verstuurd" in notice.text
    assert row(service, ids["email"]).status == "sent"
    assert (row(service, refused).status, row(service, refused).dead) == ("failed", False)
    assert len(sendgrid.mails) == 1
    assert audited(service) == []


def test_replaying_needs_a_session_and_the_form_s_token(
    client: TestClient, service: Service
) -> None:
    # Given a dead letter
    [dead] = bury(service)

    # When the pages are asked for without a session, and a replay is posted without one
    listing = client.get("/staff/dead-letters?channel=email")
    confirmation = client.get(f"/staff/dead-letters/replay?id={dead}")
    anonymous = client.post("/staff/dead-letters/replay", data={"scope": "ticked", "id": dead})

    # Then the pages send to the sign-in page, and the replay is refused
    assert listing.status_code == confirmation.status_code == 303
    assert listing.headers["location"] == (
        "/staff/sign-in?next=%2Fstaff%2Fdead-letters%3Fchannel%3Demail"
    )
    assert anonymous.status_code == 401

    # When a signed-in staff member's replay comes without the form's token, or a wrong one
    client.post("/staff/sign-in", data={"token": "staff:staff-token-0123456789"})
    token = csrf_of(client.get("/staff/dead-letters").text)
    missing = client.post("/staff/dead-letters/replay", data={"scope": "ticked", "id": dead})
    wrong = client.post(
        "/staff/dead-letters/replay", data={"csrf": token + "x", "scope": "all", "before": "x"}
    )

    # Then both are refused, and the dead letter is still one
    assert missing.status_code == wrong.status_code == 403
    assert row(service, dead).dead and audited(service) == []


def test_no_page_shows_a_clear_address(signed_in_client: TestClient, service: Service) -> None:
    [dead] = bury(service, channel="sms")

    pages = [
        signed_in_client.get("/staff/dead-letters").text,
        signed_in_client.get(f"/staff/dead-letters/replay?id={dead}").text,
    ]

    assert all("+31612345678" not in unescape(html) for html in pages)
    assert all("+316*****678" in html for html in pages)
