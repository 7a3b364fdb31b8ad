"""Sample data for every message kind, for tests, ``templates check`` and previews.

Each kind has a few named scenarios in the exact shape the renderer receives
(CONTRACT section 3, plus ``reminder`` or ``stale`` for scheduled kinds); each is a valid
event for ``POST /v1/events``. The ``card`` scenario is the contract's own example. Others
cover a refund to each payment method (``paid_*``), store credit and a gift card with their
expiry, deductions (the policy's shipping, the event's shipping, damage, both), a partial
acceptance (also with the items not accepted, why and what happens to them: sent back,
disposed of, held), a rejection with each reason code and with the shop's note in English,
an exchange of several items with sizes and colours, each way of returning (a drop-off, a
pickup with its time slot or without a date yet, an in-store return with its shop and
opening hours, and one that names its shop as the drop-off point, as older events do), the
shop's status page of a return, a customer whose name has no GSM-7 form (so its SMS goes
out as UCS-2) and a bare event with only required fields.
"""

from __future__ import annotations

import copy
from datetime import datetime
from types import MappingProxyType
from typing import Any

from notifier.rendering.kinds import ALL_KINDS
from notifier.rendering.message import RenderError
from notifier.rendering.models import Brand
from notifier.rendering.shop import Company, Shop, Support
from notifier.status import PaymentMethod, RejectionCode

#: Every rejection code, each the code of one ``return.rejected`` sample.
REJECTION_CODES = tuple(code.value for code in RejectionCode)

#: The brand used when rendering samples without the shop's own.
SAMPLE_BRAND = Brand(name="De Wolwinkel", color="#1f6f5c", logo_url="https://cdn.example/logo.png")
#: The shop profile used when rendering samples without the shop's own: every field given,
#: each as long as a real shop's would be.
SAMPLE_SHOP = Shop(
    brand=SAMPLE_BRAND,
    support=Support(
        url="https://www.dewolwinkel.example/klantenservice",
        email="klantenservice@dewolwinkel.example",
        phone="030 123 45 67",
        hours=MappingProxyType({"nl": "ma t/m vr 9.00–17.30 uur", "en": "Mon to Fri, 9am–5.30pm"}),
        reply_to="De Wolwinkel <klantenservice@dewolwinkel.example>",
        replies_answered=True,
    ),
    company=Company(
        name="De Wolwinkel B.V.",
        street="Oudegracht 12",
        postcode="3511 AB",
        city="Utrecht",
        country="NL",
        chamber_of_commerce="12345678",
    ),
)

#: The event of CONTRACT section 3.
CONTRACT_EVENT: dict[str, Any] = {
    "event_id": "evt-2f6c1a",
    "type": "return.refund_issued",
    "occurred_at": "2026-11-20T10:15:00+01:00",
    "return": {
        "id": "RMA-1001",
        "order_id": "ORD-5567",
        "method": "drop_off",
        "ship_by": "2026-12-04",
        "currency": "EUR",
        "items": [
            {
                "sku": "TRUI-M",
                "name": "Wollen trui",
                "quantity": 1,
                "unit_price": "49.95",
                "reason": "too_small",
            }
        ],
        "refund": {"amount": "49.95", "method": "original_payment"},
        "label": {
            "url": "https://labels.example/RMA-1001.pdf",
            "carrier": "PostNL",
            "tracking_number": "3SABCD1234567",
            "expires_at": "2026-12-04T23:59:00+01:00",
        },
        "drop_off": {"name": "PostNL-punt Albert Heijn", "address": "Marktstraat 1, Utrecht"},
        "inspection": {"outcome": "accepted", "note": None},
        "rejection_reason": None,
        "exchange": {
            "items": [{"sku": "TRUI-L", "name": "Wollen trui", "quantity": 1}],
            "carrier": "PostNL",
            "tracking_number": "3SXYZ7654321",
            "tracking_url": "https://tracking.example/3SXYZ7654321",
        },
    },
    "customer": {
        "id": "C-42",
        "name": "Sanne de Vries",
        "email": "sanne@example.nl",
        "phone": "+31612345678",
        "locale": "nl-NL",
        "timezone": "Europe/Amsterdam",
    },
    "policy": {"window_days": 30, "return_shipping": "free", "shipping_cost": None},
}

#: The payment methods a refund to the original payment method is worded for, each a sample.
PAYMENT_SAMPLES = tuple(method.value for method in PaymentMethod if method != PaymentMethod.OTHER)

_JEANS: dict[str, Any] = {
    "sku": "JEANS-32",
    "name": "Spijkerbroek",
    "quantity": 2,
    "unit_price": "59.95",
    "reason": "too_large",
}
#: Returned items with a size and a colour.
_VARIANT_ITEMS: list[dict[str, Any]] = [
    {**CONTRACT_EVENT["return"]["items"][0], "variant": "M"},
    {"sku": "SOK-R", "name": "Sokken", "quantity": 2, "unit_price": "7.50", "variant": "Rood"},
]


