"""The scheduler against a real database, driven by a controllable clock (no sleeping)."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select, update

from notifier import cli, db, processes
from notifier.dispatch.planner import Planner
from notifier.dispatch.preferences import Preferences
from notifier.http.app import create_app
from notifier.http.schemas import EventIn
from notifier.queue.relay import Relay
from notifier.scheduling import firings as firings_module
from notifier.scheduling.moments import daytime
from notifier.scheduling.rules import DEFAULT_RULES
from notifier.scheduling.rules_file import RuleSet, merge_rules
from notifier.scheduling.scheduler import Scheduler, _ahead
from notifier.service import DEFAULT_TIMEZONE, Service
from notifier.settings import QuietHours, Settings
from tests.factories import event

STAFF = "support@winkel.example"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def post(
    service: Service,
    type: str,
    event_id: str,
    occurred_at: str,
    *,
    return_id: str = "RMA-1001",
    ship_by: str | None = "2026-12-04",
    expires_at: str | None = None,
    **changes: Any,
) -> None:
    """Accept one event (without dispatching it: only the scheduler's messages matter here)."""
    body = event(type, event_id, return_id=return_id, occurred_at=occurred_at, **changes)
    body["return"]["ship_by"] = ship_by
    body["return"]["label"]["expires_at"] = expires_at
    service.intake.accept("shop", EventIn.model_validate(body).payload())


def approved(service: Service, count: int) -> None:
    """``count`` returns approved on 20 November (RMA-000, RMA-001, ...), to be shipped by
    4 December."""
    for number in range(count):
        post(
            service,
            "return.approved",
            f"e{number}",
            "2026-11-20T10:00:00+01:00",
            return_id=f"RMA-{number:03}",
        )


def scheduled(service: Service, **where: Any) -> list[Any]:
    n = db.notifications.c
    query = select(db.notifications).where(n.rule.is_not(None))
    for column, value in where.items():
        query = query.where(n[column] == value)
    with service.engine.connect() as connection:
        return list(connection.execute(query.order_by(n.created_at, n.kind, n.channel)).all())


def firings(service: Service) -> int:
    with service.engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(db.rule_firings)).scalar_one()
        )


def scheduler(service: Service, enqueue: Callable[[str], None], **options: Any) -> Scheduler:
    """A scheduler of its own on the service's database, as a second process would build it."""
    settings = service.settings
    return Scheduler(
        service.engine,
        Planner(settings.default_locale, DEFAULT_TIMEZONE),
        RuleSet(DEFAULT_RULES),
        enqueue=enqueue,
        staff_email=settings.staff_email,
        staff_locale=settings.default_locale,
        default_timezone=DEFAULT_TIMEZONE,
        catchup_max_age=timedelta(seconds=settings.catchup_max_age),
        nudge_min_gap=timedelta(seconds=settings.nudge_min_gap),
        **options,
    )


def subscribe(service: Service, types: list[str]) -> str:
    with service.engine.begin() as connection:
        connection.execute(
            insert(db.webhooks).values(
                id="wh_support",
                url="http://127.0.0.1:9/hook",
                types=types,
                secret="whsec_c2VjcmV0",
                active=True,
                created_at=db.now(),
            )
        )
    return "wh_support"


def test_a_ship_by_reminder_goes_out_3_days_and_1_day_before_each_once(service: Service) -> None:
    # Given a label created on 20 November, to be shipped by 4 December
    post(service, "return.label_created", "e1", "2026-11-20T10:00:00+01:00")

    # When the scheduler scans every few hours from 30 November to 3 December
    moment = at("2026-11-30T09:00:00+01:00")
    while moment < at("2026-12-03T18:00:00+01:00"):
        service.scheduler.scan(moment)
        moment += timedelta(hours=3, minutes=7)

    # Then the customer is reminded twice, by email and SMS, each reminder planned once
    sent = [(n.rule, n.channel, n.kind) for n in scheduled(service)]
    assert sent == [
        ("ship_by-3d", "email", "reminder.ship_by"),
        ("ship_by-3d", "sms", "reminder.ship_by"),
        ("ship_by-1d", "email", "reminder.ship_by"),
        ("ship_by-1d", "sms", "reminder.ship_by"),
    ]
    first = scheduled(service)[0]
    assert first.event_pk is None
    assert first.data["reminder"] == {"due_at": "2026-12-01T09:00:00+01:00", "rule": "ship_by-3d"}
    assert first.data["return"]["id"] == "RMA-1001"


def test_a_reminder_is_sent_through_delivery_once_even_when_redelivered(service: Service) -> None:
    # Given a planned reminder
    post(service, "return.label_created", "e1", "2026-11-20T10:00:00+01:00")
    now = at("2026-12-01T09:05:00+01:00")
    service.scheduler.scan(now)
    email = scheduled(service, channel="email")[0]

    # When its delivery job runs twice (a dramatiq redelivery)
    first = service.deliverer.deliver(email.id, now=now)
    second = service.deliverer.deliver(email.id, now=now)

    # Then it was sent once, to the development outbox
    assert (first.status, second.status) == ("sent", None)
    assert len(list(service.settings.outbox_dir.glob("*.eml"))) == 1


