"""The frame of every email: the progress line, the status button, help one tap away and the
company's address in every customer email, and the HTML that survives real inboxes."""

from __future__ import annotations

import copy
import html as html_escaping
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from notifier.rendering import (
    CUSTOMER_KINDS,
    DEFAULT_POLICY,
    SAMPLE_SHOP,
    STAFF_KINDS,
    Brand,
    RenderedMessage,
    Renderer,
    Shop,
    default_template_dir,
    load_shop,
    sample_now,
    samples_for,
)

LOCALES = ("nl", "en")
CUSTOMER_CASES = [(kind, name) for kind in CUSTOMER_KINDS for name in samples_for(kind)]
STATUS_URL = "https://shop.example/retour/RMA-1001?from=mail&lang=nl"
#: Gmail clips an email whose HTML is larger than this and hides the rest behind a link.
GMAIL_CLIP = 102 * 1024
#: The end of every customer email with the sample shop: help, then the company.
FOOTER = {
    "nl": [
        "Vragen over je retour? Beantwoord deze e-mail of neem contact met ons op.",
        "Klantenservice: https://www.dewolwinkel.example/klantenservice",
        "E-mail: klantenservice@dewolwinkel.example",
        "Telefoon: 030 123 45 67 (ma t/m vr 9.00–17.30 uur)",
        "",
        "De Wolwinkel B.V. · Oudegracht 12, 3511 AB Utrecht, Nederland · KvK 12345678",
    ],
    "en": [
        "Questions about your return? Just reply to this email or get in touch.",
        "Customer service: https://www.dewolwinkel.example/klantenservice",
        "Email: klantenservice@dewolwinkel.example",
        "Phone: 030 123 45 67 (Mon to Fri, 9am–5.30pm)",
        "",
        "De Wolwinkel B.V. · Oudegracht 12, 3511 AB Utrecht, Netherlands · "
        "Chamber of Commerce 12345678",
    ],
}
PROGRESS_LABEL = {"nl": "Zo staat je retour ervoor:", "en": "Where your return is now:"}
STATUS_LABEL = {"nl": "Bekijk je retour", "en": "View your return"}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(default_template_dir(), SAMPLE_SHOP)


def render(
    renderer: Renderer, kind: str, data: dict[str, Any], locale: str = "nl"
) -> RenderedMessage:
    return renderer.render(
        kind,
        "email",
        data,
        locale=locale,
        timezone="Europe/Amsterdam",
        policy=DEFAULT_POLICY,
        now=sample_now(data),
    )


@cache
def sample(kind: str, name: str, locale: str) -> RenderedMessage:
    """A sample rendered with the sample shop (every field of a profile given)."""
    renderer = Renderer(default_template_dir(), SAMPLE_SHOP)
    return render(renderer, kind, samples_for(kind)[name], locale)


def text_progress(text: str, locale: str) -> str:
    """The progress line of a plain-text part: the steps after its label."""
    label = PROGRESS_LABEL[locale] + " "
    lines = [line for line in text.splitlines() if line.startswith(label)]
    assert len(lines) == 1, text
    return lines[0].removeprefix(label)


def html_steps(html: str) -> list[str]:
    """The list items of the HTML progress line."""
    match = re.search(r'<ol class="progress"[^>]*>(.*?)</ol>', html, re.DOTALL)
    assert match is not None, "no progress list"
    return re.findall(r"<li\b[^>]*>.*?</li>", match.group(1), re.DOTALL)


