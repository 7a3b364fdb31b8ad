"""Quiet hours: no SMS in the customer's night; the message waits until the quiet hours end."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from notifier.settings import QuietHours


def quiet_until(moment: datetime, timezone: str, quiet: QuietHours | None) -> datetime | None:
    """The end of the quiet hours ``moment`` falls in, in UTC; ``None`` if it is not quiet.

    Args:
        moment: an aware datetime (any zone).
        timezone: the customer's IANA time zone.
        quiet: the quiet hours, or ``None`` when they are off.
    """
    if quiet is None:
        return None
    local = moment.astimezone(ZoneInfo(timezone))
    clock = local.time().replace(tzinfo=None)
    if not _inside(clock, quiet):
        return None
    end_day = local.date()
    if quiet.start > quiet.end and clock >= quiet.start:
        end_day += timedelta(days=1)
    end = datetime.combine(end_day, quiet.end, tzinfo=ZoneInfo(timezone))
    return end.astimezone(UTC)


def _inside(clock: time, quiet: QuietHours) -> bool:
    if quiet.start < quiet.end:
        return quiet.start <= clock < quiet.end
    return clock >= quiet.start or clock < quiet.end
