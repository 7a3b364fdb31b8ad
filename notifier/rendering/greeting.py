"""The name a message greets the customer with: a first name, or none.

Return systems send names as their customers typed them: ``S. de Vries``, ``dhr. Jansen``,
``SANNE DE VRIES``, ``sanne``. A greeting takes ``customer.first_name`` when the event gives
one, else the first word of ``customer.name`` when that word is a name; shouting capitals
and all-lowercase are set right (``SANNE`` and ``sanne`` become ``Sanne``, ``ANNE-MARIE``
becomes ``Anne-Marie``). A name that starts with an initial (``S. de Vries``) or a form of
address (``dhr. Jansen``, where the next word is the surname) gives no first name: the
message greets without one ("Hoi,"), never with an initial, a title or a surname.
"""

from __future__ import annotations

import re

#: Words that are a title or a form of address, not a name (Dutch and English, lower-case,
#: without their full stop).
TITLES = frozenset(
    {
        "dhr", "de", "heer", "mevr", "mevrouw", "mw", "mr", "mrs", "ms", "miss", "mx", "dr",
        "drs", "ir", "ing", "prof", "mej", "sir", "madam", "fam", "familie",
    }
)  # fmt: skip
#: A word that is an initial or a run of them: ``S.``, ``S.J.``, ``J``.
_INITIALS = re.compile(r"^[^\W\d_](\.[^\W\d_])*\.?$", re.UNICODE)
#: A word made of letters, with inner hyphens or apostrophes (``Anne-Marie``, ``D'Anne``).
_NAME = re.compile(r"^[^\W\d_]+(?:[-'’][^\W\d_]+)*$", re.UNICODE)


def greeting_name(first_name: str | None, name: str | None) -> str:
    """The name to greet with, or ``""`` to greet without one."""
    for candidate in (first_name, (name or "").split(maxsplit=1)[0] if name else None):
        word = (candidate or "").strip().strip(",")
        if _is_name(word):
            return _cased(word)
    return ""


def _is_name(word: str) -> bool:
    if not word or _INITIALS.match(word) or word.rstrip(".").lower() in TITLES:
        return False
    return _NAME.match(word) is not None


def _cased(word: str) -> str:
    """``word`` as a name is written: shouting capitals and all-lowercase set right, anything
    else (``McKenzie``, ``DeShawn``) kept as typed."""
    if word.isupper() or word.islower():
        return re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), word.lower())
    return word
