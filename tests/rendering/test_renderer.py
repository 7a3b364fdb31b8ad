"""Rendering every message kind: content, locales, safety and caps."""

from __future__ import annotations

import copy
import os
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from notifier.rendering import (
    ALL_KINDS,
    CONTRACT_EVENT,
    CUSTOMER_KINDS,
    DEFAULT_POLICY,
    SAMPLE_BRAND,
    STAFF_KINDS,
    Brand,
    Formatter,
    Policy,
    RenderedMessage,
    Renderer,
    RenderError,
    default_template_dir,
    is_gsm7,
    measure,
    sample_now,
    samples_for,
)
from notifier.rendering.kinds import kind_channels
from notifier.rendering.sandbox import Overrun, budget, check_deadline

GOLDEN = Path(__file__).parent / "golden"
CASES = [(kind, name) for kind in ALL_KINDS for name in samples_for(kind)]
#: The samples of the kinds that go by SMS (staff alerts do not).
SMS_CASES = [(kind, name) for kind, name in CASES if "sms" in kind_channels(kind)]
#: The samples whose customer's name has no GSM-7 form: their SMS is meant to go as UCS-2.
UCS2_CASES = [(kind, name) for kind, name in SMS_CASES if name == "non_gsm_name"]
#: Every other SMS sample.
GSM7_CASES = [case for case in SMS_CASES if case not in UCS2_CASES]
LOCALES = ("nl", "en")
GREETINGS = {"nl": ("Hoi", "Hallo,"), "en": ("Hi", "Hello,")}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(default_template_dir(), SAMPLE_BRAND)


def render(
    renderer: Renderer,
    kind: str,
    channel: str,
    data: dict[str, Any],
    locale: str = "nl",
    **overrides: Any,
) -> RenderedMessage:
    options: dict[str, Any] = {"locale": locale, "timezone": "Europe/Amsterdam"}
    options["policy"] = DEFAULT_POLICY
    options.update(overrides)
    if "now" not in options:
        options["now"] = sample_now(data)
    return renderer.render(kind, channel, data, **options)


def event(kind: str, **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(CONTRACT_EVENT)
    data["type"] = kind
    data.update(changes)
    return data


def test_every_customer_and_staff_kind_is_listed() -> None:
    # Given the contract's customer-facing types and the scheduled messages
    # When the kinds are listed
    # Then all fifteen are there (the expired return date too), closed has no message, staff
    # alerts are apart
    assert len(CUSTOMER_KINDS) == 14
    assert "return.expired" in CUSTOMER_KINDS
    assert "return.closed" not in ALL_KINDS
    assert STAFF_KINDS == ("staff.stale_return",)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("kind", "sample"), CASES)
def test_every_email_renders_with_every_sample(
    renderer: Renderer, kind: str, sample: str, locale: str
) -> None:
    # Given a sample of a kind
    data = samples_for(kind)[sample]
    # When its email is rendered
    message = render(renderer, kind, "email", data, locale)
    # Then subject, text and HTML are complete, in the locale, without blanks
    assert message.subject and "\n" not in message.subject
    assert message.text.startswith(GREETINGS[locale])
    assert data["return"]["id"] in message.text
    assert message.html is not None
    assert re.search(rf'<html lang="{locale}"[\s>]', message.html)
    for part in (message.subject, message.text, message.html):
        assert "None" not in part
        assert "{{" not in part and "{%" not in part
    for part in (message.subject, message.text):
        assert " ." not in part and " ," not in part and "()" not in part and "  " not in part


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("kind", "sample"), GSM7_CASES)
def test_every_sms_stays_gsm7_within_two_segments(
    renderer: Renderer, kind: str, sample: str, locale: str
) -> None:
    # Given a sample of a kind
    data = samples_for(kind)[sample]
    # When its SMS is rendered
    message = render(renderer, kind, "sms", data, locale)
    # Then it is one GSM-7 paragraph of at most two segments, signed by the shop
    size = measure(message.text)
    assert (size.encoding, message.subject, message.html) == ("GSM-7", None, None)
    assert size.segments <= 2, message.text
    assert message.text.startswith(f"{SAMPLE_BRAND.name}: ")
    assert "\n" not in message.text and "  " not in message.text
    assert "None" not in message.text and "{{" not in message.text


