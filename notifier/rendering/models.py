"""The typed views templates read: the brand, the customer, the return and its parts.

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


@dataclass(frozen=True, slots=True)
class Brand:
    """The shop's look in emails.

    Attributes:
        name: the shop's name, shown in the header, sign-off and SMS.
        color: the accent colour as ``#rgb`` or ``#rrggbb``.
        logo_url: an https URL of the logo, or None to show the name instead.
    """

    name: str
    color: str
    logo_url: str | None

    def __post_init__(self) -> None:
        if not _HEX_COLOR.fullmatch(self.color):
            raise ValueError(f"brand colour must be #rgb or #rrggbb, got {self.color!r}")
        if self.logo_url is not None and not self.logo_url.startswith(("https://", "http://")):
            raise ValueError(f"brand logo URL must be an http(s) URL, got {self.logo_url!r}")

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
    """One returned line; ``reason`` is the return system's reason code."""

    sku: str
    name: str
    quantity: int
    unit_price: Money | None
    total: Money | None
    reason: str | None


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
    """An item the inspection did not accept.

    Attributes:
        name: the item's name with its quantity, ready to show (the SKU if unknown).
        code: why, a :class:`~notifier.status.RejectionCode` value.
        disposition: ``sent_back``, ``held``, ``disposed``, or None if not given.
    """

    name: str
    code: str
    disposition: str | None


@dataclass(frozen=True, slots=True)
class Inspection:
    """The inspection outcome; the name tuples are filled for a partial acceptance."""

    outcome: str
    note: str | None
    accepted_names: tuple[str, ...]
    declined_names: tuple[str, ...]
    rejected_items: tuple[RejectedItem, ...] = ()


@dataclass(frozen=True, slots=True)
class Refund:
    """A refund; ``method`` is e.g. ``original_payment`` or ``store_credit``."""

    amount: Money
    method: str | None


@dataclass(frozen=True, slots=True)
class Exchange:
    """A replacement shipment."""

    item_names: tuple[str, ...]
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None


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
