"""The calendar event an email carries: the last day to hand a return in, or the carrier's
pickup window, as an RFC 5545 attachment in the customer's language and time zone."""

from __future__ import annotations

import copy
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from notifier.rendering import (
    CALENDAR_KINDS,
    CONTRACT_EVENT,
    CUSTOMER_KINDS,
    DEFAULT_POLICY,
    SAMPLE_BRAND,
    Attachment,
    RenderedMessage,
    Renderer,
    RenderError,
    check_templates,
    default_template_dir,
    render_command,
)

HOST = "retouren.wolwinkel.example"
#: When the samples' messages go out: two weeks before the contract's ship-by date.
NOW = datetime(2026, 11, 20, 10, 15, tzinfo=UTC)
CONTENT_TYPE = "text/calendar; charset=utf-8; method=PUBLISH"
PICKUP = {"carrier": "DHL", "date": "2026-12-01", "from": "09:00", "to": "13:00"}
AMSTERDAM, LONDON = ZoneInfo("Europe/Amsterdam"), ZoneInfo("Europe/London")


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(default_template_dir(), SAMPLE_BRAND, calendar_host=HOST)


def event(kind: str, **changes: Any) -> dict[str, Any]:
    """The contract's event as ``kind``, its return changed as given."""
    data = copy.deepcopy(CONTRACT_EVENT)
    data["type"] = kind
    data["return"].update(changes)
    if kind.startswith("reminder."):
        data["reminder"] = {"due_at": "2026-12-02T09:00:00+01:00", "rule": "ship_by-2d"}
    return data


def render(
    renderer: Renderer,
    kind: str,
    data: dict[str, Any],
    *,
    locale: str = "nl",
    timezone: str = "Europe/Amsterdam",
    channel: str = "email",
    now: datetime = NOW,
) -> RenderedMessage:
    return renderer.render(
        kind, channel, data, locale=locale, timezone=timezone, policy=DEFAULT_POLICY, now=now
    )


def the_event(message: RenderedMessage) -> tuple[Attachment, icalendar.Calendar, icalendar.Event]:
    """The message's one attachment, its calendar and that calendar's one event."""
    [attachment] = message.attachments
    calendar = icalendar.Calendar.from_ical(attachment.content)
    [vevent] = calendar.walk("VEVENT")
    return attachment, calendar, vevent


def test_the_pickup_window_is_a_timed_event_in_the_customers_zone(renderer: Renderer) -> None:
    # Given a pickup return whose carrier comes on 1 December between 09:00 and 13:00
    data = event("return.label_created", method="pickup", pickup=PICKUP, drop_off=None)

    # When its label email is rendered for a customer in Amsterdam
    attachment, calendar, vevent = the_event(render(renderer, "return.label_created", data))

    # Then it carries that window, 09:00-13:00 Amsterdam time, which is 08:00-12:00 UTC
    assert (attachment.filename, attachment.content_type) == ("retour-RMA-1001.ics", CONTENT_TYPE)
    start, end = vevent.decoded("DTSTART"), vevent.decoded("DTEND")
    assert (start, end) == (
        datetime(2026, 12, 1, 9, 0, tzinfo=AMSTERDAM),
        datetime(2026, 12, 1, 13, 0, tzinfo=AMSTERDAM),
    )
    assert (start.astimezone(UTC).hour, end.astimezone(UTC).hour) == (8, 12)
    assert b"DTSTART;TZID=Europe/Amsterdam:20261201T090000\r\n" in attachment.content
    # And the zone is described in the calendar itself
    assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == ["Europe/Amsterdam"]
    assert calendar.get_missing_tzids() == set()
    # And it says who comes and what to have ready, in Dutch
    assert str(vevent["SUMMARY"]) == "De Wolwinkel: DHL haalt je retour RMA-1001 op"
    assert str(vevent["DESCRIPTION"]) == (
        "DHL haalt je pakket bij je op. Houd het klaar: goed ingepakt, met het retourlabel op "
        "de doos.\nJe retourlabel: https://labels.example/RMA-1001.pdf"
    )
    assert "LOCATION" not in vevent and "TRANSP" not in vevent
    assert str(vevent["UID"]) == f"pickup-RMA-1001@{HOST}"
    # And it reminds the customer the day before at 09:00
    [alarm] = vevent.walk("VALARM")
    assert start + alarm.decoded("TRIGGER") == datetime(2026, 11, 30, 9, 0, tzinfo=AMSTERDAM)


