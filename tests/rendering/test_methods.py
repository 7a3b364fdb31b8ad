"""Every message about a return on its way back says what is right for its way of returning.

A drop-off is printed, packed and taken to a point; a pickup is printed, packed and made
ready for the carrier, who comes on a day in a window; an in-store return is brought to a
shop, with no label and no parcel. A return without a method is told only what is right
whatever the method.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime
from typing import Any

import pytest

from notifier.rendering import (
    DEFAULT_POLICY,
    SAMPLE_BRAND,
    RenderedMessage,
    Renderer,
    RenderError,
    default_template_dir,
    measure,
    sample_now,
    samples_for,
)

LOCALES = ("nl", "en")
CHANNELS = ("email", "sms")
#: The customer kinds about a return on its way back, with the sample of each method.
METHOD_SAMPLES: dict[str, dict[str, str]] = {
    "return.requested": {"drop_off": "card", "pickup": "pickup", "in_store": "in_store"},
    "return.approved": {"drop_off": "card", "pickup": "pickup", "in_store": "in_store"},
    "return.label_created": {"drop_off": "card", "pickup": "pickup", "in_store": "in_store_label"},
    "return.in_transit": {"drop_off": "card", "pickup": "pickup", "in_store": "in_store"},
    "reminder.ship_by": {"drop_off": "card", "pickup": "pickup", "in_store": "in_store"},
    "reminder.label_expiring": {"drop_off": "card", "pickup": "pickup"},
    "return.expired": {"drop_off": "card", "pickup": "pickup", "in_store": "in_store"},
    "nudge.stale": {"drop_off": "approved", "pickup": "pickup", "in_store": "in_store"},
}
CASES = [
    (kind, method, sample)
    for kind, samples in METHOD_SAMPLES.items()
    for method, sample in samples.items()
]
#: What every message of a method says, per locale (at least one of the words).
SAYS: dict[tuple[str, str], str] = {
    ("drop_off", "nl"): r"pakket",
    ("drop_off", "en"): r"parcel",
    ("pickup", "nl"): r"\bhaalt\b|\bophalen\b|\bopgehaald\b",
    ("pickup", "en"): r"\bcollect",
    ("in_store", "nl"): r"\bwinkel\b|De Wolwinkel Utrecht",
    ("in_store", "en"): r"\bshop\b|De Wolwinkel Utrecht",
}
#: What no message of a method may say, per locale.
NEVER: dict[tuple[str, str], tuple[str, ...]] = {
    ("drop_off", "nl"): (r"\bhaalt\b", r"\bophalen\b", r"\bkassa\b"),
    ("drop_off", "en"): (r"\bcollect", r"\btill\b"),
    ("pickup", "nl"): (r"\bbreng", r"weggebracht", r"pakketpunt", r"\bkassa\b"),
    ("pickup", "en"): (r"\bbring\b", r"\btake your\b", r"dropped off", r"parcel point"),
    ("in_store", "nl"): (r"\blabel\b", r"retourlabel", r"pakket", r"\bprint", r"verstu"),
    ("in_store", "en"): (r"\blabel\b", r"parcel", r"\bprint", r"\bship", r"\bcollect"),
}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(default_template_dir(), SAMPLE_BRAND)


def render(
    renderer: Renderer,
    kind: str,
    channel: str,
    data: dict[str, Any],
    locale: str,
    *,
    timezone: str = "Europe/Amsterdam",
    now: datetime | None = None,
) -> RenderedMessage:
    return renderer.render(
        kind,
        channel,
        data,
        locale=locale,
        timezone=timezone,
        policy=DEFAULT_POLICY,
        now=now or sample_now(data),
    )


def read(message: RenderedMessage) -> str:
    """What the customer reads: an email's subject, preheader and text, or the SMS."""
    return "\n".join(filter(None, (message.subject, message.preheader, message.text)))


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("kind", "method", "sample"), CASES)
def test_each_message_says_what_its_way_of_returning_needs_and_nothing_else(
    renderer: Renderer, kind: str, method: str, sample: str, locale: str, channel: str
) -> None:
    # Given a return of one method
    data = samples_for(kind)[sample]
    assert data["return"]["method"] == method
    # When its message is rendered
    text = read(render(renderer, kind, channel, data, locale))
    # Then it speaks of that way of returning, and of no other
    assert re.search(SAYS[method, locale], text, re.IGNORECASE), text
    for wrong in NEVER[method, locale]:
        assert not re.search(wrong, text, re.IGNORECASE), (wrong, text)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", METHOD_SAMPLES)
