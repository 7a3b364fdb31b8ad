"""Every sample of every kind, in both languages and on every channel, pinned word for word.

The samples (:func:`notifier.rendering.samples_for`) are the combinations that matter:
each return method, refund method, outcome, deadline and name the messages must get
right. One golden file per kind and locale, ``golden/<kind>.<locale>.txt``, holds what a
customer reads of each sample: the email's subject, preheader, attachments and plain-text
body, and the SMS with its size. A change to a template shows as a diff a reviewer reads.

After an intended change, rewrite the files and read the diff::

    NOTIFIER_UPDATE_GOLDEN=1 python -m pytest tests/rendering/test_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from notifier.rendering import (
    ALL_KINDS,
    DEFAULT_POLICY,
    SAMPLE_SHOP,
    RenderedMessage,
    Renderer,
    default_template_dir,
    kind_channels,
    measure,
    sample_now,
    samples_for,
)

GOLDEN = Path(__file__).parent / "golden"
LOCALES = ("nl", "en")
#: Formatting locale of each template locale when the sample's customer has another.
FORMATTING = {"nl": "nl_NL", "en": "en_GB"}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    # The sample shop gives every field of a profile, so its whole frame is pinned too.
    return Renderer(default_template_dir(), SAMPLE_SHOP)


def formatting_locale(data: dict[str, Any], locale: str) -> str:
    """The sample customer's own locale when it is in this language (nl-BE stays Belgian)."""
    own = str((data.get("customer") or {}).get("locale") or "").replace("-", "_")
    return own if own.split("_")[0] == locale and "_" in own else FORMATTING[locale]


def describe(message: RenderedMessage) -> str:
    if message.channel == "sms":
        size = measure(message.text)
        units = "septets" if size.encoding == "GSM-7" else "UTF-16 units"
        head = f"{size.encoding}, {size.units} {units}, {size.segments} segment(s)"
        return f"[{head}]\n{message.text}\n"
    attachments = getattr(message, "attachments", ()) or ()
    names = ", ".join(getattr(item, "filename", str(item)) for item in attachments)
    lines = [f"Subject: {message.subject}", f"Preheader: {message.preheader}"]
    if names:
        lines.append(f"Attachments: {names}")
    return "\n".join(lines) + f"\n\n{message.text}\n"


def render_golden(renderer: Renderer, kind: str, locale: str) -> str:
    parts = []
    for name, data in samples_for(kind).items():
        timezone = (data.get("customer") or {}).get("timezone") or "Europe/Amsterdam"
        for channel in kind_channels(kind):
            message = renderer.render(
                kind,
                channel,
                data,
                locale=formatting_locale(data, locale),
                timezone=timezone,
                policy=DEFAULT_POLICY,
                now=sample_now(data),
            )
            parts.append(f"===== {kind} · {name} · {locale} · {channel} =====\n")
            parts.append(describe(message))
            parts.append("\n")
    return "".join(parts).rstrip("\n") + "\n"


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_sample_renders_as_reviewed(renderer: Renderer, kind: str, locale: str) -> None:
    # Given every sample of the kind, rendered in the locale on each of its channels
    rendered = render_golden(renderer, kind, locale)
    path = GOLDEN / f"{kind}.{locale}.txt"
    if os.environ.get("NOTIFIER_UPDATE_GOLDEN"):
        path.write_text(rendered, encoding="utf-8")
    # Then each reads exactly as the reviewed golden file
    assert path.exists(), f"{path.name} is missing: run with NOTIFIER_UPDATE_GOLDEN=1"
    assert rendered == path.read_text(encoding="utf-8")


def test_no_golden_file_is_left_over() -> None:
    # Given the kinds and locales that are rendered
    expected = {f"{kind}.{locale}.txt" for kind in ALL_KINDS for locale in LOCALES}
    # Then every kind-and-locale golden file belongs to one of them
    present = {path.name for path in GOLDEN.glob("*.txt")}
    assert present - expected == set()
