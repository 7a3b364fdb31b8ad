"""The message gallery: every kind, channel and sample, in Dutch and English side by side."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import icalendar
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Locator, Page, expect

from notifier.http import create_app
from notifier.http.staff import gallery
from notifier.http.staff.i18n import DUTCH
from notifier.rendering import ALL_KINDS, STAFF_KINDS, default_template_dir, samples_for
from notifier.service import Service
from notifier.settings import Settings
from tests.http.staff.support import STAFF_TOKEN, Live, shot, sign_in

#: A Dutch and an English word of each kind's subject (email, webhook) and SMS text.
WORDS = {
    "return.requested": ("retouraanvraag", "return request"),
    "return.approved": ("goedgekeurd", "approved"),
    "return.rejected": ("retouraanvraag", "return request"),
    "return.label_created": ("retourlabel|terugbrengen naar", "return label|back to"),
    "return.in_transit": ("onderweg|naar ons door", "on its way|on to us"),
    "return.received": ("ontvangen", "received"),
    "return.inspected": ("gecontroleerd", "checked"),
    "return.refund_issued": (
        "staat klaar|is onderweg|verlaagt je factuur|verwerkt",
        "is ready|on its way|reducing your invoice|processed",
    ),
    "return.exchange_shipped": ("ruilartikel", "exchange item"),
    "return.cancelled": ("geannuleerd", "cancelled"),
    "reminder.ship_by": (
        "vergeet je retour|laatste dag|haalt",
        "forget your return|last day|collect",
    ),
    "reminder.label_expiring": ("verloopt", "expires"),
    "return.expired": ("laatste dag", "last day"),
    "nudge.stale": ("update over je retour", "update on your return"),
    "staff.stale_return": ("staat al", "has been"),
}
SECTION = re.compile(r'<section class="message" lang="(nl|en)"[^>]*>(.*?)</section>', re.S)


def sections(page_html: str) -> dict[str, str]:
    """The text of each locale's column of a gallery page, unescaped."""
    return {locale: html.unescape(body) for locale, body in SECTION.findall(page_html)}


def inner_width(frame: Locator) -> int:
    """The width an iframe lays its document out at, in CSS pixels."""
    document = (frame.element_handle()).content_frame()
    assert document is not None
    return int(document.evaluate("innerWidth"))


def test_every_kind_has_its_words_in_the_table() -> None:
    assert sorted(WORDS) == sorted(ALL_KINDS)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_channel_and_sample_of_a_kind_shows_dutch_and_english(
    signed_in_client: TestClient, kind: str
) -> None:
    dutch, english = WORDS[kind]
    channels = ("email", "webhook") if kind in STAFF_KINDS else ("email", "sms", "webhook")
    for channel in channels:
        for sample in samples_for(kind):
            # When a staff member opens one sample of the kind on one channel
            answer = signed_in_client.get(
                f"/staff/messages/{kind}", params={"sample": sample, "channel": channel}
            )

            # Then both locales are there side by side, each in its own language
            where = f"{kind} {channel} {sample}"
            assert answer.status_code == 200, where
            columns = sections(answer.text)
            assert list(columns) == ["nl", "en"], where
            assert re.search(dutch, columns["nl"], re.I), where
            assert re.search(english, columns["en"], re.I), where
            if channel != "webhook":  # a webhook's status names the event in English
                assert not re.search(english, columns["nl"], re.I), where
            assert 'class="problem"' not in answer.text, where


def test_the_index_lists_every_kind_with_its_channels_samples_and_check(
    signed_in_client: TestClient,
) -> None:
    # When a staff member opens the gallery
    answer = signed_in_client.get("/staff/messages")

    # Then every kind is listed with a link per channel and per sample, and the check is clean
    assert answer.status_code == 200
    text = html.unescape(answer.text)
    for kind in ALL_KINDS:
        assert f'href="/staff/messages/{kind}"' in text
        for sample in samples_for(kind):
            assert f'href="/staff/messages/{kind}?sample={sample}"' in text
        assert f'href="/staff/messages/{kind}?channel=webhook"' in text
        sms = f'href="/staff/messages/{kind}?channel=sms"' in text
        assert sms == (kind not in STAFF_KINDS)
    assert "De templatecontrole vond geen problemen." in text
    assert text.count("geen bevindingen") == len(ALL_KINDS)