def test_a_return_without_a_method_is_told_nothing_a_method_could_make_wrong(
    renderer: Renderer, kind: str, locale: str
) -> None:
    # Given a return with only the required fields and no method (and a label for the kinds
    # about one: then the items are sent, not brought to a shop)
    data = samples_for(kind)["minimal"]
    shipped = bool((data["return"].get("label") or {}).get("url"))
    assert "method" not in data["return"]
    # When its messages are rendered
    for channel in CHANNELS:
        text = read(render(renderer, kind, channel, data, locale))
        # Then none of them speaks of a parcel, a label, a carrier or a shop's till
        for (method, language), words in NEVER.items():
            if language != locale or (shipped and method == "in_store"):
                continue
            for wrong in words:
                assert not re.search(wrong, text, re.IGNORECASE), (wrong, text)


def longest(kind: str, sample: str) -> dict[str, Any]:
    """A sample with the longest values the samples have: the shop's status page too."""
    data = samples_for(kind)[sample]
    data["return"]["status_url"] = "https://shop.example/retour/RMA-1001"
    return data


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("kind", "sample"),
    [(kind, sample) for kind in METHOD_SAMPLES for sample in samples_for(kind)],
)
def test_every_sms_is_gsm7_within_two_segments_with_the_longest_values(
    renderer: Renderer, kind: str, sample: str, locale: str
) -> None:
    # Given a sample with the shop's status page besides its own values
    data = longest(kind, sample)
    # When its SMS is rendered
    message = render(renderer, kind, "sms", data, locale)
    # Then it is GSM-7, at most two segments, and links the return's page
    size = measure(message.text)
    assert (size.encoding, size.segments <= 2) == ("GSM-7", True), (size, message.text)
    assert "https://shop.example/retour/RMA-1001" in message.text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    "kind",
    ["return.approved", "return.label_created", "reminder.ship_by", "reminder.label_expiring"],
)
def test_an_sms_about_a_label_links_the_label(renderer: Renderer, kind: str, locale: str) -> None:
    for method in ("drop_off", "pickup"):
        data = samples_for(kind)[METHOD_SAMPLES[kind][method]]
        message = render(renderer, kind, "sms", data, locale)
        assert data["return"]["label"]["url"] in message.text


@pytest.mark.parametrize(
    ("locale", "timezone", "window"),
    [
        ("nl", "Europe/Amsterdam", "donderdag 3 december tussen 09:00 en 13:00"),
        ("nl_BE", "Europe/Brussels", "donderdag 3 december tussen 09:00 en 13:00"),
        ("en_GB", "Europe/London", "Thursday 3 December between 09:00 and 13:00"),
        ("en_US", "America/New_York", "Thursday, December 3 between 9:00 AM and 1:00 PM"),
    ],
)
def test_a_pickup_window_is_told_in_the_customers_locale_on_their_own_clock(
    renderer: Renderer, locale: str, timezone: str, window: str
) -> None:
    # Given a pickup on 3 December between 09:00 and 13:00, the customer's local times
    data = samples_for("return.approved")["pickup"]
    # When the approval is rendered for a customer in a locale and time zone
    email = render(renderer, "return.approved", "email", data, locale, timezone=timezone)
    sms = render(renderer, "return.approved", "sms", data, locale, timezone=timezone)
    # Then the day and window are formatted for the locale and not moved to another clock
    assert window in " ".join(email.text.split())
    assert window in sms.text


def test_a_malformed_pickup_window_names_the_field(renderer: Renderer) -> None:
    data = samples_for("return.approved")["pickup"]
    data["return"]["pickup"]["from"] = "9 uur"
    with pytest.raises(RenderError, match=r"return\.pickup\.from must be a clock time"):
        render(renderer, "return.approved", "email", data, "nl")


@pytest.mark.parametrize("locale", LOCALES)
def test_an_in_store_return_is_sent_to_its_shop_else_to_the_drop_off_it_names(
    renderer: Renderer, locale: str
) -> None:
    # Given an in-store return with its shop, and an older one naming the shop as drop-off
    with_store = samples_for("return.approved")["in_store"]
    older = samples_for("return.approved")["in_store_drop_off"]
    # When both are rendered
    new = render(renderer, "return.approved", "email", with_store, locale).text
    old = render(renderer, "return.approved", "email", older, locale).text
    # Then both send the customer to the shop's address, the first with its opening hours
    for text in (new, old):
        assert "De Wolwinkel Utrecht (Oudegracht 12, Utrecht)" in text
    assert "ma t/m za 10:00-18:00, zo 12:00-17:00" in new
    assert "ma t/m za" not in old


@pytest.mark.parametrize("locale", LOCALES)
def test_items_and_their_pronouns_follow_the_count(renderer: Renderer, locale: str) -> None:
    # Given an in-store return of one sweater, and one of a sweater and two pairs of jeans
    one = samples_for("nudge.stale")["in_store"]
    three = copy.deepcopy(one)
    three["return"]["items"].append(
        {"sku": "JEANS-32", "name": "Spijkerbroek", "quantity": 2, "unit_price": "59.95"}
    )
    # When the nudge about the items not yet brought back is rendered
    single = render(renderer, "nudge.stale", "email", one, locale).text
    plural = render(renderer, "nudge.stale", "email", three, locale).text
    # Then one item is "it", three are "them"
    said = {
        "nl": ("We hebben je artikel nog niet terug", "Breng het", "Breng ze"),
        "en": ("We haven't got your item back", "bring it", "bring them"),
    }[locale]
    assert said[0] in single and said[1] in single
    assert said[2] in plural and said[1] not in plural