#: The kinds whose SMS goes out exactly when their email cannot reach the customer.
EMAIL_ONLY_CASES = [
    (kind, name)
    for kind, name in SMS_CASES
    if kind in ("return.approved", "return.rejected", "return.inspected")
]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("kind", "sample"), EMAIL_ONLY_CASES)
def test_the_sms_standing_in_for_an_email_is_complete_on_its_own(
    renderer: Renderer, kind: str, sample: str, locale: str
) -> None:
    # Given a sample of a kind whose SMS goes out when its email cannot
    data = samples_for(kind)[sample]
    ret = data["return"]
    # When its SMS is rendered
    message = render(renderer, kind, "sms", data, locale)
    # Then it never sends the customer to an email and stays within two segments
    assert not re.search(r"mail", message.text, re.IGNORECASE), message.text
    assert measure(message.text).segments <= 2, message.text
    # And it carries the return's page, and for an approval its label and deadline
    assert ret["id"] in message.text
    if ret.get("status_url"):
        assert message.text.endswith(ret["status_url"])
    if kind == "return.approved":
        label_url = (ret.get("label") or {}).get("url")
        if label_url and ret.get("method") != "in_store":
            assert label_url in message.text
        if ret.get("pickup"):  # the day the carrier comes, which comes before the ship-by date
            day = {"nl": "3 december", "en": "3 December"}[locale]
            assert day in message.text
        elif ret.get("ship_by"):
            day = {"nl": "4 december", "en": "4 December"}[locale]
            assert day in message.text


@pytest.mark.parametrize(
    ("kind", "sample", "locale", "says"),
    [
        ("return.approved", "minimal", "nl", "Retourneer je artikelen en vermeld je retournummer."),
        (
            "return.approved",
            "pickup",
            "en",
            "DHL will collect it from you on Thursday 3 December between 09:00 and 13:00.",
        ),
        (
            "return.approved",
            "in_store",
            "nl",
            "Breng je artikel uiterlijk vrijdag 4 december naar De Wolwinkel Utrecht "
            "(Oudegracht 12, Utrecht) en noem je retournummer bij de kassa.",
        ),
        ("return.rejected", "rejected", "nl", "Denk je dat dit niet klopt? Neem dan contact"),
        ("return.rejected", "rejected", "en", "Think this isn't right? Please get in touch."),
        (
            "return.inspected",
            "rejected",
            "nl",
            "maar kunnen hem helaas niet accepteren: de labels zijn van het artikel gehaald.",
        ),
        ("return.inspected", "rejected", "nl", "Laat ons weten wat we ermee moeten doen"),
        ("return.inspected", "partial_held", "en", "let us know what you'd like us to do."),
        ("return.inspected", "partial", "en", "We're accepting 1 of your 3 items: you'll get"),
        ("return.inspected", "partial_items", "nl", "sturen we terug of voeren we met je"),
    ],
)
def test_the_sms_standing_in_for_an_email_says_what_to_do(
    renderer: Renderer, kind: str, sample: str, locale: str, says: str
) -> None:
    # Given a sample of a kind whose SMS goes out when its email cannot
    data = samples_for(kind)[sample]
    # When its SMS is rendered
    message = render(renderer, kind, "sms", data, locale)
    # Then it says itself what happened and what the customer can do
    assert says in message.text


def test_a_sample_keeps_a_name_without_gsm7_form_and_goes_as_ucs2(renderer: Renderer) -> None:
    assert UCS2_CASES == [("return.received", "non_gsm_name")]
    for locale in LOCALES:
        # Given the sample of a customer whose name is in Cyrillic
        data = samples_for("return.received")["non_gsm_name"]
        # When its SMS is rendered
        message = render(renderer, "return.received", "sms", data, locale)
        # Then the name is kept, so the SMS goes as UCS-2, within the check's three segments
        size = measure(message.text)
        assert f"{GREETINGS[locale][0]} Олена," in message.text
        assert size.encoding == "UCS-2" and size.units == len(message.text)
        assert 1 < size.segments <= 3, message.text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("kind", "sample"), CASES)
def test_every_email_has_a_plain_text_preheader(
    renderer: Renderer, kind: str, sample: str, locale: str
) -> None:
    # Given a sample of a kind, whose HTML template has a preheader block
    data = samples_for(kind)[sample]
    # When its email is rendered
    message = render(renderer, kind, "email", data, locale)
    # Then the preheader is one line of plain text: no markup, entities or blanks left
    assert message.preheader and message.preheader.strip() == message.preheader
    assert "\n" not in message.preheader and "  " not in message.preheader
    assert not re.search(r"<|>|&(#\d+|[a-z]+);", message.preheader)
    assert "None" not in message.preheader and "{{" not in message.preheader


def test_the_preheader_is_the_blocks_text_unescaped(renderer: Renderer) -> None:
    # Given an order number with characters HTML escapes, and a preheader that shows it
    data = samples_for("nudge.stale")["received"]
    data["return"]["order_id"] = "A&B <1>"
    # When the Dutch and English emails are rendered
    nl = render(renderer, "nudge.stale", "email", data, "nl")
    en = render(renderer, "nudge.stale", "email", data, "en")
    # Then the preheader reads as the customer sees it, and the HTML still escapes it
    assert nl.preheader == "Even een update over je retour voor bestelling A&B <1>."
    assert en.preheader == "Here's a quick update on your return for order A&B <1>."
    assert nl.html is not None and "A&amp;B &lt;1&gt;" in nl.html


