"""Reading how long a provider asks us to wait before trying again.

Providers say it in one of three ways:

- ``Retry-After: 120``: delay in seconds (RFC 9110, section 10.2.3);
- ``Retry-After: Wed, 21 Oct 2026 07:28:00 GMT``: an HTTP date;
- ``X-RateLimit-Reset: 1790000000``: the Unix time the rate-limit window
  resets, as SendGrid sends it
  (https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits).

All are turned into a number of seconds from now, never negative. A value that
cannot be read gives None: the caller then falls back to its own backoff.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime

__all__ = ["parse_rate_limit_reset", "parse_retry_after", "retry_after_from_headers"]

#: Longest wait honoured, in seconds; a provider asking for more gets this (one day).
MAX_RETRY_AFTER = 86_400.0


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Read a ``Retry-After`` header.

    Args:
        value: The header's value: seconds or an HTTP date.
        now: The current Unix time, for tests; defaults to the clock.

    Returns:
        Seconds to wait, between 0 and ``MAX_RETRY_AFTER``, or None if unreadable.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return _bounded(float(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with no claim about local time
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return _bounded(when.timestamp() - current)


def parse_rate_limit_reset(value: str | None, *, now: float | None = None) -> float | None:
    """Read an ``X-RateLimit-Reset`` header holding the Unix time of the reset.

    Args:
        value: The header's value, Unix seconds.
        now: The current Unix time, for tests; defaults to the clock.

    Returns:
        Seconds from now until the reset, between 0 and ``MAX_RETRY_AFTER``, or
        None if unreadable.
    """
    if value is None:
        return None
    try:
        reset = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(reset):
        return None
    current = time.time() if now is None else now
    return _bounded(reset - current)


def retry_after_from_headers(
    headers: Mapping[str, str], *, now: float | None = None
) -> float | None:
    """Seconds to wait according to ``Retry-After``, else ``X-RateLimit-Reset``.

    Args:
        headers: Response headers; looked up case-insensitively.
        now: The current Unix time, for tests; defaults to the clock.

    Returns:
        Seconds to wait, or None when neither header is present and readable.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    delay = parse_retry_after(lowered.get("retry-after"), now=now)
    if delay is None:
        delay = parse_rate_limit_reset(lowered.get("x-ratelimit-reset"), now=now)
    return delay


def _bounded(seconds: float) -> float:
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
