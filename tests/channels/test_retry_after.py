"""Reading Retry-After and X-RateLimit-Reset into seconds to wait."""

from __future__ import annotations

import pytest

from channels.retry_after import (
    MAX_RETRY_AFTER,
    parse_rate_limit_reset,
    parse_retry_after,
    retry_after_from_headers,
)

NOW = 1_790_000_000.0  # Mon, 21 Sep 2026 14:13:20 GMT


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        ("Mon, 21 Sep 2026 14:14:20 GMT", 60.0),
        ("Mon, 21 Sep 2026 14:14:20 -0000", 60.0),
        ("Mon, 21 Sep 2026 14:12:20 GMT", 0.0),
        ("999999999", MAX_RETRY_AFTER),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(value: str | None, seconds: float | None) -> None:
    # Given a Retry-After value, When it is read, Then it gives bounded seconds or None
    assert parse_retry_after(value, now=NOW) == seconds


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (str(int(NOW) + 42), 42.0),
        (str(int(NOW) - 42), 0.0),
        ("nan", None),
        ("x", None),
        (None, None),
    ],
)
def test_rate_limit_reset_is_an_epoch_time(value: str | None, seconds: float | None) -> None:
    # Given an X-RateLimit-Reset value, When it is read, Then it gives seconds until then
    assert parse_rate_limit_reset(value, now=NOW) == seconds


def test_retry_after_wins_over_rate_limit_reset_and_names_ignore_case() -> None:
    # Given both headers, When read, Then Retry-After is used; alone, the reset is used
    both = {"retry-after": "3", "X-RateLimit-Reset": str(int(NOW) + 50)}
    assert retry_after_from_headers(both, now=NOW) == 3.0
    assert retry_after_from_headers({"X-RATELIMIT-RESET": str(int(NOW) + 50)}, now=NOW) == 50.0
    assert retry_after_from_headers({}, now=NOW) is None
