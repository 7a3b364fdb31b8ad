"""Refunds and inspection outcomes: the right words for every way of refunding, a breakdown
that is always a true sum, what a partial acceptance refunds and what becomes of the rest,
and the shop's own words never passed off as ours."""

from __future__ import annotations

import copy
import html
import re
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from notifier.rendering import (
    CONTRACT_EVENT,
    DEFAULT_POLICY,
    SAMPLE_BRAND,
    Policy,
    RenderedMessage,
    Renderer,
    default_template_dir,
    measure,
    samples_for,
)

LOCALES = ("nl", "en")


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(default_template_dir(), SAMPLE_BRAND)


def refund_event(**refund: Any) -> dict[str, Any]:
    """The contract's refund event (one sweater of 49.95) with another ``refund``."""
    data = copy.deepcopy(CONTRACT_EVENT)
    data["return"]["refund"] = {"amount": "49.95", **refund}
    return data


def render(
    renderer: Renderer,
    data: dict[str, Any],
    locale: str,
    channel: str = "email",
    kind: str = "return.refund_issued",
    policy: Policy = DEFAULT_POLICY,
) -> RenderedMessage:
    return renderer.render(
        kind, channel, data, locale=locale, timezone="Europe/Amsterdam", policy=policy
    )


def readable(page: str) -> str:
    """An HTML email's words as a reader sees them: no markup, styles or entities."""
    body = page[page.index("<body") :]
    words = html.unescape(re.sub(r"<[^>]+>", " ", body)).replace("\u00a0", " ")
    return " ".join(words.split())


def everything(message: RenderedMessage) -> str:
    """What the customer reads of an email: subject, preview line and text."""
    return "\n".join([message.subject or "", message.preheader or "", message.text])


#: Per refund method and payment method: what the email and SMS must say in each language,
#: and words that would be wrong for it (a refund called so for store credit, a bank account
#: for PayPal, days for a Klarna invoice...).
WORDING: list[tuple[dict[str, Any], str, tuple[str, ...], str]] = [
    (
        {"method": "original_payment", "payment_method": "ideal"},
        "nl",
        ("Je terugbetaling van € 49,95 is onderweg", "met iDEAL", "binnen 3 werkdagen"),
        r"kaart|PayPal|Klarna|tegoed|cadeaukaart|5 werkdagen",
    ),
    (
        {"method": "original_payment", "payment_method": "ideal"},
        "en",
        ("Your refund of €49.95 is on its way", "with iDEAL", "within 3 working days"),
        r"card|PayPal|Klarna|store credit|5 working days",
    ),
    (
        {"method": "original_payment", "payment_method": "bancontact"},
        "nl",
        ("met Bancontact", "binnen 3 werkdagen"),
        r"iDEAL|kaart|PayPal|Klarna|tegoed",
    ),
    (
        {"method": "original_payment", "payment_method": "bancontact"},
        "en",
        ("with Bancontact", "within 3 working days"),
        r"iDEAL|card|PayPal|Klarna|store credit",
    ),
    (
        {"method": "original_payment", "payment_method": "card"},
        "nl",
        ("op de kaart waarmee je hebt betaald", "tot 10 werkdagen", "afschrift"),
        r"rekening|iDEAL|PayPal|Klarna|tegoed",
    ),
    (
        {"method": "original_payment", "payment_method": "card"},
        "en",
        ("to the card you paid with", "up to 10 working days", "card statement"),
        r"bank account|iDEAL|PayPal|Klarna|store credit",
    ),
    (
        {"method": "original_payment", "payment_method": "paypal"},
        "nl",
        ("naar je PayPal-account", "binnen een werkdag"),
        r"rekening|bank|afschrift|Klarna|tegoed",
    ),
    (
        {"method": "original_payment", "payment_method": "paypal"},
        "en",
        ("to your PayPal account", "within one working day"),
        r"bank|statement|Klarna|store credit",
    ),
    (
        {"method": "original_payment", "payment_method": "klarna"},
        "nl",
        ("Klarna verlaagt je factuur met € 49,95", "Had je de factuur al betaald?"),
        r"terugbetaling|teruggestort|werkdag|rekening|tegoed",
    ),
    (
        {"method": "original_payment", "payment_method": "klarna"},
        "en",
        ("Klarna is reducing your invoice by €49.95", "Already paid the invoice?"),
        r"[Rr]efund|working day|bank account|store credit",
    ),
    (
        {"method": "original_payment", "payment_method": "other"},
        "nl",
        ("Je terugbetaling van € 49,95 is onderweg", "binnen 5 werkdagen"),
        r"iDEAL|PayPal|Klarna|tegoed|afschrift",
    ),
    (
        {"method": "original_payment"},
        "en",
        ("Your refund of €49.95 is on its way", "within 5 working days"),
        r"iDEAL|PayPal|Klarna|store credit|statement",
    ),
    (
        {"method": "store_credit", "store_credit": {"expires_on": "2027-11-20"}},
        "nl",
        ("Je tegoed van € 49,95 staat klaar", "geldig tot 20 november 2027", "afrekenen"),
        r"terugbetaling|teruggestort|terugbetaald|werkdag|rekening|bank",
    ),
    (
        {"method": "store_credit", "store_credit": {"expires_on": "2027-11-20"}},
        "en",
        ("Your store credit of €49.95 is ready", "valid until 20 November 2027", "checkout"),
        r"[Rr]efund|working day|bank",
    ),
    (
        {
            "method": "gift_card",
            "gift_card": {"code": "GC-7Q4M-XK2P-9WDA", "expires_on": "2027-11-20"},
        },
        "nl",
        ("Je cadeaukaart van € 49,95 staat klaar", "GC-7Q4M-XK2P-9WDA", "20 november 2027"),
        r"terugbetaling|teruggestort|werkdag|rekening|bank|tegoed",
    ),
    (
        {
            "method": "gift_card",
            "gift_card": {"code": "GC-7Q4M-XK2P-9WDA", "expires_on": "2027-11-20"},
        },
        "en",
        ("Your €49.95 gift card is ready", "GC-7Q4M-XK2P-9WDA", "20 November 2027", "checkout"),
        r"[Rr]efund|working day|bank|store credit",
    ),
    (
        {},
        "nl",
        ("We hebben € 49,95 voor je retour verwerkt", "Gaat het bedrag terug naar je"),
        r"terugbetaling is onderweg|teruggestort|tegoed|cadeaukaart",
    ),
    (
        {},
        "en",
        ("We've processed €49.95 for your return", "If the amount goes back to your"),
        r"[Rr]efund|store credit|gift card",
    ),
]