# Every customer email ----------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("kind", "name"), CUSTOMER_CASES)
def test_every_customer_email_ends_with_help_and_the_company(
    kind: str, name: str, locale: str
) -> None:
    # Given a sample of a customer kind, rendered with a shop that gives every contact
    message = sample(kind, name, locale)
    assert message.html is not None

    # Then the text ends with how to reach support and the company's address
    tail = message.text.split("\n--\n")[-1].splitlines()
    assert tail[: len(FOOTER[locale])] == FOOTER[locale]
    # And the HTML's footer has the same, each contact one tap away
    footer = message.html[message.html.index('class="footer"') :]
    assert 'href="https://www.dewolwinkel.example/klantenservice"' in footer
    assert 'href="mailto:klantenservice@dewolwinkel.example"' in footer
    assert 'href="tel:0301234567"' in footer
    assert html_escaping.escape(FOOTER[locale][-1], quote=False) in footer


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("kind", "name"), CUSTOMER_CASES)
def test_every_customer_email_shows_where_the_return_is(kind: str, name: str, locale: str) -> None:
    # Given a sample of a customer kind
    message = sample(kind, name, locale)
    assert message.html is not None

    # Then the text has one progress line, with exactly one step marked as reached
    line = text_progress(message.text, locale)
    steps = line.split(" › ")
    assert len(steps) >= 2 and sum(step.startswith("● ") for step in steps) == 1
    reached = next(i for i, step in enumerate(steps) if step.startswith("● "))
    assert all(step.startswith("✓ ") for step in steps[:reached])
    assert not any(step.startswith(("✓", "●")) for step in steps[reached + 1 :])
    # And the HTML has it as a list whose reached step screen readers are told of
    items = html_steps(message.html)
    assert len(items) == len(steps)
    current = [i for i, item in enumerate(items) if 'aria-current="step"' in item]
    assert current == [reached]
    # And Outlook for Windows gets the text line
    assert f'<p class="progress-mso">{html_escaping.escape(line, quote=False)}</p>' in (
        message.html
    )


@pytest.mark.parametrize(("kind", "name"), CUSTOMER_CASES)
def test_no_customer_email_is_clipped_by_gmail_or_tracks_a_link(kind: str, name: str) -> None:
    for locale in LOCALES:
        # Given a sample of a customer kind
        html = sample(kind, name, locale).html
        assert html is not None

        # Then its HTML is small enough for Gmail to show whole, and no link may be tracked
        assert len(html.encode()) < GMAIL_CLIP
        links = re.findall(r"<a\s[^>]*>", html)
        assert links and all('clicktracking="off"' in link for link in links)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
def test_the_status_page_is_a_button_in_every_customer_email(
    renderer: Renderer, kind: str, locale: str
) -> None:
    # Given the kind's first sample, with and without the return's page on the shop
    data = copy.deepcopy(next(iter(samples_for(kind).values())))
    data["return"].pop("status_url", None)
    with_page = copy.deepcopy(data)
    with_page["return"]["status_url"] = STATUS_URL

    # When both are rendered
    plain = render(renderer, kind, data, locale)
    linked = render(renderer, kind, with_page, locale)
    assert plain.html is not None and linked.html is not None

    # Then only the one with the page has the button, for Outlook (VML) and the others,
    # and the link in its text
    href = f'href="{html_escaping.escape(STATUS_URL)}"'
    assert linked.html.count(href) == 2
    assert re.search(r"<!--\[if mso\]>\s*<v:roundrect [^>]*" + re.escape(href), linked.html)
    assert re.search(
        rf'<a class="button-link"[^>]* {re.escape(href)}[^>]*>{STATUS_LABEL[locale]}</a>',
        linked.html,
    )
    assert f"{STATUS_LABEL[locale]}: {STATUS_URL}" in linked.text
    assert STATUS_URL not in plain.text and STATUS_URL not in plain.html
    assert linked.html.count("<v:roundrect") == plain.html.count("<v:roundrect") + 1
    assert STATUS_LABEL[locale] not in plain.text + plain.html


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", STAFF_KINDS)
def test_a_staff_alert_has_no_customer_frame(renderer: Renderer, kind: str, locale: str) -> None:
    # Given a staff alert about a return that has a page on the shop
    data = copy.deepcopy(next(iter(samples_for(kind).values())))
    data["return"]["status_url"] = STATUS_URL

    # When it is rendered
    message = render(renderer, kind, data, locale)
    assert message.html is not None

    # Then it has no progress line, button, customer help or company address
    for part in (message.text, message.html):
        assert "›" not in part and 'class="progress' not in part
        assert STATUS_URL not in part and "roundrect" not in part
        assert "klantenservice" not in part and "Oudegracht" not in part