@pytest.mark.parametrize(
    ("kind", "channel", "locale", "two_days", "last_day"),
    [
        ("reminder.ship_by", "email", "nl", "Je hebt nog 2 dagen", "Vandaag is de laatste dag"),
        ("reminder.ship_by", "sms", "nl", "vergeet je retour", "vandaag is de laatste dag"),
        ("reminder.ship_by", "email", "en", "You have 2 more days", "Today is the last day"),
        ("reminder.ship_by", "sms", "en", "don't forget your return", "today is the last day"),
        ("reminder.label_expiring", "email", "nl", "Je hebt nog 2 dagen", "Vandaag, vrijdag"),
        ("reminder.label_expiring", "sms", "nl", "verloopt vrijdag", "verloopt vandaag"),
        ("reminder.label_expiring", "email", "en", "You have 2 more days", "Today, Friday"),
        ("reminder.label_expiring", "sms", "en", "expires on Friday", "expires today"),
    ],
)
def test_the_last_day_reads_differently_from_two_days_before(
    renderer: Renderer, kind: str, channel: str, locale: str, two_days: str, last_day: str
) -> None:
    # Given the same reminder two days before its deadline and on the day itself
    data = samples_for(kind)["card"]
    early = render(renderer, kind, channel, data, locale)
    late = render(
        renderer,
        kind,
        channel,
        data,
        locale,
        now=datetime.fromisoformat("2026-12-04T09:00:00+01:00"),
    )
    # Then each says how much time is left, and they differ in what they say
    assert two_days in read(early) and last_day not in read(early)
    assert last_day in read(late) and two_days not in read(late)
    if channel == "email":
        assert early.subject != late.subject


@pytest.mark.parametrize("locale", LOCALES)
def test_a_pickup_reminder_counts_to_the_pickup_not_to_the_ship_by_date(
    renderer: Renderer, locale: str
) -> None:
    # Given a pickup on Thursday 3 December, ship-by date Friday 4 December, reminded on the 2nd
    data = samples_for("reminder.ship_by")["pickup"]
    # When the reminder is rendered
    message = render(renderer, "reminder.ship_by", "email", data, locale)
    sms = render(renderer, "reminder.ship_by", "sms", data, locale)
    # Then it says the carrier comes tomorrow, and asks to have the parcel ready with the label
    said = {
        "nl": ("Morgen haalt DHL je retour op", "Zet het klaar met het", "morgen haalt DHL"),
        "en": ("DHL will collect your return tomorrow", "have it ready with", "tomorrow"),
    }[locale]
    assert message.subject == said[0]
    assert said[1] in message.text and said[1] in sms.text and said[2] in sms.text


@pytest.mark.parametrize("locale", LOCALES)
def test_a_reminder_rendered_after_its_deadline_does_not_ask_for_the_past(
    renderer: Renderer, locale: str
) -> None:
    # Given a ship-by reminder rendered again the day after its deadline (the console shows
    # a skipped one as of when it was skipped)
    data = samples_for("reminder.ship_by")["card"]
    after = datetime.fromisoformat("2026-12-05T10:00:00+01:00")
    # When it is rendered
    text = render(renderer, "reminder.ship_by", "email", data, locale, now=after).text
    # Then it says the last day was then, not that the customer has days left
    said = {"nl": "was vrijdag 4 december.", "en": "was Friday 4 December."}[locale]
    assert said in text
    assert not re.search(r"vandaag|morgen|today|tomorrow|nog \d|more day", text, re.IGNORECASE)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_expired_return_tells_what_can_still_be_done_warmly(
    renderer: Renderer, locale: str
) -> None:
    for method, sample in METHOD_SAMPLES["return.expired"].items():
        # Given the ship-by date passed for a return of each method
        data = samples_for("return.expired")[sample]
        # When the expiry is rendered
        email = render(renderer, "return.expired", "email", data, locale).text
        sms = render(renderer, "return.expired", "sms", data, locale).text
        # Then it says the date, that it may already be on its way, and what can still be done
        said = {
            "nl": ("vrijdag 4 december", "toch al", "Neem dan contact met ons op", "nieuwe retour"),
            "en": ("Friday 4 December", "already", "get in touch", "request a new return"),
        }[locale]
        assert said[0] in email and said[1] in email.lower() and said[2] in email, (method, email)
        assert said[3] in email and said[0] in sms
        assert not re.search(r"\b(?:forgot|vergeten|te laat|too late|failed)\b", email, re.I)
