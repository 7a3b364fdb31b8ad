"""Typed, validated access to the event JSON a message is rendered from.

The renderer receives the event as plain JSON (CONTRACT section 3). :class:`Fields`
reads one value at a time by its dotted path, checks its type and raises a
:class:`~notifier.rendering.message.RenderError` that names the path when it is malformed.
Customer-provided text is cleaned on the way: control and format characters
become spaces, so a name or a note can never break a subject line or smuggle
invisible characters into a message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from notifier.rendering.formatting import Money
from notifier.rendering.message import RenderError

_BLANK_LINES = re.compile(r"\n{3,}")
#: A clock time on the 24-hour clock, ``HH:MM`` (a pickup window's edges).
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


class Fields:
    """Typed access to the event JSON; every error names the field's path.

    Args:
        data: the event JSON, or one object inside it.
        prefix: the path of ``data`` inside the event, for error messages.
    """

    def __init__(self, data: Mapping[str, Any], prefix: str = "") -> None:
        self._data = data
        self._prefix = prefix

    def _name(self, path: str) -> str:
        return f"{self._prefix}{path}"

    def node(self, path: str) -> Any:
        """Return the raw value at a dotted path, or None when a step is missing."""
        value: Any = self._data
        for depth, key in enumerate(path.split(".")):
            if value is None:
                return None
            # JSON's objects are dicts: the test against the abstract Mapping, some ten
            # times slower, is for the others.
            if type(value) is not dict and not isinstance(value, Mapping):
                parent = ".".join(path.split(".")[:depth])
                raise RenderError(f"{self._name(parent)} must be an object")
            value = value.get(key)
        return value

    def mapping(self, path: str) -> Mapping[str, Any] | None:
        """Return the object at ``path``, or None."""
        value = self.node(path)
        if value is not None and not isinstance(value, Mapping):
            raise RenderError(f"{self._name(path)} must be an object")
        return value

    def text(self, path: str, *, line: bool = True) -> str | None:
        """Return cleaned text (one line, or a paragraph when ``line`` is False), or None."""
        value = self.node(path)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise RenderError(f"{self._name(path)} must be a string, got {value!r}")
        cleaned = clean_line(str(value)) if line else clean_paragraph(str(value))
        return cleaned or None

    def url(self, path: str) -> str | None:
        """Return an http(s) URL, or None."""
        value = self.text(path)
        if value is not None and not value.startswith(("https://", "http://")):
            raise RenderError(f"{self._name(path)} must be an http(s) URL, got {value!r}")
        return value

    def money(self, path: str, currency: str) -> Money | None:
        """Return a decimal amount in ``currency``, or None."""
        value = self.node(path)
        if value is None:
            return None
        try:
            if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
                raise InvalidOperation
            amount = Decimal(str(value))
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite():
            raise RenderError(f"{self._name(path)} must be a decimal amount, got {value!r}")
        return Money(amount, currency)

    def moment(self, path: str) -> datetime | None:
        """Return an ISO 8601 datetime with a UTC offset, or None."""
        value = self.node(path)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise RenderError(
                f"{self._name(path)} must be an ISO 8601 datetime, got {value!r}"
            ) from None
        if moment.tzinfo is None:
            raise RenderError(f"{self._name(path)} must have a UTC offset, got {value!r}")
        return moment

    def day(self, path: str) -> date | None:
        """Return a date (the date part of an ISO 8601 value), or None."""
        value = self.node(path)
        if value is None:
            return None
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            raise RenderError(
                f"{self._name(path)} must be a date (YYYY-MM-DD), got {value!r}"
            ) from None

    def clock(self, path: str) -> time | None:
        """Return a time of day written ``HH:MM`` on the 24-hour clock, or None."""
        value = self.text(path)
        if value is None:
            return None
        match = _CLOCK.fullmatch(value)
        if match is None:
            raise RenderError(f"{self._name(path)} must be a clock time (HH:MM), got {value!r}")
        return time(int(match[1]), int(match[2]))

    def count(self, path: str, *, default: int) -> int:
        """Return a non-negative integer, or ``default`` when missing."""
        value = self.node(path)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RenderError(f"{self._name(path)} must be a non-negative integer, got {value!r}")
        return value

    def entries(self, path: str) -> list[Fields]:
        """Return a list of objects, each with its own path prefix; empty when missing."""
        value = self.node(path)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise RenderError(f"{self._name(path)} must be a list of objects")
        return [Fields(entry, f"{self._name(path)}[{i}].") for i, entry in enumerate(value)]


def clean_line(value: str) -> str:
    """Customer text on one line: control and format characters become spaces."""
    if value.isprintable():  # no control, format or separator character but the space
        return " ".join(value.split())
    return " ".join("".join(" " if _is_control(c) else c for c in value).split())


def clean_paragraph(value: str) -> str:
    """Customer text over several lines: each line cleaned, at most one empty line."""
    lines = [clean_line(line) for line in value.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")
