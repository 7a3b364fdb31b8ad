"""Masking of recipients shown to people: enough to recognise, never enough to harvest."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from sqlalchemy import Connection, select

from notifier import db
from notifier.status import REMOVED_RECIPIENT

#: An email address, or a phone number in any common notation (``+31612345678``,
#: ``+31 6 1234 5678``, ``0031-6-12345678``, ``06 12345678``, ``(020) 123 4567``) inside free
#: text: a ``+`` or ``0`` followed by digits with spaces, dashes, dots or
#: brackets between them, 8 to 15 digits in all (checked in :func:`_mask_match`).
_IN_TEXT = re.compile(
    r"(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|(?P<phone>(?<![\w+])(?:\+|0)[\d() .\-]{6,24}\d(?![\w]))"
)
#: ``@`` and a ``+`` before a digit, percent-encoded as in form bodies and query strings
#: (``To=%2B31612345678``, ``sanne%40example.nl``): decoded before looking for addresses.
_ENCODED = re.compile(r"%2B(?=\d)|%40", re.IGNORECASE)
#: Fewest and most digits of a phone number.
_PHONE_DIGITS = (8, 15)
#: Shortest part of a name masked on its own ("de", "van" and initials are left).
_NAME_PART = 3


def mask_email(address: str) -> str:
    """``sanne@example.nl`` -> ``s***@example.nl``."""
    local, sep, domain = address.partition("@")
    if not sep:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_phone(number: str) -> str:
    """``+31612345678`` -> ``+316*****678``: country code and first digit, last three."""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 7) + number[-3:]


def mask_recipient(channel: str, recipient: str) -> str:
    """The recipient of a notification as the read API shows it (``[removed]`` once
    retention removed it)."""
    if recipient == REMOVED_RECIPIENT:
        return recipient
    if channel == "email":
        return mask_email(recipient)
    if channel == "sms":
        return mask_phone(recipient)
    return f"webhook:{recipient}"


def mask_text(text: str | None, names: Iterable[str | None] = ()) -> str | None:
    """Free text shown to people or logged (a provider's error message) with every email
    address and phone number in it masked, percent-encoded ones too, and each of ``names``
    (the customer's).

    Args:
        text: the text, as the provider wrote it.
        names: names to mask wherever they appear (case-insensitive), each part of three
            or more letters on its own: ``Sanne de Vries`` -> ``S*** de V***``.
    """
    if not text:
        return text
    decoded = _ENCODED.sub(lambda m: "@" if m[0] == "%40" else "+", text)
    masked = _IN_TEXT.sub(_mask_match, decoded)
    parts = {part for name in names if name for part in re.split(r"[\s,]+", name)}
    for part in sorted((p for p in parts if len(p) >= _NAME_PART), key=len, reverse=True):
        masked = re.sub(
            rf"(?<!\w){re.escape(part)}(?!\w)", part[0] + "***", masked, flags=re.IGNORECASE
        )
    return masked


def _mask_match(match: re.Match[str]) -> str:
    if match["email"]:
        return mask_email(match["email"])
    found = match["phone"]
    digits = re.sub(r"\D", "", found)
    if not _PHONE_DIGITS[0] <= len(digits) <= _PHONE_DIGITS[1]:
        return found
    if found.startswith("+"):
        return mask_phone("+" + digits)
    if digits.startswith("00"):  # the international prefix written out
        return mask_phone("+" + digits[2:])
    # A national number: its trunk prefix and one digit, and the last three.
    return digits[:2] + "*" * (len(digits) - 5) + digits[-3:]


def customer_names(
    connection: Connection, return_ids: Collection[str]
) -> dict[str, tuple[str, ...]]:
    """The customer's names (``name``, ``first_name``) of each of these returns, from its
    snapshot, to mask them in provider texts shown of its notifications."""
    if not return_ids:
        return {}
    rows = connection.execute(
        select(db.returns.c.return_id, db.returns.c.snapshot).where(
            db.returns.c.return_id.in_(sorted(set(return_ids)))
        )
    )
    names = {}
    for return_id, snapshot in rows:
        customer = (snapshot or {}).get("customer") or {}
        given = (customer.get("name"), customer.get("first_name"))
        names[return_id] = tuple(name for name in given if isinstance(name, str) and name)
    return names
