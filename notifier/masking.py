"""Masking of recipients shown to people: enough to recognise, never enough to harvest."""

from __future__ import annotations

import re

#: An email address or an international phone number inside free text.
_IN_TEXT = re.compile(r"(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)|(?P<phone>\+\d{8,15}\b)")


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
    """The recipient of a notification as the read API shows it."""
    if channel == "email":
        return mask_email(recipient)
    if channel == "sms":
        return mask_phone(recipient)
    return f"webhook:{recipient}"


def mask_text(text: str | None) -> str | None:
    """Free text shown to people (a provider's error message) with every email address and
    international phone number in it masked."""
    if not text:
        return text
    return _IN_TEXT.sub(
        lambda m: mask_email(m["email"]) if m["email"] else mask_phone(m["phone"]), text
    )