@pytest.mark.parametrize(("refund", "locale", "says", "wrong"), WORDING)
def test_each_way_of_refunding_is_worded_for_what_it_is(
    renderer: Renderer, refund: dict[str, Any], locale: str, says: tuple[str, ...], wrong: str
) -> None:
    # Given a refund by one method, to one payment method
    data = refund_event(**refund)
    # When its email is rendered
    email = render(renderer, data, locale)
    assert email.html is not None
    # Then it says what this refund is, how and when, in text and HTML alike
    for words in says:
        assert words in everything(email)
        assert words in readable(email.html)
    # And nothing that belongs to another way of refunding
    assert not re.search(wrong, everything(email)), everything(email)
    assert not re.search(wrong, readable(email.html))


@pytest.mark.parametrize(("refund", "locale", "says", "wrong"), WORDING)
def test_each_way_of_refunding_has_its_own_sms(
    renderer: Renderer, refund: dict[str, Any], locale: str, says: tuple[str, ...], wrong: str
) -> None:
    # Given a refund by one method, to one payment method, for a return with a status page
    data = refund_event(**refund)
    data["return"]["status_url"] = "https://shop.example/retour/RMA-1001"
    # When its SMS is rendered
    sms = render(renderer, data, locale, "sms")
    # Then it names the amount (a gift card its code), stays within two GSM-7 segments,
    # ends with the return's page, and has no wording of another way of refunding
    assert ("€ 49,95" if locale == "nl" else "€49.95") in sms.text
    if refund.get("gift_card"):
        assert "GC-7Q4M-XK2P-9WDA" in sms.text
    size = measure(sms.text)
    assert (size.encoding, size.segments <= 2) == ("GSM-7", True), sms.text
    assert sms.text.endswith("https://shop.example/retour/RMA-1001")
    assert not re.search(wrong, sms.text), sms.text


@pytest.mark.parametrize(
    ("payment_method", "locale", "says"),
    [
        ("card", "nl", "tot 7 werkdagen"),
        ("ideal", "en", "within 2 working days"),
        ("klarna", "nl", "in de Klarna-app zie je je factuur met het nieuwe bedrag binnen 4"),
        (None, "en", "within 8 working days"),
    ],
)
def test_the_days_come_from_the_shops_table(
    renderer: Renderer, payment_method: str | None, locale: str, says: str
) -> None:
    # Given a shop that changed the days of some payment methods and its default
    table = {**DEFAULT_POLICY.payment_refund_days, "card": 7, "ideal": 2, "klarna": 4}
    shop = replace(DEFAULT_POLICY, refund_days=8, payment_refund_days=table)
    data = refund_event(method="original_payment", payment_method=payment_method)
    # When the refund is rendered
    email = render(renderer, data, locale, policy=shop)
    # Then it says the shop's days for that payment method
    assert says in email.text


