"""SMS text: GSM-7 transliteration and segment counting.

An SMS is sent in one of two encodings (3GPP TS 23.038):

- **GSM-7** when every character is in the GSM 03.38 basic set or its
  extension table. A single SMS holds 160 septets; a concatenated one 153 per
  part. The extension characters ``^ { } \\ [ ~ ] | €`` (and form feed) are
  sent as an escape plus a character, so they cost two septets each and never
  straddle two parts.
- **UCS-2** otherwise: 70 UTF-16 code units in a single SMS, 67 per part; a
  character outside the Basic Multilingual Plane (most emoji) costs two units
  and is never split across parts either.

Policy for text outside GSM-7: every SMS is passed through :func:`to_gsm7`
before it is counted and sent. Characters that Dutch and English text commonly
use but GSM-7 lacks are transliterated (``ideeën`` -> ``ideeen``, ``ï`` -> ``i``,
``’`` -> ``'``, ``–`` -> ``-``, a non-breaking space -> a space). Accented
letters that GSM-7 does have (``é è ü ö ä ñ à ù ì ò Ä Ö Ñ Ü É ß å æ ø``) are
kept. Any other accented Latin letter loses its accent. A character with no
sensible GSM-7 form (Cyrillic, CJK, emoji in a customer's name) is kept as it
is: the message then goes out as UCS-2 rather than with a mangled name, and
its segments are counted as such.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

#: GSM 03.38 basic character set (the escape character itself excluded).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: GSM 03.38 extension table: each costs two septets (escape + character).
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

#: Septets in a single GSM-7 SMS, and per part of a concatenated one.
GSM7_SINGLE, GSM7_PART = 160, 153
#: UTF-16 code units in a single UCS-2 SMS, and per part of a concatenated one.
UCS2_SINGLE, UCS2_PART = 70, 67

#: Characters outside GSM-7 with their GSM-7 replacement.
TRANSLITERATIONS: dict[str, str] = {
    "ë": "e", "ï": "i", "ê": "e", "â": "a", "î": "i", "ô": "o", "û": "u",
    "á": "a", "í": "i", "ó": "o", "ú": "u", "ç": "c", "ÿ": "y", "ã": "a", "õ": "o",
    "Ë": "E", "Ï": "I", "Ê": "E", "Â": "A", "Î": "I", "Ô": "O", "Û": "U",
    "Á": "A", "Í": "I", "Ó": "O", "Ú": "U", "È": "E", "Ù": "U", "Ì": "I", "Ò": "O",
    "À": "A", "Ã": "A", "Õ": "O", "ĳ": "ij", "Ĳ": "IJ", "œ": "oe", "Œ": "OE",
    "ı": "i", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "ð": "d",
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'", "´": "'",
    "“": '"', "”": '"', "„": '"', "″": '"', "«": '"', "»": '"',
    "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "•": "-", "·": "-",
    "…": "...", "×": "x", "\t": " ",
    "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ",
    "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class SmsSize:
    """How an SMS text is encoded and what it costs.

    Attributes:
        encoding: ``"GSM-7"`` or ``"UCS-2"``.
        units: septets (GSM-7) or UTF-16 code units (UCS-2) in the whole text.
        segments: SMS parts needed to send it (1 for an empty text).
    """

    encoding: str
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    """Tell whether ``text`` can be sent in the GSM-7 alphabet."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def to_gsm7(text: str) -> str:
    """Transliterate the characters GSM-7 lacks, following the module's policy.

    Args:
        text: SMS text, possibly with typographic quotes, dashes and accents.

    Returns:
        The text with every transliterable character replaced; characters
        without a GSM-7 form are kept (the text is then sent as UCS-2).
    """
    return "".join(_gsm7_char(char) for char in text)


def _gsm7_char(char: str) -> str:
    if char in GSM7_BASIC or char in GSM7_EXTENSION:
        return char
    if char in TRANSLITERATIONS:
        return TRANSLITERATIONS[char]
    stripped = "".join(
        part for part in unicodedata.normalize("NFKD", char) if not unicodedata.combining(part)
    )
    return stripped if stripped and is_gsm7(stripped) else char


def measure(text: str) -> SmsSize:
    """Count the encoding units and SMS segments of ``text``.

    Args:
        text: the final SMS text, as it will be handed to the provider.

    Returns:
        The encoding, its unit count and the number of segments.
    """
    if is_gsm7(text):
        costs = [2 if char in GSM7_EXTENSION else 1 for char in text]
        return SmsSize("GSM-7", sum(costs), _segments(costs, GSM7_SINGLE, GSM7_PART))
    costs = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return SmsSize("UCS-2", sum(costs), _segments(costs, UCS2_SINGLE, UCS2_PART))


def count_segments(text: str) -> int:
    """Return the number of SMS segments ``text`` is sent as."""
    return measure(text).segments


def _segments(costs: list[int], single: int, part: int) -> int:
    if sum(costs) <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        # A two-unit character (escape sequence, surrogate pair) is never split.
        if used + cost > part:
            segments, used = segments + 1, cost
        else:
            used += cost
    return segments
