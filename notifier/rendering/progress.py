"""The progress line of a customer email: the steps of the return, the one it has reached
marked.

A return goes: requested, approved, sent (``collected`` for a pickup, ``handed_in`` in a
store), received, inspected, and ends refunded (``credited`` for store credit, ``gift_card``
for a gift card), ``exchanged``, or ``completed`` while the email cannot yet tell which.
The kind of the message says which step the return has reached; a nudge says it by the
status the return waits in. A return that stops early ends in its own last step: a
rejected request (``rejected``) or a cancelled one (``cancelled``) after ``requested``, an
inspection that accepts nothing (``not_accepted``) in place of ``inspected``. Staff alerts
have no progress line. Templates name each step in the customer's language
(``_partials/progress.txt``).
"""

from __future__ import annotations

from collections.abc import Sequence

from notifier.rendering.fields import Fields
from notifier.rendering.message import RenderError
from notifier.rendering.models import Progress, Step

#: The step each kind's message reports the return has reached (an index into the steps).
REACHED: dict[str, int] = {
    "return.requested": 0,
    "return.approved": 1,
    "return.label_created": 1,
    "reminder.ship_by": 1,
    "reminder.label_expiring": 1,
    "return.expired": 1,
    "return.in_transit": 2,
    "return.received": 3,
    "return.inspected": 4,
    "return.refund_issued": 5,
    "return.exchange_shipped": 5,
}
#: The step a return waiting in a status has reached, for a nudge about it.
WAITING: dict[str, int] = {
    "return.requested": 0,
    "return.approved": 1,
    "return.label_created": 1,
    "return.in_transit": 2,
    "return.received": 3,
    "return.inspected": 4,
}
#: Kinds that end a return early, and the last step they show after ``requested``.
ENDS: dict[str, str] = {"return.rejected": "rejected", "return.cancelled": "cancelled"}
#: What the return is sent as, by return method; without one it is ``handed_in``, which is
#: right whether it went to a parcel point or a shop.
SENT: dict[str, str] = {"drop_off": "sent", "pickup": "collected", "in_store": "handed_in"}
#: How a refund ends the return, by refund method (``original_payment``: ``refunded``, but
#: ``completed`` for a Klarna invoice, which is adjusted, or when the method is not given).
REFUNDED: dict[str, str] = {"store_credit": "credited", "gift_card": "gift_card"}


def progress(kind: str, fields: Fields) -> Progress | None:
    """The progress line of a message of ``kind`` about the return in ``fields``.

    A field the line reads that is malformed counts as absent: the line then names the
    step plainly (``sent``, ``completed``) rather than block the message.

    Args:
        kind: the message kind.
        fields: the event data.

    Returns:
        The steps, or None for a kind without a progress line (a staff alert).
    """
    if kind in ENDS:
        return _line(("requested", ENDS[kind]), 1)
    if kind == "nudge.stale":
        reached = WAITING.get(_text(fields, "stale.status") or "", 0)
    elif kind in REACHED:
        reached = REACHED[kind]
    else:
        return None
    sent = SENT.get(_text(fields, "return.method") or "", "handed_in")
    names = ["requested", "approved", sent, "received", "inspected", _end(kind, fields)]
    if kind == "return.inspected" and _text(fields, "return.inspection.outcome") == "rejected":
        names[4:] = ["not_accepted"]
    return _line(names, reached)


def _line(names: Sequence[str], reached: int) -> Progress:
    return Progress(tuple(Step(name, _state(i, reached)) for i, name in enumerate(names)))


def _state(index: int, reached: int) -> str:
    if index < reached:
        return "done"
    return "current" if index == reached else "next"


def _end(kind: str, fields: Fields) -> str:
    """How the return ends: by the kind, else by the refund or exchange the event names."""
    if kind == "return.exchange_shipped":
        return "exchanged"
    method = _text(fields, "return.refund.method")
    if kind == "return.refund_issued" or method or _given(fields, "return.refund"):
        if method in REFUNDED:
            return REFUNDED[method or ""]
        # Money back only when the event says so; a Klarna invoice is adjusted instead.
        paid_back = _text(fields, "return.refund.payment_method") != "klarna"
        return "refunded" if method == "original_payment" and paid_back else "completed"
    if _given(fields, "return.exchange"):
        return "exchanged"
    return "completed"


def _text(fields: Fields, path: str) -> str | None:
    try:
        return fields.text(path)
    except RenderError:
        return None


def _given(fields: Fields, path: str) -> bool:
    try:
        return bool(fields.mapping(path))
    except RenderError:
        return False
