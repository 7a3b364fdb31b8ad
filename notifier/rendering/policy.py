"""The shop's return policy: what every message that mentions it states.

The policy comes from a JSON file (``load_policy``) or the built-in default, and
an event's ``policy`` object overrides it field by field (``resolve_policy``).
The file looks like this (every field optional; missing ones take the default)::

    {
      "window_days": 30,
      "return_shipping": "paid",         # "free" | "paid" | "deducted"
      "shipping_cost": "4.95",           # required for "paid" and "deducted"
      "eligibility": {"nl": "Ongedragen, met labels.", "en": "Unworn, with tags."},
      "inspection_days": 5,              # working days to inspect a return
      "refund_days": 5,                  # working days for a refund to arrive
      "payment_refund_days": {"card": 7} # per payment method, over the defaults below
    }

``paid`` means the customer pays ``shipping_cost`` to send the parcel back;
``deducted`` means the shop deducts ``shipping_cost`` from the refund. The
amount is in the event's currency.

A refund to the original payment method is worded with the working days it usually takes
for the event's ``refund.payment_method``: :data:`DEFAULT_PAYMENT_REFUND_DAYS` (iDEAL and
Bancontact 3, on the bank account; card 10, on the card statement, depending on the
bank; PayPal 1, in the PayPal account), changed per method by ``payment_refund_days``.
Klarna adjusts its invoice instead and has no days unless the file gives them; ``other``
and an unknown payment method take ``refund_days``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any

from notifier.errors import PolicyFileError
from notifier.rendering.formatting import SUPPORTED_LOCALES
from notifier.rendering.message import RenderError
from notifier.status import PaymentMethod

#: Ways return shipping can be charged.
RETURN_SHIPPING = ("free", "paid", "deducted")
#: Eligibility texts of the built-in default policy, per template locale: the condition an
#: item must meet, not a statement about the customer's items (which no one has checked yet).
DEFAULT_ELIGIBILITY: Mapping[str, str] = MappingProxyType(
    {
        "nl": (
            "Je kunt artikelen retourneren die ongedragen en ongewassen zijn "
            "en waar de labels nog aan zitten."
        ),
        "en": "You can return items that are unworn and unwashed, with the tags still attached.",
    }
)
#: Working days a refund to the original payment method usually takes to arrive, per
#: ``refund.payment_method`` (a policy file's ``payment_refund_days`` changes them).
DEFAULT_PAYMENT_REFUND_DAYS: Mapping[str, int] = MappingProxyType(
    {
        PaymentMethod.IDEAL.value: 3,
        PaymentMethod.BANCONTACT.value: 3,
        PaymentMethod.CARD.value: 10,
        PaymentMethod.PAYPAL.value: 1,
    }
)
#: Payment methods ``payment_refund_days`` may name (``other`` takes ``refund_days``).
PAYMENT_METHODS = tuple(method.value for method in PaymentMethod if method != PaymentMethod.OTHER)
_FIELDS = (
    "window_days",
    "return_shipping",
    "shipping_cost",
    "eligibility",
    "payment_refund_days",
)
_DAY_FIELDS = ("window_days", "inspection_days", "refund_days")
#: Makes the error of a malformed field from what is wrong with it.
_Fail = Callable[[str], Exception]


@dataclass(frozen=True, slots=True)
class Policy:
    """A return policy.

    Attributes:
        window_days: days after delivery in which a customer may return items.
        return_shipping: ``free``, ``paid`` (the customer pays) or ``deducted``
            (taken off the refund).
        shipping_cost: the return shipping cost; set exactly when not free.
        eligibility: short eligibility rules per template locale (one text for
            every supported locale, so both languages state the same facts).
        inspection_days: working days the shop takes to inspect a return.
        refund_days: working days a refund usually takes to arrive when the payment
            method is unknown or has no days of its own.
        payment_refund_days: working days a refund to the original payment method takes,
            per payment method (:data:`DEFAULT_PAYMENT_REFUND_DAYS`).
    """

    window_days: int
    return_shipping: str
    shipping_cost: Decimal | None
    eligibility: Mapping[str, str] = field(default_factory=lambda: DEFAULT_ELIGIBILITY)
    inspection_days: int = 5
    refund_days: int = 5
    payment_refund_days: Mapping[str, int] = field(
        default_factory=lambda: DEFAULT_PAYMENT_REFUND_DAYS
    )

    def arrival_days(self, payment_method: str | None) -> int | None:
        """Working days a refund to ``payment_method`` usually takes to arrive.

        Args:
            payment_method: the event's ``refund.payment_method``, or None.

        Returns:
            The method's days from :attr:`payment_refund_days`; None for Klarna without
            days of its own (its invoice is adjusted, no money travels); else
            :attr:`refund_days`.
        """
        if payment_method is not None and payment_method in self.payment_refund_days:
            return self.payment_refund_days[payment_method]
        return None if payment_method == PaymentMethod.KLARNA else self.refund_days


#: The policy used when no policy file is configured.
DEFAULT_POLICY = Policy(window_days=30, return_shipping="free", shipping_cost=None)


def load_policy(path: Path | None) -> Policy:
    """Load the shop's policy from a JSON file.

    Args:
        path: the policy file, or None for the built-in default
            (30 days, free return shipping).

    Returns:
        The validated policy; fields the file leaves out take the default.

    Raises:
        PolicyFileError: the file is unreadable, not JSON, has an unknown field, or
            a field is malformed; the message names the file and the field.
    """
    if path is None:
        return DEFAULT_POLICY
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except OSError as exc:
        raise PolicyFileError(path, f"cannot be read: {exc.strerror or exc}") from exc
    except ValueError as exc:  # not UTF-8, or not JSON
        raise PolicyFileError(path, f"not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise PolicyFileError(path, "the policy must be a JSON object")
    return policy_from(raw, lambda problem: PolicyFileError(path, problem))


def policy_from(raw: Mapping[str, Any], fail: Callable[[str], Exception]) -> Policy:
    """Make the shop's policy from its fields, as a policy file or the shop file holds them.

    Args:
        raw: the policy's fields (see the module docstring); missing ones take the default.
        fail: makes the error to raise from what is wrong (``field 'window_days' must ...``).

    Returns:
        The validated policy.

    Raises:
        Exception: what ``fail`` makes, for an unknown or malformed field.
    """
    unknown = sorted(set(raw) - set(_FIELDS) - set(_DAY_FIELDS))
    if unknown:
        raise fail(f"unknown field {unknown[0]!r}")
    return _apply(DEFAULT_POLICY, raw, fail)


def resolve_policy(default: Policy, event_policy: Mapping[str, Any] | None) -> Policy:
    """Apply an event's ``policy`` object over the shop's policy.

    Each field the event gives (and does not leave null) replaces the shop's;
    unknown fields are ignored, as everywhere in the event.

    Args:
        default: the shop's configured policy.
        event_policy: the event's ``policy`` object, if any.

    Returns:
        The policy that applies to this event.

    Raises:
        RenderError: a field of the event's policy is malformed; the messages that mention
            the policy cannot be rendered.
    """
    if not event_policy:
        return default
    known = {key: value for key, value in event_policy.items() if key in _FIELDS + _DAY_FIELDS}
    return _apply(default, known, lambda problem: RenderError(f"policy: {problem}"))


def _apply(base: Policy, raw: Mapping[str, Any], fail: _Fail) -> Policy:
    changes: dict[str, Any] = {}
    for name in _DAY_FIELDS:
        if raw.get(name) is not None:
            changes[name] = _days(raw[name], fail, name)
    if raw.get("return_shipping") is not None:
        changes["return_shipping"] = _shipping(raw["return_shipping"], fail)
    if raw.get("shipping_cost") is not None:
        changes["shipping_cost"] = _cost(raw["shipping_cost"], fail)
    if raw.get("eligibility") is not None:
        changes["eligibility"] = _eligibility(raw["eligibility"], fail)
    if raw.get("payment_refund_days") is not None:
        changes["payment_refund_days"] = _payment_days(
            base.payment_refund_days, raw["payment_refund_days"], fail
        )
    policy = replace(base, **changes)
    if policy.return_shipping == "free":
        return replace(policy, shipping_cost=None)
    if policy.shipping_cost is None:
        raise fail(
            f"field 'shipping_cost' is required when return_shipping is {policy.return_shipping!r}"
        )
    return policy


def _days(value: Any, fail: _Fail, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise fail(f"field {name!r} must be a non-negative integer, got {value!r}")
    return value


def _shipping(value: Any, fail: _Fail) -> str:
    if value not in RETURN_SHIPPING:
        allowed = ", ".join(RETURN_SHIPPING)
        raise fail(f"field 'return_shipping' must be one of {allowed}, got {value!r}")
    return str(value)


def _cost(value: Any, fail: _Fail) -> Decimal:
    try:
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise InvalidOperation
        cost = Decimal(str(value))
    except InvalidOperation:
        cost = Decimal("NaN")
    if not cost.is_finite() or cost < 0:
        raise fail(f"field 'shipping_cost' must be a non-negative decimal amount, got {value!r}")
    return cost


def _eligibility(value: Any, fail: _Fail) -> Mapping[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(key, str) and isinstance(text, str) and text.strip()
        for key, text in value.items()
    ):
        raise fail(f"field 'eligibility' must map locales to non-empty texts, got {value!r}")
    missing = [locale for locale in SUPPORTED_LOCALES if locale not in value]
    if missing:
        raise fail(f"field 'eligibility' has no text for {missing[0]!r}")
    return MappingProxyType({key: text.strip() for key, text in value.items()})


def _payment_days(base: Mapping[str, int], value: Any, fail: _Fail) -> Mapping[str, int]:
    name = "payment_refund_days"
    if not isinstance(value, Mapping):
        raise fail(f"field {name!r} must map payment methods to working days, got {value!r}")
    unknown = sorted(str(key) for key in value if key not in PAYMENT_METHODS)
    if unknown:
        allowed = ", ".join(PAYMENT_METHODS)
        raise fail(f"field {name!r} has unknown payment method {unknown[0]!r}; use {allowed}")
    days = {str(key): _days(days, fail, f"{name}.{key}") for key, days in value.items()}
    return MappingProxyType({**base, **days})