def test_an_sms_has_no_preheader_and_a_template_without_one_an_empty_one(tmp_path: Path) -> None:
    # Given a template whose HTML has no preheader block
    templates = copy_templates(tmp_path)
    html = templates / "en" / "return.cancelled.html"
    html.write_text(re.sub(r"{% block preheader %}.*{% endblock %}\n", "", html.read_text()))
    renderer = Renderer(templates, SAMPLE_BRAND)
    data = event("return.cancelled")
    # When its email and SMS are rendered
    email = render(renderer, "return.cancelled", "email", data, "en")
    sms = render(renderer, "return.cancelled", "sms", data, "en")
    # Then the email's preheader is empty and the SMS has none
    assert "block preheader" not in html.read_text()
    assert (email.preheader, sms.preheader) == ("", None)


@pytest.mark.parametrize(("locale", "amount"), [("nl", "€ 49,95"), ("en", "€49.95")])
def test_the_contracts_amount_is_formatted_per_locale(
    renderer: Renderer, locale: str, amount: str
) -> None:
    # Given the contract's refund event
    # When it is rendered in Dutch and in English
    email = render(renderer, "return.refund_issued", "email", CONTRACT_EVENT, locale)
    sms = render(renderer, "return.refund_issued", "sms", CONTRACT_EVENT, locale)
    # Then every part shows the amount as the locale writes it
    assert email.subject is not None and amount in email.subject
    assert amount in email.text and amount in sms.text
    assert email.html is not None and amount.replace(" ", "&nbsp;") in email.html


def test_belgian_dutch_uses_the_dutch_texts(renderer: Renderer) -> None:
    # Given a Belgian customer
    data = event("return.label_created")
    # When the message is rendered for nl_BE
    message = render(renderer, "return.label_created", "email", data, "nl_BE")
    # Then the Dutch texts are used with Dutch-language dates
    assert message.subject == "Je retourlabel staat klaar"
    assert "vrijdag 4 december 2026" in message.text
    assert message.locale == "nl_BE"


def test_the_html_layout_is_accessible_and_inlined(renderer: Renderer) -> None:
    # Given the contract's label event
    # When its email is rendered
    html = render(renderer, "return.label_created", "email", event("return.label_created")).html
    # Then the layout is a phone-friendly, inlined, labelled email
    assert html is not None
    assert 'name="viewport"' in html
    assert f'alt="{SAMPLE_BRAND.name}"' in html
    assert 'role="presentation"' in html
    assert "@media" in html
    assert 'class="preheader"' in html and "display: none" in html
    assert f"background-color: {SAMPLE_BRAND.color}" in html
    assert 'href="https://labels.example/RMA-1001.pdf"' in html


def test_without_a_logo_the_brand_name_is_shown() -> None:
    # Given a brand without a logo
    renderer = Renderer(default_template_dir(), Brand("Winkel & Co", "#ffcc00", None))
    # When an email is rendered
    html = render(renderer, "return.received", "email", event("return.received")).html
    # Then the escaped name stands in the header, in black on the light brand colour
    assert html is not None
    assert "<img" not in html
    assert "Winkel &amp; Co" in html


@pytest.mark.parametrize(
    ("color", "text"), [("#ffcc00", "#000000"), ("#1f6f5c", "#ffffff"), ("#fff", "#000000")]
)
def test_button_text_contrasts_with_the_brand_colour(color: str, text: str) -> None:
    # Given a brand colour
    # When the text colour on it is chosen
    # Then it is the one with the better contrast
    assert Brand("Winkel", color, None).on_color == text


@pytest.mark.parametrize(
    ("color", "logo"), [("red", None), ("#12345", None), ("#123456", "javascript:alert(1)")]
)
def test_a_malformed_brand_is_refused(color: str, logo: str | None) -> None:
    # Given a colour that is not hex or a logo that is not http(s)
    # When the brand is made
    # Then it is refused
    with pytest.raises(ValueError, match="brand"):
        Brand("Winkel", color, logo)


