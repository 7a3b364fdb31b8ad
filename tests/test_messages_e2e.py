"""All lifecycle messages arrive end to end through the API with the right language and formatting.

Each customer-facing event type is posted through the HTTP API for a Dutch (nl-NL), an
English (en-GB) and a Belgian (nl-BE: Dutch texts, Belgian formatting) customer; the queue
is drained by real worker threads and what arrived in the development outbox is read back:
the ``.eml`` files and ``sms.jsonl``.
"""

from __future__ import annotations

import email
import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from email import policy as email_policy
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_date
from babel.numbers import format_currency
from fastapi.testclient import TestClient
from sqlalchemy import select

from notifier import db
from notifier.http import create_app
from notifier.service import Service
from tests.drain import drain
from tests.factories import event

#: The kinds CONTRACT section 3 sends by SMS; every other customer-facing kind is email only.
SMS_KINDS = frozenset(
    {"return.label_created", "return.received", "return.refund_issued", "return.exchange_shipped"}
)
#: Every event type a return system posts that sends the customer a message.
CUSTOMER_EVENTS = (
    "return.requested",
    "return.approved",
    "return.rejected",
    "return.label_created",
    "return.in_transit",
    "return.received",
    "return.inspected",
    "return.refund_issued",
    "return.exchange_shipped",
    "return.cancelled",
)


@dataclass(frozen=True, slots=True)
class Customer:
    """One customer of the matrix, with what their messages must look like."""

    locale: str
    name: str
    email: str
    phone: str
    timezone: str
    language: str
    greeting: str
    money: str
    date: str
    weekday: str


def _babel(locale: str) -> tuple[str, str, str]:
    """The contract's amount, ship-by date and its weekday as Babel formats them for a locale."""
    money = format_currency(Decimal("49.95"), "EUR", locale=locale).replace("\xa0", " ")
    ship_by = date(2026, 12, 4)
    return (
        money,
        format_date(ship_by, "long", locale=locale),
        format_date(ship_by, "EEEE d MMMM", locale=locale),
    )


CUSTOMERS = {
    "nl-NL": Customer(
        locale="nl-NL",
        name="Sanne de Vries",
        email="sanne@example.nl",
        phone="+31612345678",
        timezone="Europe/Amsterdam",
        language="nl",
        greeting="Hoi Sanne,",
        money="€ 49,95",
        date="4 december 2026",
        weekday="vrijdag 4 december",
    ),
    "en-GB": Customer(
        locale="en-GB",
        name="Sam Taylor",
        email="sam@example.co.uk",
        phone="+447911123456",
        timezone="Europe/London",
        language="en",
        greeting="Hi Sam,",
        money="€49.95",
        date="4 December 2026",
        weekday="Friday 4 December",
    ),
    # Belgian formatting is whatever Babel's nl_BE gives; the texts are the Dutch ones.
    "nl-BE": Customer(
        "nl-BE",
        "Lotte Peeters",
        "lotte@example.be",
        "+32470123456",
        "Europe/Brussels",
        "nl",
        "Hoi Lotte,",
        *_babel("nl_BE"),
    ),
}

