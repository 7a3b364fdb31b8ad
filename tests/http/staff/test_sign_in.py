"""Signing in to the console, and everything it refuses."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import select

from notifier import db
from notifier.service import Service
from tests.conftest import API_KEY
from tests.http.staff.support import STAFF_TOKEN, Live, csrf_of, shot, sign_in


def test_a_staff_member_signs_in_sees_the_overview_and_signs_out(page: Page, live: Live) -> None:
    # Given the console, not signed in
    page.goto(f"{live.url}/staff")

    # Then it asks to sign in first, in Dutch
    expect(page).to_have_url(re.compile(r"/staff/sign-in\?next=%2Fstaff$"))
    expect(page.get_by_role("heading", name="Inloggen")).to_be_visible()
    shot(page, "sign-in")

    # When they sign in with their token
    sign_in(page, live)

    # Then they see the overview with their name, and can switch to English
    expect(page.get_by_role("heading", name="Overzicht")).to_be_visible()
    expect(page.get_by_text("Ingelogd als")).to_be_visible()
    shot(page, "overview")
    page.get_by_role("link", name="EN", exact=True).click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()

    # When they sign out
    page.get_by_role("button", name="Sign out").click()

    # Then the session is gone: the console asks to sign in again
    expect(page.get_by_text("You have been signed out.")).to_be_visible()
    page.goto(f"{live.url}/staff/audit")
    expect(page).to_have_url(re.compile(r"/staff/sign-in"))


def test_a_wrong_token_is_refused_and_recorded(page: Page, live: Live) -> None:
    # When someone signs in with a wrong token
    sign_in_page = f"{live.url}/staff/sign-in"
    page.goto(sign_in_page)
    page.get_by_label("Medewerkerstoken").fill("staff:not-the-token")
    page.get_by_role("button", name="Inloggen").click()

    # Then they are told, stay signed out, and the attempt is in the audit log
    expect(page.get_by_role("alert")).to_have_text("Dit token klopt niet.")
    with live.service.engine.connect() as connection:
        actions = connection.execute(select(db.staff_audit.c.action)).scalars().all()
    assert actions == ["sign_in_failed"]


def test_an_api_key_is_not_a_staff_token_and_a_staff_token_is_not_an_api_key(
    client: TestClient,
) -> None:
    # When the API key is used to sign in, or as a bearer token on a console page
    as_token = client.post("/staff/sign-in", data={"token": API_KEY})
    as_header = client.get("/staff", headers={"Authorization": f"Bearer {API_KEY}"})
    # And the staff token is used as an API key
    secret = STAFF_TOKEN.partition(":")[2]
    as_key = client.get("/v1/notifications", headers={"Authorization": f"Bearer {secret}"})

    # Then each is refused
    assert as_token.status_code == 401
    assert "notifier_staff" not in as_token.headers.get("set-cookie", "")
    assert as_header.status_code == 303 and "/staff/sign-in" in as_header.headers["location"]
    assert as_key.status_code == 401


def test_the_session_cookie_is_signed_http_only_strict_and_expires(client: TestClient) -> None:
    answer = client.post("/staff/sign-in", data={"token": STAFF_TOKEN, "next": "/staff"})

    cookie = answer.headers["set-cookie"]
    assert answer.status_code == 303 and answer.headers["location"] == "/staff"
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=28800" in cookie
    assert "Path=/;" in cookie and "Secure" not in cookie  # the public URL is http here

    # And a cookie that was tampered with is no session
    value = cookie.split(";")[0].split("=", 1)[1]
    client.cookies.set("notifier_staff", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
    assert client.get("/staff").status_code == 303


def test_a_form_without_the_csrf_token_changes_nothing(signed_in_client: TestClient) -> None:
    # Given a signed-in staff member's page and its token
    overview = signed_in_client.get("/staff")
    token = csrf_of(overview.text)

    # When a form is posted without the token, or with another one
    missing = signed_in_client.post("/staff/sign-out", data={})
    signed_in_client.post("/staff/sign-in", data={"token": STAFF_TOKEN})  # signed in again
    wrong = signed_in_client.post("/staff/sign-out", data={"csrf": token + "x"})

    # Then sign-out still ends the session (harmless), but without recording it as the
    # staff member's action
    assert missing.status_code == 303 and wrong.status_code == 303
    audit = signed_in_client.get("/staff/audit")
    assert audit.status_code == 303  # signed out


def test_repeated_wrong_tokens_are_slowed_down_then_refused(
    client: TestClient, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a client that already failed four times a moment ago
    with service.engine.begin() as connection:
        for minutes in (4, 3, 2, 1):
            connection.execute(
                db.staff_audit.insert().values(
                    at=db.now() - timedelta(minutes=minutes),
                    action="sign_in_failed",
                    client="testclient",
                )
            )

    # When it tries a fifth wrong token, then the right one
    fifth = client.post("/staff/sign-in", data={"token": "staff:guess"})
    right = client.post("/staff/sign-in", data={"token": STAFF_TOKEN})

    # Then the fifth is refused as wrong, and from then on every attempt waits its turn
    assert fifth.status_code == 401
    assert right.status_code == 429
    assert 0 < int(right.headers["retry-after"]) <= 15 * 60
    assert "Te veel pogingen" in right.text


def test_every_console_answer_forbids_scripts_and_embedding(client: TestClient) -> None:
    for path in ("/staff/sign-in", "/staff/static/staff.css"):
        answer = client.get(path)
        policy = answer.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "script-src" not in policy  # default-src 'none' forbids every script
        assert answer.headers["x-frame-options"] == "DENY"
    redirect = client.get("/staff")
    assert redirect.headers["x-frame-options"] == "DENY"


def test_an_unknown_console_page_is_a_404_page(signed_in_client: TestClient) -> None:
    answer = signed_in_client.get("/staff/no-such-page")

    assert answer.status_code == 404
    assert "Niet gevonden" in answer.text and "Uitloggen" in answer.text
    assert answer.headers["x-frame-options"] == "DENY"