def test_a_customer_in_london_gets_the_window_in_london_time(renderer: Renderer) -> None:
    # Given the same pickup for a customer in London
    data = event("return.approved", method="pickup", pickup=PICKUP, drop_off=None)

    # When the English email is rendered in their zone
    attachment, calendar, vevent = the_event(
        render(renderer, "return.approved", data, locale="en", timezone="Europe/London")
    )

    # Then the window is 09:00-13:00 London time (the same in UTC in December)
    start, end = vevent.decoded("DTSTART"), vevent.decoded("DTEND")
    assert (start, end) == (
        datetime(2026, 12, 1, 9, 0, tzinfo=LONDON),
        datetime(2026, 12, 1, 13, 0, tzinfo=LONDON),
    )
    assert start.astimezone(UTC) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    # And it speaks English, file name included
    assert attachment.filename == "return-RMA-1001.ics"
    assert str(vevent["SUMMARY"]) == "De Wolwinkel: DHL collects your return RMA-1001"


def test_the_last_day_is_an_all_day_event_with_a_reminder_the_day_before(
    renderer: Renderer,
) -> None:
    # Given an approved drop-off return with a ship-by date, a label and a status page
    data = event("return.approved", status_url="https://shop.example/retour/RMA-1001")

    # When its email is rendered
    attachment, calendar, vevent = the_event(render(renderer, "return.approved", data))

    # Then it carries 4 December as a whole day that keeps the customer's time free
    assert vevent.decoded("DTSTART") == date(2026, 12, 4)
    assert vevent.decoded("DTEND") == date(2026, 12, 5)
    assert b"DTSTART;VALUE=DATE:20261204\r\n" in attachment.content
    assert str(vevent["TRANSP"]) == "TRANSPARENT"
    assert calendar.walk("VTIMEZONE") == []
    # And it says what to do, where, with the label and the status page
    assert str(vevent["SUMMARY"]) == "De Wolwinkel: laatste dag om je retour RMA-1001 in te leveren"
    assert str(vevent["DESCRIPTION"]) == (
        "Pak je artikelen goed in, plak het retourlabel op de doos en breng je pakket naar "
        "PostNL-punt Albert Heijn (Marktstraat 1, Utrecht).\n"
        "Je retourlabel: https://labels.example/RMA-1001.pdf\n"
        "Je retour volgen: https://shop.example/retour/RMA-1001"
    )
    assert str(vevent["LOCATION"]) == "PostNL-punt Albert Heijn, Marktstraat 1, Utrecht"
    assert str(vevent["URL"]) == "https://shop.example/retour/RMA-1001"
    # And its alarm rings at 09:00 on the day before, wherever the customer's calendar is
    [alarm] = vevent.walk("VALARM")
    assert (str(alarm["ACTION"]), alarm.decoded("TRIGGER")) == ("DISPLAY", -timedelta(hours=15))


def test_the_calendar_is_published_as_rfc_5545_writes_it(renderer: Renderer) -> None:
    # Given an approved return
    message = render(renderer, "return.approved", event("return.approved"))

    # When its attachment is read as a calendar
    attachment, calendar, vevent = the_event(message)

    # Then it is one published event, stamped in UTC, with CRLF lines of at most 75 octets
    assert (str(calendar["VERSION"]), str(calendar["METHOD"])) == ("2.0", "PUBLISH")
    assert str(calendar["PRODID"]) == "-//De Wolwinkel//notifier//NL"
    assert vevent.decoded("DTSTAMP") == NOW
    assert b"DTSTAMP:20261120T101500Z\r\n" in attachment.content
    lines = attachment.content.split(b"\r\n")
    assert lines[-1] == b"" and all(b"\n" not in line for line in lines)
    assert max(len(line) for line in lines) <= 75
    assert [line for line in lines if line.startswith(b" ")]  # long lines are folded