def _deducted(amount: str, *deductions: tuple[str, str]) -> dict[str, Any]:
    """A refund of the contract's sweater (49.95) with what was kept back."""
    return {
        "amount": amount,
        "method": "original_payment",
        "payment_method": "ideal",
        "deductions": [{"reason": reason, "amount": kept} for reason, kept in deductions],
    }


_MINIMAL: dict[str, Any] = {
    "event_id": "evt-min-1",
    "occurred_at": "2026-11-20T10:15:00+01:00",
    "return": {"id": "RMA-2002", "order_id": "ORD-7788"},
    "customer": {"id": "C-77", "email": "klant@example.nl"},
}

_SCENARIOS: dict[str, dict[str, Any]] = {
    "card": {},
    "store_credit": {
        "return": {
            "refund": {
                "amount": "49.95",
                "method": "store_credit",
                "store_credit": {"expires_on": "2027-11-20"},
            }
        },
        "customer": {"name": "Tom Bakker", "locale": "en-GB", "timezone": "Europe/London"},
    },
    "gift_card": {
        "return": {
            "refund": {
                "amount": "49.95",
                "method": "gift_card",
                "gift_card": {"code": "GC-7Q4M-XK2P-9WDA", "expires_on": "2027-11-20"},
            }
        },
    },
    **{
        f"paid_{method}": {
            "return": {
                "refund": {
                    "amount": "49.95",
                    "method": "original_payment",
                    "payment_method": method,
                }
            }
        }
        for method in PAYMENT_SAMPLES
    },
    "no_method": {"return": {"refund": {"amount": "49.95", "method": None}}},
    "deduction_shipping": {
        "return": {"refund": _deducted("45.00", ("return_shipping", "4.95"))},
    },
    "deduction_damage": {
        "return": {"refund": _deducted("39.95", ("damage", "10.00"))},
    },
    "deductions_both": {
        "return": {"refund": _deducted("35.00", ("return_shipping", "4.95"), ("damage", "10.00"))},
    },
    "partial": {
        "return": {
            "items": [
                CONTRACT_EVENT["return"]["items"][0],
                {
                    "sku": "JEANS-32",
                    "name": "Spijkerbroek",
                    "quantity": 2,
                    "unit_price": "59.95",
                    "reason": "too_large",
                },
            ],
            "inspection": {
                "outcome": "partially_accepted",
                "note": "De spijkerbroeken zijn gedragen en gewassen.",
                "accepted_items": [{"sku": "TRUI-M", "quantity": 1}],
            },
        },
        "customer": {"name": "Zoë Peeters", "locale": "nl-BE", "timezone": "Europe/Brussels"},
    },
    "partial_held": {
        "return": {
            "items": [CONTRACT_EVENT["return"]["items"][0], _JEANS],
            "inspection": {
                "outcome": "partially_accepted",
                "note": None,
                "accepted_items": [{"sku": "TRUI-M", "quantity": 1}],
                "rejected_items": [
                    {
                        "sku": "JEANS-32",
                        "quantity": 2,
                        "code": "tags_removed",
                        "disposition": "held",
                    }
                ],
            },
        },
    },
    "rejected": {
        "return": {
            "refund": None,
            "inspection": {
                "outcome": "rejected",
                "note": "De trui is gedragen en het label ontbreekt.",
                "rejected_items": [
                    {"sku": "TRUI-M", "quantity": 1, "code": "tags_removed", "disposition": "held"}
                ],
            },
            "rejection_code": "outside_window",
            "rejection_reason": "Bezorgd op 12 oktober; aangevraagd op 20 november.",
        },
    },
    **{
        f"code_{code}": {"return": {"refund": None, "rejection_code": code}}
        for code in REJECTION_CODES
    },
    "note_in_english": {
        "return": {
            "refund": None,
            "inspection": {
                "outcome": "rejected",
                "note": "The jumper has been worn and washed.",
                "rejected_items": [
                    {
                        "sku": "TRUI-M",
                        "quantity": 1,
                        "code": "used_or_worn",
                        "disposition": "sent_back",
                    }
                ],
            },
            "rejection_code": "not_eligible",
            "rejection_reason": "Swimwear can only be returned unworn and sealed.",
        },
        "customer": {"name": "Tom Bakker", "locale": "en-GB", "timezone": "Europe/London"},
    },
    "inspection_code_only": {
        "return": {
            "refund": None,
            "inspection": {"outcome": "rejected", "note": None},
            "rejection_code": "used_or_worn",
        },
    },
    "partial_items": {
        "return": {
            "items": [
                CONTRACT_EVENT["return"]["items"][0],
                {"sku": "JEANS-32", "name": "Spijkerbroek", "quantity": 2, "unit_price": "59.95"},
            ],
            "inspection": {
                "outcome": "partially_accepted",
                "note": None,
                "accepted_items": [{"sku": "TRUI-M", "quantity": 1}],
                "rejected_items": [
                    {
                        "sku": "JEANS-32",
                        "quantity": 1,
                        "code": "used_or_worn",
                        "disposition": "sent_back",
                    },
                    {
                        "sku": "JEANS-32",
                        "quantity": 1,
                        "code": "damaged",
                        "disposition": "disposed",
                    },
                ],
            },
        },
    },
    "status_page": {"return": {"status_url": "https://shop.example/retour/RMA-1001"}},
    "exchange": {"return": {"refund": None, "inspection": None}},
    "variants": {"return": {"items": _VARIANT_ITEMS}},
    "exchange_variants": {
        "return": {
            "refund": None,
            "inspection": None,
            "items": _VARIANT_ITEMS,
            "exchange": {
                "items": [
                    {"sku": "TRUI-L", "name": "Wollen trui", "quantity": 1, "variant": "L"},
                    {"sku": "SOK-B", "name": "Sokken", "quantity": 2, "variant": "Blauw"},
                ],
            },
        }
    },
    "bare_refund": {"return": {"refund": {"amount": "49.95"}}},
    "bare_inspection": {"return": {"inspection": {"outcome": "accepted"}}},
    "bare_exchange": {"return": {"exchange": {"tracking_number": "3SXYZ7654321"}}},
    "exchange_number_only": {
        "return": {
            "refund": None,
            "exchange": {"tracking_url": None, "carrier": "DHL", "tracking_number": "JD0146"},
        }
    },
    "pickup": {
        "return": {
            "method": "pickup",
            "drop_off": None,
            "label": {"carrier": "DHL"},
            "pickup": {"carrier": "DHL", "date": "2026-12-03", "from": "09:00", "to": "13:00"},
        },
        "policy": {"return_shipping": "paid", "shipping_cost": "4.95"},
    },
    "pickup_no_date": {
        "return": {"method": "pickup", "drop_off": None, "label": {"carrier": "DHL"}},
    },
    "in_store": {
        "return": {
            "method": "in_store",
            "label": None,
            "drop_off": None,
            "store": {
                "name": "De Wolwinkel Utrecht",
                "address": "Oudegracht 12, Utrecht",
                "opening_hours": "ma t/m za 10:00-18:00, zo 12:00-17:00",
            },
        },
    },
    "in_store_drop_off": {
        "return": {
            "method": "in_store",
            "label": None,
            "drop_off": {"name": "De Wolwinkel Utrecht", "address": "Oudegracht 12, Utrecht"},
        },
    },
    "deducted": {
        "return": {"refund": {"amount": "45.00", "method": "original_payment"}},
        "policy": {"return_shipping": "deducted", "shipping_cost": "4.95"},
    },
    "in_store_label": {
        "return": {
            "method": "in_store",
            "drop_off": {"name": "De Wolwinkel Utrecht", "address": "Oudegracht 12, Utrecht"},
        },
    },
    "non_gsm_name": {"customer": {"name": "Олена Коваленко", "locale": "en-GB"}},
    "first_name": {"customer": {"name": "dhr. S. DE VRIES", "first_name": "Sanne"}},
    "dated": {"return": {"ship_by": "2026-12-04"}},
    "minimal_label": {
        "return": {
            "label": {
                "url": "https://labels.example/RMA-2002.pdf",
                "expires_at": "2026-12-04T23:59:00+01:00",
            }
        }
    },
    "label_only": {
        "return": {
            "ship_by": None,
            "drop_off": None,
            "label": {"carrier": None, "tracking_number": None, "expires_at": None},
        },
    },
}