#: A refund's breakdown in the plain text: the items, what was kept back, the total.
BREAKDOWN = re.compile(r"^(€ ?[\d.,]+) .*\n((?:− € ?[\d.,]+ .*\n)+)= (€ ?[\d.,]+)$", re.M)


AMOUNT = re.compile(r"€ ?[\d.,]*\d")


def amount(text: str) -> Decimal:
    digits = text.replace("€", "").replace(" ", "").replace("\u00a0", "")
    return Decimal(digits.replace(".", "").replace(",", ".") if "," in digits else digits)


def sums_shown(text: str) -> list[tuple[Decimal, list[Decimal], Decimal]]:
    found = []
    for match in BREAKDOWN.finditer(text):
        kept = [amount(AMOUNT.findall(line)[0]) for line in match.group(2).splitlines()]
        found.append((amount(match.group(1)), kept, amount(match.group(3))))
    return found


#: How each deduction's row is labelled in the HTML breakdown.
LABELS = {
    "nl": {"return_shipping": "Retourkosten", "damage": "Schade"},
    "en": {"return_shipping": "Return shipping", "damage": "Damage"},
}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("refund_amount", "deductions", "lines"),
    [
        ("45.00", [("return_shipping", "4.95")], ["− € 4,95 retourkosten"]),
        ("39.95", [("damage", "10.00")], ["− € 10,00 voor schade"]),
        (
            "35.00",
            [("return_shipping", "4.95"), ("damage", "10.00")],
            ["− € 4,95 retourkosten", "− € 10,00 voor schade"],
        ),
    ],
)
def test_deductions_that_add_up_are_shown_as_a_sum(
    renderer: Renderer,
    locale: str,
    refund_amount: str,
    deductions: list[tuple[str, str]],
    lines: list[str],
) -> None:
    # Given a refund of the sweater (49.95) with what was kept back, adding up to the amount
    data = refund_event(
        amount=refund_amount,
        method="original_payment",
        payment_method="ideal",
        deductions=[{"reason": reason, "amount": kept} for reason, kept in deductions],
    )
    # When its email and SMS are rendered
    email = render(renderer, data, locale)
    sms = render(renderer, data, locale, "sms")
    assert email.html is not None
    # Then the text shows items minus deductions equals the amount, and the sum is right
    [(items, kept, total)] = sums_shown(email.text)
    assert items == Decimal("49.95") and items - sum(kept) == total == Decimal(refund_amount)
    if locale == "nl":
        assert "Zo komen we op dit bedrag:\n€ 49,95 voor je artikel\n" in email.text
        assert "\n".join(lines) + f"\n= € {refund_amount.replace('.', ',')}" in email.text
    # And the HTML has it as a small table, ending in the total
    rows = {
        "nl": ["Je artikel € 49,95"]
        + [f"{LABELS['nl'][r]} − € {k.replace('.', ',')}" for r, k in deductions]
        + [f"Totaal € {refund_amount.replace('.', ',')}"],
        "en": ["Your item €49.95"]
        + [f"{LABELS['en'][r]} − €{k}" for r, k in deductions]
        + [f"Total €{refund_amount}"],
    }[locale]
    assert " ".join(rows) in readable(email.html)
    # And the SMS says the amount the customer gets
    assert (f"€ {refund_amount.replace('.', ',')}" if locale == "nl" else f"€{refund_amount}") in (
        sms.text
    )


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    "change",
    [
        "amount",  # the shop refunds less than items minus deductions
        "unpriced",  # an item has no price, so there is no total to start from
    ],
)
def test_deductions_that_do_not_add_up_are_never_shown_as_a_sum(
    renderer: Renderer, locale: str, change: str
) -> None:
    # Given a refund with a deduction whose figures do not make a sum
    data = refund_event(
        amount="40.00" if change == "amount" else "45.00",
        method="original_payment",
        deductions=[{"reason": "return_shipping", "amount": "4.95"}],
    )
    if change == "unpriced":
        del data["return"]["items"][0]["unit_price"]
    # When its email is rendered
    email = render(renderer, data, locale)
    # Then the deduction is said, but no sum is shown
    assert sums_shown(email.text) == []
    assert "= €" not in email.text and "Totaal" not in (email.html or "")
    said = (
        "Dit is na aftrek van € 4,95 retourkosten."
        if locale == "nl"
        else ("This is after deducting €4.95 for return shipping.")
    )
    assert said in email.text


