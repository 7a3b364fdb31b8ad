"""The rule set: the configured rules, the built-in ones changed by the rules file.

The built-in :data:`~notifier.scheduling.rules.DEFAULT_RULES` can be changed with a JSON file
(``NOTIFIER_RULES_FILE``)::

    {"rules": [
      {"name": "ship_by", "days": [5, 1]},
      {"name": "staff_requested", "enabled": false},
      {"name": "stale_in_transit", "kind": "nudge.stale", "statuses": ["return.in_transit"],
       "days": [7], "channels": ["email"], "expect_news_in_days": 3}
    ]}

An entry named like a built-in rule changes only the fields it gives; a new name needs
``kind``, ``statuses`` and ``days``. Fields: ``kind``, ``statuses``, ``days``, ``channels``
(``email``, ``sms``, ``webhook``; staff kinds: ``email``, ``webhook``), ``at`` (``HH:MM``),
``outcomes`` (inspection outcomes the return must have), ``expect_news_in_days`` (working
days after the nudge by which the customer hears from the shop) and ``enabled``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, time
from pathlib import Path
from typing import Any

from notifier.errors import RulesFileError
from notifier.lifecycle import EVENT_TYPES
from notifier.records import NotificationRecord, ReturnRecord
from notifier.scheduling.moments import facts, lapsed
from notifier.scheduling.rules import AFTER, ANCHORS, CHANNELS, DEFAULT_RULES, Rule, rule_name

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
#: Inspection outcomes a rule may ask for.
_OUTCOMES = ("accepted", "partially_accepted", "rejected")


class RuleSet:
    """The configured rules, by name."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self._rules = {rule.name: rule for rule in rules}

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules.values())

    def get(self, name: str) -> Rule | None:
        return self._rules.get(name)

    def lapsed(
        self, notification: NotificationRecord, current: ReturnRecord | None, now: datetime
    ) -> str | None:
        """Why a planned notification's rule no longer holds for the return ``current``.

        Args:
            notification: the planned notification (``rule``, ``data``, ``timezone``).
            current: the return now, or None.
            now: the moment of sending.

        Returns:
            The reason to skip it, or None to send it.
        """
        rule = self.get(rule_name(notification.rule or ""))
        known = None if current is None else facts(current, notification.timezone)
        return lapsed(rule, notification.data or {}, known, now)


def load_rules(path: Path | None) -> tuple[Rule, ...]:
    """The built-in rules, changed by the JSON file at ``path`` if given.

    Raises:
        RulesFileError: the file cannot be read or a rule in it is invalid; the message names
            the file, the entry and the field.
    """
    if path is None:
        return DEFAULT_RULES
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RulesFileError(path, f"cannot be read: {error.strerror or error}") from None
    except ValueError as error:  # not UTF-8, or not JSON
        raise RulesFileError(path, f"not valid JSON: {error}") from None
    entries = document.get("rules") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise RulesFileError(path, 'must be a JSON object with a "rules" list')
    return merge_rules(DEFAULT_RULES, entries, path)


def merge_rules(base: Sequence[Rule], entries: Sequence[Any], path: Path) -> tuple[Rule, ...]:
    """``base`` changed by the rule entries of the rules file ``path`` (see the module
    docstring).

    Raises:
        RulesFileError: an entry is invalid; the message names it and the field.
    """
    try:
        return _merge(base, entries)
    except _Invalid as invalid:
        raise RulesFileError(path, str(invalid)) from None


class _Invalid(Exception):
    """An entry is invalid; :func:`merge_rules` says in which file."""


def _merge(base: Sequence[Rule], entries: Sequence[Any]) -> tuple[Rule, ...]:
    rules = {rule.name: rule for rule in base}
    for index, entry in enumerate(entries):
        where = f"rules[{index}]"
        if not isinstance(entry, dict) or not _NAME.match(str(entry.get("name", ""))):
            raise _Invalid(f"{where} needs a name of lowercase letters, digits and _")
        name = entry["name"]
        if entry.get("enabled", True) is False:
            rules.pop(name, None)
            continue
        rules[name] = _parse(where, entry, rules.get(name))
    return tuple(rules.values())


def _parse(where: str, entry: Mapping[str, Any], known: Rule | None) -> Rule:
    unknown = set(entry) - {"name", "enabled", *Rule.__dataclass_fields__}
    if unknown:
        raise _Invalid(f"{where} has unknown fields: {', '.join(sorted(unknown))}")
    if known is None and not {"kind", "statuses", "days"} <= set(entry):
        raise _Invalid(f"{where} is a new rule and needs kind, statuses and days")
    rule = known or Rule(entry["name"], entry["kind"], (), (), ())
    kind = _kind(f"{where}.kind", entry["kind"]) if "kind" in entry else rule.kind
    changes: dict[str, Any] = {"kind": kind}
    if "statuses" in entry:
        changes["statuses"] = _strings(f"{where}.statuses", entry["statuses"], EVENT_TYPES)
    if "days" in entry:
        changes["days"] = _days(f"{where}.days", entry["days"], ANCHORS[kind] in AFTER)
    if "channels" in entry or "kind" in entry:
        changes["channels"] = _channels(f"{where}.channels", entry, kind)
    if "at" in entry:
        changes["at"] = _clock(f"{where}.at", entry["at"])
    if "outcomes" in entry:
        changes["outcomes"] = _strings(f"{where}.outcomes", entry["outcomes"], _OUTCOMES)
    if "expect_news_in_days" in entry:
        changes["expect_news_in_days"] = _news(where, entry["expect_news_in_days"])
    return replace(rule, **changes)


def _kind(where: str, value: Any) -> str:
    if value not in ANCHORS:
        raise _Invalid(f"{where} must be one of {', '.join(ANCHORS)}")
    return str(value)


def _channels(where: str, entry: Mapping[str, Any], kind: str) -> tuple[str, ...]:
    default = ["email", "webhook"] if kind.startswith("staff.") else ["email"]
    return _strings(where, entry.get("channels", default), tuple(sorted(CHANNELS[kind])))


def _clock(where: str, value: Any) -> time:
    match = _CLOCK.match(str(value))
    if match is None:
        raise _Invalid(f"{where} must be HH:MM, got {value!r}")
    return time(int(match[1]), int(match[2]))


def _news(where: str, value: Any) -> int | None:
    if value is not None and (not isinstance(value, int) or not 0 <= value <= 60):
        raise _Invalid(f"{where}.expect_news_in_days must be 0-60 or null")
    days: int | None = value
    return days


def _strings(where: str, value: Any, allowed: Sequence[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(v in allowed for v in value):
        raise _Invalid(f"{where} must be a non-empty list of {', '.join(allowed)}")
    return tuple(dict.fromkeys(value))


def _days(where: str, value: Any, after: bool) -> tuple[int, ...]:
    low = 1 if after else 0
    if (
        not isinstance(value, list)
        or not value
        or not all(
            isinstance(v, int) and not isinstance(v, bool) and low <= v <= 365 for v in value
        )
    ):
        raise _Invalid(f"{where} must be a non-empty list of whole days from {low} to 365")
    return tuple(sorted(set(value), reverse=True))