def test_an_email_shows_subject_preheader_both_frames_sandboxed_and_the_plain_text(
    signed_in_client: TestClient,
) -> None:
    # When the refund email of the partial sample is opened
    answer = signed_in_client.get(
        "/staff/messages/return.refund_issued", params={"sample": "partial"}
    )

    # Then each locale has its subject, preheader, two sandboxed frames and the plain text
    columns = sections(answer.text)
    assert "Je terugbetaling van € 49,95 is onderweg" in columns["nl"]
    assert "Your refund of €49.95 is on its way" in columns["en"]
    frames = re.findall(r"<iframe [^>]*>", answer.text)
    assert len(frames) == 4
    for frame in frames:
        assert re.search(r"\ssandbox[\s>]", frame) and "allow-" not in frame
        assert 'srcdoc="&lt;!DOCTYPE html&gt;' in frame or 'srcdoc="&lt;!doctype' in frame
    assert sum('class="frame frame-desktop"' in f for f in frames) == 2
    assert sum('class="frame frame-phone"' in f for f in frames) == 2
    assert '<dd class="preheader">' in answer.text
    assert re.search(r'<pre class="plain-text">Hoi Zoë,', answer.text)


def test_an_email_with_a_calendar_event_offers_it_for_download(
    signed_in_client: TestClient,
) -> None:
    # When the approval email of the in-store sample is opened
    answer = signed_in_client.get(
        "/staff/messages/return.approved", params={"sample": "in_store", "channel": "email"}
    )

    # Then each locale names its calendar file, with a link that holds the file itself
    found = re.findall(r'<a href="(data:[^"]*)" download="([^"]+)">', answer.text)
    links = {name: url for url, name in found}
    assert set(links) == {"retour-RMA-1001.ics", "return-RMA-1001.ics"}
    media_type, _, content = links["return-RMA-1001.ics"].partition(";base64,")
    assert media_type == "data:text/calendar;charset=utf-8;method=PUBLISH"
    [vevent] = icalendar.Calendar.from_ical(base64.b64decode(content)).walk("VEVENT")
    assert str(vevent["LOCATION"]) == "De Wolwinkel Utrecht, Oudegracht 12, Utrecht"
    assert "Bijlagen" in answer.text
    # And a message without one shows no such row
    refund = signed_in_client.get("/staff/messages/return.refund_issued")
    assert "attachments" not in refund.text and "data:" not in refund.text


def test_a_webhook_body_is_the_contract_envelope_as_json(signed_in_client: TestClient) -> None:
    # When the webhook of the store credit sample is opened
    answer = signed_in_client.get(
        "/staff/messages/return.refund_issued",
        params={"sample": "store_credit", "channel": "webhook"},
    )

    # Then each locale's column holds the CONTRACT section 6 body, with its own message
    bodies = re.findall(r'<pre class="webhook-body">(.*?)</pre>', answer.text, re.S)
    assert len(bodies) == 2
    nl, en = (json.loads(html.unescape(body)) for body in bodies)
    assert set(nl) == {"id", "type", "timestamp", "data"}
    assert (nl["type"], nl["timestamp"]) == ("return.refund_issued", "2026-11-20T10:15:00+01:00")
    assert set(nl["data"]) == {
        "return_id",
        "order_id",
        "status",
        "locale",
        "message",
        "customer_id",
    }
    assert (nl["data"]["return_id"], nl["data"]["order_id"]) == ("RMA-1001", "ORD-5567")
    assert (nl["data"]["locale"], en["data"]["locale"]) == ("nl", "en")
    assert nl["data"]["message"]["subject"] == "Je tegoed van € 49,95 staat klaar"
    assert en["data"]["message"]["subject"] == "Your store credit of €49.95 is ready"
    assert en["data"]["message"]["text"].startswith("Hi Tom,")