# The progress line -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name", "locale", "line"),
    [
        (
            "return.requested",
            "card",
            "nl",
            "● Aangevraagd › Goedgekeurd › Verstuurd › Ontvangen › Gecontroleerd › Terugbetaald",
        ),
        (
            "return.approved",
            "pickup",
            "nl",
            "✓ Aangevraagd › ● Goedgekeurd › Opgehaald › Ontvangen › Gecontroleerd › Terugbetaald",
        ),
        (
            "return.approved",
            "in_store",
            "en",
            "✓ Requested › ● Approved › Handed in › Received › Checked › Refunded",
        ),
        (
            "return.in_transit",
            "card",
            "nl",
            "✓ Aangevraagd › ✓ Goedgekeurd › ● Verstuurd › Ontvangen › Gecontroleerd › "
            "Terugbetaald",
        ),
        (
            "return.received",
            "minimal",
            "en",
            "✓ Requested › ✓ Approved › ✓ Handed in › ● Received › Checked › Completed",
        ),
        (
            "return.inspected",
            "store_credit",
            "nl",
            "✓ Aangevraagd › ✓ Goedgekeurd › ✓ Verstuurd › ✓ Ontvangen › ● Gecontroleerd › "
            "Tegoed bijgeschreven",
        ),
        (
            "return.inspected",
            "rejected",
            "en",
            "✓ Requested › ✓ Approved › ✓ Sent › ✓ Received › ● Not accepted",
        ),
        (
            "return.refund_issued",
            "card",
            "en",
            "✓ Requested › ✓ Approved › ✓ Sent › ✓ Received › ✓ Checked › ● Refunded",
        ),
        (
            "return.exchange_shipped",
            "exchange",
            "nl",
            "✓ Aangevraagd › ✓ Goedgekeurd › ✓ Verstuurd › ✓ Ontvangen › ✓ Gecontroleerd › "
            "● Omgeruild",
        ),
        ("return.rejected", "rejected", "nl", "✓ Aangevraagd › ● Niet goedgekeurd"),
        ("return.rejected", "minimal", "en", "✓ Requested › ● Not approved"),
        ("return.cancelled", "card", "nl", "✓ Aangevraagd › ● Geannuleerd"),
        ("return.cancelled", "minimal", "en", "✓ Requested › ● Cancelled"),
        (
            "return.expired",
            "pickup",
            "nl",
            "✓ Aangevraagd › ● Goedgekeurd › Opgehaald › Ontvangen › Gecontroleerd › Terugbetaald",
        ),
        (
            "return.label_created",
            "in_store_label",
            "nl",
            "✓ Aangevraagd › ● Goedgekeurd › Ingeleverd › Ontvangen › Gecontroleerd › Terugbetaald",
        ),
        (
            "nudge.stale",
            "in_transit",
            "en",
            "✓ Requested › ✓ Approved › ● Sent › Received › Checked › Refunded",
        ),
        (
            "nudge.stale",
            "requested",
            "nl",
            "● Aangevraagd › Goedgekeurd › Verstuurd › Ontvangen › Gecontroleerd › Terugbetaald",
        ),
    ],
)
def test_the_progress_line_names_the_steps_of_this_return(
    kind: str, name: str, locale: str, line: str
) -> None:
    # Given a sample of a kind, with its return method, refund or exchange, and outcome
    message = sample(kind, name, locale)
    assert message.html is not None

    # Then the line names this return's steps, the one it reached marked, in both parts
    assert text_progress(message.text, locale) == line
    words = [step.removeprefix("✓ ").removeprefix("● ") for step in line.split(" › ")]
    items = html_steps(message.html)
    assert [re.sub(r"<[^>]+>|[✓●›]|&nbsp;|\xa0", "", item).strip() for item in items] == words


def test_a_gift_card_refund_ends_the_line_with_the_gift_card(renderer: Renderer) -> None:
    # Given a refund on a gift card
    data = copy.deepcopy(samples_for("return.refund_issued")["card"])
    data["return"]["refund"]["method"] = "gift_card"

    # When its email is rendered in both languages
    nl, en = (
        render(renderer, "return.refund_issued", data),
        render(renderer, "return.refund_issued", data, "en"),
    )

    # Then the last step is the gift card, not money paid back
    assert text_progress(nl.text, "nl").endswith("› ● Cadeaukaart klaar")
    assert text_progress(en.text, "en").endswith("› ● Gift card ready")