#: The exact subject of each kind per language; ``{money}`` is the refund amount.
SUBJECTS = {
    "return.requested": (
        "We hebben je retouraanvraag ontvangen",
        "We've received your return request",
    ),
    "return.approved": ("Je retour is goedgekeurd", "Your return has been approved"),
    "return.rejected": (
        "Over je retouraanvraag voor bestelling ORD-5567",
        "About your return request for order ORD-5567",
    ),
    "return.label_created": ("Je retourlabel staat klaar", "Your return label is ready"),
    "return.in_transit": ("Je retour is onderweg naar ons", "Your return is on its way to us"),
    "return.received": ("We hebben je retour ontvangen", "We've received your return"),
    "return.inspected": ("We hebben je retour gecontroleerd", "We've checked your return"),
    "return.refund_issued": (
        "Je terugbetaling van {money} is onderweg",
        "Your refund of {money} is on its way",
    ),
    "return.exchange_shipped": ("Je ruilartikel is onderweg", "Your exchange item is on its way"),
    "return.cancelled": ("Je retour is geannuleerd", "Your return has been cancelled"),
}
#: Facts each email states in any language; ``{money}``, ``{date}``, ``{reason}`` are filled in.
FACTS = {
    "return.requested": ("ORD-5567", "{money}"),
    "return.approved": (
        "https://labels.example/RMA-1001.pdf",
        "PostNL-punt Albert Heijn",
        "Marktstraat 1, Utrecht",
        "{date}",
        "{money}",
    ),
    "return.rejected": ("ORD-5567", "{reason}"),
    "return.label_created": (
        "https://labels.example/RMA-1001.pdf",
        "PostNL",
        "3SABCD1234567",
        "PostNL-punt Albert Heijn",
        "{date}",
    ),
    "return.in_transit": ("PostNL", "3SABCD1234567"),
    "return.received": ("ORD-5567", "{money}"),
    "return.inspected": ("{money}",),
    "return.refund_issued": ("{money}",),
    "return.exchange_shipped": (
        "ORD-5567",
        "Wollen trui",
        "PostNL",
        "https://tracking.example/3SXYZ7654321",
        "3SXYZ7654321",
    ),
    "return.cancelled": ("RMA-1001", "ORD-5567"),
}
#: Words each email needs in its own language: the policy, the timing, the method.
WORDED = {
    "return.requested": (("30 dagen", "gratis"), ("30 days", "free")),
    "return.approved": (("uiterlijk", "Breng je pakket"), ("by Friday", "Take your parcel")),
    "return.rejected": (("Beantwoord deze e-mail",), ("reply to this email",)),
    "return.label_created": (("geldig tot",), ("valid until",)),
    "return.in_transit": (("5 werkdagen",), ("5 working days",)),
    "return.received": (("5 werkdagen",), ("5 working days",)),
    "return.inspected": (("betaalmethode",), ("payment method",)),
    "return.refund_issued": (
        ("betaalmethode", "5 werkdagen"),
        ("payment method", "5 working days"),
    ),
    "return.exchange_shipped": (("Volg je pakket",), ("Track your parcel",)),
    "return.cancelled": (("niets meer terug te sturen",), ("send anything back",)),
}
#: What each SMS must carry besides the greeting.
SMS_FACTS = {
    "return.label_created": ("https://labels.example/RMA-1001.pdf", "{weekday}"),
    "return.received": ("RMA-1001",),
    "return.refund_issued": ("{money}",),
    "return.exchange_shipped": ("https://tracking.example/3SXYZ7654321",),
}
REASONS = {
    "nl": "Je bestelling is meer dan 30 dagen geleden geleverd.",
    "en": "Your order was delivered more than 30 days ago.",
}
#: Text that must never reach a customer: template syntax, Python's and JSON's nothings.
LEAKS = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|\bNone\b|\bnan\b|\bNaN\b|\bnull\b|\bundefined\b")
#: Traces of an empty placeholder in plain text: "()", " ,", " .", a doubled space, "€ ".
HOLES = re.compile(r"\(\s*\)|\s[,.;:](?:\s|$)|\S {2,}\S|€\s*$|:\s*$", re.MULTILINE)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: this module checks the messages, which no database changes."""
    return f"sqlite:///{tmp_path / 'notifier.db'}"


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str


def _body(customer: Customer, kind: str) -> dict[str, Any]:
    body = event(
        kind,
        f"evt-{kind}-{customer.locale}",
        customer={
            "id": f"C-{customer.locale}",
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "locale": customer.locale,
            "timezone": customer.timezone,
        },
    )
    if kind == "return.rejected":
        body["return"].update(rejection_reason=REASONS[customer.language], refund=None)
    return body


def _post_and_drain(service: Service, auth: dict[str, str], body: dict[str, Any]) -> None:
    answer = TestClient(create_app(service)).post("/v1/events", json=body, headers=auth)
    assert answer.status_code == 202, answer.text
    drain(service)


def _mails(outbox: Path) -> list[Mail]:
    mails = []
    for path in sorted(outbox.glob("*.eml")):
        parsed: Any = email.message_from_bytes(path.read_bytes(), policy=email_policy.default)
        text = parsed.get_body(preferencelist=("plain",)).get_content()
        html = parsed.get_body(preferencelist=("html",)).get_content()
        mails.append(Mail(parsed["To"], str(parsed["Subject"]), text, html))
    return mails


def _sms(outbox: Path) -> list[dict[str, Any]]:
    path = outbox / "sms.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line) for line in lines]


def _fill(template: str, customer: Customer) -> str:
    return template.format(
        money=customer.money,
        date=customer.date,
        weekday=customer.weekday,
        reason=REASONS[customer.language],
    )


def _assert_clean(text: str, *, plain: bool) -> None:
    assert not LEAKS.findall(text), text
    if plain:
        assert not HOLES.findall(text), text


@pytest.mark.parametrize("locale", list(CUSTOMERS))
@pytest.mark.parametrize("kind", CUSTOMER_EVENTS)
def test_every_lifecycle_message_arrives_in_the_customers_language_and_format(
    service: Service, auth: dict[str, str], kind: str, locale: str
) -> None:
    # Given a customer with a locale, and an event of one type for them
    customer = CUSTOMERS[locale]
    body = _body(customer, kind)
    nl = customer.language == "nl"

    # When it is posted through the API and the queue is drained
    _post_and_drain(service, auth, body)

    # Then one email arrived, in their language, with the facts formatted for their locale
    [mail] = _mails(service.settings.outbox_dir)
    assert mail.to == customer.email
    assert mail.subject == _fill(SUBJECTS[kind][0 if nl else 1], customer)
    assert mail.text.startswith(customer.greeting)
    for fact in FACTS[kind] + WORDED[kind][0 if nl else 1]:
        assert _fill(fact, customer) in mail.text, fact
    other = CUSTOMERS["en-GB" if nl else "nl-NL"]
    assert other.money not in mail.text
    assert other.date not in mail.text
    assert customer.name.split()[0] in mail.html
    for part, plain in ((mail.subject, True), (mail.text, True), (mail.html, False)):
        _assert_clean(part, plain=plain)
    # And an SMS went exactly for the kinds the routing table sends by SMS
    texts = _sms(service.settings.outbox_dir)
    if kind not in SMS_KINDS:
        assert texts == []
        return
    [sms] = texts
    assert sms["to"] == customer.phone
    assert sms["text"].startswith(f"Winkel: {customer.greeting.rstrip(',')}")
    for fact in SMS_FACTS[kind]:
        assert _fill(fact, customer) in sms["text"], fact
    _assert_clean(sms["text"], plain=True)


def test_a_closed_return_sends_no_email_and_no_sms(service: Service, auth: dict[str, str]) -> None:
    # Given a return.closed event for a Dutch customer
    body = _body(CUSTOMERS["nl-NL"], "return.closed")

    # When it is posted and the queue is drained
    _post_and_drain(service, auth, body)

    # Then it was dispatched, yet nothing went to the customer
    with service.engine.connect() as connection:
        dispatched = connection.execute(select(db.outbox.c.dispatched_at)).scalars().all()
    assert len(dispatched) == 1
    assert dispatched[0] is not None
    assert _mails(service.settings.outbox_dir) == []
    assert _sms(service.settings.outbox_dir) == []
    detail = TestClient(create_app(service)).get("/v1/returns/RMA-1001", headers=auth).json()
    assert [n for n in detail["notifications"] if n["channel"] in ("email", "sms")] == []


def test_a_locale_preference_switches_a_dutch_event_to_english(
    service: Service, auth: dict[str, str]
) -> None:
    # Given a Dutch customer who set English as their preferred language
    customer = CUSTOMERS["nl-NL"]
    client = TestClient(create_app(service))
    answer = client.put(
        f"/v1/customers/C-{customer.locale}/preferences", json={"locale": "en"}, headers=auth
    )
    assert answer.status_code == 200, answer.text

    # When a refund event for them arrives with customer.locale nl-NL
    _post_and_drain(service, auth, _body(customer, "return.refund_issued"))

    # Then the email and the SMS are in English, with English formatting
    [mail] = _mails(service.settings.outbox_dir)
    assert mail.subject == "Your refund of €49.95 is on its way"
    assert mail.text.startswith("Hi Sanne,")
    assert "€49.95" in mail.text
    assert "€ 49,95" not in mail.text
    [sms] = _sms(service.settings.outbox_dir)
    assert sms["text"].startswith("Winkel: Hi Sanne")
    assert "€49.95" in sms["text"]
