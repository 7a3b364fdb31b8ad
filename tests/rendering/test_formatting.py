"""Locale choice and Babel formatting of money, dates, times, plurals and lists."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel.numbers import format_currency, format_decimal

from notifier.rendering import (
    DEFAULT_TIMEZONE,
    Formatter,
    Money,
    resolve_locale,
    resolve_timezone,
    split_locale,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("nl", "€\u00a049,95"),
        ("nl_BE", "€\u00a049,95"),
        ("en_GB", "€49.95"),
        ("en_US", "€49.95"),
    ],
)
def test_money_uses_the_locale(locale: str, expected: str) -> None:
    # Given a formatter for a locale
    formatter = Formatter(locale, AMSTERDAM)
    # When the contract's amount is formatted
    text = formatter.money(Money(Decimal("49.95"), "EUR"))
    # Then it reads as that locale writes money
    assert text == expected


def test_money_keeps_the_events_currency() -> None:
    # Given a Dutch formatter
    formatter = Formatter("nl", AMSTERDAM)
    # When an amount in another currency is formatted
    text = formatter.money(Money(Decimal("1234.5"), "USD"))
    # Then the currency and the cents are kept
    assert text == "US$\u00a01.234,50"


@pytest.mark.parametrize(
    ("locale", "style", "expected"),
    [
        ("nl", "long", "4 december 2026"),
        ("en_GB", "long", "4 December 2026"),
        ("nl", "full", "vrijdag 4 december 2026"),
        ("en_GB", "full", "Friday, 4 December 2026"),
        ("nl", "day", "4 december"),
        ("en_GB", "day", "4 December"),
        ("nl_BE", "weekday", "vrijdag 4 december"),
        ("en_GB", "weekday", "Friday 4 December"),
        ("en_US", "weekday", "Friday, December 4"),
    ],
)
def test_dates_use_the_locale(locale: str, style: str, expected: str) -> None:
    # Given a formatter and the contract's ship-by date
    formatter = Formatter(locale, AMSTERDAM)
    # When the date is formatted in a style
    text = formatter.date(date(2026, 12, 4), style)
    # Then it is spelled as the locale does
    assert text == expected


def test_datetimes_are_shown_in_the_customers_time_zone() -> None:
    # Given a moment late on 4 December in UTC
    moment = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)
    # When it is formatted for Amsterdam and for London
    amsterdam = Formatter("nl", AMSTERDAM)
    london = Formatter("en_GB", ZoneInfo("Europe/London"))
    # Then the day and the time follow each customer's clock
    assert (amsterdam.date(moment), amsterdam.time(moment)) == ("5 december 2026", "00:30")
    assert (london.date(moment), london.time(moment)) == ("4 December 2026", "23:30")


@pytest.mark.parametrize(
    ("locale", "count", "expected"),
    [
        ("nl", 1, "1 artikel"),
        ("nl", 2, "2 artikelen"),
        ("nl", 0, "0 artikelen"),
        ("en_GB", 1, "1 item"),
        ("en_GB", 2, "2 items"),
        ("nl", 1500, "1.500 artikelen"),
    ],
)
def test_plurals_follow_the_locales_rules(locale: str, count: int, expected: str) -> None:
    # Given a formatter
    formatter = Formatter(locale, AMSTERDAM)
    one, other = ("artikel", "artikelen") if locale == "nl" else ("item", "items")
    # When a count is formatted with its noun
    # Then the right form is chosen
    assert formatter.plural(count, one, other) == expected


@pytest.mark.parametrize(
    ("locale", "style", "expected"),
    [
        ("nl", "standard", "trui, broek en jas"),
        ("en_GB", "standard", "trui, broek and jas"),
        ("nl", "or", "trui, broek of jas"),
    ],
)
def test_lists_are_joined_as_the_locale_does(locale: str, style: str, expected: str) -> None:
    # Given a formatter and three item names
    formatter = Formatter(locale, AMSTERDAM)
    # When they are joined
    # Then the locale's conjunction is used
    assert formatter.join(["trui", "broek", "jas"], style) == expected


@pytest.mark.parametrize(
    ("preference", "event_locale", "default", "expected"),
    [
        ("en", "nl-NL", "nl", ("en", "en_GB")),
        (None, "nl-NL", "en", ("nl", "nl_NL")),
        (None, "nl-BE", "en", ("nl", "nl_BE")),
        (None, "nl_be", "en", ("nl", "nl_BE")),
        (None, "en-US", "nl", ("en", "en_US")),
        (None, None, "nl", ("nl", "nl")),
        (None, None, "en", ("en", "en_GB")),
        ("", "  ", "nl", ("nl", "nl")),
        ("de-DE", "en-GB", "nl", ("nl", "nl")),
        (None, "fr", "en", ("en", "en_GB")),
        (None, "klingon!", "nl", ("nl", "nl")),
        (None, "nl-XX", "en", ("nl", "nl")),
    ],
)
def test_resolve_locale(
    preference: str | None, event_locale: str | None, default: str, expected: tuple[str, str]
) -> None:
    # Given a stored preference, an event locale and a default
    # When the message locale is resolved
    resolved = resolve_locale(preference, event_locale, default)
    # Then the preference wins, then the event, and an unsupported one falls back
    assert resolved == expected


def test_resolve_locale_refuses_an_unsupported_default() -> None:
    # Given a default locale the service has no texts for
    # When a locale is resolved with it
    # Then the error names the default
    with pytest.raises(ValueError, match="'de'"):
        resolve_locale(None, None, "de")


def test_split_locale_rejects_unsupported_languages() -> None:
    # Given a supported and an unsupported locale
    # When they are split
    # Then only the supported one has texts
    assert split_locale("en-IE") == ("en", "en_IE")
    assert split_locale("de") is None


@pytest.mark.parametrize("name", [None, "", "Mars/Olympus_Mons", "../../etc/passwd"])
def test_unknown_time_zones_fall_back_to_the_shops(name: str | None) -> None:
    # Given a missing or unknown time zone name
    # When it is resolved
    zone = resolve_timezone(name)
    # Then the shop's own time zone is used
    assert zone == ZoneInfo(DEFAULT_TIMEZONE)


def test_formatting_again_gives_what_babel_gives_for_each_value() -> None:
    # Given values some of which are equal but written differently, formatted twice each
    formatter = Formatter("nl", AMSTERDAM)
    values = [Decimal("1.5"), Decimal("1.50"), 1, Decimal("1"), Decimal("1E+3"), Decimal("0.125")]
    for value in values * 2:
        # Then each reads as Babel writes that very value, whatever was formatted before
        assert formatter.number(value) == format_decimal(value, locale="nl")
        money = formatter.money(Money(Decimal(value), "USD"))
        assert money == format_currency(Decimal(value), "USD", locale="nl")
    # And a date reads the same in each locale, however often it is formatted
    day = date(2026, 12, 4)
    assert [Formatter(name, AMSTERDAM).date(day) for name in ("nl", "en_GB", "nl")] == [
        "4 december 2026",
        "4 December 2026",
        "4 december 2026",
    ]