def test_customer_text_cannot_inject_html_or_template_syntax(renderer: Renderer) -> None:
    # Given customer and staff text full of markup and template syntax
    data = event("return.rejected")
    data["customer"]["name"] = "<script>alert(1)</script>{{7*7}}\r\nBcc: x@example.com"
    data["return"]["rejection_reason"] = "<b>Te laat</b> {% raw %}{{ brand }}"
    data["return"]["items"][0]["name"] = '<img src=x onerror="alert(1)">'
    # When the email is rendered
    message = render(renderer, "return.rejected", "email", data)
    # Then HTML escapes it, and no part compiles it
    assert message.html is not None
    assert "<script>" not in message.html and "<b>Te laat" not in message.html
    # The hostile "name" is no name, so nobody is greeted with it; the item's name is shown,
    # escaped
    assert "&lt;img src=x" in message.html and "alert(1)</script>" not in message.html
    assert "{% raw %}{{ brand }}" in message.text
    # And a name cannot break out of its line (this one is no name: the greeting has none)
    assert message.text.startswith("Hoi,\n") and "Bcc" not in message.text.splitlines()[0]
    assert "Bcc" not in (message.subject or "")


@pytest.mark.parametrize(
    ("kind", "path", "channel"),
    [
        (kind, path, channel)
        for kind, path in [
            ("return.refund_issued", "return.refund.amount"),
            ("return.label_created", "return.label.url"),
            ("return.inspected", "return.inspection.outcome"),
            ("return.exchange_shipped", "return.exchange"),
            ("reminder.ship_by", "return.ship_by"),
            ("reminder.label_expiring", "return.label.expires_at"),
            ("reminder.label_expiring", "reminder.due_at"),
            ("nudge.stale", "stale.status"),
            ("staff.stale_return", "stale.since"),
            ("return.requested", "return.order_id"),
        ]
        for channel in kind_channels(kind)
    ],
)
def test_a_missing_required_field_is_named(
    renderer: Renderer, kind: str, path: str, channel: str
) -> None:
    # Given a sample of a kind without a field the kind needs
    data = next(iter(samples_for(kind).values()))
    *parents, key = path.split(".")
    parent = data
    for name in parents:
        parent = parent[name]
    parent[key] = None
    # When it is rendered
    # Then the error names the field and the kind instead of rendering a blank
    with pytest.raises(RenderError, match=f"^{path} is required for {kind}$"):
        render(renderer, kind, channel, data)


@pytest.mark.parametrize(
    ("kind", "change", "message"),
    [
        ("return.refund_issued", ("return", "refund", "amount", "12,50"), "return.refund.amount"),
        ("return.refund_issued", ("return", "refund", "amount", 1.5e400), "return.refund.amount"),
        ("return.label_created", ("return", "label", "url", "javascript:x"), "return.label.url"),
        ("return.label_created", ("return", "label", "expires_at", "2026-12-04T23:59"), "offset"),
        ("return.approved", ("return", "ship_by", "4-12-2026"), "return.ship_by must be a date"),
        ("return.received", ("occurred_at", "gisteren"), "occurred_at must be an ISO 8601"),
        ("return.received", ("return", "items", "trui"), "return.items must be a list"),
        ("return.received", ("return", "items", [{"quantity": "1"}]), r"items\[0\].quantity"),
        ("return.received", ("customer", "name", ["Sanne"]), "customer.name must be a string"),
        ("return.received", ("policy", "return_shipping", "paid"), "policy: .*shipping_cost"),
    ],
)
def test_a_malformed_field_is_named(
    renderer: Renderer, kind: str, change: tuple[Any, ...], message: str
) -> None:
    # Given the contract's event with one malformed field the kind uses
    data = event(kind)
    target = data
    for key in change[:-2]:
        target = target[key]
    target[change[-2]] = change[-1]
    # When it is rendered
    # Then the error names the field
    with pytest.raises(RenderError, match=message):
        render(renderer, kind, "email", data, now=datetime(2026, 11, 20, tzinfo=UTC))


def test_a_malformed_field_the_kind_does_not_use_is_ignored(renderer: Renderer) -> None:
    # Given a refund event whose label URL is malformed
    data = event("return.refund_issued")
    data["return"]["label"]["url"] = "javascript:alert(1)"
    # When the refund message is rendered
    message = render(renderer, "return.refund_issued", "email", data)
    # Then it renders, without the label
    assert message.html is not None and "javascript" not in message.html