def test_the_uid_is_the_same_in_every_message_about_the_returns_last_day(
    renderer: Renderer,
) -> None:
    # Given the approval, the label and the reminder of one return, a week apart
    messages = [
        render(renderer, "return.approved", event("return.approved")),
        render(renderer, "return.label_created", event("return.label_created"), locale="en"),
        render(
            renderer,
            "reminder.ship_by",
            event("reminder.ship_by"),
            now=NOW + timedelta(days=7),
        ),
    ]

    # When their calendar events are read
    events = [the_event(message)[2] for message in messages]

    # Then they are one event to a calendar, updated by the newer stamp
    assert {str(vevent["UID"]) for vevent in events} == {f"ship-by-RMA-1001@{HOST}"}
    assert events[2].decoded("DTSTAMP") > events[0].decoded("DTSTAMP")
    # And another return's last day is another event
    other = event("return.approved", id="RMA-1002")
    assert str(the_event(render(renderer, "return.approved", other))[2]["UID"]) == (
        f"ship-by-RMA-1002@{HOST}"
    )


def test_a_store_address_with_a_comma_a_semicolon_and_a_newline_is_escaped(
    renderer: Renderer,
) -> None:
    # Given an in-store return whose store is written over two lines, with , and ;
    store = {
        "name": "De Wolwinkel, Utrecht",
        "address": "Oudegracht 12; achteringang\n3511 AL Utrecht",
        "opening_hours": "ma-za 10:00-18:00",
    }
    data = event("return.approved", method="in_store", store=store, label=None)

    # When its email is rendered
    attachment, _, vevent = the_event(render(renderer, "return.approved", data))

    # Then the location is one line, escaped as RFC 5545 asks, and reads back unchanged
    location = "De Wolwinkel, Utrecht, Oudegracht 12; achteringang, 3511 AL Utrecht"
    assert str(vevent["LOCATION"]) == location
    unfolded = attachment.content.replace(b"\r\n ", b"")
    assert (
        b"LOCATION:De Wolwinkel\\, Utrecht\\, Oudegracht 12\\; achteringang\\, 3511 AL Utrecht\r\n"
        in unfolded
    )
    # And the description's lines are escaped newlines of one property
    assert str(vevent["DESCRIPTION"]) == (
        "Neem je artikelen mee naar De Wolwinkel, Utrecht (Oudegracht 12; achteringang, "
        "3511 AL Utrecht) en noem bij de kassa je retournummer RMA-1001.\n"
        "Openingstijden: ma-za 10:00-18:00"
    )
    assert b"RMA-1001.\\nOpeningstijden: ma-za 10:00-18:00\r\n" in unfolded
    assert "URL" not in vevent


@pytest.mark.parametrize(
    ("return_id", "filename"),
    [
        ("RMA 10/01", "retour-RMA-10-01.ics"),
        ("../../etc/passwd", "retour-etc-passwd.ics"),
        ("Zoë-Ærø 7", "retour-Zoe-r-7.ics"),
        ('a"b\\c;d\r\ne', "retour-a-b-c-d-e.ics"),
        ("退货", "retour.ics"),
        ("X" * 200, f"retour-{'X' * 64}.ics"),
    ],
)
def test_a_crafted_return_id_gives_a_safe_file_name(
    renderer: Renderer, return_id: str, filename: str
) -> None:
    # Given a return whose id holds spaces, slashes, quotes or letters outside ASCII
    data = event("return.approved", id=return_id)

    # When its email is rendered
    attachment, _, vevent = the_event(render(renderer, "return.approved", data))

    # Then the file name keeps only safe characters
    assert attachment.filename == filename
    # And the UID still tells this return from any other
    assert str(vevent["UID"]).startswith("ship-by-") and str(vevent["UID"]).endswith(f"@{HOST}")
    assert " " not in str(vevent["UID"]) and "/" not in str(vevent["UID"])


