"""SMS segment counting (GSM-7 and UCS-2) and GSM-7 transliteration."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.rendering.gsm7 import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    count_segments,
    is_gsm7,
    measure,
    to_gsm7,
)

# (text, encoding, units, segments): single-part limits, multi-part limits, and
# two-unit characters that must not be split across parts.
VECTORS = [
    ("", "GSM-7", 0, 1),
    ("a" * 160, "GSM-7", 160, 1),
    ("a" * 161, "GSM-7", 161, 2),
    ("a" * 306, "GSM-7", 306, 2),
    ("a" * 307, "GSM-7", 307, 3),
    ("a" * 459, "GSM-7", 459, 3),
    ("a" * 460, "GSM-7", 460, 4),
    ("€" * 80, "GSM-7", 160, 1),
    ("€" * 81, "GSM-7", 162, 2),
    ("a" * 159 + "€", "GSM-7", 161, 2),
    ("^{}\\[~]|€", "GSM-7", 18, 1),
    # 152 septets + 77 euro signs = 306 septets, but an escape pair never
    # straddles parts: 152 | 76 € (152) | 1 € -> three parts, not two.
    ("a" * 152 + "€" * 77, "GSM-7", 306, 3),
    ("é" * 160, "GSM-7", 160, 1),
    ("ë" * 70, "UCS-2", 70, 1),
    ("ë" * 71, "UCS-2", 71, 2),
    ("ë" * 134, "UCS-2", 134, 2),
    ("ë" * 135, "UCS-2", 135, 3),
    ("😀" * 35, "UCS-2", 70, 1),
    ("😀" * 36, "UCS-2", 72, 2),
    # 66 units + a surrogate pair: the pair moves whole to the second part.
    ("ë" * 66 + "😀" + "ë" * 66, "UCS-2", 134, 3),
]


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), VECTORS)
def test_measure_matches_known_vectors(text: str, encoding: str, units: int, segments: int) -> None:
    # Given a text with a known encoding and size
    # When it is measured
    size = measure(text)
    # Then encoding, units and segments are the known ones
    assert (size.encoding, size.units, size.segments) == (encoding, units, segments)
    assert count_segments(text) == segments


@pytest.mark.parametrize("char", sorted("^{}\\[~]|€"))
def test_extension_characters_cost_two_septets(char: str) -> None:
    # Given one extension character among plain letters
    text = "a" * 10 + char
    # When it is measured
    size = measure(text)
    # Then it costs two septets
    assert size.units == 12


@pytest.mark.parametrize(
    ("dutch", "expected"),
    [
        ("ideeën", "ideeen"),
        ("naïef", "naief"),
        ("café’s", "café's"),
        ("“goed”", '"goed"'),
        ("10–12 uur…", "10-12 uur..."),
        ("€\u00a049,95", "€ 49,95"),
        ("Zoë Ĳsselmeer", "Zoe IJsselmeer"),
        ("2 × trui", "2 x trui"),
        ("Yılmaz", "Yilmaz"),
        ("crème brûlée", "crème brulée"),
    ],
)
def test_to_gsm7_transliterates_dutch_text(dutch: str, expected: str) -> None:
    # Given Dutch text with characters outside GSM-7
    # When it is transliterated
    result = to_gsm7(dutch)
    # Then it matches the policy and is GSM-7
    assert result == expected
    assert is_gsm7(result)


@pytest.mark.parametrize("char", sorted("éèüöäñàùìòÄÖÑÜÉßåæø"))
def test_to_gsm7_keeps_accented_letters_gsm7_has(char: str) -> None:
    # Given a letter in the GSM-7 basic set
    # When it is transliterated
    # Then it is kept as it is
    assert to_gsm7(char) == char


def test_to_gsm7_keeps_characters_without_a_gsm7_form() -> None:
    # Given a name in a script GSM-7 lacks
    name = "Ольга 😀"
    # When it is transliterated
    result = to_gsm7(name)
    # Then the name is kept and the SMS is counted as UCS-2
    assert result == name
    assert measure(result).encoding == "UCS-2"


@given(st.text(alphabet=st.characters(max_codepoint=0x24F)))
def test_latin_text_always_becomes_gsm7(text: str) -> None:
    # Given any text in the Latin-1 and Latin Extended ranges
    # When it is transliterated
    result = to_gsm7(text)
    # Then every remaining character is GSM-7, except ones without any Latin form
    leftovers = {c for c in result if c not in GSM7_BASIC and c not in GSM7_EXTENSION}
    assert leftovers <= {c for c in text if to_gsm7(c) == c}


@given(st.text())
def test_segments_never_decrease_when_text_grows(text: str) -> None:
    # Given any text and the same text with one more character
    # When both are measured
    # Then the longer never needs fewer segments
    assert count_segments(text + "a") >= count_segments(text)