@pytest.mark.parametrize(
    ("kind", "channel", "locale", "match"),
    [
        ("return.closed", "email", "nl", "unknown message kind"),
        ("return.received", "fax", "nl", "unknown channel"),
        ("staff.stale_return", "sms", "nl", "staff.stale_return is not sent by sms"),
        ("return.received", "email", "de", "unsupported locale"),
    ],
)
def test_unknown_kind_channel_or_locale_is_refused(
    renderer: Renderer, kind: str, channel: str, locale: str, match: str
) -> None:
    # Given a kind, channel or locale the renderer does not know (or a staff alert by SMS)
    # When a message is rendered
    # Then it is refused with the reason
    with pytest.raises(RenderError, match=match):
        render(renderer, kind, channel, event("return.received"), locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_shows_the_same_policy_numbers(renderer: Renderer, locale: str) -> None:
    # Given a shop with a 14-day window and paid return shipping
    shop = Policy(14, "paid", Decimal("4.95"))
    data = event("return.requested", policy=None)
    days, cost = ("14 dagen", "€ 4,95") if locale == "nl" else ("14 days", "€4.95")
    # When every message mentioning the policy is rendered
    for kind in ("return.requested", "return.approved"):
        message = render(renderer, kind, "email", data, locale, policy=shop)
        # Then each shows the shop's numbers, in text and HTML alike: the request and the
        # rejection the whole policy, the approval only the cost of the step it asks for
        assert message.html is not None
        assert cost in message.text and cost.replace(" ", "&nbsp;") in message.html
        if kind != "return.approved":
            assert days in message.text and days in message.html
        else:
            assert days not in message.text
    # And a rejection shows the window it is judged by, but not what sending back costs
    rejected = render(renderer, "return.rejected", "email", data, locale, policy=shop)
    assert rejected.html is not None
    assert days in rejected.text and days in rejected.html
    assert cost not in rejected.text and cost.replace(" ", "&nbsp;") not in rejected.html
    cancelled = render(renderer, "return.cancelled", "email", data, locale, policy=shop)
    assert days in cancelled.text


def test_the_events_policy_overrides_the_shops(renderer: Renderer) -> None:
    # Given a shop with free shipping and an event that deducts €3.50
    data = event(
        "return.refund_issued", policy={"return_shipping": "deducted", "shipping_cost": "3.5"}
    )
    # When the refund is rendered
    message = render(renderer, "return.refund_issued", "email", data)
    # Then the deduction is stated with the event's cost, not as a sum that does not add up
    # (the sweater's € 49,95 minus € 3,50 is not the € 49,95 refunded)
    assert "Dit is na aftrek van € 3,50 retourkosten." in message.text
    assert "= € " not in message.text


@pytest.mark.parametrize(
    ("timezone", "time"), [("Europe/Amsterdam", "23:59"), ("Europe/London", "22:59")]
)
def test_times_are_shown_in_the_customers_time_zone(
    renderer: Renderer, timezone: str, time: str
) -> None:
    # Given a label that expires at 23:59 Amsterdam time
    data = event("return.label_created")
    # When the message is rendered for a customer in a time zone
    message = render(renderer, "return.label_created", "email", data, timezone=timezone)
    # Then the expiry is shown on the customer's clock
    assert f"4 december 2026 om {time}" in message.text


@pytest.mark.parametrize(
    ("now", "sentence"),
    [
        ("2026-12-01T09:00:00+01:00", "Je hebt nog 3 dagen om"),
        ("2026-12-03T09:00:00+01:00", "Morgen is de laatste dag om"),
        ("2026-12-04T09:00:00+01:00", "Vandaag is de laatste dag om"),
    ],
)
def test_a_ship_by_reminder_counts_the_days_left(
    renderer: Renderer, now: str, sentence: str
) -> None:
    # Given a ship-by reminder for 4 December
    data = samples_for("reminder.ship_by")["card"]
    # When it is rendered on a given day
    message = render(renderer, "reminder.ship_by", "email", data, now=datetime.fromisoformat(now))
    # Then it says how many days are left, and the steps below it give the date once
    assert sentence in message.text
    assert message.text.count("4 december") == 1
    assert "uiterlijk vrijdag 4 december 2026" in message.text


def test_a_partial_acceptance_lists_what_was_and_was_not_accepted(renderer: Renderer) -> None:
    # Given an inspection that accepted the sweater but not two of the jeans
    data = samples_for("return.inspected")["partial"]
    # When it is rendered in English
    message = render(renderer, "return.inspected", "email", data, "en_GB")
    # Then both lists, with the count of the jeans, and the shop's own note are there
    assert "What we've accepted:\n- Wollen trui\n" in message.text
    assert "What we couldn't accept:\n- 2 × Spijkerbroek\n" in message.text
    assert "A note from the shop: De spijkerbroeken zijn gedragen en gewassen." in message.text
    # And the whole return is not listed again below them
    assert "Your return (3 items)" not in message.text


#: How each rejection code reads in each locale (the policy window is 30 days).
REJECTION_TEXTS = {
    "outside_window": {
        "nl": "je bestelling is meer dan 30 dagen geleden bezorgd",
        "en": "your order was delivered more than 30 days ago",
    },
    "not_eligible": {
        "nl": "dit artikel valt niet onder ons retourbeleid",
        "en": "this item isn't covered by our returns policy",
    },
    "used_or_worn": {
        "nl": "het artikel is gebruikt of gedragen",
        "en": "the item has been used or worn",
    },
    "tags_removed": {
        "nl": "de labels zijn van het artikel gehaald",
        "en": "the tags have been removed from the item",
    },
    "damaged": {"nl": "het artikel is beschadigd", "en": "the item is damaged"},
    "incomplete": {"nl": "het artikel is niet compleet", "en": "the item isn't complete"},
}
OTHER_LOCALE = {"nl": "en", "en": "nl"}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("code", [*REJECTION_TEXTS, "other"])
def test_a_rejection_code_is_said_in_the_customers_language(
    renderer: Renderer, code: str, locale: str
) -> None:
    # Given a rejected return with a rejection code
    data = samples_for("return.rejected")[f"code_{code}"]
    # When its email and SMS are rendered
    email = render(renderer, "return.rejected", "email", data, locale)
    sms = render(renderer, "return.rejected", "sms", data, locale)
    assert email.html is not None
    # Then each says why in the customer's language, and none of the other language's reasons
    for part in (email.text, email.html, sms.text):
        if code in REJECTION_TEXTS:
            assert REJECTION_TEXTS[code][locale] in part
        for texts in REJECTION_TEXTS.values():
            assert texts[OTHER_LOCALE[locale]] not in part
        assert code not in part or code in REJECTION_TEXTS.get(code, {}).get(locale, "")
    # And the message opens with the rejection itself
    opening = {
        "nl": "Helaas kunnen we je retouraanvraag voor bestelling ORD-5567 niet goedkeuren",
        "en": "Unfortunately we can't approve your return request for order ORD-5567",
    }[locale]
    reason = f": {REJECTION_TEXTS[code][locale]}." if code in REJECTION_TEXTS else "."
    assert opening + reason in email.text


@pytest.mark.parametrize(
    ("locale", "label", "not_said"),
    [("nl", "Toelichting van de winkel: ", "De reden"), ("en", "A note from the shop: ", "reason")],
)
def test_the_shops_free_text_is_shown_as_the_shops_own_words(
    renderer: Renderer, locale: str, label: str, not_said: str
) -> None:
    # Given a rejection with a code and the shop's free text, written in Dutch
    data = samples_for("return.rejected")["rejected"]
    words = data["return"]["rejection_reason"]
    # When it is rendered for the customer
    email = render(renderer, "return.rejected", "email", data, locale)
    assert email.html is not None
    # Then the free text is quoted as the shop's note, next to the reason in their language
    assert f"{label}{words}" in email.text
    assert f"<strong>{label.strip()}</strong><br>{words}" in email.html
    assert REJECTION_TEXTS["outside_window"][locale] in email.text
    # And never introduced as the reason in the customer's language
    assert not_said not in email.text


@pytest.mark.parametrize(
    ("locale", "lines"),
    [
        (
            "nl",
            [
                "Dit kunnen we niet accepteren:",
                "- Spijkerbroek (1 van de 2): gebruikt of gedragen. We sturen het naar je terug.",
                "- Spijkerbroek (1 van de 2): beschadigd. Met je toestemming voeren we het af.",
            ],
        ),
        (
            "en",
            [
                "What we couldn't accept:",
                "- Spijkerbroek (1 of 2): used or worn. We'll send it back to you.",
                "- Spijkerbroek (1 of 2): damaged. With your consent, we'll dispose of it.",
            ],
        ),
    ],
)
def test_a_partial_inspection_says_per_rejected_item_why_and_what_happens_to_it(
    renderer: Renderer, locale: str, lines: list[str]
) -> None:
    # Given a partial inspection that did not accept two pairs of jeans, for two reasons
    data = samples_for("return.inspected")["partial_items"]
    # When its email is rendered
    email = render(renderer, "return.inspected", "email", data, locale)
    assert email.html is not None
    # Then each rejected item is listed with its reason and what happens to it
    assert "\n".join(lines) in email.text
    for line in lines[1:]:
        assert re.search(f"<li[^>]*>{re.escape(line[2:])}</li>", email.html), line
    # And the jeans are not listed a second time without their reason
    assert email.text.count("Spijkerbroek") == 2


@pytest.mark.parametrize(
    ("locale", "line"),
    [
        (
            "nl",
            "- Wollen trui: labels verwijderd. "
            "We bewaren het tot je laat weten wat we ermee moeten doen.",
        ),
        (
            "en",
            "- Wollen trui: tags removed. "
            "We'll keep it until you let us know what you'd like us to do with it.",
        ),
    ],
)
def test_a_rejected_inspection_says_the_item_is_held(
    renderer: Renderer, locale: str, line: str
) -> None:
    # Given an inspection that rejected the sweater, kept until the customer chooses
    data = samples_for("return.inspected")["rejected"]
    # When its email is rendered
    email = render(renderer, "return.inspected", "email", data, locale)
    # Then the item, the reason and that it is kept are there
    assert line in email.text


def test_store_credit_is_announced_as_credit(renderer: Renderer) -> None:
    # Given a refund as store credit
    data = samples_for("return.refund_issued")["store_credit"]
    # When it is rendered
    email = render(renderer, "return.refund_issued", "email", data, "en_GB")
    # Then the customer reads about credit, not a bank transfer
    assert email.subject == "Your store credit of €49.95 is ready"
    assert "bank" not in email.text


def test_an_sms_with_a_name_outside_gsm7_is_transliterated(renderer: Renderer) -> None:
    # Given a customer whose name has characters GSM-7 lacks
    data = event("return.received")
    data["customer"]["name"] = "Zoë Ĳzerman"
    # When the SMS is rendered
    message = render(renderer, "return.received", "sms", data)
    # Then the name is transliterated and the SMS stays GSM-7
    assert "Hoi Zoe," in message.text
    assert is_gsm7(message.text)


def test_staff_alerts_render_in_the_staff_locale(renderer: Renderer) -> None:
    # Given a stale return of an English-speaking customer
    data = samples_for("staff.stale_return")["received"]
    data["customer"]["locale"] = "en-GB"
    # When the staff alert is rendered in the default locale
    message = render(renderer, "staff.stale_return", "email", data, "nl")
    # Then it is Dutch and names the status, days and customer
    assert message.subject == "Retour RMA-1001 staat al 6 dagen op 'ontvangen'"
    assert "Klant: Sanne de Vries, sanne@example.nl, +31612345678" in message.text


def copy_templates(tmp_path: Path) -> Path:
    target = tmp_path / "templates"
    shutil.copytree(default_template_dir(), target)
    return target


@pytest.mark.parametrize(
    "runaway",
    [
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{% set x = range(100000)|list %}{% for a in x %}{% for b in x %}{% endfor %}{% endfor %}",
    ],
)
def test_a_runaway_template_fails_its_render_in_time(tmp_path: Path, runaway: str) -> None:
    # Given a subject template that would loop for hours
    templates = copy_templates(tmp_path)
    (templates / "nl" / "return.received.subject.txt").write_text(runaway)
    renderer = Renderer(templates, SAMPLE_BRAND, max_seconds=0.2)
    # When it is rendered
    started = time.monotonic()
    with pytest.raises(RenderError, match="took longer than 0.2 s") as caught:
        render(renderer, "return.received", "email", event("return.received"))
    # Then that render fails soon, naming the template
    assert time.monotonic() - started < 2
    assert caught.value.template == "nl/return.received.subject.txt"


def test_a_renders_deadline_counts_its_threads_cpu_time_not_the_clocks() -> None:
    # Given a render's budget of 50 ms of CPU time
    with budget(0.05, Formatter("nl", ZoneInfo("Europe/Amsterdam"))):
        # When twice that passes with the thread waiting (a busy machine), it has not run out
        time.sleep(0.1)
        check_deadline()
        # But once the thread has computed for longer, the next check stops the render
        spent = time.thread_time() + 0.06
        while time.thread_time() < spent:
            pass
        with pytest.raises(Overrun):
            check_deadline()


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("{% for i in range(100000) %}xxxxxxxxxx{% endfor %}", "output exceeds 256000 bytes"),
        ("{{ 'x' * 100000000 }}", "repetition"),
        ("{{ 10 ** 100000 }}", "exponent"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "RecursionError"),
        ("{{ ret.__class__.__mro__ }}", "unsafe"),
        ("{% set d = {} %}{{ d.update({'a': 1}) }}", "unsafe"),
        ("{{ '{0.__class__.__mro__}'.format(ret) }}", "unsafe"),
    ],
)
def test_a_template_cannot_blow_up_or_escape(tmp_path: Path, source: str, match: str) -> None:
    # Given an SMS template that builds too much or reaches outside the sandbox
    templates = copy_templates(tmp_path)
    (templates / "nl" / "return.received.sms.txt").write_text(source)
    renderer = Renderer(templates, SAMPLE_BRAND)
    # When it is rendered
    # Then that render fails with the reason
    with pytest.raises(RenderError, match=match):
        render(renderer, "return.received", "sms", event("return.received"))


