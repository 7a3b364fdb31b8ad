"""Locale choice and locale-aware formatting of money, dates, plurals and lists.

Every number, amount, date and list a customer reads goes through Babel with the
customer's locale and time zone; templates never format by hand. A locale has
two faces: the *template locale* (``nl`` or ``en``: which texts) and the
*formatting locale* (``nl_BE``: how numbers and dates look). ``nl-BE`` uses the
Dutch texts with Belgian formatting. A bare ``en`` formats as ``en_GB``, the
European English the shop's customers expect (``4 December 2026``, 24-hour
times); an explicit ``en-US`` keeps American formatting.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal

#: Template locales the service has texts for.
SUPPORTED_LOCALES = ("nl", "en")
#: Formatting locale used for a bare language code.
DEFAULT_REGIONS = {"nl": "nl", "en": "en_GB"}
#: Time zone used when a customer's is missing or unknown: the shop's own.
DEFAULT_TIMEZONE = "Europe/Amsterdam"
#: Babel skeletons and styles behind the ``date`` filter's ``style`` argument.
DATE_STYLES = {"long": "long", "full": "full", "day": "MMMMd", "weekday": "weekday"}


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency (ISO 4217 code)."""

    amount: Decimal
    currency: str


def split_locale(locale: str) -> tuple[str, str] | None:
    """Split a locale string into its template locale and formatting locale.

    Args:
        locale: ``nl``, ``nl-BE``, ``nl_BE``, ``en``, ``en-GB``...

    Returns:
        ``(template_locale, formatting_locale)``, e.g. ``("nl", "nl_BE")``, or
        None when the language is unsupported or the locale is malformed.
    """
    tag = locale.strip().replace("-", "_")
    try:
        parsed = Locale.parse(tag)
    except (ValueError, TypeError, UnknownLocaleError):
        # An unknown region of a supported language still gets its texts.
        language = tag.split("_", 1)[0].lower()
        return (language, DEFAULT_REGIONS[language]) if language in SUPPORTED_LOCALES else None
    if parsed.language not in SUPPORTED_LOCALES:
        return None
    if parsed.territory is None:
        return parsed.language, DEFAULT_REGIONS[parsed.language]
    return parsed.language, f"{parsed.language}_{parsed.territory}"


def resolve_locale(
    preference: str | None, event_locale: str | None, default: str
) -> tuple[str, str]:
    """Choose the locale of one message.

    The first given of the customer's stored preference and the event's
    ``customer.locale`` decides; when it is unsupported or malformed, or both
    are missing, the default locale is used.

    Args:
        preference: the customer's stored preference, if any.
        event_locale: the event's ``customer.locale``, if any.
        default: ``NOTIFIER_DEFAULT_LOCALE``.

    Returns:
        ``(template_locale, formatting_locale)``, e.g. ``("nl", "nl_BE")``.

    Raises:
        ValueError: the default locale itself is not supported.
    """
    chosen = next((value for value in (preference, event_locale) if value and value.strip()), None)
    resolved = split_locale(chosen) if chosen else None
    if resolved is not None:
        return resolved
    fallback = split_locale(default)
    if fallback is None:
        supported = ", ".join(SUPPORTED_LOCALES)
        raise ValueError(f"default locale {default!r} is not supported; use one of {supported}")
    return fallback


def resolve_timezone(name: str | None) -> ZoneInfo:
    """Return the IANA time zone ``name``, or the shop's when missing or unknown."""
    try:
        return ZoneInfo(name) if name else ZoneInfo(DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


@functools.cache
def _babel_locale(name: str) -> Locale:
    """The Babel locale ``name``, parsed once: Babel parses a locale given by name at every
    call, half the time of formatting an amount."""
    return Locale.parse(name)


#: Formatted values kept per kind (amounts, numbers, dates): a shop's emails show the same
#: amounts and dates again and again, and Babel takes some 10 µs to format one.
FORMATTED_KEPT = 4096


@functools.lru_cache(maxsize=FORMATTED_KEPT)
def _money(amount: str, currency: str, locale: str) -> str:
    return str(format_currency(Decimal(amount), currency, locale=_babel_locale(locale)))


@functools.lru_cache(maxsize=FORMATTED_KEPT)
def _number(decimal: bool, value: str, locale: str) -> str:
    number = Decimal(value) if decimal else int(value)
    return str(format_decimal(number, locale=_babel_locale(locale)))


@functools.lru_cache(maxsize=FORMATTED_KEPT)
def _date(value: date, pattern: str, locale: str) -> str:
    return str(format_date(value, pattern, locale=_babel_locale(locale)))


@dataclass(frozen=True, slots=True)
class Formatter:
    """Formats values for one customer: a Babel locale and a time zone.

    Attributes:
        locale: Babel locale name, e.g. ``nl_BE`` or ``en_GB``.
        timezone: the customer's time zone; datetimes are shown in it.
    """

    locale: str
    timezone: ZoneInfo

    @property
    def _babel(self) -> Locale:
        return _babel_locale(self.locale)

    def money(self, value: Money) -> str:
        """Format an amount with its currency: ``€ 49,95`` (nl), ``€49.95`` (en)."""
        amount = value.amount
        if type(amount) is not Decimal:  # as Babel would take it, without the cache
            return str(format_currency(amount, value.currency, locale=self._babel))
        # By the amount's text: 49.5 and 49.50 are equal but need not look alike.
        return _money(str(amount), value.currency, self.locale)

    def date(self, value: date | datetime, style: str = "long") -> str:
        """Format a date, or a datetime's date in the customer's time zone.

        Args:
            value: a date or an aware datetime.
            style: ``long`` (4 december 2026), ``full`` (vrijdag 4 december
                2026), ``day`` (4 december) or ``weekday`` (vrijdag 4 december).
        """
        if isinstance(value, datetime):
            value = value.astimezone(self.timezone).date()
        pattern = DATE_STYLES[style]
        if pattern in ("long", "full"):
            return _date(value, pattern, self.locale)
        if style == "weekday":
            # CLDR's skeleton abbreviates Dutch weekdays ("vr 4 dec"); spell them out.
            long = self._babel.date_formats["long"].pattern
            month_first = long.find("MMMM") < long.find("d")
            pattern = "EEEE, MMMM d" if month_first else "EEEE d MMMM"
            return _date(value, pattern, self.locale)
        return str(format_skeleton(pattern, value, locale=self._babel))

    def time(self, value: datetime) -> str:
        """Format a datetime's time of day in the customer's time zone (``23:59``)."""
        return str(format_time(value.astimezone(self.timezone), "short", locale=self._babel))

    def number(self, value: int | Decimal) -> str:
        """Format a number with the locale's separators."""
        kind = type(value)
        if kind is not int and kind is not Decimal:  # as Babel would take it, uncached
            return str(format_decimal(value, locale=self._babel))
        return _number(kind is Decimal, str(value), self.locale)

    def plural(self, count: int, one: str, other: str) -> str:
        """Format a count with its noun: ``1 artikel``, ``2 artikelen``."""
        form = self._babel.plural_form(count)
        return f"{self.number(count)} {one if form == 'one' else other}"

    def join(self, values: Iterable[str], style: str = "standard") -> str:
        """Join words as a list: ``trui, broek en jas``; ``style="or"`` for "of"/"or"."""
        return str(format_list(list(values), style=style, locale=self._babel))  # type: ignore[arg-type]
