"""Masking what people see of recipients and of providers' texts."""

from __future__ import annotations

import pytest

from notifier.masking import mask_text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("The 'To' number +31612345678 is invalid", "The 'To' number +316*****678 is invalid"),
        ("The 'To' number +31 6 1111 2222 is invalid", "The 'To' number +316*****222 is invalid"),
        ("To 0611112222 failed", "To 06*****222 failed"),
        ("call 06-1111 2222 now", "call 06*****222 now"),
        ("(020) 123 4567 is busy", "(02*****567 is busy"),
        ("0031 6 12345678 unreachable", "+316*****678 unreachable"),
        ("Unable to deliver to sanne@example.nl", "Unable to deliver to s***@example.nl"),
        ("To=%2B31612345678&From=sanne%40example.nl", "To=+316*****678&From=s***@example.nl"),
    ],
)
def test_phone_numbers_in_any_notation_and_addresses_are_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "error 21211 at 2026-11-20T10:00:00+01:00",
        "connect to 10.0.0.1:8000 refused",
        "HTTP 400, code 0, retry in 30 s",
        "550 5.1.1 mailbox unavailable",
    ],
)
def test_codes_dates_and_addresses_of_machines_are_left_as_they_are(text: str) -> None:
    assert mask_text(text) == text


def test_the_customers_name_is_masked_part_by_part_whatever_its_case() -> None:
    # Given a provider text that names the customer, in capitals and in part
    text = "Recipient SANNE DE VRIES (Sanne) rejected the message"
    # When it is masked with the customer's name
    masked = mask_text(text, ["Sanne de Vries", None])
    # Then every part of three letters or more is masked; short particles are left
    assert masked == "Recipient S*** DE V*** (S***) rejected the message"