def test_an_unsafe_attribute_stays_unsafe_at_every_render(tmp_path: Path) -> None:
    # Given an SMS template that reaches for a method that would change a dict
    templates = copy_templates(tmp_path)
    (templates / "nl" / "return.received.sms.txt").write_text(
        "{% set d = {} %}{{ d.update({'a': 1}) }}"
    )
    renderer = Renderer(templates, SAMPLE_BRAND)
    # When it is rendered twice (the second time with the verdict on dict.update known)
    # Then both renders are refused
    for _ in range(2):
        with pytest.raises(RenderError, match="unsafe"):
            render(renderer, "return.received", "sms", event("return.received"))


def test_a_layout_without_the_preheader_still_gives_the_preheader(tmp_path: Path) -> None:
    # Given a layout that no longer shows the preheader block its emails fill in
    templates = copy_templates(tmp_path)
    layout = templates / "nl" / "_layout.html"
    source = layout.read_text()
    assert "{% block preheader %}{% endblock %}" in source
    layout.write_text(source.replace("{% block preheader %}{% endblock %}", ""))
    data = event("return.received")
    shown = render(Renderer(default_template_dir(), SAMPLE_BRAND), "return.received", "email", data)
    # When an email is rendered with it
    message = render(Renderer(templates, SAMPLE_BRAND), "return.received", "email", data)
    # Then its preheader is the block's text all the same, though its HTML lacks it
    assert message.preheader == shown.preheader
    assert message.preheader and message.preheader not in message.html
    assert shown.preheader in shown.html


