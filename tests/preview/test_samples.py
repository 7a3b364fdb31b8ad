"""Previewing a built-in sample: every kind, locale and channel its templates exist for,
rendered with the shop's own brand and policy; a wrong choice names the field."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from notifier import db
from notifier.dispatch import Planner
from notifier.errors import UnknownSampleError
from notifier.preview import Previewer
from notifier.rendering import (
    ALL_KINDS,
    CALENDAR_KINDS,
    DEFAULT_POLICY,
    DEFAULT_TIMEZONE,
    Brand,
    Renderer,
    default_template_dir,
    kind_channels,
    measure,
    samples_for,
)
from notifier.status import Channel, Decision

#: The shop's own brand and policy, unlike the samples' (a 30-day window).
BRAND = Brand("Testwinkel", "#224488", None)
POLICY = replace(DEFAULT_POLICY, window_days=14)
CASES = [
    (kind, locale, channel)
    for kind in ALL_KINDS
    for locale in ("nl", "en")
    for channel in kind_channels(kind)
]


@pytest.fixture(scope="module")
def previewer() -> Iterator[Previewer]:
    # A sample needs no database: an empty, unmigrated one shows that none is read.
    engine = db.make_engine("sqlite://")
    yield Previewer(
        engine,
        Planner("nl", DEFAULT_TIMEZONE),
        Renderer(default_template_dir(), BRAND),
        policy=POLICY,
        quiet_hours=None,
        staff_email="retouren@example.nl",
    )
    engine.dispose()


@pytest.mark.parametrize(("kind", "locale", "channel"), CASES)
def test_every_kind_renders_its_sample_in_every_locale_and_channel(
    previewer: Previewer, kind: str, locale: str, channel: str
) -> None:
    # Given a kind's first sample
    data = next(iter(samples_for(kind).values()))

    # When it is previewed in a locale on a channel
    message = previewer.preview_sample(kind, locale, channel)

    # Then it would be sent, rendered for that channel with the shop's brand
    content = message.content
    assert (message.kind, message.channel, message.decision, message.reason) == (
        kind,
        channel,
        Decision.SEND,
        None,
    )
    assert message.locale == {"nl": "nl", "en": "en_GB"}[locale]
    assert message.data == data and message.timezone == data["customer"]["timezone"]
    assert content.text and data["return"]["id"] in content.text
    if channel == Channel.EMAIL:
        assert content.subject and content.preheader and content.html
        assert "Testwinkel" in content.html and "De Wolwinkel" not in content.html
        # And a kind that sets a deadline carries the sample's last day as a calendar event
        files = {"nl": ("retour-RMA-1001.ics",), "en": ("return-RMA-1001.ics",)}[locale]
        assert [a.filename for a in content.attachments or ()] == list(
            files if kind in CALENDAR_KINDS else ()
        )
        assert content.sms is None
    else:
        assert (content.subject, content.preheader, content.html) == (None, None, None)
        assert content.attachments is None
        assert content.sms == measure(content.text)
        assert content.text.startswith("Testwinkel: ")


def test_a_named_sample_in_a_regional_locale(previewer: Previewer) -> None:
    # When the store-credit refund is previewed in Belgian Dutch
    message = previewer.preview_sample("return.refund_issued", "nl-BE", "email", "store_credit")

    # Then it is that sample, formatted for Belgium, to its customer's masked address
    assert message.locale == "nl_BE"
    assert message.data["return"]["refund"]["method"] == "store_credit"
    assert message.recipient == "s***@example.nl"
    assert message.content.subject and "tegoed" in message.content.subject


def test_a_sample_without_its_own_policy_shows_the_shops(previewer: Previewer) -> None:
    # When the bare sample of a return request, which gives no policy, is previewed
    message = previewer.preview_sample("return.requested", "en", "email", "minimal")

    # Then the shop's 14-day window is quoted
    assert message.content.text and "14 days" in message.content.text


def test_recipients_are_masked_and_a_staff_alert_goes_to_the_staff(previewer: Previewer) -> None:
    sms = previewer.preview_sample("return.received", "nl", "sms")
    staff = previewer.preview_sample("staff.stale_return", "nl", "email")
    bare = previewer.preview_sample("return.received", "nl", "sms", "minimal")

    assert (sms.recipient, staff.recipient, bare.recipient) == (
        "+316*****678",
        "r***@example.nl",
        None,
    )


@pytest.mark.parametrize(
    ("kind", "locale", "channel", "sample", "field", "choices"),
    [
        ("return.closed", "nl", "email", None, "kind", "return.requested"),
        ("return.received", "de", "email", None, "locale", "nl or en"),
        ("return.received", "nl", "webhook", None, "channel", "email, sms"),
        ("staff.stale_return", "nl", "sms", None, "channel", "choose from email"),
        (
            "return.received",
            "nl",
            "email",
            "nope",
            "sample",
            "card, partial, variants, status_page, non_gsm_name, first_name, minimal",
        ),
    ],
)
def test_an_unknown_choice_names_its_field(
    previewer: Previewer,
    kind: str,
    locale: str,
    channel: str,
    sample: str | None,
    field: str,
    choices: str,
) -> None:
    with pytest.raises(UnknownSampleError) as raised:
        previewer.preview_sample(kind, locale, channel, sample)

    assert raised.value.field == field
    assert choices in raised.value.problem
