"""Rules on their own: due moments, catch-up, time zones, and what cancels a planned message."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from notifier.errors import ConfigurationError, RulesFileError
from notifier.scheduling.moments import (
    Facts,
    add_working_days,
    after_gap,
    due,
    lapsed,
    next_due,
)
from notifier.scheduling.rules import DEFAULT_RULES, Rule
from notifier.scheduling.rules_file import RuleSet, load_rules
from notifier.service import build
from notifier.settings import Settings

RULES = {rule.name: rule for rule in DEFAULT_RULES}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def label_created(**changes: object) -> Facts:
    facts = Facts(
        status="return.label_created",
        status_at=at("2026-11-20T10:00:00+01:00"),
        ship_by=date(2026, 12, 4),
        label_expires_at=at("2026-12-04T23:59:00+01:00"),
        outcome=None,
        timezone="Europe/Amsterdam",
    )
    return replace(facts, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-12-01T08:59:00+01:00", None),
        ("2026-12-01T09:00:00+01:00", "2026-12-01T09:00:00+01:00"),
        ("2026-12-02T20:00:00+01:00", "2026-12-01T09:00:00+01:00"),
        ("2026-12-03T09:00:00+01:00", "2026-12-03T09:00:00+01:00"),
        ("2026-12-04T23:59:00+01:00", "2026-12-03T09:00:00+01:00"),
        ("2026-12-05T00:00:00+01:00", None),
    ],
)
def test_the_ship_by_reminder_is_due_3_and_1_days_before_at_nine_local_time(
    now: str, expected: str | None
) -> None:
    # Given a return whose label was created, to be shipped by 4 December
    facts = label_created()

    # When the rule is asked what is due at a moment
    moment = due(RULES["ship_by"], facts, at(now))

    # Then only the latest passed moment counts, and none after the ship-by day
    assert (moment.at if moment else None) == (at(expected) if expected else None)


def test_a_due_moment_from_before_the_return_entered_its_status_is_not_sent() -> None:
    # Given a label created on 3 December at 10:00 for a ship-by date of 4 December
    facts = label_created(status_at=at("2026-12-03T10:00:00+01:00"))

    # When the rule looks at the same day at noon
    moment = due(RULES["ship_by"], facts, at("2026-12-03T12:00:00+01:00"))

    # Then the 09:00 reminder of that day is not sent: it predates the label
    assert moment is None


def test_due_moments_follow_the_customers_time_zone() -> None:
    # Given a customer in New York
    facts = label_created(timezone="America/New_York")

    # When the rule looks just before and at 09:00 New York time
    before = due(RULES["ship_by"], facts, at("2026-12-01T08:59:00-05:00"))
    on_time = due(RULES["ship_by"], facts, at("2026-12-01T09:00:00-05:00"))

    # Then the reminder is due at nine in the morning there, not in Amsterdam
    assert before is None
    assert on_time is not None and on_time.at == at("2026-12-01T09:00:00-05:00")


def test_the_key_of_a_due_moment_does_not_depend_on_the_time_zone() -> None:
    # Given the same return seen in two time zones
    here = due(RULES["ship_by"], label_created(), at("2026-12-03T20:00:00+01:00"))
    there = due(
        RULES["ship_by"], label_created(timezone="Asia/Tokyo"), at("2026-12-03T20:00:00+01:00")
    )

    # Then both name the same due moment, so a time zone change cannot send it twice
    assert here is not None and there is not None
    assert here.key == there.key == "2026-12-04/1d"


def test_a_nudge_due_at_night_waits_for_the_morning_but_a_staff_alert_does_not() -> None:
    # Given a return received at 23:30 Amsterdam time
    facts = label_created(
        status="return.received", status_at=at("2026-12-03T23:30:00+01:00"), ship_by=None
    )

    # When the rules look five days later, just after midnight
    nudge = due(RULES["stale_received"], facts, at("2026-12-08T23:45:00+01:00"))
    morning = due(RULES["stale_received"], facts, at("2026-12-09T09:00:00+01:00"))
    alert = due(RULES["staff_received"], facts, at("2026-12-08T23:45:00+01:00"))

    # Then the customer's nudge waits for 09:00; support is alerted at once
    assert nudge is None
    assert morning is not None and morning.at == at("2026-12-09T09:00:00+01:00")
    assert alert is not None and alert.at == at("2026-12-08T23:30:00+01:00")


@pytest.mark.parametrize(
    ("told", "sent_at"),
    [
        (None, "2026-12-08T09:00:00+01:00"),
        ("2026-12-07T08:00:00+01:00", "2026-12-08T09:00:00+01:00"),
        ("2026-12-07T12:00:00+01:00", "2026-12-08T12:00:00+01:00"),
        ("2026-12-07T23:30:00+01:00", "2026-12-09T09:00:00+01:00"),
    ],
)
def test_a_nudge_waits_a_day_after_the_last_message_and_then_for_daytime(
    told: str | None, sent_at: str
) -> None:
    # Given a nudge and a staff alert due on 8 December at 09:00
    facts = label_created(
        status="return.received", status_at=at("2026-12-03T09:00:00+01:00"), ship_by=None
    )
    nudge = due(RULES["stale_received"], facts, at("2026-12-08T09:30:00+01:00"))
    alert = due(RULES["staff_received"], facts, at("2026-12-08T09:30:00+01:00"))
    assert nudge is not None and alert is not None
    last = None if told is None else at(told)

    # When the customer was last told something about the return at ``told``
    nudged = after_gap(nudge, facts, last, timedelta(days=1))
    alerted = after_gap(alert, facts, last, timedelta(days=1))

    # Then the nudge goes a day after it, in daytime; the staff alert is not moved
    assert nudged == at(sent_at)
    assert alerted == alert.at


def test_the_refund_nudge_needs_an_accepted_inspection() -> None:
    # Given two returns inspected four days ago, one accepted, one rejected
    since = at("2026-12-01T10:00:00+01:00")
    accepted = label_created(status="return.inspected", status_at=since, outcome="accepted")
    rejected = replace(accepted, outcome="rejected")
    now = at("2026-12-05T10:00:00+01:00")

    # Then only the accepted one is waiting for a refund
    assert due(RULES["stale_refund"], accepted, now) is not None
    assert due(RULES["stale_refund"], rejected, now) is None
    assert due(RULES["staff_refund"], rejected, now) is None


def test_the_label_reminder_is_two_calendar_days_before_expiry() -> None:
    facts = label_created()

    assert due(RULES["label_expiring"], facts, at("2026-12-02T08:59:00+01:00")) is None
    moment = due(RULES["label_expiring"], facts, at("2026-12-02T09:00:00+01:00"))
    assert moment is not None and moment.key.endswith("/2d")
    assert due(RULES["label_expiring"], facts, at("2026-12-05T00:00:00+01:00")) is None


@pytest.mark.parametrize(
    ("current", "reason"),
    [
        ({"status": "return.received"}, "return moved on to return.received"),
        ({"ship_by": date(2026, 12, 10)}, "ship-by date changed to 2026-12-10"),
        ({}, None),
    ],
)
def test_a_planned_reminder_lapses_when_the_return_moved_on(
    current: dict[str, object], reason: str | None
) -> None:
    # Given a ship-by reminder planned with the return's snapshot
    data = {"return": {"ship_by": "2026-12-04"}, "reminder": {"due_at": "x", "rule": "ship_by-3d"}}

    # When it is about to be sent and the return is as given
    why = lapsed(
        RULES["ship_by"], data, replace(label_created(), **current), at("2026-12-01T09:01:00+01:00")
    )

    # Then it is skipped, with the reason, only when no longer true
    assert why == reason


def test_a_planned_nudge_lapses_when_the_return_left_its_status_and_came_back() -> None:
    facts = label_created(status="return.received", status_at=at("2026-12-06T10:00:00+01:00"))
    data = {"stale": {"status": "return.received", "since": "2026-12-01T09:00:00+00:00"}}

    why = lapsed(RULES["stale_received"], data, facts, at("2026-12-06T11:00:00+01:00"))

    assert why is not None and why.startswith("return moved on to return.received again")


def pickup(**changes: object) -> Facts:
    """A pickup booked for Thursday 3 December, 09:00-13:00; ship-by date Friday 4 December."""
    facts = label_created(method="pickup", pickup_on=date(2026, 12, 3), pickup_until=time(13))
    return replace(facts, **changes)  # type: ignore[arg-type]


def test_an_in_store_return_gets_no_label_reminder() -> None:
    # Given two returns with a label that expires on 4 December, one of them in store
    parcel = label_created(method="drop_off")
    in_store = label_created(method="in_store")

    # When the label rule looks two days before
    now = at("2026-12-02T09:30:00+01:00")

    # Then only the parcel's label is worth a reminder: an in-store return needs none
    assert due(RULES["label_expiring"], parcel, now) is not None
    assert due(RULES["label_expiring"], in_store, now) is None
    assert next_due(RULES["label_expiring"], in_store, at("2026-11-20T10:00:00+01:00")) is None


def test_a_label_reminder_is_not_due_once_the_ship_by_date_has_passed() -> None:
    # Given a label valid until 10 December for a return to be shipped by 4 December
    facts = label_created(label_expires_at=at("2026-12-10T23:59:00+01:00"))

    # When the label rule looks two days before the label expires
    moment = due(RULES["label_expiring"], facts, at("2026-12-08T09:30:00+01:00"))
    planned = {
        "return": {"ship_by": "2026-12-04", "label": {"expires_at": "2026-12-10T23:59:00+01:00"}}
    }

    # Then nothing is due (it would send the customer to a ship-by date in the past), and one
    # planned before is skipped for that reason
    assert moment is None
    assert lapsed(RULES["label_expiring"], planned, facts, at("2026-12-05T09:00:00+01:00")) == (
        "the ship-by date has passed"
    )


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-11-30T08:59:00+01:00", None),
        ("2026-11-30T09:00:00+01:00", "2026-11-30T09:00:00+01:00"),
        ("2026-12-02T09:00:00+01:00", "2026-12-02T09:00:00+01:00"),
        ("2026-12-03T12:59:00+01:00", "2026-12-02T09:00:00+01:00"),
        ("2026-12-03T13:00:00+01:00", None),
        ("2026-12-04T09:00:00+01:00", None),
    ],
)
def test_a_booked_pickup_is_reminded_before_the_carrier_comes(
    now: str, expected: str | None
) -> None:
    # Given a pickup on 3 December until 13:00, for a return to be shipped by 4 December
    facts = pickup()

    # When the ship-by rule is asked what is due
    moment = due(RULES["ship_by"], facts, at(now))

    # Then its days count to the pickup, and nothing is due once the window has closed
    assert (moment.at if moment else None) == (at(expected) if expected else None)
    if moment is not None:
        assert moment.key.startswith("pickup:2026-12-03/")


def test_a_pickup_without_a_date_is_reminded_of_the_ship_by_date() -> None:
    facts = label_created(method="pickup")

    moment = due(RULES["ship_by"], facts, at("2026-12-03T09:30:00+01:00"))

    assert moment is not None and moment.key == "2026-12-04/1d"


@pytest.mark.parametrize(
    ("current", "reason"),
    [
        ({"pickup_on": date(2026, 12, 4)}, "pickup date changed to 2026-12-04"),
        ({"method": "drop_off"}, "return method changed to drop_off"),
        ({}, None),
    ],
)
def test_a_planned_pickup_reminder_lapses_when_the_pickup_changed(
    current: dict[str, object], reason: str | None
) -> None:
    data = {
        "return": {"method": "pickup", "ship_by": "2026-12-04", "pickup": {"date": "2026-12-03"}}
    }

    why = lapsed(RULES["ship_by"], data, pickup(**current), at("2026-12-02T09:01:00+01:00"))

    assert why == reason


def test_a_planned_pickup_reminder_lapses_once_the_carrier_has_come() -> None:
    data = {
        "return": {"method": "pickup", "ship_by": "2026-12-04", "pickup": {"date": "2026-12-03"}}
    }

    why = lapsed(RULES["ship_by"], data, pickup(), at("2026-12-03T13:05:00+01:00"))

    assert why == "the pickup has passed"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-12-04T23:59:00+01:00", None),
        ("2026-12-05T08:59:00+01:00", None),
        ("2026-12-05T09:00:00+01:00", "2026-12-05T09:00:00+01:00"),
        ("2026-12-20T09:00:00+01:00", "2026-12-05T09:00:00+01:00"),
    ],
)
def test_the_expiry_is_due_the_morning_after_the_ship_by_date(
    now: str, expected: str | None
) -> None:
    # Given a return still waiting for its parcel, to be shipped by 4 December
    facts = label_created()

    # When the expiry rule is asked what is due
    moment = due(RULES["expired"], facts, at(now))

    # Then it is due once, at 09:00 the next morning, whenever the scheduler comes by
    assert (moment.at if moment else None) == (at(expected) if expected else None)
    if moment is not None:
        assert moment.key == "2026-12-04/1d"


@pytest.mark.parametrize(
    ("status", "expired"),
    [
        ("return.requested", True),
        ("return.approved", True),
        ("return.label_created", True),
        ("return.in_transit", False),
        ("return.received", False),
        ("return.cancelled", False),
    ],
)
def test_only_a_return_with_nothing_handed_in_expires(status: str, expired: bool) -> None:
    facts = label_created(status=status)

    moment = due(RULES["expired"], facts, at("2026-12-05T10:00:00+01:00"))

    assert (moment is not None) is expired


def test_a_return_approved_after_its_ship_by_date_does_not_expire_at_once() -> None:
    # Given a return approved on 6 December with a ship-by date of 4 December
    facts = label_created(status_at=at("2026-12-06T10:00:00+01:00"))

    # Then the shop gave it more time: no expiry is due for a moment before the approval
    assert due(RULES["expired"], facts, at("2026-12-06T11:00:00+01:00")) is None


def test_a_planned_expiry_lapses_when_the_parcel_was_handed_in_or_the_date_moved() -> None:
    data = {"return": {"ship_by": "2026-12-04"}, "reminder": {"rule": "expired-1d"}}
    now = at("2026-12-05T09:01:00+01:00")

    assert lapsed(RULES["expired"], data, label_created(), now) is None
    moved_on = label_created(status="return.in_transit")
    assert lapsed(RULES["expired"], data, moved_on, now) == "return moved on to return.in_transit"
    later = label_created(ship_by=date(2026, 12, 11))
    assert lapsed(RULES["expired"], data, later, now) == "ship-by date changed to 2026-12-11"


def test_the_rule_set_looks_up_the_rule_by_its_label() -> None:
    rules = RuleSet(DEFAULT_RULES)
    row = SimpleNamespace(
        status="return.received",
        status_at=at("2026-11-20T10:00:00+01:00"),
        ship_by=date(2026, 12, 4),
        label_expires_at=None,
        snapshot={},
    )
    notification = SimpleNamespace(rule="ship_by-1d", data={}, timezone="Europe/Amsterdam")

    assert rules.lapsed(notification, row, at("2026-12-03T09:00:00+01:00")) == (
        "return moved on to return.received"
    )
    assert rules.lapsed(notification, None, at("2026-12-03T09:00:00+01:00")) == (
        "the return is unknown"
    )
    gone = SimpleNamespace(rule="ship_by_old-1d", data={}, timezone="Europe/Amsterdam")
    assert rules.lapsed(gone, row, at("2026-12-03T09:00:00+01:00")) == (
        "its rule is no longer configured"
    )


def test_a_rules_file_changes_disables_and_adds_rules(tmp_path: Path) -> None:
    # Given a rules file
    path = tmp_path / "rules.json"
    path.write_text(
        json.dumps(
            {
                "rules": [
                    {"name": "ship_by", "days": [5, 2], "at": "10:30"},
                    {"name": "staff_requested", "enabled": False},
                    {
                        "name": "stale_in_transit",
                        "kind": "nudge.stale",
                        "statuses": ["return.in_transit"],
                        "days": [7],
                    },
                ]
            }
        )
    )

    # When it is loaded
    rules = {rule.name: rule for rule in load_rules(path)}

    # Then the built-in rules are changed field by field
    assert rules["ship_by"].days == (5, 2)
    assert rules["ship_by"].at.isoformat() == "10:30:00"
    assert rules["ship_by"].channels == RULES["ship_by"].channels
    assert "staff_requested" not in rules
    assert rules["stale_in_transit"] == Rule(
        "stale_in_transit", "nudge.stale", ("return.in_transit",), (7,), ("email",)
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "Bad Name"}, "rules[0] needs a name"),
        ({"name": "new_rule", "days": [1]}, "rules[0] is a new rule and needs kind"),
        ({"name": "ship_by", "days": []}, "rules[0].days must be a non-empty list"),
        ({"name": "ship_by", "days": [True]}, "rules[0].days must be"),
        ({"name": "stale_received", "days": [0]}, "whole days from 1 to 365"),
        ({"name": "expired", "days": [0]}, "whole days from 1 to 365"),
        ({"name": "ship_by", "statuses": ["return.shipped"]}, "rules[0].statuses must be"),
        ({"name": "staff_received", "channels": ["sms"]}, "rules[0].channels must be"),
        ({"name": "ship_by", "at": "9am"}, "rules[0].at must be HH:MM"),
        ({"name": "ship_by", "colour": "red"}, "unknown fields: colour"),
    ],
)
def test_a_bad_rule_is_refused_with_where_and_what(
    tmp_path: Path, entry: dict[str, object], message: str
) -> None:
    # Given a rules file with one bad entry
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": [entry]}))

    # When it is loaded
    with pytest.raises(RulesFileError) as raised:
        load_rules(path)

    # Then the error names the setting, the file, the entry and what is wrong with it
    assert str(raised.value).startswith(f"NOTIFIER_RULES_FILE: {path}: rules[0]")
    assert message in str(raised.value)
    assert raised.value.path == path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot be read: No such file or directory"),
        ("{not json", "not valid JSON: "),
        (b"\xff\xfe", "not valid JSON: "),
        ('{"rules": {}}', 'must be a JSON object with a "rules" list'),
        ("[]", 'must be a JSON object with a "rules" list'),
    ],
)
def test_a_rules_file_that_cannot_be_read_is_refused(
    tmp_path: Path, content: str | bytes | None, message: str
) -> None:
    # Given a rules file that is missing, not JSON, or without a list of rules
    path = tmp_path / "rules.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)

    # When it is loaded
    with pytest.raises(RulesFileError) as raised:
        load_rules(path)

    # Then the error names the setting, the file and what is wrong with it
    assert str(raised.value).startswith(f"NOTIFIER_RULES_FILE: {path}: {message}")
    assert "\n" not in str(raised.value)


def test_a_malformed_rules_file_stops_start_up_naming_the_variable(
    settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "rules.json"
    path.write_text('{"rules": {}}')

    with pytest.raises(ConfigurationError, match="^NOTIFIER_RULES_FILE: .*rules"):
        build(replace(settings, rules_file=path))


def test_working_days_skip_the_weekend() -> None:
    # Friday 4 December 2026 plus two working days is Tuesday 8 December
    assert add_working_days(date(2026, 12, 4), 2) == date(2026, 12, 8)
    assert add_working_days(date(2026, 12, 7), 0) == date(2026, 12, 7)