@pytest.mark.parametrize("subject", ["Hoi\r\nBcc: x@example.com", "Hoi\x07", "Hoi\u2028daar", ""])
def test_a_subject_with_control_characters_is_refused(tmp_path: Path, subject: str) -> None:
    # Given a subject template with a line break, a control character or nothing
    templates = copy_templates(tmp_path)
    (templates / "nl" / "return.received.subject.txt").write_text(subject)
    renderer = Renderer(templates, SAMPLE_BRAND)
    # When it is rendered
    # Then the subject is refused, naming the file
    with pytest.raises(RenderError, match="^nl/return.received.subject.txt: subject"):
        render(renderer, "return.received", "email", event("return.received"))


def test_an_undefined_variable_names_the_failing_partial(tmp_path: Path) -> None:
    # Given a partial that uses an attribute no item has
    templates = copy_templates(tmp_path)
    partial = templates / "nl" / "_partials" / "items.txt"
    assert "item.quantity" in partial.read_text()
    partial.write_text(partial.read_text().replace("item.quantity", "item.colour"))
    renderer = Renderer(templates, SAMPLE_BRAND)
    # When a message including it is rendered
    with pytest.raises(RenderError, match="colour") as caught:
        render(renderer, "return.received", "email", event("return.received"))
    # Then the error names the partial, never a blank in the message
    assert caught.value.template == "nl/_partials/items.txt"