#: Each way of returning, as the event describes it.
METHODS: dict[str, dict[str, Any]] = {
    "drop_off": {"method": "drop_off"},
    "pickup": {"method": "pickup", "drop_off": None},
    "pickup_window": {"method": "pickup", "pickup": PICKUP, "drop_off": None},
    "in_store": {"method": "in_store", "store": {"name": "De Wolwinkel Utrecht"}},
    "unknown": {"method": None},
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
def test_only_the_emails_that_set_a_date_carry_one(
    renderer: Renderer, kind: str, method: str
) -> None:
    # Given an event of each kind for each way of returning, with every field it may need
    data = event(kind, **METHODS[method])
    data["stale"] = {"status": "return.received", "since": "2026-11-10T10:00:00+01:00", "days": 6}
    if kind == "reminder.label_expiring":
        data["reminder"] = {"due_at": "2026-12-02T09:00:00+01:00", "rule": "label_expiring-2d"}
    if kind == "return.expired":
        data["reminder"] = {"due_at": "2026-12-05T09:00:00+01:00", "rule": "expired"}

    # When its email and SMS are rendered
    email = render(renderer, kind, data)
    sms = render(renderer, kind, data, channel="sms")

    # Then only an email that sets a deadline or an appointment carries a calendar event
    expected = ["retour-RMA-1001.ics"] if kind in CALENDAR_KINDS else []
    assert [a.filename for a in email.attachments] == expected
    assert sms.attachments == ()


@pytest.mark.parametrize("kind", sorted(CALENDAR_KINDS))
def test_no_event_without_a_date_or_once_it_is_over(renderer: Renderer, kind: str) -> None:
    # Given a return without a ship-by date
    undated = event(kind, ship_by=None)
    # And one whose last day was yesterday, and a pickup that ended an hour ago
    late = NOW.replace(month=12, day=5)
    collected = datetime(2026, 12, 1, 13, 0, tzinfo=AMSTERDAM) + timedelta(hours=1)
    pickup = event(kind, method="pickup", pickup=PICKUP)

    # When their emails are rendered
    # Then none carries an event
    if kind != "reminder.ship_by":  # a ship-by reminder needs its date to render at all
        assert render(renderer, kind, undated).attachments == ()
    assert render(renderer, kind, event(kind), now=late).attachments == ()
    assert render(renderer, kind, pickup, now=collected).attachments == ()
    # But the last day itself still carries it, and a pickup that has not ended yet
    last_day = datetime(2026, 12, 4, 20, 0, tzinfo=AMSTERDAM)
    assert len(render(renderer, kind, event(kind), now=last_day).attachments) == 1
    assert len(render(renderer, kind, pickup, now=collected - timedelta(hours=2)).attachments) == 1


def test_the_alarm_is_left_out_once_its_moment_has_passed(renderer: Renderer) -> None:
    # Given the ship-by reminder on the last day itself, at 09:00
    data = event("reminder.ship_by")
    now = datetime(2026, 12, 4, 9, 0, tzinfo=AMSTERDAM)

    # When it is rendered
    _, _, vevent = the_event(render(renderer, "reminder.ship_by", data, now=now))

    # Then the event is there, without an alarm for the day before
    assert vevent.decoded("DTSTART") == date(2026, 12, 4)
    assert vevent.walk("VALARM") == []


def test_a_pickup_without_a_window_is_its_whole_day(renderer: Renderer) -> None:
    # Given a pickup on 1 December with no times and no carrier named anywhere
    pickup = {"date": "2026-12-01"}
    data = event("return.approved", method="pickup", pickup=pickup, label=None, drop_off=None)

    # When its English email is rendered
    _, calendar, vevent = the_event(render(renderer, "return.approved", data, locale="en"))

    # Then the event is that whole day, saying the carrier comes
    assert vevent.decoded("DTSTART") == date(2026, 12, 1)
    assert calendar.walk("VTIMEZONE") == []
    assert str(vevent["SUMMARY"]) == "De Wolwinkel: your return RMA-1001 is collected"
    assert str(vevent["DESCRIPTION"]) == (
        "The carrier will collect your parcel from you. Have it ready: packed securely, with "
        "the return label on the box."
    )


def test_a_pickup_time_that_is_not_a_time_is_named(renderer: Renderer) -> None:
    # Given a pickup whose start is not HH:MM
    data = event("return.approved", method="pickup", pickup={**PICKUP, "from": "9 uur"})
    # When its email is rendered
    # Then the render fails naming the field, by email and by SMS (which names the window)
    for channel in ("email", "sms"):
        with pytest.raises(RenderError, match=r"return\.pickup\.from must be a clock time"):
            render(renderer, "return.approved", data, channel=channel)


def copy_templates(tmp_path: Path) -> Path:
    target = tmp_path / "templates"
    shutil.copytree(default_template_dir(), target)
    return target


def include_calendar(templates: Path, kind: str) -> None:
    """Include the calendar partial at the end of ``kind``'s text and HTML content."""
    for locale in ("nl", "en"):
        for suffix in ("txt", "html"):
            path = templates / locale / f"{kind}.{suffix}"
            include = f'{{% include "_partials/calendar.{suffix}" %}}\n{{% endblock %}}'
            source = path.read_text(encoding="utf-8")
            head, _, tail = source.rpartition("{% endblock %}")
            path.write_text(head + include + tail, encoding="utf-8")


def test_the_calendar_partial_names_the_attachment(tmp_path: Path) -> None:
    # Given templates of the kinds that carry an event which include the partial
    templates = copy_templates(tmp_path)
    for kind in CALENDAR_KINDS:
        include_calendar(templates, kind)
    renderer = Renderer(templates, SAMPLE_BRAND)

    # When the check runs and their emails are rendered
    problems = check_templates(templates)
    last_day = render(renderer, "return.approved", event("return.approved"))
    pickup = event("return.label_created", method="pickup", pickup=PICKUP)
    window = render(renderer, "return.label_created", pickup, locale="en")
    passed = render(renderer, "return.approved", event("return.approved", ship_by="2026-11-01"))

    # Then the templates are fine, and each email names its own attachment
    assert problems == []
    assert "Zet de laatste dag in je agenda: open de bijlage retour-RMA-1001.ics." in (
        last_day.text
    )
    assert last_day.html is not None
    assert "open de bijlage <strong>retour-RMA-1001.ics</strong>." in last_day.html
    assert "Add the pickup to your calendar: open the attached return-RMA-1001.ics." in (
        window.text
    )
    # And an email without an event says nothing about one
    assert passed.attachments == () and "agenda" not in passed.text


def test_a_kind_without_an_event_may_not_include_the_partial(tmp_path: Path) -> None:
    # Given the received message's templates including the calendar partial
    templates = copy_templates(tmp_path)
    include_calendar(templates, "return.received")

    # When the check runs
    problems = check_templates(templates)

    # Then it says the kind provides no calendar event
    assert (
        "nl/_partials/calendar.txt: uses variable 'calendar', which return.received does not "
        "provide" in problems
    )


def test_templates_render_prints_the_attachment() -> None:
    # When a message with a calendar event is rendered on the command line
    printed = render_command(default_template_dir(), "return.approved", "nl", "email", "card")

    # Then its file follows the message, as text
    assert f"----- attachment retour-RMA-1001.ics ({CONTENT_TYPE}) -----\nBEGIN:VCALENDAR\n" in (
        printed
    )
    assert printed.endswith("END:VCALENDAR")
