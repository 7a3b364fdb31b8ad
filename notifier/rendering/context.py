"""The template context: the variables of one message, built from the event data.

Input: ``data`` is the validated event JSON in the shape of CONTRACT section 3
(``event_id``, ``type``, ``occurred_at``, ``return``, ``customer``, ``policy``).
Scheduled kinds receive the return's latest snapshot in the same shape, plus:

- ``reminder.ship_by``, ``reminder.label_expiring`` and ``return.expired``:
  ``"reminder": {"due_at": "<ISO datetime>", "rule": "<str>"}``;
- ``nudge.stale`` and ``staff.stale_return``: ``"stale": {"status":
  "return.received", "since": "<ISO datetime>", "days": <int>, "expected_by":
  "YYYY-MM-DD" | null}``.

``return.pickup`` (``{"carrier", "date", "from", "to"}``, the window as local ``HH:MM``
clock times) says when the carrier collects the parcel; ``return.store`` (``{"name",
"address", "opening_hours"}``) where an in-store return is handed in. An in-store return
without ``store`` is handed in at its ``drop_off`` (older events say so there).

``return.inspection`` may carry ``accepted_items: [{"sku", "quantity"}]`` for a
partial acceptance and ``rejected_items: [{"sku", "quantity", "code", "disposition"}]``
for the items not accepted; ``return.refund`` may carry ``payment_method``,
``deductions``, ``gift_card`` and ``store_credit`` (CONTRACT section 3). The event's
``policy`` overrides the shop's field by field.

Output: every kind gets ``brand``, ``kind``, ``event_id``, ``occurred_at``,
``customer`` (:class:`~notifier.rendering.models.Customer`), ``ret``
(:class:`~notifier.rendering.models.Return`), ``policy``
(:class:`~notifier.rendering.models.Terms`), ``shop``
(:class:`~notifier.rendering.models.ShopView`: support contacts and the company's address)
and ``progress`` (:class:`~notifier.rendering.models.Progress`), both None for staff alerts,
which are not written to a customer;
:data:`~notifier.rendering.kinds.KIND_VARIABLES` lists the others per kind (``label``,
``drop_off``, ``pickup``, ``store``, ``refund``, ``inspection``, ``exchange``, ``rejection_code``,
``rejection_reason``, ``reminder``, ``stale``), each None when the event lacks it unless the kind
requires it (:data:`~notifier.rendering.kinds.REQUIRED_FIELDS`). The kinds of
:data:`~notifier.rendering.kinds.CALENDAR_KINDS` also get ``calendar``: the
:class:`~notifier.rendering.calendar.CalendarEvent` their email carries, or None (always
None for SMS).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from notifier.rendering.calendar import calendar_event
from notifier.rendering.fields import Fields
from notifier.rendering.formatting import Money
from notifier.rendering.greeting import greeting_name
from notifier.rendering.kinds import STAFF_KINDS, provided_variables, required_fields
from notifier.rendering.message import RenderError
from notifier.rendering.models import (
    Brand,
    Customer,
    Deduction,
    DropOff,
    Exchange,
    Inspection,
    Item,
    Label,
    Pickup,
    Refund,
    RejectedItem,
    Reminder,
    Return,
    Stale,
    Store,
    Terms,
)
from notifier.rendering.policy import Policy, resolve_policy
from notifier.rendering.progress import progress
from notifier.rendering.shop import DEFAULT_SHOP, Shop

#: Currency assumed when an event gives none.
DEFAULT_CURRENCY = "EUR"
#: A variant that is a size ("M", "XXL", "3XL", "32", "42½", "32/34", "W32 L34", "EU 42"),
#: which templates introduce as a size; any other variant (a colour) is shown as it is.
_SIZE = re.compile(
    r"\d?X{0,3}[SML]|\d{1,3}(?:[.,/-]\d{1,3})?½?|W\d{2} ?L\d{2}"
    r"|(?:EU|UK|US) ?\d{1,2}(?:[.,]5)?",
    re.IGNORECASE,
)


def build_context(
    kind: str,
    data: Mapping[str, Any],
    *,
    brand: Brand,
    policy: Policy,
    template_locale: str,
    now: datetime,
    timezone: ZoneInfo,
    channel: str,
    calendar_host: str,
    shop: Shop = DEFAULT_SHOP,
) -> dict[str, Any]:
    """Build the template variables of one message from the event data.

    Args:
        kind: the message kind.
        data: the event JSON (see the module docstring for its shape).
        brand: the shop's brand.
        policy: the shop's policy; the event's ``policy`` overrides it.
        template_locale: ``nl`` or ``en``, for the policy's eligibility text.
        now: the current time, for a reminder's days left and a calendar event's stamp.
        timezone: the customer's time zone, for a reminder's days left, a pickup's window and
            a calendar event.
        channel: ``email`` or ``sms``; only an email carries a calendar event.
        calendar_host: the host in a calendar event's ``UID``.
        shop: the shop's profile, for its support contacts and address.

    Returns:
        Exactly the variables :func:`provided_variables` names for the kind.

    Raises:
        RenderError: a required field is missing or a value is malformed.
    """
    fields = Fields(data)
    for path in required_fields(kind):
        if fields.node(path) in (None, "", {}, []):
            raise RenderError(f"{path} is required for {kind}")
    terms = resolve_policy(policy, fields.mapping("policy"))
    ret = _return(fields)
    inspected = cache(lambda: _inspection(fields, ret.items))

    # Only the views a kind provides are built, so a malformed field another
    # kind needs cannot block this message.
    views: dict[str, Callable[[], Any]] = {
        "brand": lambda: brand,
        "kind": lambda: kind,
        "event_id": lambda: fields.text("event_id") or "",
        "occurred_at": lambda: fields.moment("occurred_at"),
        "customer": lambda: _customer(fields),
        "ret": lambda: ret,
        "policy": lambda: _terms(terms, ret.currency, template_locale),
        "label": lambda: _label(fields),
        "drop_off": lambda: _drop_off(fields),
        "pickup": lambda: _pickup(fields, timezone),
        "store": lambda: _store(fields, ret.method),
        "rejection_reason": lambda: fields.text("return.rejection_reason", line=False),
        "rejection_code": lambda: fields.text("return.rejection_code"),
        "inspection": inspected,
        "refund": lambda: _refund(fields, ret, terms, inspected()),
        "exchange": lambda: _exchange(fields),
        "stale": lambda: _stale(fields),
        "reminder": lambda: _reminder(fields, kind, ret, now.astimezone(timezone), timezone),
        "calendar": lambda: (
            calendar_event(
                fields,
                ret,
                brand=brand,
                template_locale=template_locale,
                now=now,
                timezone=timezone,
                host=calendar_host,
            )
            if channel == "email"
            else None
        ),
        "shop": lambda: None if kind in STAFF_KINDS else shop.view(template_locale),
        "progress": lambda: progress(kind, fields),
    }
    return {name: views[name]() for name in provided_variables(kind)}


def _customer(fields: Fields) -> Customer:
    name = fields.text("customer.name") or ""
    return Customer(
        id=fields.text("customer.id") or "",
        name=name,
        first_name=greeting_name(fields.text("customer.first_name"), name),
        email=fields.text("customer.email"),
        phone=fields.text("customer.phone"),
    )


def _items(entries: list[Fields], currency: str) -> tuple[Item, ...]:
    return tuple(item for item in map(lambda entry: _item(entry, currency), entries) if item.name)


def _item(entry: Fields, currency: str) -> Item:
    quantity = max(entry.count("quantity", default=1), 1)
    price = entry.money("unit_price", currency)
    variant = entry.text("variant")
    return Item(
        sku=entry.text("sku") or "",
        name=entry.text("name") or entry.text("sku") or "",
        quantity=quantity,
        unit_price=price,
        total=None if price is None else Money(price.amount * quantity, currency),
        reason=entry.text("reason"),
        variant=variant,
        variant_is_size=variant is not None and _SIZE.fullmatch(variant) is not None,
        of=quantity,
    )


def _part(lines: Mapping[str, Item], sku: str, quantity: int) -> Item:
    """``quantity`` units of the line with ``sku`` (a line of its own if the return lacks it)."""
    line = lines.get(sku)
    if line is None:
        return Item(sku, sku, quantity, None, None, None, of=quantity)
    price = line.unit_price
    total = None if price is None else Money(price.amount * quantity, price.currency)
    return Item(
        sku=sku,
        name=line.name,
        quantity=quantity,
        unit_price=price,
        total=total,
        reason=line.reason,
        variant=line.variant,
        variant_is_size=line.variant_is_size,
        of=max(line.quantity, quantity),
    )


def _item_name(name: str, quantity: int) -> str:
    return name if quantity == 1 else f"{name} ({quantity}×)"


def _return(fields: Fields) -> Return:
    currency = (fields.text("return.currency") or DEFAULT_CURRENCY).upper()
    items = _items(fields.entries("return.items"), currency)
    return Return(
        id=fields.text("return.id") or "",
        order_id=fields.text("return.order_id") or "",
        method=fields.text("return.method"),
        ship_by=fields.day("return.ship_by"),
        currency=currency,
        items=items,
        item_count=sum(item.quantity for item in items),
        item_names=tuple(_item_name(item.name, item.quantity) for item in items),
        status_url=fields.text("return.status_url"),
    )


def _terms(policy: Policy, currency: str, template_locale: str) -> Terms:
    cost = policy.shipping_cost
    return Terms(
        window_days=policy.window_days,
        return_shipping=policy.return_shipping,
        shipping_cost=None if cost is None else Money(cost, currency),
        eligibility=policy.eligibility.get(template_locale),
        inspection_days=policy.inspection_days,
        refund_days=policy.refund_days,
    )


def _label(fields: Fields) -> Label | None:
    if not fields.mapping("return.label"):
        return None
    return Label(
        url=fields.url("return.label.url"),
        carrier=fields.text("return.label.carrier"),
        tracking_number=fields.text("return.label.tracking_number"),
        expires_at=fields.moment("return.label.expires_at"),
    )


def _drop_off(fields: Fields) -> DropOff | None:
    name, address = fields.text("return.drop_off.name"), fields.text("return.drop_off.address")
    return DropOff(name, address) if name or address else None


def _pickup(fields: Fields, timezone: ZoneInfo) -> Pickup | None:
    day = fields.day("return.pickup.date")
    if day is None:
        return None
    carrier = fields.text("return.pickup.carrier") or fields.text("return.label.carrier")
    start, end = (fields.clock(f"return.pickup.{edge}") for edge in ("from", "to"))
    return Pickup(
        carrier=carrier,
        date=day,
        start=None if start is None else datetime.combine(day, start, timezone),
        end=None if end is None else datetime.combine(day, end, timezone),
    )


def _store(fields: Fields, method: str | None) -> Store | None:
    if fields.mapping("return.store"):
        return Store(
            name=fields.text("return.store.name"),
            address=fields.text("return.store.address"),
            opening_hours=fields.text("return.store.opening_hours"),
        )
    drop_off = _drop_off(fields) if method == "in_store" else None
    return None if drop_off is None else Store(drop_off.name, drop_off.address, None)


def _inspection(fields: Fields, items: tuple[Item, ...]) -> Inspection | None:
    outcome = fields.text("return.inspection.outcome")
    if outcome is None:
        return None
    lines = {item.sku: item for item in reversed(items)}
    rejected = tuple(
        RejectedItem(
            _part(lines, sku, _count(entry)),
            entry.text("code") or "other",
            entry.text("disposition"),
        )
        for entry in fields.entries("return.inspection.rejected_items")
        if (sku := entry.text("sku") or "")
    )
    listed = _quantities(fields.entries("return.inspection.accepted_items"))
    not_accepted = _sum_by_sku((entry.item.sku, entry.item.quantity) for entry in rejected)
    if listed:
        accepted = listed
    elif outcome == "accepted":
        accepted = _sum_by_sku((item.sku, item.quantity) for item in items)
    elif outcome == "partially_accepted" and rejected:
        accepted = _remainder(items, not_accepted)
    else:
        accepted = {}
    declined: dict[str, int] = {}
    if outcome == "partially_accepted" and accepted:
        declined = _remainder(items, _sum_by_sku([*accepted.items(), *not_accepted.items()]))
    return Inspection(
        outcome=outcome,
        note=fields.text("return.inspection.note", line=False),
        accepted=tuple(_part(lines, sku, count) for sku, count in accepted.items()),
        declined=tuple(_part(lines, sku, count) for sku, count in declined.items()),
        rejected_items=rejected,
    )


def _count(entry: Fields) -> int:
    return max(entry.count("quantity", default=1), 1)


def _quantities(entries: list[Fields]) -> dict[str, int]:
    return _sum_by_sku((entry.text("sku") or "", _count(entry)) for entry in entries)


def _sum_by_sku(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for sku, count in pairs:
        if sku:
            totals[sku] = totals.get(sku, 0) + count
    return totals


def _remainder(items: tuple[Item, ...], taken: Mapping[str, int]) -> dict[str, int]:
    """Units of each line that ``taken`` does not account for."""
    left = _sum_by_sku((item.sku, item.quantity) for item in items)
    return {sku: n - taken.get(sku, 0) for sku, n in left.items() if n > taken.get(sku, 0)}


def _refund(
    fields: Fields, ret: Return, policy: Policy, inspection: Inspection | None
) -> Refund | None:
    amount = fields.money("return.refund.amount", ret.currency)
    if amount is None:
        return None
    method = fields.text("return.refund.method")
    payment_method = fields.text("return.refund.payment_method")
    deductions = tuple(
        Deduction(entry.text("reason") or "other", kept)
        for entry in fields.entries("return.refund.deductions")
        if (kept := entry.money("amount", ret.currency)) is not None
    )
    if not deductions and policy.return_shipping == "deducted" and policy.shipping_cost:
        deductions = (Deduction("return_shipping", Money(policy.shipping_cost, ret.currency)),)
    items = _refunded_items(ret, inspection)
    subtotal = _subtotal(items, ret.currency)
    kept_back = sum((deduction.amount.amount for deduction in deductions), Decimal(0))
    if not deductions or subtotal is None or subtotal.amount - kept_back != amount.amount:
        subtotal = None  # the breakdown is shown as a sum only when it is one
    money_moves = method in (None, "original_payment")
    return Refund(
        amount=amount,
        method=method,
        payment_method=payment_method,
        days=policy.arrival_days(payment_method) if money_moves else None,
        deductions=deductions,
        items=items,
        subtotal=subtotal,
        code=fields.text("return.refund.gift_card.code") if method == "gift_card" else None,
        expires_on=fields.day(f"return.refund.{method}.expires_on")
        if method in ("gift_card", "store_credit")
        else None,
    )


def _refunded_items(ret: Return, inspection: Inspection | None) -> tuple[Item, ...]:
    """What a refund is for: a partial acceptance's accepted units (none if it does not say
    which), else the whole return."""
    if inspection is None or inspection.outcome == "accepted":
        return ret.items
    return inspection.accepted


def _subtotal(items: tuple[Item, ...], currency: str) -> Money | None:
    totals = [item.total for item in items]
    if not totals or any(t is None or t.currency != currency for t in totals):
        return None
    return Money(sum((t.amount for t in totals if t is not None), Decimal(0)), currency)


def _exchange(fields: Fields) -> Exchange | None:
    if not fields.mapping("return.exchange"):
        return None
    items = _items(fields.entries("return.exchange.items"), DEFAULT_CURRENCY)
    return Exchange(
        item_names=tuple(_item_name(item.name, item.quantity) for item in items),
        carrier=fields.text("return.exchange.carrier"),
        tracking_number=fields.text("return.exchange.tracking_number"),
        tracking_url=fields.url("return.exchange.tracking_url"),
        items=items,
    )


def _reminder(
    fields: Fields, kind: str, ret: Return, local_now: datetime, timezone: ZoneInfo
) -> Reminder | None:
    due_at = fields.moment("reminder.due_at")
    if due_at is None:
        return None
    deadline = ret.ship_by
    expires_at = fields.moment("return.label.expires_at")
    pickup = _pickup(fields, timezone) if ret.method == "pickup" else None
    if kind == "reminder.label_expiring" and expires_at is not None:
        deadline = expires_at.astimezone(local_now.tzinfo).date()
    elif kind == "reminder.ship_by" and pickup is not None:
        deadline = pickup.date
    days_left = (deadline - local_now.date()).days if deadline else 0
    return Reminder(due_at=due_at, rule=fields.text("reminder.rule"), days_left=days_left)


def _stale(fields: Fields) -> Stale | None:
    status, since = fields.text("stale.status"), fields.moment("stale.since")
    if status is None or since is None:
        return None
    return Stale(
        status=status,
        since=since,
        days=fields.count("stale.days", default=0),
        expected_by=fields.day("stale.expected_by"),
    )