def test_a_malformed_field_the_line_reads_names_the_step_plainly(renderer: Renderer) -> None:
    # Given an approval whose refund is not an object (a field this kind does not use)
    data = copy.deepcopy(samples_for("return.approved")["card"])
    data["return"]["refund"] = "49.95"
    data["return"]["exchange"] = None

    # When it is rendered
    message = render(renderer, "return.approved", data, "en")

    # Then the email still goes, its line naming the steps without the malformed fields
    assert text_progress(message.text, "en") == (
        "✓ Requested › ● Approved › Sent › Received › Checked › Completed"
    )


# Help by the shop's profile ----------------------------------------------------------------


def help_line(message: RenderedMessage) -> str:
    """The first line of the text after the footer's ``--``."""
    return message.text.split("\n--\n")[-1].splitlines()[0]


def test_the_built_in_profile_invites_a_reply_and_shows_no_address() -> None:
    # Given the built-in profile with the older brand settings (no shop file)
    renderer = Renderer(default_template_dir(), Brand("Winkel", "#1f6f5c", None))
    data = samples_for("return.received")["card"]

    # When an email is rendered
    nl, en = (
        render(renderer, "return.received", data),
        render(renderer, "return.received", data, "en"),
    )

    # Then it says to reply, as before shop files, and gives no company address
    assert (
        help_line(nl) == "Vragen over je retour? Beantwoord deze e-mail, dan helpen we je verder."
    )
    assert help_line(en) == (
        "Questions about your return? Just reply to this email and we'll help you out."
    )
    assert nl.text.endswith("\n\nRetour RMA-1001 · bestelling ORD-5567")
    assert nl.html is not None and 'class="address"' not in nl.html


def test_without_a_reply_to_no_email_asks_for_a_reply_in_its_footer(tmp_path: Path) -> None:
    # Given a shop file with a support page but no reply-to address
    path = tmp_path / "shop.toml"
    path.write_text('[support]\nurl = "https://shop.example/help"\n')
    renderer = Renderer(default_template_dir(), load_shop(path))

    # When an email is rendered
    message = render(renderer, "return.received", samples_for("return.received")["card"])

    # Then its help points to the support page and does not ask to reply
    footer = message.text.split("\n--\n")[-1]
    assert footer.splitlines()[:2] == [
        "Vragen over je retour? Neem gerust contact met ons op.",
        "Klantenservice: https://shop.example/help",
    ]
    assert "Beantwoord" not in footer
    assert message.html is not None
    html_footer = message.html[message.html.index('class="footer"') :]
    assert "Beantwoord" not in html_footer
    assert ">shop.example/help</a>" in html_footer


def test_a_shop_that_cannot_be_reached_has_no_help_block(tmp_path: Path) -> None:
    # Given a shop file that gives no contacts and no reply-to address
    path = tmp_path / "shop.toml"
    path.write_text('[brand]\nname = "Sokkenwinkel"\n')
    renderer = Renderer(default_template_dir(), load_shop(path))

    # When an email is rendered
    message = render(renderer, "return.received", samples_for("return.received")["card"])

    # Then it makes no promise of help it cannot keep
    assert "Vragen over je retour?" not in message.text
    assert message.html is not None and 'class="help"' not in message.html


# The HTML that survives real inboxes -------------------------------------------------------