_SCHEDULED: dict[str, dict[str, Any]] = {
    "reminder": {"reminder": {"due_at": "2026-12-02T10:00:00+01:00", "rule": "ship_by-2d"}},
    "last_day": {"reminder": {"due_at": "2026-12-04T09:00:00+01:00", "rule": "ship_by-0d"}},
    "expired": {"reminder": {"due_at": "2026-12-05T09:00:00+01:00", "rule": "expired-1d"}},
}

_STALE = {
    status: {
        "stale": {
            "status": f"return.{status}",
            "since": "2026-11-20T10:15:00+01:00",
            "days": days,
            "expected_by": "2026-12-01" if status == "received" else None,
        }
    }
    for status, days in (("received", 6), ("in_transit", 8), ("approved", 10), ("requested", 3))
}

#: Samples of each kind: the sample's name, then further layers merged over it.
_KIND_SAMPLES: dict[str, tuple[tuple[str, ...], ...]] = {
    "return.requested": (
        ("card",),
        ("pickup",),
        ("in_store",),
        ("in_store_drop_off",),
        ("status_page",),
        ("minimal",),
    ),
    "return.approved": (
        ("card",),
        ("pickup",),
        ("in_store",),
        ("in_store_drop_off",),
        ("status_page",),
        ("minimal",),
    ),
    "return.rejected": (
        ("rejected",),
        *((f"code_{code}",) for code in REJECTION_CODES),
        ("note_in_english",),
        ("status_page",),
        ("minimal",),
    ),
    "return.label_created": (
        ("card",),
        ("pickup",),
        ("in_store_label",),
        ("label_only",),
        ("minimal", "minimal_label"),
    ),
    "return.in_transit": (("card",), ("pickup",), ("in_store",), ("minimal",)),
    "return.received": (
        ("card",),
        ("partial",),
        ("variants",),
        ("status_page",),
        ("non_gsm_name",),
        ("first_name",),
        ("minimal",),
    ),
    "return.inspected": (
        ("card",),
        ("store_credit",),
        ("gift_card",),
        ("paid_klarna",),
        ("deduction_shipping",),
        ("partial",),
        ("partial_items",),
        ("partial_held",),
        ("rejected",),
        ("inspection_code_only",),
        ("note_in_english",),
        ("status_page",),
        ("minimal", "bare_inspection"),
    ),
    "return.refund_issued": (
        ("card",),
        *((f"paid_{method}",) for method in PAYMENT_SAMPLES),
        ("store_credit",),
        ("gift_card",),
        ("no_method",),
        ("deducted",),
        ("deduction_shipping",),
        ("deduction_damage",),
        ("deductions_both",),
        ("partial",),
        ("partial_items",),
        ("status_page",),
        ("minimal", "bare_refund"),
    ),
    "return.exchange_shipped": (
        ("exchange",),
        ("exchange_variants",),
        ("exchange_number_only",),
        ("minimal", "bare_exchange"),
    ),
    "return.cancelled": (("card",), ("status_page",), ("minimal",)),
    "reminder.ship_by": (
        ("card", "reminder"),
        ("pickup", "reminder"),
        ("pickup_no_date", "reminder"),
        ("in_store", "reminder"),
        ("in_store_drop_off", "reminder"),
        ("last_day", "last_day"),
        ("status_page", "last_day"),
        ("minimal", "dated", "reminder"),
    ),
    # Never in store: an in-store return has no label to expire (see the scheduler's rules).
    "reminder.label_expiring": (
        ("card", "reminder"),
        ("pickup", "reminder"),
        ("last_day", "last_day"),
        ("minimal", "minimal_label", "reminder"),
    ),
    "return.expired": (
        ("card", "expired"),
        ("pickup", "expired"),
        ("in_store", "expired"),
        ("in_store_drop_off", "expired"),
        ("status_page", "expired"),
        ("minimal", "dated", "expired"),
    ),
    "nudge.stale": (
        ("received",),
        ("in_transit",),
        ("approved",),
        ("pickup", "approved"),
        ("in_store", "approved"),
        ("requested",),
        ("minimal", "approved"),
    ),
    "staff.stale_return": (("received",), ("pickup", "requested"), ("minimal", "requested")),
}