def test_two_schedulers_at_once_plan_each_reminder_once(service: Service) -> None:
    # Given 30 returns due for a reminder, and two schedulers scanning at the same moment
    approved(service, 30)
    queued: list[list[str]] = [[], []]
    both = [scheduler(service, queued[i].append, page_size=4) for i in range(2)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        start.wait()
        try:
            both[index].scan(at("2026-12-01T09:30:00+01:00"))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    # When both run
    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then every return got one reminder (email and SMS), queued for delivery once
    assert errors == []
    assert firings(service) == 30
    assert len(scheduled(service)) == 60
    assert sorted(queued[0] + queued[1]) == sorted(n.id for n in scheduled(service))


def test_a_scheduler_restarted_mid_scan_finishes_the_scan_without_repeating(
    service: Service,
) -> None:
    # Given 10 due returns and a scheduler that fires two at a time and dies after queueing
    # three messages
    approved(service, 10)
    queued: list[str] = []

    def dies(notification_id: str) -> None:
        if len(queued) == 3:
            raise KeyboardInterrupt  # the process is killed mid-scan
        queued.append(notification_id)

    now = at("2026-12-01T09:30:00+01:00")
    with pytest.raises(KeyboardInterrupt):
        scheduler(service, dies, page_size=2, firing_batch=2).scan(now)
    planned_before = {n.id for n in scheduled(service)}

    # When it is restarted and scans again
    again: list[str] = []
    scheduler(service, again.append, page_size=2, firing_batch=2).scan(now + timedelta(minutes=5))

    # Then the rest is planned, nothing twice; the page it died in is left to the relay
    assert firings(service) == 10
    assert len(scheduled(service)) == 20
    assert set(again).isdisjoint(planned_before)
    stranded = planned_before - set(queued)
    assert len(stranded) == 1
    relayed: list[str] = []
    Relay(service.engine, print, relayed.append, grace=30).run_once(now + timedelta(minutes=10))
    assert stranded <= set(relayed)


def test_a_batch_planned_a_few_firings_at_a_time_plans_each_once(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 7 due returns, and a scheduler that fires five at a time in a transaction and
    # plans them two at a time
    monkeypatch.setattr(firings_module, "PLAN_CHUNK", 2)
    approved(service, 7)
    queued: list[str] = []
    # When it scans
    report = scheduler(service, queued.append, page_size=3, firing_batch=5).scan(
        at("2026-12-01T09:30:00+01:00")
    )
    # Then every return's reminder is recorded and planned (email and SMS), and queued once
    assert (report.fired, report.notifications, firings(service)) == (7, 14, 7)
    planned = scheduled(service)
    assert {n.return_id for n in planned} == {f"RMA-{number:03}" for number in range(7)}
    assert sorted(queued) == sorted(n.id for n in planned)


def test_a_stopping_scheduler_ends_its_scan_after_the_page_it_is_on(service: Service) -> None:
    # Given 10 due returns, and a scheduler that fires two at a time, told to stop while it
    # queues its first page
    approved(service, 10)
    queued: list[str] = []
    stopping: list[Scheduler] = []

    def stop_now(notification_id: str) -> None:
        queued.append(notification_id)
        stopping[0].stop()

    stopping.append(scheduler(service, stop_now, page_size=2, firing_batch=2))
    now = at("2026-12-01T09:30:00+01:00")
    # When it scans
    report = stopping[0].scan(now)
    # Then it fired the page it was on (two returns, email and SMS each), queued it, and ended
    assert (report.fired, firings(service), len(queued)) == (2, 2, 4)
    # And the next scheduler's scan plans the rest, nothing twice
    again: list[str] = []
    scheduler(service, again.append, page_size=2, firing_batch=2).scan(now + timedelta(minutes=5))
    assert firings(service) == 10
    assert len(scheduled(service)) == 20
    assert sorted(queued + again) == sorted(n.id for n in scheduled(service))


def test_a_scan_stopped_while_it_reads_changed_returns_leaves_them_to_the_next_scan(
    settings: Settings, make_service: Any
) -> None:
    # Given a scheduler that has scanned, and two refunds inspected days earlier but
    # reported only since
    service = make_service(replace(settings, staff_email=STAFF))
    first = at("2026-12-01T08:00:00+00:00")
    scheduler(service, lambda _: None).scan(first)
    for number in range(2):
        post(
            service,
            "return.inspected",
            f"e{number}",
            "2026-11-27T08:00:00+00:00",
            return_id=f"RMA-{number:03}",
        )
    settle(service, "2026-12-01T08:20:00+00:00")

    # When the next scan is stopped while it reads the changed returns of the last rule, a
    # page at a time, and a new scheduler scans on for a day
    stopped = scheduler(service, lambda _: None, page_size=1)
    rule = list(stopped._rules)[-1]
    reading = stopped._candidates.changed

    def changed(of: Any, since: datetime) -> Any:
        for page in reading(of, since):
            yield page
            if of.name == rule.name:
                stopped.stop()

    stopped._candidates.changed = changed  # type: ignore[method-assign]
    stopped.scan(first + timedelta(hours=1))
    again = scheduler(service, lambda _: None)
    moment = first + timedelta(hours=1, minutes=5)
    while moment < first + timedelta(days=1):
        again.scan(moment)
        moment += timedelta(hours=2)

    # Then both returns had the last rule's moment: the stopped scan moved no mark
    with service.engine.connect() as connection:
        fired = connection.execute(
            select(db.rule_firings.c.return_id).where(db.rule_firings.c.rule == rule.name)
        ).scalars()
        assert set(fired) == {"RMA-000", "RMA-001"}


def test_a_first_scan_catches_up_a_staff_alert_almost_as_old_as_the_catch_up_age(
    settings: Settings, make_service: Any
) -> None:
    # Given a return received 11 days and 23 hours before the scheduler's first scan: its
    # staff alert fell due 6 days and 23 hours before it (the catch-up age is 7 days)
    service = make_service(replace(settings, staff_email=STAFF, catchup_max_age=7 * 86400.0))
    post(service, "return.received", "e1", "2026-11-20T10:00:00+00:00")
    settle(service, "2026-11-20T10:00:00+00:00")

    # When the scheduler scans for the first time
    service.scheduler.scan(at("2026-12-02T09:00:00+00:00"))

    # Then the staff alert is sent
    assert [n.rule for n in scheduled(service, kind="staff.stale_return")] == ["staff_received-5d"]


def test_a_status_change_cancels_a_pending_reminder(settings: Settings, make_service: Any) -> None:
    # Given SMS quiet hours, and a reminder whose email went out but whose SMS waits for them
    service = make_service(replace(settings, quiet_hours=QuietHours(time(21), time(8))))
    post(service, "return.label_created", "e1", "2026-11-20T10:00:00+01:00")
    late = at("2026-12-01T22:00:00+01:00")
    service.scheduler.scan(late)
    email, sms = scheduled(service)
    assert service.deliverer.deliver(email.id, now=late).status == "sent"
    assert service.deliverer.deliver(sms.id, now=late).status == "scheduled"

    # When the parcel is received before the quiet hours end
    post(service, "return.received", "e2", "2026-12-02T07:00:00+01:00")
    outcome = service.deliverer.deliver(sms.id, now=at("2026-12-02T08:00:00+01:00"))
    service.scheduler.scan(at("2026-12-03T12:00:00+01:00"))

    # Then the SMS is skipped, saying why, and no later ship-by reminder is planned
    [skipped] = scheduled(service, channel="sms")
    assert outcome.status == "skipped"
    assert (skipped.status, skipped.reason) == ("skipped", "return moved on to return.received")
    assert [n.rule for n in scheduled(service, kind="reminder.ship_by")] == [
        "ship_by-3d",
        "ship_by-3d",
    ]
    assert not (service.settings.outbox_dir / "sms.jsonl").exists()


def test_after_an_outage_the_scheduler_catches_up_once(service: Service) -> None:
    # Given a scheduler that last scanned on 29 November, then was down for four days
    post(service, "return.approved", "e1", "2026-11-20T10:00:00+01:00")
    post(service, "return.received", "e2", "2026-11-25T10:00:00+01:00", return_id="RMA-2002")
    service.scheduler.scan(at("2026-11-29T12:00:00+01:00"))
    assert scheduled(service) == []

    # When it comes back on 3 December and scans every five minutes for an hour
    for minute in range(0, 60, 5):
        service.scheduler.scan(at("2026-12-03T14:00:00+01:00") + timedelta(minutes=minute))

    # Then only the latest missed reminder and the one nudge are planned, once each
    planned = sorted({(n.return_id, n.rule) for n in scheduled(service)})
    assert planned == [("RMA-1001", "ship_by-1d"), ("RMA-2002", "stale_received-5d")]
    assert firings(service) == 3  # and the staff alert, which has no recipient here


def test_an_event_arriving_late_is_caught_up_by_a_running_scheduler(service: Service) -> None:
    # Given a scheduler that has been scanning all along
    service.scheduler.scan(at("2026-12-01T12:00:00+01:00"))
    service.scheduler.scan(at("2026-12-02T12:00:00+01:00"))

    # When a label created on 20 November is only posted on 2 December at 12:01
    post(service, "return.label_created", "e1", "2026-11-20T10:00:00+01:00")
    with service.engine.begin() as connection:
        connection.execute(update(db.returns).values(updated_at=at("2026-12-02T12:01:00+01:00")))
    service.scheduler.scan(at("2026-12-02T12:05:00+01:00"))

    # Then the reminder that was due on 1 December goes out now, not only the next one
    assert {n.rule for n in scheduled(service)} == {"ship_by-3d"}


def test_a_stale_return_nudges_the_customer_and_alerts_staff(
    settings: Settings, make_service: Any
) -> None:
    # Given a staff address and a webhook subscribed to staff alerts
    service = make_service(replace(settings, staff_email=STAFF))
    hook = subscribe(service, ["staff.*"])
    post(service, "return.received", "e1", "2026-12-01T10:00:00+01:00")

    # When the scheduler scans before and after five days
    service.scheduler.scan(at("2026-12-06T09:59:00+01:00"))
    early = scheduled(service)
    service.scheduler.scan(at("2026-12-06T10:01:00+01:00"))

    # Then the customer gets a reassuring email, support an email and a webhook
    assert early == []
    planned = sorted((n.kind, n.channel, n.recipient) for n in scheduled(service))
    assert planned == [
        ("nudge.stale", "email", "sanne@example.nl"),
        ("staff.stale_return", "email", STAFF),
        ("staff.stale_return", "webhook", hook),
    ]
    nudge = scheduled(service, kind="nudge.stale")[0]
    assert nudge.data["stale"] == {
        "status": "return.received",
        "since": "2026-12-01T09:00:00+00:00",
        "days": 5,
        "expected_by": "2026-12-08",
    }
    for notification in scheduled(service, channel="email"):
        outcome = service.deliverer.deliver(notification.id, now=at("2026-12-06T10:02:00+01:00"))
        assert outcome.status == "sent"


def test_without_a_staff_address_staff_alerts_go_by_webhook_only(service: Service) -> None:
    # Given a return requested three days ago and no NOTIFIER_STAFF_EMAIL
    hook = subscribe(service, ["*"])
    post(service, "return.requested", "e1", "2026-12-01T10:00:00+01:00")

    service.scheduler.scan(at("2026-12-04T10:00:00+01:00"))

    assert [(n.kind, n.channel, n.recipient) for n in scheduled(service)] == [
        ("staff.stale_return", "webhook", hook)
    ]


def test_an_inspected_return_waits_for_its_refund_only_when_accepted(service: Service) -> None:
    post(service, "return.inspected", "e1", "2026-12-01T10:00:00+01:00")
    rejected = event(
        "return.inspected", "e2", return_id="RMA-2002", occurred_at="2026-12-01T10:00:00+01:00"
    )
    rejected["return"]["inspection"] = {"outcome": "rejected", "note": "worn"}
    service.intake.accept("shop", EventIn.model_validate(rejected).payload())

    service.scheduler.scan(at("2026-12-04T10:30:00+01:00"))

    assert {(n.return_id, n.rule) for n in scheduled(service)} == {("RMA-1001", "stale_refund-3d")}


def test_a_reminder_due_in_the_customers_night_waits_for_the_end_of_the_quiet_hours(
    settings: Settings, make_service: Any
) -> None:
    # Given quiet hours and a customer in New York whose reminder was due this morning
    service = make_service(replace(settings, quiet_hours=QuietHours(time(21), time(8))))
    post(
        service,
        "return.label_created",
        "e1",
        "2026-11-20T10:00:00-05:00",
        customer={"timezone": "America/New_York"},
    )

    # When the scheduler catches up at 23:00 New York time
    night = at("2026-12-01T23:00:00-05:00")
    service.scheduler.scan(night)
    email, sms = scheduled(service)
    outcomes = [service.deliverer.deliver(n.id, now=night) for n in (email, sms)]

    # Then the email goes now, the SMS at 08:00 there
    assert email.data["reminder"]["due_at"] == "2026-12-01T09:00:00-05:00"
    assert [o.status for o in outcomes] == ["sent", "scheduled"]
    [held] = scheduled(service, channel="sms")
    assert held.next_attempt_at == at("2026-12-02T08:00:00-05:00")


def test_the_label_expiry_reminder_is_planned_two_days_before(service: Service) -> None:
    post(
        service,
        "return.approved",
        "e1",
        "2026-11-20T10:00:00+01:00",
        ship_by=None,
        expires_at="2026-12-04T23:59:00+01:00",
    )

    service.scheduler.scan(at("2026-12-02T08:30:00+01:00"))
    service.scheduler.scan(at("2026-12-02T09:30:00+01:00"))
    service.scheduler.scan(at("2026-12-03T09:30:00+01:00"))

    assert [(n.rule, n.channel) for n in scheduled(service)] == [
        ("label_expiring-2d", "email"),
        ("label_expiring-2d", "sms"),
    ]


def test_the_timeline_and_the_notification_list_show_reminders_with_their_rule(
    service: Service, auth: dict[str, str]
) -> None:
    # Given a return with a reminder sent
    post(service, "return.label_created", "e1", "2026-11-20T10:00:00+01:00")
    service.scheduler.scan(at("2026-12-01T09:05:00+01:00"))
    client = TestClient(create_app(service))

    # When support reads the return and the notifications
    detail = client.get("/v1/returns/RMA-1001", headers=auth).json()
    listed = client.get("/v1/notifications?return_id=RMA-1001", headers=auth).json()

    # Then the reminder is in the timeline after the event, and listed like any message
    timeline = [(t["type"], t["rule"], t["event_id"]) for t in detail["timeline"]]
    assert timeline == [
        ("return.label_created", None, "e1"),
        ("reminder.ship_by", "ship_by-3d", None),
    ]
    assert detail["timeline"][1]["note"] in ("email queued, sms queued", "sms queued, email queued")
    rules = {(n["kind"], n["channel"], n["rule"]) for n in listed["notifications"]}
    assert rules == {
        ("reminder.ship_by", "email", "ship_by-3d"),
        ("reminder.ship_by", "sms", "ship_by-3d"),
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_notifier_scheduler_once_runs_one_scan_and_exits(
    settings: Settings,
    service: Service,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a return whose ship-by date is tomorrow and whose label is days old
    tomorrow = (datetime.now().astimezone() + timedelta(days=1)).date().isoformat()
    days_ago = (db.now() - timedelta(days=5)).isoformat()
    post(service, "return.label_created", "e1", days_ago, ship_by=tomorrow)
    monkeypatch.setenv("NOTIFIER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("NOTIFIER_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("NOTIFIER_REDIS_URL", raising=False)

    # When `notifier scheduler --once` runs twice
    first = cli.main(["scheduler", "--once"])
    printed = capsys.readouterr().out
    second = cli.main(["scheduler", "--once"])

    # Then the first plans the reminder, the second nothing more, APScheduler's line per
    # run is not logged, and the process's heap was settled for the collector first
    assert (first, second) == (0, 0)
    assert gc.get_threshold() == processes.GC_THRESHOLDS and gc.get_freeze_count() > 0
    assert "1 due" in printed
    assert logging.getLogger("apscheduler").getEffectiveLevel() == logging.WARNING
    assert {n.kind for n in scheduled(service)} == {"reminder.ship_by"}
    assert firings(service) == 1


@pytest.mark.parametrize(
    "zone", ["Pacific/Kiritimati", "Europe/Amsterdam", "Pacific/Pago_Pago", "Etc/GMT+12"]
)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_running_scheduler_finds_each_due_moment_in_any_time_zone(
    service: Service, zone: str
) -> None:
    # Given customers at both ends of the world's time zones, with a label and a ship-by date
    post(
        service,
        "return.label_created",
        "e1",
        "2026-11-20T10:00:00+01:00",
        customer={"timezone": zone},
        expires_at="2026-12-04T23:59:00+01:00",
    )

    # When the scheduler scans every hour from 30 November to 6 December
    moment = at("2026-11-30T00:00:00+00:00")
    while moment < at("2026-12-06T00:00:00+00:00"):
        service.scheduler.scan(moment)
        moment += timedelta(hours=1)

    # Then each reminder was planned within one scan of 09:00 local time
    planned = {(n.rule, n.data["reminder"]["due_at"]): n.created_at for n in scheduled(service)}
    local = ZoneInfo(zone)
    assert sorted(planned) == sorted(
        [
            (
                "label_expiring-2d",
                _nine(
                    at("2026-12-04T23:59:00+01:00").astimezone(local).date() - timedelta(days=2),
                    local,
                ),
            ),
            ("ship_by-3d", _nine(date(2026, 12, 1), local)),
            ("ship_by-1d", _nine(date(2026, 12, 3), local)),
            ("expired-1d", _nine(date(2026, 12, 5), local)),
        ]
    )
    for (_, due_at), created_at in planned.items():
        assert timedelta(0) <= created_at - at(due_at) < timedelta(hours=1)


def _nine(day: date, zone: ZoneInfo) -> str:
    return datetime.combine(day, time(9), zone).isoformat()


@pytest.mark.parametrize("page_size", [1, 2, 3])
def test_small_pages_read_every_candidate_once_whatever_dates_they_share(
    service: Service, page_size: int
) -> None:
    # Given seven returns received at five different moments, some at the same moment
    for number, hour in enumerate([8, 9, 9, 9, 10, 11, 11]):
        post(
            service,
            "return.received",
            f"e{number}",
            f"2026-12-01T{hour:02}:00:00+01:00",
            return_id=f"RMA-{number:03}",
        )
    queued: list[str] = []

    # When a scheduler reading a few rows at a time scans six days later
    report = scheduler(service, queued.append, page_size=page_size).scan(
        at("2026-12-07T12:00:00+01:00")
    )

    # Then each return was read once for both rules of its status (the customer nudge and
    # the staff alert), each rule was due for it once, and it was nudged once
    assert report.candidates == 7
    assert report.fired == 7 * 2
    assert sorted(n.return_id for n in scheduled(service)) == [f"RMA-{i:03}" for i in range(7)]
    assert len(queued) == 7


def settle(service: Service, moment: str) -> None:
    """Date every return's last change at ``moment``, as if its events arrived then."""
    with service.engine.begin() as connection:
        connection.execute(update(db.returns).values(updated_at=at(moment)))


def test_a_routine_scan_reads_only_the_returns_that_are_due(service: Service) -> None:
    # Given 20 labels to be shipped by 4 to 23 December, and a scheduler that has scanned
    for number in range(20):
        post(
            service,
            "return.label_created",
            f"e{number}",
            "2026-11-20T10:00:00+01:00",
            return_id=f"RMA-{number:03}",
            ship_by=(date(2026, 12, 4) + timedelta(days=number)).isoformat(),
        )
    settle(service, "2026-11-20T10:00:00+01:00")
    first = service.scheduler.scan(at("2026-11-30T12:00:00+01:00"))

    # When it scans again before any reminder is due, when the first one is, and when the
    # second one comes within a day
    quiet = service.scheduler.scan(at("2026-11-30T12:05:00+01:00"))
    busy = service.scheduler.scan(at("2026-12-01T09:00:00+01:00"))
    later = service.scheduler.scan(at("2026-12-01T12:00:00+01:00"))

    # Then the first scan reads only the return whose reminder can be due by then (whatever
    # the customer's time zone), the quiet scan reads no return at all, the next one only the
    # return that is due, and the one after it the return whose reminder came in reach
    assert (first.candidates, first.fired) == (1, 0)
    assert (quiet.candidates, quiet.fired) == (0, 0)
    assert (busy.candidates, busy.fired) == (1, 1)
    assert (later.candidates, later.fired) == (1, 0)
    assert {n.return_id for n in scheduled(service)} == {"RMA-000"}


def test_a_due_moment_older_than_the_catch_up_age_is_not_sent(
    settings: Settings, make_service: Any
) -> None:
    # Given a catch-up age of two days, returns received on 22 and 25 November, and a
    # scheduler that scanned on 25 November and then was down until 1 December
    service = make_service(replace(settings, catchup_max_age=2 * 86400.0))
    post(service, "return.received", "e1", "2026-11-22T10:00:00+01:00")
    post(service, "return.received", "e2", "2026-11-25T10:00:00+01:00", return_id="RMA-2002")
    settle(service, "2026-11-25T10:00:00+01:00")
    service.scheduler.scan(at("2026-11-25T12:00:00+01:00"))

    # When it comes back
    report = service.scheduler.scan(at("2026-12-01T12:00:00+01:00"))
    again = service.scheduler.scan(at("2026-12-01T12:05:00+01:00"))

    # Then the nudge due on 30 November is sent; the one due on 27 November is counted, not sent
    assert [(n.return_id, n.rule) for n in scheduled(service)] == [
        ("RMA-2002", "stale_received-5d")
    ]
    assert (report.fired, report.expired) == (2, 2)  # a nudge and a staff alert each
    assert (again.fired, again.expired) == (0, 0)
    assert firings(service) == 2


def test_a_new_time_zone_preference_moves_a_pending_reminder(service: Service) -> None:
    # Given a reminder due on 1 December at 09:00 Amsterdam time, already on the agenda
    post(service, "return.label_created", "e1", "2026-11-20T10:00:00+01:00")
    settle(service, "2026-11-20T10:00:00+01:00")
    service.scheduler.scan(at("2026-11-30T12:00:00+01:00"))

    # When the customer moves to Kiritimati (UTC+14), where 1 December 09:00 is 13 hours earlier
    Preferences(service.engine).put("C-42", {"timezone": "Pacific/Kiritimati"})
    with service.engine.begin() as connection:
        connection.execute(update(db.customers).values(updated_at=at("2026-11-30T13:00:00+01:00")))
    service.scheduler.scan(at("2026-11-30T20:05:00+01:00"))

    # Then the reminder goes out at nine in the morning there
    planned = {(n.rule, n.data["reminder"]["due_at"]) for n in scheduled(service)}
    assert planned == {("ship_by-3d", "2026-12-01T09:00:00+14:00")}


def test_a_changed_rule_starts_its_agenda_over(service: Service) -> None:
    # Given a scheduler that has scanned a return with the built-in ship-by rule (3 and 1 days)
    post(service, "return.label_created", "e1", "2026-11-20T10:00:00+01:00")
    settle(service, "2026-11-20T10:00:00+01:00")
    service.scheduler.scan(at("2026-11-28T12:00:00+01:00"))

    # When the rule is changed to remind 5 days before, and a scheduler with it scans
    changes = [{"name": "ship_by", "days": [5]}]
    rules = RuleSet(merge_rules(DEFAULT_RULES, changes, Path("rules.json")))
    changed = Scheduler(
        service.engine,
        Planner("nl", DEFAULT_TIMEZONE),
        rules,
        enqueue=lambda _: None,
        staff_email=None,
        staff_locale="nl",
        default_timezone=DEFAULT_TIMEZONE,
        catchup_max_age=timedelta(seconds=service.settings.catchup_max_age),
        nudge_min_gap=timedelta(seconds=service.settings.nudge_min_gap),
    )
    changed.scan(at("2026-11-29T09:05:00+01:00"))
    on_time = [n.rule for n in scheduled(service, channel="email")]
    changed.scan(at("2026-12-03T09:05:00+01:00"))

    # Then the new reminder goes out on time, and nothing of the old definition follows
    assert on_time == ["ship_by-5d"]
    assert [n.rule for n in scheduled(service, channel="email")] == ["ship_by-5d"]


def told(service: Service, type: str, event_id: str, occurred_at: datetime) -> datetime:
    """Accept, plan and send one event's messages now; returns when the last one went."""
    body = event(type, event_id, occurred_at=occurred_at.isoformat())
    accepted = service.intake.accept("shop", EventIn.model_validate(body).payload())
    for notification in service.dispatcher.dispatch(accepted.event_pk):
        assert service.deliverer.deliver(notification).status == "sent"
    n = db.notifications.c
    with service.engine.connect() as connection:
        return connection.execute(  # type: ignore[no-any-return]
            select(func.max(n.sent_at)).where(n.event_pk == accepted.event_pk)
        ).scalar_one()


def test_a_receipt_reported_late_is_not_followed_by_a_nudge_within_a_day(
    settings: Settings, make_service: Any
) -> None:
    # Given a return received six days ago, reported only now: "we received it" just went out
    service = make_service(replace(settings, staff_email=STAFF))
    last = told(service, "return.received", "e1", db.now() - timedelta(days=6))
    released = daytime(last + timedelta(days=1), ZoneInfo("Europe/Amsterdam"))

    # When the scheduler scans minutes later, just before the day's gap is over, and after
    service.scheduler.scan(last + timedelta(minutes=5))
    soon = [(n.kind, n.channel) for n in scheduled(service)]
    service.scheduler.scan(released - timedelta(minutes=1))
    before = scheduled(service, kind="nudge.stale")
    service.scheduler.scan(released + timedelta(minutes=1))

    # Then support is alerted at once; the customer's nudge waits for the gap, then goes once
    assert soon == [("staff.stale_return", "email")]
    assert before == []
    [nudge] = scheduled(service, kind="nudge.stale")
    assert (nudge.rule, nudge.channel) == ("stale_received-5d", "email")
    assert service.deliverer.deliver(nudge.id, now=released + timedelta(minutes=2)).status == (
        "sent"
    )


def test_a_postponed_nudge_is_not_sent_once_the_return_moved_on(service: Service) -> None:
    # Given a nudge postponed because "we received it" just went out
    last = told(service, "return.received", "e1", db.now() - timedelta(days=6))
    service.scheduler.scan(last + timedelta(minutes=5))
    released = daytime(last + timedelta(days=1), ZoneInfo("Europe/Amsterdam"))

    # When the return is inspected before the gap is over
    told(service, "return.inspected", "e2", db.now())
    service.scheduler.scan(released + timedelta(minutes=1))

    # Then no nudge is planned: the return is no longer stuck
    assert scheduled(service, kind="nudge.stale") == []


def test_a_return_whose_ship_by_date_passed_is_told_once_the_next_morning(
    service: Service,
) -> None:
    # Given a label to be used by 4 December, a webhook for returns, and a scheduler that
    # scans every few hours through the deadline and the days after it
    hook = subscribe(service, ["return.*"])
    post(service, "return.label_created", "e1", "2026-11-20T10:00:00+01:00")
    moment = at("2026-12-04T12:00:00+01:00")
    before: list[Any] = []
    while moment < at("2026-12-08T12:00:00+01:00"):
        service.scheduler.scan(moment)
        if moment < at("2026-12-05T09:00:00+01:00"):
            before += scheduled(service, kind="return.expired")
        moment += timedelta(hours=2, minutes=13)

    # Then nothing expired before the morning after; then the customer is told once, by
    # email, and the shop's systems by webhook
    assert before == []
    expired = scheduled(service, kind="return.expired")
    assert [(n.channel, n.recipient, n.rule) for n in expired] == [
        ("email", "sanne@example.nl", "expired-1d"),
        ("webhook", hook, "expired-1d"),
    ]
    assert expired[0].data["reminder"]["due_at"] == "2026-12-05T09:00:00+01:00"
    assert expired[0].created_at < at("2026-12-05T12:00:00+01:00")
    assert service.deliverer.deliver(expired[0].id, now=moment).status == "sent"
    [eml] = service.settings.outbox_dir.glob("*.eml")
    assert "De laatste dag voor je retour is voorbij" in eml.read_text()


def test_a_return_handed_in_before_its_ship_by_date_does_not_expire(service: Service) -> None:
    # Given a label to be used by 4 December, and the parcel on its way on 3 December
    post(service, "return.label_created", "e1", "2026-11-20T10:00:00+01:00")
    post(service, "return.in_transit", "e2", "2026-12-03T15:00:00+01:00")

    # When the scheduler scans the days after the deadline
    for day in range(5, 9):
        service.scheduler.scan(at(f"2026-12-{day:02}T10:00:00+01:00"))

    # Then nothing about the deadline is sent
    assert scheduled(service, kind="return.expired") == []


def test_an_expiry_planned_before_the_parcel_was_reported_is_skipped(service: Service) -> None:
    # Given an expiry planned the morning after the ship-by date
    post(service, "return.label_created", "e1", "2026-11-20T10:00:00+01:00")
    service.scheduler.scan(at("2026-12-05T09:05:00+01:00"))
    [email] = scheduled(service, kind="return.expired")

    # When the parcel is reported on its way (it was dropped off on the last day) before the
    # email goes
    post(service, "return.in_transit", "e2", "2026-12-05T09:06:00+01:00")
    outcome = service.deliverer.deliver(email.id, now=at("2026-12-05T09:07:00+01:00"))

    # Then the email is skipped, saying why
    [skipped] = scheduled(service, kind="return.expired")
    assert outcome.status == "skipped"
    assert skipped.reason == "return moved on to return.in_transit"


def test_after_an_outage_past_the_ship_by_date_no_late_reminder_goes_only_the_expiry(
    service: Service,
) -> None:
    # Given a scheduler that last scanned on 29 November and was down until after the
    # ship-by date of 4 December
    post(service, "return.label_created", "e1", "2026-11-20T10:00:00+01:00")
    service.scheduler.scan(at("2026-11-29T12:00:00+01:00"))

    # When it comes back on 5 December at 10:00 and scans a few times
    for minute in range(0, 30, 5):
        service.scheduler.scan(at("2026-12-05T10:00:00+01:00") + timedelta(minutes=minute))

    # Then the missed reminders ("send it by 4 December") are not sent: the expiry is, once
    assert [(n.kind, n.rule) for n in scheduled(service, channel="email")] == [
        ("return.expired", "expired-1d")
    ]


def test_an_expiry_goes_by_sms_to_a_customer_without_email(service: Service) -> None:
    post(
        service,
        "return.approved",
        "e1",
        "2026-11-20T10:00:00+01:00",
        customer={"email": None},
    )

    service.scheduler.scan(at("2026-12-05T09:30:00+01:00"))

    assert [(n.channel, n.recipient) for n in scheduled(service, kind="return.expired")] == [
        ("sms", "+31612345678")
    ]


def test_an_in_store_return_is_reminded_of_its_date_but_never_of_a_label(
    service: Service,
) -> None:
    # Given an in-store return whose event still carries a label that expires on 4 December
    post(
        service,
        "return.approved",
        "e1",
        "2026-11-20T10:00:00+01:00",
        expires_at="2026-12-04T23:59:00+01:00",
        **{"return": {"method": "in_store", "store": {"name": "De Wolwinkel Utrecht"}}},
    )

    # When the scheduler scans every few hours up to the deadline
    moment = at("2026-11-30T09:00:00+01:00")
    while moment < at("2026-12-04T18:00:00+01:00"):
        service.scheduler.scan(moment)
        moment += timedelta(hours=3, minutes=7)

    # Then the customer is reminded to bring the items, never of the label
    assert {n.kind for n in scheduled(service)} == {"reminder.ship_by"}


def test_a_pickup_long_before_the_ship_by_date_is_reminded_from_the_first_scan_on(
    service: Service,
) -> None:
    # Given a pickup booked for 3 December, two weeks before the ship-by date, that has not
    # changed since the scheduler's first scan on 26 November
    post(
        service,
        "return.label_created",
        "e1",
        "2026-11-20T10:00:00+01:00",
        ship_by="2026-12-18",
        **{"return": {"method": "pickup", "pickup": {"carrier": "DHL", "date": "2026-12-03"}}},
    )
    settle(service, "2026-11-20T10:00:00+01:00")
    service.scheduler.scan(at("2026-11-26T12:00:00+01:00"))

    # When the scheduler scans every few hours from 29 November to 3 December
    scan_every_few_hours(service, "2026-11-29T09:00:00+01:00", "2026-12-03T09:00:00+01:00")

    # Then the customer is reminded 3 days and 1 day before the pickup, not before the
    # ship-by date
    assert reminded(service) == [
        ("ship_by-3d", "2026-11-30T09:00:00+01:00"),
        ("ship_by-1d", "2026-12-02T09:00:00+01:00"),
    ]


def test_a_pickup_is_reminded_before_the_carrier_comes_and_not_after(service: Service) -> None:
    # Given a pickup booked for 3 December between 09:00 and 13:00, ship-by date 4 December
    post(
        service,
        "return.label_created",
        "e1",
        "2026-11-20T10:00:00+01:00",
        **{
            "return": {
                "method": "pickup",
                "pickup": {"carrier": "DHL", "date": "2026-12-03", "from": "09:00", "to": "13:00"},
            }
        },
    )

    # When the scheduler scans every few hours from 29 November to 4 December
    scan_every_few_hours(service, "2026-11-29T09:00:00+01:00", "2026-12-04T18:00:00+01:00")

    # Then the customer is reminded 3 days and 1 day before the pickup, and not on the
    # ship-by date, when the carrier has come
    assert reminded(service) == [
        ("ship_by-3d", "2026-11-30T09:00:00+01:00"),
        ("ship_by-1d", "2026-12-02T09:00:00+01:00"),
    ]


def scan_every_few_hours(service: Service, start: str, end: str) -> None:
    """Scan from ``start`` until ``end``, every 3 hours and 7 minutes."""
    moment = at(start)
    while moment < at(end):
        service.scheduler.scan(moment)
        moment += timedelta(hours=3, minutes=7)


def reminded(service: Service) -> list[tuple[str, str]]:
    """Each reminder emailed: its rule and due moment."""
    return [(n.rule, n.data["reminder"]["due_at"]) for n in scheduled(service, channel="email")]


def test_pages_read_ahead_come_in_order_and_an_error_reading_them_reaches_the_reader() -> None:
    # Given pages read two ahead by a thread of their own, the fourth failing
    def pages() -> Any:
        yield from (1, 2, 3)
        raise RuntimeError("the database went away")

    # When they are read, Then they come in order, and then the error
    taken: list[int] = []
    with pytest.raises(RuntimeError, match="went away"), _ahead(pages(), 2) as ahead:
        taken.extend(ahead)
    assert taken == [1, 2, 3]


def test_a_reader_that_leaves_early_stops_the_pages_read_ahead() -> None:
    # Given endless pages read two ahead
    taken: list[int] = []
    closed = threading.Event()

    def pages() -> Any:
        try:
            number = 0
            while True:
                number += 1
                taken.append(number)
                yield number
        finally:
            closed.set()

    # When the reader leaves after the first page
    with _ahead(pages(), 2) as ahead:
        first = next(iter(ahead))
    # Then no more pages are read than it was ahead (and the one in hand), and the reading
    # is closed
    assert first == 1
    assert len(taken) <= 4
    assert closed.is_set()
