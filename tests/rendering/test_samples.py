"""The sample events every template is checked and previewed with are events a return
system could post: each is accepted by ``POST /v1/events`` as it stands."""

from __future__ import annotations

from typing import Any

import pytest

from notifier.http import EventIn
from notifier.rendering import ALL_KINDS, samples_for
from notifier.status import EventType, PaymentMethod, RejectionCode

CASES = [(kind, name) for kind in ALL_KINDS for name in samples_for(kind)]
#: What the scheduler adds to a return's snapshot for a scheduled kind; not part of an event.
SCHEDULED_KEYS = ("reminder", "stale")


def kept(sample: Any, payload: Any, where: str = "") -> list[str]:
    """Where ``payload`` lost or changed a value ``sample`` gives (None is "not given")."""
    if isinstance(sample, dict):
        return [
            problem
            for key, value in sample.items()
            if value is not None
            for problem in kept(value, (payload or {}).get(key), f"{where}.{key}")
        ]
    if isinstance(sample, list):
        if not isinstance(payload, list) or len(payload) != len(sample):
            return [f"{where}: {sample!r} became {payload!r}"]
        return [p for i, v in enumerate(sample) for p in kept(v, payload[i], f"{where}[{i}]")]
    return [] if sample == payload else [f"{where}: {sample!r} became {payload!r}"]


@pytest.mark.parametrize(("kind", "name"), CASES)
def test_every_sample_is_an_event_intake_accepts_as_it_stands(kind: str, name: str) -> None:
    # Given a sample of a kind (a scheduled kind's sample is its return's latest event)
    sample = samples_for(kind)[name]
    body = {key: value for key, value in sample.items() if key not in SCHEDULED_KEYS}
    if kind not in set(EventType):
        body["type"] = EventType.APPROVED.value
    # When it is validated as POST /v1/events validates an event
    payload = EventIn.model_validate(body, context={"region": "NL"}).payload()
    # Then it is valid, and nothing it gives is dropped or changed (no misspelt field)
    assert kept(body, payload) == []


def test_the_samples_cover_every_way_of_refunding_and_every_outcome() -> None:
    # Given the samples of the refund, inspection, rejection and exchange messages
    refunds = [data["return"]["refund"] for data in samples_for("return.refund_issued").values()]
    inspections = [
        data["return"]["inspection"] for data in samples_for("return.inspected").values()
    ]
    rejected = [item for i in inspections for item in i.get("rejected_items", [])]
    exchanges = [
        data["return"]["exchange"] for data in samples_for("return.exchange_shipped").values()
    ]
    codes = {d["return"].get("rejection_code") for d in samples_for("return.rejected").values()}
    # Then every refund method, payment method and kind of deduction has a refund sample
    assert {r.get("method") for r in refunds} >= {
        None,
        "original_payment",
        "store_credit",
        "gift_card",
    }
    assert {r.get("payment_method") for r in refunds} >= (
        {m.value for m in PaymentMethod} - {"other"}
    )
    reasons = [tuple(d["reason"] for d in r.get("deductions", [])) for r in refunds]
    assert {("return_shipping",), ("damage",), ("return_shipping", "damage")} <= set(reasons)
    assert any(r.get("store_credit", {}).get("expires_on") for r in refunds)
    assert any(r.get("gift_card", {}).get("expires_on") for r in refunds)
    # And every outcome, disposition and rejection code has its sample
    assert {i["outcome"] for i in inspections} == {"accepted", "partially_accepted", "rejected"}
    assert {item["disposition"] for item in rejected} == {"sent_back", "held", "disposed"}
    assert codes >= {code.value for code in RejectionCode}
    # And an exchange of several items with sizes and colours
    assert any(
        len(e.get("items", [])) > 1 and all(i.get("variant") for i in e["items"]) for e in exchanges
    )
