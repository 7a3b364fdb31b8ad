"""``notifier templates check`` and ``templates render``: each defect, one line."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from notifier.cli import main
from notifier.lifecycle import ROUTES
from notifier.rendering import (
    Brand,
    RenderError,
    check_templates,
    default_template_dir,
    render_command,
)
from notifier.rendering.kinds import ALL_KINDS, kind_channels, template_file
from notifier.scheduling.rules import CHANNELS as RULE_CHANNELS


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    target = tmp_path / "templates"
    shutil.copytree(default_template_dir(), target)
    return target


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def insert_in_content(path: Path, text: str) -> None:
    source = path.read_text()
    marker = "{% block content %}\n"
    assert marker in source
    path.write_text(source.replace(marker, marker + text + "\n", 1))


def test_the_shipped_templates_pass() -> None:
    # Given the templates shipped with the service
    # When they are checked with the sample brand and with another brand
    # Then no problem is found
    assert check_templates(default_template_dir()) == []
    assert check_templates(default_template_dir(), Brand("Winkel", "#1f6f5c", None)) == []


def remove_in_one_locale(root: Path) -> None:
    (root / "en" / "return.cancelled.sms.txt").unlink()


def remove_partial_in_one_locale(root: Path) -> None:
    (root / "nl" / "_partials" / "policy.html").unlink()


def remove_text_part(root: Path) -> None:
    (root / "nl" / "return.approved.txt").unlink()
    (root / "en" / "return.approved.txt").unlink()


def remove_subject_everywhere(root: Path) -> None:
    (root / "nl" / "return.received.subject.txt").unlink()
    (root / "en" / "return.received.subject.txt").unlink()


def use_unprovided_variable(root: Path) -> None:
    insert_in_content(root / "nl" / "return.requested.txt", "{{ refund.amount|money }}")


def use_unprovided_variable_in_partial(root: Path) -> None:
    append(root / "en" / "_partials" / "items.txt", "{{ exchange.carrier }}")


def break_sample_render(root: Path) -> None:
    insert_in_content(root / "nl" / "return.received.html", "{{ ret.colour }}")


def make_sms_too_long(root: Path) -> None:
    append(root / "en" / "return.label_created.sms.txt", " Thanks!" * 60)


def leave_block_open(root: Path) -> None:
    insert_in_content(root / "nl" / "return.cancelled.txt", "{% if ret.items %}")


def leave_tag_open(root: Path) -> None:
    append(root / "en" / "return.received.subject.txt", "{{ ret.id ")


def use_unknown_filter(root: Path) -> None:
    insert_in_content(
        root / "en" / "return.in_transit.txt", "{% if ret.items %}{{ ret.id|shout }}{% endif %}"
    )


def break_subject_line(root: Path) -> None:
    (root / "nl" / "return.cancelled.subject.txt").write_text("Geannuleerd\nBcc: x@example.com")


def add_stray_template(root: Path) -> None:
    (root / "nl" / "return.refunded.html").write_text("x")
    (root / "en" / "return.refunded.html").write_text("x")


def add_staff_sms(root: Path) -> None:
    (root / "nl" / "staff.stale_return.sms.txt").write_text("{{ brand.name }}: {{ ret.id }}")
    (root / "en" / "staff.stale_return.sms.txt").write_text("{{ brand.name }}: {{ ret.id }}")


def empty_text_part(root: Path) -> None:
    (root / "nl" / "return.cancelled.txt").write_text("{% if false %}x{% endif %}")


def render_none(root: Path) -> None:
    insert_in_content(root / "en" / "return.received.txt", "{{ none }}")


def refer_sms_to_the_email(root: Path) -> None:
    append(root / "en" / "return.received.sms.txt", " The details are in your E-mail.")


def show_rejection_reason_bare(root: Path) -> None:
    insert_in_content(root / "en" / "return.rejected.txt", "The reason: {{ rejection_reason }}")


def show_inspection_note_bare(root: Path) -> None:
    insert_in_content(root / "nl" / "return.inspected.html", "<p>{{ inspection['note'] }}</p>")


def replace_in(path: Path, old: str, new: str) -> None:
    source = path.read_text()
    assert old in source
    path.write_text(source.replace(old, new, 1))


def ask_a_parcel_in_store(root: Path) -> None:
    replace_in(
        root / "nl" / "_partials" / "next_step.txt",
        "2. Noem bij de kassa",
        "2. Neem je pakket mee en noem bij de kassa",
    )


def send_a_pickup_to_a_point(root: Path) -> None:
    replace_in(
        root / "en" / "_partials" / "next_step.txt",
        "3. Have your parcel ready:",
        "3. Take your parcel to a parcel point, or have it ready:",
    )


def send_an_unknown_method_to_the_till(root: Path) -> None:
    step = root / "en" / "_partials" / "next_step.txt"
    replace_in(step, " and quote your", " at the till and quote your")


def write_latin1(root: Path) -> None:
    (root / "nl" / "return.received.txt").write_bytes("Ideeën".encode("latin-1"))


DEFECTS: list[tuple[Callable[[Path], None], str]] = [
    (remove_in_one_locale, "en/return.cancelled.sms.txt: missing, but present in nl/"),
    (remove_partial_in_one_locale, "nl/_partials/policy.html: missing, but present in en/"),
    (
        remove_text_part,
        "nl/return.approved.html: email has no plain-text part (return.approved.txt is missing)",
    ),
    (
        remove_subject_everywhere,
        "en/return.received.subject.txt: missing (return.received needs a subject template)",
    ),
    (
        use_unprovided_variable,
        "nl/return.requested.txt: uses variable 'refund', which return.requested does not provide",
    ),
    (
        use_unprovided_variable_in_partial,
        "en/_partials/items.txt: uses variable 'exchange', which return.requested does not provide",
    ),
    (break_sample_render, "nl/return.received.html: sample 'card' fails to render: UndefinedError"),
    (make_sms_too_long, "en/return.label_created.sms.txt: sample 'card' is 5 SMS segments (max 3)"),
    (leave_block_open, "nl/return.cancelled.txt: line 9: Encountered unknown tag 'endblock'"),
    (leave_tag_open, "en/return.received.subject.txt: line 2: unexpected end of template"),
    (use_unknown_filter, "en/return.in_transit.txt: line 3: unknown filter 'shout'"),
    (
        break_subject_line,
        "nl/return.cancelled.subject.txt: sample 'card' fails to render: "
        "subject contains control character U+000A",
    ),
    (add_stray_template, "nl/return.refunded.html: not a template of any message kind"),
    (
        add_staff_sms,
        "nl/staff.stale_return.sms.txt: staff.stale_return is never sent by SMS, "
        "so this template is never used",
    ),
    (empty_text_part, "nl/return.cancelled.txt: plain-text part is empty for sample 'card'"),
    (render_none, "en/return.received.txt: sample 'card' renders a literal 'None'"),
    (write_latin1, "nl/return.received.txt: not UTF-8 text"),
    (
        show_rejection_reason_bare,
        "en/return.rejected.txt: line 3: shows the shop's free text 'rejection_reason' bare; "
        "show it only through shop_note(...), labelled as the shop's note",
    ),
    (
        show_inspection_note_bare,
        "nl/return.inspected.html: line 6: shows the shop's free text 'inspection.note' bare",
    ),
    (
        ask_a_parcel_in_store,
        "nl/return.approved.txt: sample 'in_store' says 'pakket' (a parcel), "
        "which is wrong for an in-store return",
    ),
    (
        send_a_pickup_to_a_point,
        "en/return.approved.txt: sample 'pickup' says 'Take your' (taking it somewhere), "
        "which is wrong for a pickup",
    ),
    (
        send_an_unknown_method_to_the_till,
        "en/return.approved.txt: sample 'minimal' says 'till' (a shop), "
        "which is wrong for a return without a method (it may be a pickup)",
    ),
    (
        refer_sms_to_the_email,
        "en/return.received.sms.txt: line 2: mentions an email ('E-mail'), "
        "but an SMS must be complete on its own",
    ),
]


@pytest.mark.parametrize(("plant", "line"), DEFECTS, ids=[plant.__name__ for plant, _ in DEFECTS])
def test_each_planted_defect_fails_the_check_with_one_line(
    templates: Path, plant: Callable[[Path], None], line: str
) -> None:
    # Given a copy of the shipped templates with one defect planted
    plant(templates)
    # When the copy is checked
    problems = check_templates(templates)
    # Then the check fails with a line naming the file and the problem
    assert problems, "the defect went unnoticed"
    assert any(problem.startswith(line) for problem in problems), problems
    # And every line names a file under the template directory
    assert all(problem.split(": ", 1)[0].split("/", 1)[0] in ("nl", "en") for problem in problems)


@pytest.mark.parametrize(
    ("text", "word"),
    [("Zie je email.", "email"), ("Zie je e-mail.", "e-mail"), ("Check je Mailbox.", "Mail")],
)
def test_an_sms_template_that_mentions_an_email_fails_the_check(
    templates: Path, text: str, word: str
) -> None:
    # Given a Dutch SMS template that sends the customer to their email, inside a condition
    sms = templates / "nl" / "return.cancelled.sms.txt"
    lines = sms.read_text().count("\n")
    append(sms, f"{{% if ret.id %}}\n {text}{{% endif %}}")
    # When the templates are checked
    problems = check_templates(templates)
    # Then exactly that mention is reported, on its own line
    assert problems == [
        f"nl/return.cancelled.sms.txt: line {lines + 2}: mentions an email ('{word}'), "
        "but an SMS must be complete on its own"
    ]


def test_a_word_wrong_for_the_way_of_returning_is_one_line_naming_file_and_sample(
    templates: Path,
) -> None:
    # Given the Dutch SMS of an in-store return on its way that thanks for a parcel
    replace_in(
        templates / "nl" / "return.in_transit.sms.txt",
        "bedankt voor het terugbrengen!",
        "bedankt voor je pakket!",
    )
    # When the templates are checked
    problems = check_templates(templates)
    # Then exactly that is reported, naming the template and the sample
    assert problems == [
        "nl/return.in_transit.sms.txt: sample 'in_store' says 'pakket' (a parcel), "
        "which is wrong for an in-store return"
    ]


def test_an_sms_may_use_the_customers_email_address_variable(templates: Path) -> None:
    # Given an SMS template that uses the customer.email variable, not the word
    append(templates / "en" / "return.cancelled.sms.txt", "{% if customer.email %} OK{% endif %}")
    # When the templates are checked
    # Then nothing is reported: only the template's own text is read
    assert check_templates(templates) == []


@pytest.mark.parametrize(
    "use",
    [
        "{% set reason = rejection_reason or '' %}{{ reason }}",
        "{{ rejection_reason if rejection_reason else '' }}",
        "{{ shop_note('x') }} {{ rejection_reason|upper }}",
    ],
)
def test_the_shops_free_text_shown_any_other_way_fails_the_check(templates: Path, use: str) -> None:
    # Given a Dutch rejection that shows the shop's reason other than through its label
    path = templates / "nl" / "return.rejected.txt"
    insert_in_content(path, '{% from "_partials/labels.txt" import shop_note %}' + use)
    # When the templates are checked
    problems = check_templates(templates)
    # Then exactly that use is reported, on its own line
    assert problems == [
        "nl/return.rejected.txt: line 3: shows the shop's free text 'rejection_reason' bare; "
        "show it only through shop_note(...), labelled as the shop's note"
    ]


def test_the_shops_free_text_may_decide_and_be_labelled(templates: Path) -> None:
    # Given templates that test the free text and show it through the labelling macro
    path = templates / "en" / "return.inspected.txt"
    text = '{% if inspection.note is not none %}{{ shop_note(inspection.note ~ ".") }}{% endif %}'
    insert_in_content(path, '{% from "_partials/labels.txt" import shop_note %}' + text)
    # When the templates are checked
    # Then nothing is reported
    assert check_templates(templates) == []


def test_a_missing_locale_directory_is_reported(templates: Path) -> None:
    # Given a template directory without English
    shutil.rmtree(templates / "en")
    # When it is checked
    problems = check_templates(templates)
    # Then the missing directory is named
    assert problems == ["en/: locale directory missing"]


def test_render_command_prints_an_email(templates: Path) -> None:
    # Given the shipped templates
    # When the refund email is rendered for the contract's example
    output = render_command(templates, "return.refund_issued", "nl", "email", "card")
    # Then subject, text and inlined HTML are printed
    assert output.startswith("Subject: Je terugbetaling van € 49,95 is onderweg\n")
    assert "----- text -----\nHoi Sanne," in output
    assert "----- html -----\n<!DOCTYPE html>" in output


def test_render_command_prints_an_sms_with_its_segments(templates: Path) -> None:
    # Given the shipped templates
    # When an SMS is rendered with the kind's first sample
    output = render_command(templates, "return.refund_issued", "en-GB", "sms", None)
    # Then the text and its segment count are printed
    assert output.startswith("De Wolwinkel: Hi Sanne, your refund of €49.95")
    assert output.endswith("-- 1 segment, GSM-7, 126 septets")


@pytest.mark.parametrize(
    ("kind", "locale", "sample", "match"),
    [
        ("return.closed", "nl", None, "unknown message kind"),
        ("return.received", "de", None, "unsupported locale"),
        ("return.received", "nl", "nope", "unknown sample 'nope'"),
    ],
)
def test_render_command_refuses_unknown_input(
    templates: Path, kind: str, locale: str, sample: str | None, match: str
) -> None:
    # Given an unknown kind, locale or sample
    # When the render command runs
    # Then it says what is unknown
    with pytest.raises(RenderError, match=match):
        render_command(templates, kind, locale, "email", sample)


def test_render_command_reports_a_broken_template(templates: Path) -> None:
    # Given a template that fails to render
    break_sample_render(templates)
    # When the render command runs
    # Then the render error names the template
    with pytest.raises(RenderError, match="nl/return.received.html"):
        render_command(templates, "return.received", "nl", "email", None)


def test_templates_render_uses_the_configured_brand_and_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a shop's brand name and its policy file
    policy = tmp_path / "policy.json"
    eligibility = {"nl": "Alleen ongedragen schoenen in de doos.", "en": "Unworn shoes, boxed."}
    policy.write_text(json.dumps({"inspection_days": 9, "eligibility": eligibility}))
    monkeypatch.setenv("NOTIFIER_BRAND_NAME", "Schoenenparadijs")
    monkeypatch.setenv("NOTIFIER_POLICY_FILE", str(policy))

    # When an SMS and an email are rendered by the command
    sms_status = main(
        ["templates", "render", "return.received", "--locale", "en", "--channel", "sms"]
    )
    sms = capsys.readouterr().out
    email_status = main(["templates", "render", "return.requested", "--locale", "en"])
    email = capsys.readouterr().out

    # Then they name the shop, not the sample brand, and state the shop's policy
    assert (sms_status, email_status) == (0, 0)
    assert sms.startswith("Schoenenparadijs: Hi Sanne")
    assert "within 9 working days" in sms
    assert "Unworn shoes, boxed." in email
    assert "Schoenenparadijs" in email
    assert "De Wolwinkel" not in sms + email


def test_templates_check_and_render_refuse_an_unreadable_policy_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a policy file that is not JSON
    policy = tmp_path / "policy.json"
    policy.write_text("{window_days: 14")
    monkeypatch.setenv("NOTIFIER_POLICY_FILE", str(policy))

    # When the templates are checked or one is rendered
    checked = main(["templates", "check"])
    rendered = main(["templates", "render", "return.requested"])

    # Then both stop with one line naming the variable, as the service does
    assert (checked, rendered) == (2, 2)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert all(line.startswith("notifier: NOTIFIER_POLICY_FILE: ") for line in lines)


def sendable() -> set[tuple[str, str]]:
    """Every (kind, channel) whose message some code path renders and sends.

    - An event's messages, by the channels of its type (``ROUTES``, the planner).
    - Reminders and nudges, by the channels a rule of their kind may have (the scheduler).
    - A customer's email that cannot reach them goes by SMS instead (the planner for a
      customer without email or who opted out of it, ``Dispatcher.fallback_to_sms`` after a
      bounce); staff alerts never fall back.
    - A webhook carries the email's subject and text, so it needs the email's templates.
    """
    pairs = {(kind, "email") for kind, route in ROUTES.items() if route.email or route.webhook}
    pairs |= {(kind, "sms") for kind, route in ROUTES.items() if route.email or route.sms}
    for kind, channels in RULE_CHANNELS.items():
        if channels & {"email", "webhook"}:
            pairs.add((kind, "email"))
        if "sms" in channels or ("email" in channels and not kind.startswith("staff.")):
            pairs.add((kind, "sms"))
    return {(kind, channel) for kind, channel in pairs if kind in ALL_KINDS}


def test_every_template_belongs_to_a_message_some_code_path_sends() -> None:
    # Given the kinds and channels the planner and the scheduler can send
    expected = {
        template_file(kind, part)
        for kind, channel in sendable()
        for part in (("sms",) if channel == "sms" else ("subject", "html", "text"))
    }

    # When the shipped templates of each locale are listed (not the layouts and partials)
    shipped = {
        locale: {p.name for p in (default_template_dir() / locale).iterdir() if p.is_file()}
        for locale in ("nl", "en")
    }

    # Then each locale has exactly the templates of those messages, and the renderer and
    # the lint know the same kinds and channels
    for names in shipped.values():
        assert {name for name in names if not name.startswith("_")} == expected
    assert {(kind, channel) for kind in ALL_KINDS for channel in kind_channels(kind)} == (
        sendable()
    )