@pytest.mark.parametrize("locale", LOCALES)
def test_every_sum_any_refund_sample_shows_is_right(renderer: Renderer, locale: str) -> None:
    # Given every refund sample, and the same with the shop's shipping deducted
    shown = 0
    for data in samples_for("return.refund_issued").values():
        for policy in (DEFAULT_POLICY, Policy(30, "deducted", Decimal("4.95"))):
            # When it is rendered
            email = render(renderer, data, locale, policy=policy)
            # Then every sum it shows adds up to the amount refunded
            for items, kept, total in sums_shown(email.text):
                assert items - sum(kept) == total == Decimal(data["return"]["refund"]["amount"])
                shown += 1
    assert shown >= 5


@pytest.mark.parametrize(
    ("locale", "lines"),
    [
        ("nl", ["€ 49,95 voor je artikel", "− € 4,95 retourkosten", "= € 45,00"]),
        ("en", ["€49.95 for your item", "− €4.95 for return shipping", "= €45.00"]),
    ],
)
def test_the_policys_deducted_shipping_reads_as_the_breakdown(
    renderer: Renderer, locale: str, lines: list[str]
) -> None:
    # Given a shop that deducts return shipping, and a refund event without deductions
    data = samples_for("return.refund_issued")["deducted"]
    # When the refund and the inspection are rendered
    email = render(renderer, data, locale)
    inspected = render(renderer, data, locale, kind="return.inspected")
    # Then the refund shows the sum, and the inspection says the amount after the deduction
    assert "\n".join(lines) in email.text
    after = (
        "na aftrek van € 4,95 retourkosten"
        if locale == "nl"
        else ("after deducting €4.95 for return shipping")
    )
    assert after in inspected.text


def test_the_events_deductions_replace_the_policys(renderer: Renderer) -> None:
    # Given a shop that deducts 4.95, and an event that says only damage was kept back
    data = refund_event(
        amount="39.95", method="original_payment", deductions=[{"reason": "damage", "amount": "10"}]
    )
    shop = Policy(30, "deducted", Decimal("4.95"))
    # When it is rendered
    email = render(renderer, data, "nl", policy=shop)
    # Then only the event's deduction is in the sum: nothing is taken off twice
    assert sums_shown(email.text) == [(Decimal("49.95"), [Decimal("10.00")], Decimal("39.95"))]
    assert "retourkosten" not in email.text


PARTIAL_LINES = {
    "nl": ("Wat we vergoeden\n", "Wat we niet vergoeden\n"),
    "en": ("What this covers\n", "What this doesn't cover\n"),
}


@pytest.mark.parametrize("locale", LOCALES)
def test_a_partial_refund_lists_only_what_it_refunds(renderer: Renderer, locale: str) -> None:
    # Given a refund after an inspection that accepted the sweater and one of two jeans
    data = samples_for("return.refund_issued")["partial_items"]
    data["return"]["refund"]["amount"] = "109.90"
    data["return"]["inspection"]["accepted_items"].append({"sku": "JEANS-32", "quantity": 1})
    data["return"]["inspection"]["rejected_items"].pop()
    # When it is rendered
    email = render(renderer, data, locale)
    covers, not_covered = PARTIAL_LINES[locale]
    refunded, rest = email.text.split(covers)[1].split(not_covered)
    # Then what is refunded is listed at the price of what was accepted
    money = {"nl": ("€ 49,95", "€ 59,95"), "en": ("€49.95", "€59.95")}[locale]
    part = "1 van de 2" if locale == "nl" else "1 of 2"
    assert refunded.startswith(
        f"- Wollen trui, {money[0]}\n- Spijkerbroek ({part}), {money[1]}\n"
    ), refunded
    # And the other pair of jeans only as not refunded, with why and what happens to it
    assert rest.startswith(f"- Spijkerbroek ({part}): ")
    assert "119,90" not in email.text and "119.90" not in email.text


