"""The typed views templates read: the brand, the shop, the customer, the return and its parts,
and the return's progress.

:func:`notifier.rendering.context.build_context` turns the event JSON into these views:
money as :class:`~notifier.rendering.formatting.Money`, aware datetimes and dates, and
names ready for the ``join_list`` filter. Templates only format them, with the
filters ``money``, ``date``, ``time``, ``number``, ``plural`` and ``join_list``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from notifier.rendering.formatting import Money

_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
#: The width a logo is shown at when the shop gives none, in CSS pixels.
DEFAULT_LOGO_WIDTH = 160
#: The narrowest and widest a logo may be shown (the email is 600 px wide).
LOGO_WIDTHS = (16, 536)


@dataclass(frozen=True, slots=True)
class Brand:
    """The shop's look in emails.

    Attributes:
        name: the shop's name, shown in the header, sign-off and SMS.
        color: the accent colour as ``#rgb`` or ``#rrggbb``.
        logo_url: an https URL of the logo, or None to show the name instead.
        logo_width: the width the logo is shown at, in CSS pixels (its height follows).
        logo_alt: the logo's text for screen readers and blocked images; the name if None.
    """

    name: str
    color: str
    logo_url: str | None
    logo_width: int = DEFAULT_LOGO_WIDTH
    logo_alt: str | None = None

    def __post_init__(self) -> None:
        if not _HEX_COLOR.fullmatch(self.color):
            raise ValueError(f"brand colour must be #rgb or #rrggbb, got {self.color!r}")
        if self.logo_url is not None and not self.logo_url.startswith(("https://", "http://")):
            raise ValueError(f"brand logo URL must be an http(s) URL, got {self.logo_url!r}")
        if not LOGO_WIDTHS[0] <= self.logo_width <= LOGO_WIDTHS[1]:
            low, high = LOGO_WIDTHS
            raise ValueError(f"brand logo width must be {low} to {high} px, got {self.logo_width}")

    @property
    def alt(self) -> str:
        """The logo's alternative text: :attr:`logo_alt`, else the shop's name."""
        return self.logo_alt or self.name

    @property
    def on_color(self) -> str:
        """Black or white, whichever reads better on :attr:`color` (WCAG luminance)."""
        digits = self.color[1:] if len(self.color) == 7 else "".join(c * 2 for c in self.color[1:])
        channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
        return "#000000" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#ffffff"


@dataclass(frozen=True, slots=True)
class Customer:
    """The addressee: ``first_name`` is empty when the name is unknown."""

    id: str
    name: str
    first_name: str
    email: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class Item:
    """One returned line, or the part of one that an inspection accepted or declined.

    Attributes:
        sku: the article number.
        name: the article's name (its SKU when the event gives none).
        quantity: how many of it.
        unit_price: the price of one, if known.
        total: ``unit_price`` times ``quantity``, if known.
        reason: the return system's reason code.
        variant: the size or colour (``M``, ``Blauw``), if given.
        variant_is_size: the variant is a size, so templates say "maat M" / "size M".
        of: for a part of a line, how many the whole line holds (``1 van de 2``);
            equal to ``quantity`` for a whole line.
    """

    sku: str
    name: str
    quantity: int
    unit_price: Money | None
    total: Money | None
    reason: str | None
    variant: str | None = None
    variant_is_size: bool = False
    of: int = 0

    @property
    def is_part(self) -> bool:
        """Whether this is only some of the line's units (``1 van de 2``)."""
        return self.of > self.quantity


@dataclass(frozen=True, slots=True)
class Return:
    """The return (``ret`` in templates); ``item_names`` are ready for ``join_list``.

    ``status_url`` is the shop's page for this return, or None when the event has none.
    """

    id: str
    order_id: str
    method: str | None
    ship_by: date | None
    currency: str
    items: tuple[Item, ...]
    item_count: int
    item_names: tuple[str, ...]
    status_url: str | None = None


@dataclass(frozen=True, slots=True)
class Label:
    """A return shipping label."""

    url: str | None
    carrier: str | None
    tracking_number: str | None
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class DropOff:
    """Where the parcel can be handed in."""

    name: str | None
    address: str | None


@dataclass(frozen=True, slots=True)
class Pickup:
    """When the carrier collects the parcel from the customer (method ``pickup``).

    Attributes:
        carrier: who collects it (the label's carrier when the pickup names none), or None.
        date: the day of the pickup.
        start: when the pickup window opens, on ``date`` in the customer's time zone, or None.
        end: when it closes, likewise, or None.
    """

    carrier: str | None
    date: date
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True, slots=True)
class Store:
    """The shop where the customer hands the items in (method ``in_store``).

    ``opening_hours`` is the shop's own text, shown as given.
    """

    name: str | None
    address: str | None
    opening_hours: str | None


@dataclass(frozen=True, slots=True)
class RejectedItem:
    """Units of one line the inspection did not accept.

    Attributes:
        item: the units, with their line's name, variant and price (the SKU as name if the
            line is unknown).
        code: why, a :class:`~notifier.status.RejectionCode` value.
        disposition: ``sent_back``, ``held``, ``disposed``, or None if not given.
    """

    item: Item
    code: str
    disposition: str | None


