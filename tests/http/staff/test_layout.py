"""Every console page fits a phone: nothing wider than the screen but what scrolls in its box."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from notifier import db
from notifier.delivery import suppress
from tests.delivery_support import accept, bury
from tests.factories import event
from tests.http.staff.support import PHONE, Live, sign_in

PAGES = (
    "/staff",
    "/staff/returns",
    "/staff/returns?q=RMA-1001",
    "/staff/returns/RMA-1001",
    "/staff/messages",
    "/staff/messages/return.refund_issued?channel=email",
    "/staff/messages/return.refund_issued?channel=sms",
    "/staff/preview",
    "/staff/preview?return_id=RMA-1001",
    "/staff/dead-letters",
    "/staff/suppressions",
    "/staff/audit",
)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_page_fits_a_phone_and_has_one_main_heading(page: Page, live: Live) -> None:
    # Given a store with a return, its messages, a dead letter and a suppression
    accept(live.service, event())
    bury(live.service)
    with live.service.engine.begin() as connection:
        suppress(connection, "email", "sanne@example.nl", "sendgrid bounce: 550 no such user")
        notification = connection.execute(select(db.notifications.c.id).limit(1)).scalar_one()
    sign_in(page, live)
    page.set_viewport_size(PHONE)

    # When each page is shown at phone width
    for path in (*PAGES, f"/staff/returns/RMA-1001/notifications/{notification}"):
        page.goto(live.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        headings = page.locator("h1").count()

        # Then it is no wider than the phone, and it says what it is in one heading
        assert width <= PHONE["width"], f"{path} is {width} px wide on a phone"
        assert headings == 1, f"{path} has {headings} main headings"
