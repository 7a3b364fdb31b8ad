"""Every phrase of the console has its Dutch."""

from __future__ import annotations

import re
from pathlib import Path

import notifier.http.staff
from notifier.http.staff.i18n import DUTCH

STAFF = Path(notifier.http.staff.__file__).parent
#: ``t("...")`` or ``t('...')`` in a template or a page module.
PHRASE = re.compile(r"""\bt\(\s*(?:"([^"]+)"|'([^']+)')""")


def _phrases() -> set[str]:
    found = set()
    for path in [*STAFF.rglob("*.html"), *STAFF.rglob("*.py")]:
        for match in PHRASE.finditer(path.read_text()):
            found.add(match.group(1) or match.group(2))
    return found


def test_every_phrase_of_the_console_has_its_dutch() -> None:
    phrases = _phrases()

    assert len(phrases) > 20  # the scan finds the console's words
    assert sorted(phrases - set(DUTCH)) == []


def test_navigation_labels_are_translated_too() -> None:
    base = (STAFF / "templates" / "base.html").read_text()
    labels = re.findall(r'\("/staff[^"]*", "([^"]+)"\)', base)

    assert labels and sorted(set(labels) - set(DUTCH)) == []
