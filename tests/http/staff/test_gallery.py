"""Placing the template check's findings: which kind, locale and channels each concerns."""

from __future__ import annotations

from notifier.http.staff.gallery import Finding, placed


def test_a_finding_about_a_kinds_sms_concerns_that_kind_on_sms_in_that_locale() -> None:
    found = placed("en/return.received.sms.txt: sample 'card' is 4 SMS segments (max 3)")

    assert found == Finding(
        "en/return.received.sms.txt",
        "sample 'card' is 4 SMS segments (max 3)",
        "en",
        "return.received",
        ("sms",),
    )
    assert found.concerns("return.received", "sms", "en")
    assert not found.concerns("return.received", "sms", "nl")
    assert not found.concerns("return.received", "email", "en")
    assert not found.concerns("return.approved", "sms", "en")


def test_a_finding_about_an_email_part_concerns_the_email_and_the_webhook() -> None:
    for part in ("subject.txt", "html", "txt"):
        found = placed(f"nl/return.refund_issued.{part}: line 3: unexpected '}}'")

        assert (found.kind, found.locale) == ("return.refund_issued", "nl")
        assert found.channels == ("email", "webhook")


def test_a_shared_template_concerns_every_kind_that_can_include_it() -> None:
    layout = placed("nl/_layout.html: line 9: unknown filter 'shout'")
    labels = placed("en/_partials/labels.txt: sample 'card' fails to render: boom")

    assert (layout.kind, layout.channels) == (None, ("email", "webhook"))
    assert layout.concerns("return.received", "email", "nl")
    assert not layout.concerns("return.received", "sms", "nl")
    assert (labels.kind, labels.channels) == (None, ("email", "sms", "webhook"))
    assert labels.concerns("nudge.stale", "sms", "en")


def test_a_variable_a_kind_lacks_in_a_partial_is_that_kinds() -> None:
    found = placed(
        "nl/_partials/items.html: uses variable 'voucher', which return.approved does not provide"
    )

    assert (found.kind, found.locale) == ("return.approved", "nl")
    assert found.concerns("return.approved", "email", "nl")
    assert not found.concerns("return.received", "email", "nl")


def test_stray_files_and_locales_concern_no_message_page() -> None:
    for line in (
        "nl/notes.txt: not a template of any message kind",
        "en/: locale directory missing",
    ):
        found = placed(line)

        for channel in ("email", "sms", "webhook"):
            assert not found.concerns("return.received", channel, found.locale or "nl")
            assert not found.concerns("staff.stale_return", channel, found.locale or "nl")


def test_an_sms_template_of_a_staff_alert_is_the_alerts_but_on_no_channel_it_has() -> None:
    found = placed("nl/staff.stale_return.sms.txt: staff.stale_return is never sent by SMS")

    assert (found.kind, found.channels) == ("staff.stale_return", ("sms",))