@pytest.mark.parametrize("locale", LOCALES)
def test_a_partial_refund_that_does_not_say_what_was_accepted_lists_nothing(
    renderer: Renderer, locale: str
) -> None:
    # Given a refund after a partial acceptance that names no items
    data = samples_for("return.refund_issued")["partial"]
    data["return"]["inspection"]["accepted_items"] = []
    # When it is rendered
    email = render(renderer, data, locale)
    # Then no item is listed as refunded, certainly not the whole return at full price
    assert "Spijkerbroek" not in email.text and "Wollen trui" not in email.text


def test_units_rejected_without_accepted_items_leave_the_rest_accepted(
    renderer: Renderer,
) -> None:
    # Given a partial inspection that names only the jeans it rejected (1 of 2)
    data = samples_for("return.inspected")["partial_items"]
    data["return"]["inspection"]["accepted_items"] = []
    data["return"]["inspection"]["rejected_items"].pop()
    # When it is rendered
    email = render(renderer, data, "nl", kind="return.inspected")
    # Then the sweater and the other pair of jeans are the accepted ones
    assert "Dit accepteren we:\n- Wollen trui\n- Spijkerbroek (1 van de 2)\n" in email.text


@pytest.mark.parametrize(
    ("locale", "line"),
    [
        (
            "nl",
            "- 2 × Spijkerbroek: labels verwijderd. "
            "We bewaren ze tot je laat weten wat we ermee moeten doen.",
        ),
        (
            "en",
            "- 2 × Spijkerbroek: tags removed. "
            "We'll keep them until you let us know what you'd like us to do with them.",
        ),
    ],
)
def test_several_units_held_are_spoken_of_in_the_plural_with_how_to_answer(
    renderer: Renderer, locale: str, line: str
) -> None:
    # Given a partial inspection that keeps both pairs of jeans until the customer chooses
    data = samples_for("return.inspected")["partial_held"]
    # When its email and SMS are rendered
    email = render(renderer, data, locale, kind="return.inspected")
    sms = render(renderer, data, locale, "sms", kind="return.inspected")
    # Then the email names both, why, that they are kept, and how to answer
    assert line in email.text
    assert ("Beantwoord deze e-mail" if locale == "nl" else "reply to this email") in email.text
    # And the SMS says they are kept and what to do, without the email
    assert ("bewaren we voor je" if locale == "nl" else "we'll keep for you") in sms.text
    assert "mail" not in sms.text.lower()


@pytest.mark.parametrize(
    ("disposition", "nl", "en"),
    [
        ("sent_back", "We sturen het naar je terug.", "We'll send it back to you."),
        ("held", "We bewaren het tot je laat weten", "We'll keep it until you let us know"),
        ("disposed", "Met je toestemming voeren we het af.", "With your consent, we'll dispose"),
    ],
)
def test_each_disposition_says_what_happens_to_the_item(
    renderer: Renderer, disposition: str, nl: str, en: str
) -> None:
    # Given a partial inspection that rejected one pair of jeans with a disposition
    data = samples_for("return.inspected")["partial_items"]
    data["return"]["inspection"]["rejected_items"] = [
        {"sku": "JEANS-32", "quantity": 1, "code": "damaged", "disposition": disposition}
    ]
    # When it is rendered in both languages
    for locale, says in (("nl", nl), ("en", en)):
        email = render(renderer, data, locale, kind="return.inspected")
        # Then the line of the jeans says what becomes of them
        assert says in email.text


#: Words of our own Dutch templates that must never reach an English customer.
DUTCH_WORDS = re.compile(r"\b(je|het|artikel|artikelen|retour|terug|niet|winkel|Toelichting)\b")


@pytest.mark.parametrize(
    ("kind", "sample", "field"),
    [
        ("return.rejected", "rejected", "rejection_reason"),
        ("return.inspected", "rejected", "inspection.note"),
        ("return.inspected", "partial", "inspection.note"),
        ("return.refund_issued", "partial", "inspection.note"),
    ],
)
def test_the_shops_dutch_words_reach_an_english_customer_only_as_its_note(
    renderer: Renderer, kind: str, sample: str, field: str
) -> None:
    # Given an event whose shop wrote its free text in Dutch
    data = samples_for(kind)[sample]
    section, key = ("return", field) if "." not in field else field.split(".")
    note = (data["return"][section] if section != "return" else data["return"])[key]
    # When it is rendered for an English customer
    email = render(renderer, data, "en", kind=kind)
    sms = render(renderer, data, "en", "sms", kind=kind)
    assert email.html is not None
    # Then the Dutch text stands only behind the shop's label, in text and HTML
    for line in email.text.splitlines():
        if note in line:
            assert line == f"A note from the shop: {note}"
        else:
            assert not DUTCH_WORDS.search(line), line
    assert f"<strong>A note from the shop:</strong><br>{note}</div>" in email.html
    # And the SMS, too short to quote it, leaves it out
    assert note not in sms.text and not DUTCH_WORDS.search(sms.text)