def test_concurrent_renders_keep_their_own_locale(renderer: Renderer) -> None:
    # Given Dutch and English renders of the same event
    data = event("return.refund_issued")
    expected = {
        loc: render(renderer, "return.refund_issued", "email", data, loc) for loc in LOCALES
    }
    # When many run at once on worker threads
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(
                lambda loc: (loc, render(renderer, "return.refund_issued", "email", data, loc)),
                LOCALES * 20,
            )
        )
    # Then each got its own formatting
    assert all(message == expected[loc] for loc, message in results)


def _edit(path: Path, old: str, new: str) -> None:
    """Change a template file as an editor would, its modification time moving on."""
    path.write_text(path.read_text().replace(old, new))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_templates_are_read_once_and_again_only_when_their_file_changed(tmp_path: Path) -> None:
    # Given a renderer that has rendered the Dutch received SMS once
    templates = copy_templates(tmp_path)
    renderer = Renderer(templates, SAMPLE_BRAND)
    first = render(renderer, "return.received", "sms", event("return.received"))
    assert renderer.reload_changed() is False

    # When the template's file is edited
    _edit(templates / "nl" / "return.received.sms.txt", "ontvangen", "binnengekregen")

    # Then renders go on with the template as it was read, until changes are looked for
    assert render(renderer, "return.received", "sms", event("return.received")) == first
    assert renderer.reload_changed() is True
    edited = render(renderer, "return.received", "sms", event("return.received"))
    assert "binnengekregen" in edited.text and "ontvangen" not in edited.text


def test_with_auto_reload_an_edited_template_is_used_at_once(tmp_path: Path) -> None:
    # Given a renderer that checks the files at every render, which has rendered the SMS once
    templates = copy_templates(tmp_path)
    renderer = Renderer(templates, SAMPLE_BRAND, auto_reload=True)
    render(renderer, "return.received", "sms", event("return.received"))

    # When the template's file is edited
    _edit(templates / "nl" / "return.received.sms.txt", "ontvangen", "binnengekregen")

    # Then the next render uses it
    edited = render(renderer, "return.received", "sms", event("return.received"))
    assert "binnengekregen" in edited.text