def test_the_html_frame_is_made_for_real_mail_clients() -> None:
    # Given an email of the sample shop
    html = sample("return.label_created", "card", "nl").html
    assert html is not None

    # Then Outlook for Windows gets a 600 px ghost table, its settings and fonts
    assert re.search(
        r'<!--\[if mso\]><table role="presentation" align="center" width="600"[^>]*><tr><td>'
        r"<!\[endif\]-->\s*<div class=\"container\" style=\"max-width: 600px;",
        html,
    )
    assert "<o:PixelsPerInch>96</o:PixelsPerInch>" in html
    assert 'xmlns:v="urn:schemas-microsoft-com:vml"' in html
    # And every client may show it light or dark, with rules for each way of asking
    assert '<meta name="color-scheme" content="light dark">' in html
    assert '<meta name="supported-color-schemes" content="light dark">' in html
    assert ":root { color-scheme: light dark; supported-color-schemes: light dark; }" in html
    dark = html[html.index("@media (prefers-color-scheme: dark)") :]
    assert ".logo { padding: 8px 12px !important; background-color: #ffffff !important; }" in dark
    assert "[data-ogsc] .content" in html and "[data-ogsb] .card" in html
    # And iOS does not turn numbers, dates or addresses into links of its own
    assert (
        '<meta name="format-detection" content="telephone=no,date=no,address=no,email=no">' in html
    )
    assert "a[x-apple-data-detectors]" in html
    # And the logo has its width, its height follows, its text is the shop's name
    logo = re.search(r"<img [^>]*>", html)
    assert logo is not None
    assert 'width="160"' in logo.group(0) and 'alt="De Wolwinkel"' in logo.group(0)
    assert "display: block;" in logo.group(0) and "height: auto;" in logo.group(0)
    # And the preheader is padded, so the inbox preview stops after it
    preheader = re.search(r'<div class="preheader"[^>]*>(.*?)</div>', html, re.DOTALL)
    assert preheader is not None
    text, _, padding = preheader.group(1).partition("\u034f")
    assert text == "Breng je pakket uiterlijk 4 december naar PostNL-punt Albert Heijn."
    assert ("\u034f" + padding).count("\u034f\u200c&nbsp;") >= 50


def test_dark_mode_keeps_the_button_legible_on_a_light_brand_colour() -> None:
    # Given a shop whose brand colour is light, so black reads on it
    renderer = Renderer(default_template_dir(), Shop(brand=Brand("Zon", "#ffcc00", None)))
    data = copy.deepcopy(samples_for("return.approved")["card"])
    data["return"]["status_url"] = STATUS_URL

    # When an email with a button is rendered
    html = render(renderer, "return.approved", data).html
    assert html is not None

    # Then the button's text stays black in every mode, never the dark mode's light text
    assert re.search(r'<a class="button-link"[^>]*color: #000000;', html)
    assert "a.button, a.button-link { color: #000000 !important; }" in html
    assert "[data-ogsc] .button-link, [data-ogsc] .button { color: #000000 !important; }" in html
    assert 'fillcolor="#ffcc00"' in html and "color:#000000;" in html


def test_the_logo_takes_the_shops_width_and_text(renderer: Renderer) -> None:
    # Given a brand with its own logo width and text
    brand = Brand("Wol & Zo", "#1f6f5c", "https://cdn.example/wol.png", 220, "Wol & Zo, Utrecht")
    data = samples_for("return.received")["card"]

    # When an email is rendered
    html = render(Renderer(default_template_dir(), brand), "return.received", data).html
    assert html is not None

    # Then the logo is that wide, and says the text, escaped
    assert re.search(
        r'<img src="https://cdn.example/wol.png" alt="Wol &amp; Zo, Utrecht" width="220" '
        r'style="display: block; width: 220px; max-width: 100%; height: auto;',
        html,
    )


@pytest.mark.parametrize("locale", ["nl", "en"])
def test_without_a_reply_to_no_message_body_asks_for_a_reply(tmp_path: Path, locale: str) -> None:
    # Given a shop file with a support page but no reply-to address
    path = tmp_path / "shop.toml"
    path.write_text('[support]\nurl = "https://shop.example/help"\n')
    renderer = Renderer(default_template_dir(), load_shop(path))
    asked = {"nl": "Beantwoord", "en": "reply to this email"}[locale]
    # When every sample of the kinds whose bodies invite an answer is rendered
    for kind in ("return.rejected", "return.inspected", "return.cancelled"):
        for name, data in samples_for(kind).items():
            message = render(renderer, kind, data, locale)
            # Then none asks the customer to reply to an email no one reads
            assert message.html is not None
            assert asked not in message.text, (kind, name)
            assert asked not in message.html, (kind, name)