@pytest.mark.parametrize(
    ("variant", "nl", "en"),
    [
        ("L", "Wool jumper (maat L)", "Wool jumper (size L)"),
        ("XXL", "Wool jumper (maat XXL)", "Wool jumper (size XXL)"),
        ("3XL", "Wool jumper (maat 3XL)", "Wool jumper (size 3XL)"),
        ("32", "Wool jumper (maat 32)", "Wool jumper (size 32)"),
        ("42½", "Wool jumper (maat 42½)", "Wool jumper (size 42½)"),
        ("W32 L34", "Wool jumper (maat W32 L34)", "Wool jumper (size W32 L34)"),
        ("EU 42", "Wool jumper (maat EU 42)", "Wool jumper (size EU 42)"),
        ("Blauw", "Wool jumper (Blauw)", "Wool jumper (Blauw)"),
        ("Navy", "Wool jumper (Navy)", "Wool jumper (Navy)"),
        ("Lichtgrijs", "Wool jumper (Lichtgrijs)", "Wool jumper (Lichtgrijs)"),
    ],
)
def test_a_size_is_introduced_as_one_and_a_colour_is_shown_as_it_is(
    renderer: Renderer, variant: str, nl: str, en: str
) -> None:
    # Given an exchange of one item with a size or a colour, for a return of the same item
    data = copy.deepcopy(CONTRACT_EVENT)
    data["return"]["items"][0].update(name="Wool jumper", variant=variant)
    data["return"]["exchange"]["items"] = [
        {"sku": "TRUI-L", "name": "Wool jumper", "quantity": 1, "variant": variant}
    ]
    for locale, title in (("nl", nl), ("en", en)):
        # When the exchange and the receipt of the return are rendered
        exchange = render(renderer, data, locale, kind="return.exchange_shipped")
        sms = render(renderer, data, locale, "sms", kind="return.exchange_shipped")
        received = render(renderer, data, locale, kind="return.received")
        # Then each names the item with its variant, a size as a size
        assert f": {title}." in exchange.text and f": {title}." in sms.text
        assert f"- 1 × {title}, " in received.text


@pytest.mark.parametrize(
    ("locale", "opening", "lines"),
    [
        (
            "nl",
            "Je ruilartikelen voor bestelling ORD-5567 zijn met PostNL onderweg naar je:",
            ["- Wollen trui (maat L)", "- 2 × Sokken (Blauw)"],
        ),
        (
            "en",
            "Your exchange items for order ORD-5567 are on their way to you with PostNL:",
            ["- Wollen trui (size L)", "- 2 × Sokken (Blauw)"],
        ),
    ],
)
def test_an_exchange_of_several_items_lists_each_with_its_variant(
    renderer: Renderer, locale: str, opening: str, lines: list[str]
) -> None:
    # Given an exchange of a sweater in another size and two pairs of socks
    data = samples_for("return.exchange_shipped")["exchange_variants"]
    # When its email and SMS are rendered
    email = render(renderer, data, locale, kind="return.exchange_shipped")
    sms = render(renderer, data, locale, "sms", kind="return.exchange_shipped")
    # Then the email lists each item, the plural subject counts three items
    assert "\n".join([opening, *lines]) in email.text
    assert email.subject in (
        "Je ruilartikelen zijn onderweg",
        "Your exchange items are on their way",
    )
    # And the SMS counts them and links the tracking
    assert ("je 3 ruilartikelen" if locale == "nl" else "your 3 exchange items") in sms.text
    assert sms.text.endswith("https://tracking.example/3SXYZ7654321")


def test_one_line_of_two_exchange_items_is_plural() -> None:
    renderer = Renderer(default_template_dir(), SAMPLE_BRAND)
    # Given an exchange of one line of two pairs of socks
    data = samples_for("return.exchange_shipped")["exchange"]
    data["return"]["exchange"]["items"] = [
        {"sku": "SOK-B", "name": "Sokken", "quantity": 2, "variant": "Blauw"}
    ]
    # When it is rendered
    email = render(renderer, data, "nl", kind="return.exchange_shipped")
    # Then it speaks of items, plural
    assert email.subject == "Je ruilartikelen zijn onderweg"
    assert "zijn met PostNL onderweg naar je: 2 × Sokken (Blauw)." in email.text