def samples_for(kind: str) -> dict[str, dict[str, Any]]:
    """Return the sample events of a message kind.

    Args:
        kind: a message kind from :data:`notifier.rendering.kinds.ALL_KINDS`.

    Returns:
        Sample name -> event data, fresh copies the caller may change.

    Raises:
        RenderError: the kind is unknown.
    """
    if kind not in ALL_KINDS:
        raise RenderError(f"unknown message kind {kind!r}")
    samples = {}
    for spec in _KIND_SAMPLES[kind]:
        name, layers = spec[0], _layers(spec)
        event = copy.deepcopy(_MINIMAL if name == "minimal" else CONTRACT_EVENT)
        for layer in layers:
            _merge(event, copy.deepcopy(layer))
        event["type"] = kind
        samples[name] = event
    return samples


def sample_now(data: dict[str, Any]) -> datetime:
    """Return the moment a sample is rendered at: its reminder's due time, else its event's."""
    moment = (data.get("reminder") or {}).get("due_at") or data["occurred_at"]
    return datetime.fromisoformat(moment)


def _layers(spec: tuple[str, ...]) -> list[dict[str, Any]]:
    layers = []
    for name in spec:
        if name in _SCENARIOS:
            layers.append(_SCENARIOS[name])
        elif name in _SCHEDULED:
            layers.append(_SCHEDULED[name])
        elif name in _STALE:
            layers.append(_STALE[name])
        elif name != "minimal":
            raise KeyError(f"no sample scenario named {name!r}")
    return layers


def _merge(target: dict[str, Any], changes: dict[str, Any]) -> None:
    """Merge ``changes`` into ``target`` in place: objects merge, other values replace."""
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value