def test_an_sms_shows_its_encoding_characters_and_segments(signed_in_client: TestClient) -> None:
    # When the SMS of an ordinary sample and of a name outside GSM-7 are opened
    plain = signed_in_client.get(
        "/staff/messages/return.received", params={"sample": "card", "channel": "sms"}
    )
    cyrillic = signed_in_client.get(
        "/staff/messages/return.received", params={"sample": "non_gsm_name", "channel": "sms"}
    )

    # Then the first is GSM-7 in one segment; the second is UCS-2, counted in UTF-16 units
    # of which 70 fit one SMS and 67 each part of a longer one
    assert re.findall(r'<dd class="sms-encoding">([^<]+)</dd>', plain.text) == ["GSM-7"] * 2
    assert re.findall(r'<dd class="sms-segments">(\d+)</dd>', plain.text) == ["1", "1"]
    assert "Septets" in plain.text
    assert re.findall(r'<dd class="sms-encoding">([^<]+)</dd>', cyrillic.text) == ["UCS-2"] * 2
    assert "UTF-16-eenheden" in cyrillic.text and "Septets" not in cyrillic.text
    units = re.findall(r"<dt>UTF-16-eenheden</dt><dd>(\d+)</dd>", cyrillic.text)
    segments = re.findall(r'<dd class="sms-segments">(\d+)</dd>', cyrillic.text)
    assert len(units) == len(segments) == 2
    for count, parts in zip(units, segments, strict=True):
        assert 70 < int(count) <= 3 * 67 and int(parts) == -(-int(count) // 67)
    assert "Hoi Олена," in cyrillic.text and "Hi Олена," in cyrillic.text


@pytest.mark.parametrize(
    "path",
    [
        "/staff/messages/return.closed",
        "/staff/messages/no.such.kind",
        "/staff/messages/return.received?sample=nope",
        "/staff/messages/return.received?channel=fax",
        "/staff/messages/staff.stale_return?channel=sms",
    ],
)
def test_an_unknown_kind_sample_or_channel_is_the_not_found_page(
    signed_in_client: TestClient, path: str
) -> None:
    answer = signed_in_client.get(path)

    assert answer.status_code == 404
    assert "Er is geen bericht, situatie of kanaal met die naam." in answer.text


@pytest.mark.parametrize("path", ["/staff/messages", "/staff/messages/return.received?channel=sms"])
def test_without_a_session_the_gallery_asks_to_sign_in(client: TestClient, path: str) -> None:
    answer = client.get(path)

    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/staff/sign-in?next=%2Fstaff%2Fmessages")
    assert "Wollen trui" not in answer.text


def test_the_template_check_runs_once_for_many_pages(
    signed_in_client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a process whose template check has not run yet (once the one started in the
    # background with the app is over)
    gallery.template_check(settings)
    runs: list[object] = []
    real = gallery.check_templates
    monkeypatch.setattr(gallery, "_CHECKS", {})
    monkeypatch.setattr(gallery, "check_templates", lambda *a: runs.append(a) or real(*a))

    # When the index and a few kind pages are opened
    for path in ("/staff/messages", "/staff/messages/return.received", "/staff/messages"):
        assert signed_in_client.get(path).status_code == 200

    # Then the check ran once, with the shop's brand
    assert len(runs) == 1


def test_a_template_check_that_cannot_run_is_shown_and_the_messages_still_are(
    signed_in_client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a template check that fails to run
    gallery.template_check(settings)

    def unreadable(*_: object) -> list[str]:
        raise OSError("templates unreadable")

    monkeypatch.setattr(gallery, "_CHECKS", {})
    monkeypatch.setattr(gallery, "check_templates", unreadable)

    # When the gallery and a message are opened
    index = signed_in_client.get("/staff/messages")
    message = signed_in_client.get("/staff/messages/return.received")

    # Then both say so, and the message is still shown
    assert index.status_code == message.status_code == 200
    for answer in (index, message):
        assert "De templatecontrole kon niet draaien:" in answer.text
        assert "OSError: templates unreadable" in answer.text
    assert message.text.count('class="frame frame-desktop"') == 2


def test_a_template_edited_on_disk_shows_in_the_gallery_at_once(
    settings: Settings, make_service: Callable[..., Service], tmp_path: Path
) -> None:
    # Given the console of a shop with templates of its own, which read them once
    templates = tmp_path / "templates"
    shutil.copytree(default_template_dir(), templates)
    service = make_service(replace(settings, template_dir=templates))
    path = "/staff/messages/return.received?channel=sms"
    with TestClient(create_app(service), follow_redirects=False) as client:
        client.post("/staff/sign-in", data={"token": STAFF_TOKEN, "next": "/staff"})
        before = sections(client.get(path).text)["nl"]

        # When a copywriter edits the Dutch received SMS on disk
        sms = templates / "nl" / "return.received.sms.txt"
        sms.write_text(sms.read_text().replace("ontvangen", "binnengekregen"))
        stat = sms.stat()
        os.utime(sms, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        after = sections(client.get(path).text)["nl"]

    # Then the gallery shows the edited text at once
    assert "we hebben je retour RMA-1001 ontvangen" in before
    assert "we hebben je retour RMA-1001 binnengekregen" in after


def test_every_name_the_gallery_shows_has_its_dutch() -> None:
    names = [
        *gallery.KIND_NAMES.values(),
        *gallery.SAMPLE_NAMES.values(),
        *gallery.CHANNEL_NAMES.values(),
        *gallery.LOCALE_NAMES.values(),
    ]
    assert sorted(set(names) - set(DUTCH)) == []
    every_sample = {name for kind in ALL_KINDS for name in samples_for(kind)}
    assert sorted(every_sample - set(gallery.SAMPLE_NAMES)) == []


def test_a_staff_member_browses_messages_switching_sample_and_channel(
    page: Page, live: Live
) -> None:
    # Given a signed-in staff member on the gallery
    sign_in(page, live)
    page.get_by_role("navigation", name="Klantenservice").get_by_role(
        "link", name="Berichten"
    ).click()
    expect(page.get_by_role("heading", name="Berichten", exact=True)).to_be_visible()
    expect(page.get_by_text("De templatecontrole vond geen problemen.")).to_be_visible()
    shot(page, "messages-index")

    # When they open the message that a return has arrived
    page.get_by_role("link", name="Retour ontvangen").click()

    # Then the email shows in Dutch and English, each in sandboxed desktop and phone frames
    expect(page.get_by_role("heading", name="Nederlands")).to_be_visible()
    expect(page.get_by_role("heading", name="Engels")).to_be_visible()
    frames = page.locator("iframe")
    expect(frames).to_have_count(4)
    for frame in frames.all():
        assert frame.get_attribute("sandbox") == ""
    desktop, phone = page.locator("iframe.frame-desktop"), page.locator("iframe.frame-phone")
    for column, subject in enumerate(
        ("We hebben je retour ontvangen", "We've received your return")
    ):
        expect(page.locator("dd.subject").nth(column)).to_have_text(subject)
        assert subject in html.unescape(desktop.nth(column).get_attribute("srcdoc") or "")
        assert inner_width(desktop.nth(column)) == 640
        assert inner_width(phone.nth(column)) == 375
    expect(page.frame_locator("iframe.frame-phone").first.get_by_text("Hoi Sanne,")).to_be_visible()
    shot(page, "messages-email")

    # When they switch to the SMS
    page.get_by_role("link", name="Sms", exact=True).click()

    # Then it is GSM-7 in one segment
    expect(page).to_have_url(re.compile(r"sample=card&channel=sms"))
    expect(page.locator("dd.sms-encoding")).to_have_text(["GSM-7", "GSM-7"])
    expect(page.locator("dd.sms-segments")).to_have_text(["1", "1"])
    shot(page, "messages-sms")

    # When they switch to the sample of a customer with a Cyrillic name
    page.get_by_role("link", name="Naam buiten GSM-7").click()

    # Then the SMS keeps the name, so it is UCS-2 in more segments
    expect(page).to_have_url(re.compile(r"sample=non_gsm_name&channel=sms"))
    expect(page.locator("dd.sms-encoding")).to_have_text(["UCS-2", "UCS-2"])
    expect(page.locator(".sms-bubble").first).to_contain_text("Hoi Олена,")
    for segments in page.locator("dd.sms-segments").all_inner_texts():
        assert int(segments) > 1
    shot(page, "messages-sms-ucs2")

    # When they switch to the webhook, and to English
    page.get_by_role("link", name="Webhook", exact=True).click()
    expect(page).to_have_url(re.compile(r"sample=non_gsm_name&channel=webhook"))
    page.goto(page.url + "&lang=en")

    # Then each column shows the JSON body of this kind in its locale
    expect(page.get_by_role("heading", name="English")).to_be_visible()
    bodies = page.locator("pre.webhook-body")
    expect(bodies).to_have_count(2)
    for locale, body in zip(("nl", "en"), bodies.all(), strict=True):
        parsed = json.loads(body.inner_text())
        assert (parsed["type"], parsed["data"]["locale"]) == ("return.received", locale)
        assert parsed["data"]["message"]["text"].startswith(("Hoi Олена,", "Hi Олена,"))
    shot(page, "messages-webhook")