@dataclass(frozen=True, slots=True)
class Inspection:
    """The inspection outcome, item by item where the event says.

    Attributes:
        outcome: ``accepted``, ``partially_accepted`` or ``rejected``.
        note: the shop's own free text about the inspection, in the shop's words.
        accepted: the units accepted: the event's ``accepted_items``, else every line when
            all was accepted, else what ``rejected_items`` leaves of a partial acceptance;
            empty when the event does not say.
        declined: the units of a partial acceptance neither accepted nor listed in
            ``rejected_items`` (not accepted, reason not given).
        rejected_items: the units not accepted, each with why and what happens to it.
    """

    outcome: str
    note: str | None
    accepted: tuple[Item, ...] = ()
    declined: tuple[Item, ...] = ()
    rejected_items: tuple[RejectedItem, ...] = ()

    @property
    def held(self) -> bool:
        """Whether the shop keeps a rejected item until the customer says what to do."""
        return any(entry.disposition == "held" for entry in self.rejected_items)

    @property
    def dispositions(self) -> tuple[str, ...]:
        """What happens to the rejected items, each once: sent back, disposed of, held."""
        given = {entry.disposition for entry in self.rejected_items}
        return tuple(d for d in ("sent_back", "disposed", "held") if d in given)

    @property
    def codes(self) -> tuple[str, ...]:
        """Why items were rejected, each code once, in the event's order."""
        return tuple(dict.fromkeys(entry.code for entry in self.rejected_items))


@dataclass(frozen=True, slots=True)
class Deduction:
    """What was kept back from a refund: ``reason`` is ``return_shipping`` or ``damage``."""

    reason: str
    amount: Money


@dataclass(frozen=True, slots=True)
class Refund:
    """A refund, and everything that decides how it is worded.

    Attributes:
        amount: what the customer gets.
        method: ``original_payment``, ``store_credit``, ``gift_card``, or None if not given.
        payment_method: how the customer paid (``ideal``, ``card``, ``paypal``, ``klarna``,
            ``bancontact``, ``other``), or None.
        days: working days the money usually takes to arrive on the original payment method
            (the policy's table for ``payment_method``, else its ``refund_days``); None
            when nothing arrives that way (store credit, a gift card, a Klarna invoice).
        deductions: what was kept back: the event's, else the policy's deducted return
            shipping.
        items: what the refund is for: the accepted units of a partial acceptance, else the
            return's lines; empty when a partial acceptance does not say which.
        subtotal: the total of ``items`` when it equals ``amount`` plus the deductions, so
            the breakdown can be shown as a sum; None otherwise (never a wrong sum).
        code: the gift card's code.
        expires_on: the day the store credit or gift card expires, if it does.
    """

    amount: Money
    method: str | None
    payment_method: str | None = None
    days: int | None = None
    deductions: tuple[Deduction, ...] = ()
    items: tuple[Item, ...] = ()
    subtotal: Money | None = None
    code: str | None = None
    expires_on: date | None = None


@dataclass(frozen=True, slots=True)
class Exchange:
    """A replacement shipment; ``items`` carry their variants, ``item_names`` their counts."""

    item_names: tuple[str, ...]
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    items: tuple[Item, ...] = ()


@dataclass(frozen=True, slots=True)
class Reminder:
    """A scheduled reminder; ``days_left`` counts calendar days to its deadline (the ship-by
    date, a pickup's date or a label's expiry), negative once it has passed."""

    due_at: datetime
    rule: str | None
    days_left: int


@dataclass(frozen=True, slots=True)
class Stale:
    """A return stuck in ``status`` since ``since`` for ``days`` days."""

    status: str
    since: datetime
    days: int
    expected_by: date | None


@dataclass(frozen=True, slots=True)
class Terms:
    """The policy as templates see it: amounts with currency, texts in one locale."""

    window_days: int
    return_shipping: str
    shipping_cost: Money | None
    eligibility: str | None
    inspection_days: int
    refund_days: int


@dataclass(frozen=True, slots=True)
class Address:
    """The company behind the shop, for the legal footer of every customer email.

    Attributes:
        name: the company's legal name.
        street: street and number.
        postcode: the postcode as the country writes it.
        city: the city.
        country: the country's name in the message's language.
        chamber_of_commerce: the chamber of commerce (KvK) number, if given.
    """

    name: str
    street: str
    postcode: str
    city: str
    country: str
    chamber_of_commerce: str | None


@dataclass(frozen=True, slots=True)
class ShopView:
    """How a customer reaches the shop (``shop`` in templates), in the message's language.

    Attributes:
        replies: whether a reply to the email reaches someone who answers it.
        support_url: the support page, if given.
        support_url_label: the support page as shown: without ``https://`` or a trailing ``/``.
        support_email: the support address, if given.
        phone: the support phone number as the shop writes it, if given.
        phone_href: the number as a ``tel:`` link (``tel:+31201234567``), if given.
        hours: when support can be reached, in the message's language, if given.
        company: the company's address, if given.
    """

    replies: bool
    support_url: str | None = None
    support_url_label: str | None = None
    support_email: str | None = None
    phone: str | None = None
    phone_href: str | None = None
    hours: str | None = None
    company: Address | None = None

    @property
    def contacts(self) -> bool:
        """Whether any way to reach support is given besides replying."""
        return any((self.support_url, self.support_email, self.phone, self.hours))


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a return's progress line.

    Attributes:
        name: which step, a key the templates name in the customer's language
            (``requested``, ``approved``, ``sent``, ``collected``, ``handed_in``,
            ``received``, ``inspected``, ``refunded``, ``credited``, ``gift_card``,
            ``exchanged``, ``completed``, or an end: ``rejected``, ``not_accepted``,
            ``cancelled``).
        state: ``done``, ``current`` (where the return is now) or ``next``.
    """

    name: str
    state: str


@dataclass(frozen=True, slots=True)
class Progress:
    """The steps of a return, the one it has reached marked ``current``."""

    steps: tuple[Step, ...]
