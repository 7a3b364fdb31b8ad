"""Dead letters: exhausted deliveries listed and replayed by staff, never sent twice."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from sqlalchemy import update

from notifier import cli, db, migrate
from notifier.delivery import DeadLetterFilter, DeadLetters, suppressions_page
from notifier.service import Service
from notifier.settings import Settings
from notifier.status import Channel
from tests.delivery_support import accept, bury, row, with_providers
from tests.factories import event
from tests.plans import plan, recorded
from tests.standins import SendGridStandin, TwilioStandin


@pytest.fixture
def queued(
    settings: Settings,
    make_service: Callable[[Settings], Service],
    sendgrid: SendGridStandin,
    twilio: TwilioStandin,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Service:
    """Two attempts in all, on real Redis; the CLI sees the same database and Redis."""
    monkeypatch.setenv("NOTIFIER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("NOTIFIER_REDIS_URL", redis_url)
    base = with_providers(settings, sendgrid, twilio)
    return make_service(replace(base, redis_url=redis_url, retry_attempts=2))


def _exhaust(
    service: Service, sendgrid: SendGridStandin, answer: bytes = b"down for maintenance"
) -> str:
    ids = accept(service, event(type="return.approved"))
    sendgrid.respond_with(503, body=answer, times=2)
    now = db.now()
    for hours in range(2):
        service.deliverer.deliver(ids["email"], now + timedelta(hours=hours))
    return ids["email"]


def test_dead_letters_are_listed_with_their_last_error_and_a_masked_recipient(
    queued: Service, sendgrid: SendGridStandin, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = _exhaust(queued, sendgrid)

    status = cli.main(["dead-letters", "list"])

    out = capsys.readouterr().out
    assert status == 0
    [line] = out.splitlines()
    assert line.startswith(f"{dead}  RMA-1001  return.approved  email  s***@example.nl")
    assert "attempts=2" in line
    assert "down for maintenance" in line
    assert "sanne@" not in line


def test_an_address_quoted_by_the_provider_is_masked_in_the_list(
    queued: Service, sendgrid: SendGridStandin, capsys: pytest.CaptureFixture[str]
) -> None:
    _exhaust(queued, sendgrid, b"mailbox sanne@example.nl is over quota")

    cli.main(["dead-letters", "list"])

    [line] = capsys.readouterr().out.splitlines()
    assert "mailbox s***@example.nl is over quota" in line
    assert "sanne@" not in line


def test_the_customers_name_and_number_quoted_by_the_provider_are_masked_in_the_list(
    queued: Service, sendgrid: SendGridStandin, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a dead letter whose provider text quotes the customer's name and phone number
    _exhaust(queued, sendgrid, b"Sanne de Vries (06 1234 5678) has blocked you")
    # When staff list the dead letters
    cli.main(["dead-letters", "list"])
    # Then the name and the number are masked
    [line] = capsys.readouterr().out.splitlines()
    assert "S*** de V*** (06*****678) has blocked you" in line
    assert "Sanne" not in line and "1234" not in line


def test_no_dead_letters_says_so(queued: Service, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["dead-letters", "list"]) == 0
    assert capsys.readouterr().out == "no dead letters\n"


def test_a_replay_sends_the_same_notification_once_and_a_second_replay_is_refused(
    queued: Service, sendgrid: SendGridStandin, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a dead letter, and SendGrid working again
    dead = _exhaust(queued, sendgrid)

    # When staff replay it and a worker runs, then replay it again
    replayed = cli.main(["dead-letters", "replay", dead])
    _work_until(queued, lambda: row(queued, dead).status == "sent")
    again = cli.main(["dead-letters", "replay", dead])

    # Then it kept its id, was sent once more (the third request), and is no dead letter now
    out, err = capsys.readouterr()
    assert (replayed, again) == (0, 1)
    assert f"replayed {dead}" in out
    assert f"not a dead letter: {dead}" in err
    record = row(queued, dead)
    assert (record.status, record.dead, record.attempts) == ("sent", False, 1)
    assert record.last_error is None
    ids = [m["custom_args"]["notification_id"] for m in sendgrid.mails]
    assert ids == [dead] * 3


def test_replaying_a_sent_notification_changes_nothing(
    queued: Service, sendgrid: SendGridStandin
) -> None:
    ids = accept(queued, event(type="return.approved"))
    queued.deliverer.deliver(ids["email"])

    replayed = DeadLetters(queued.engine, None).replay([ids["email"]])

    assert replayed == []
    assert row(queued, ids["email"]).status == "sent"
    assert len(sendgrid.mails) == 1


def _work_until(service: Service, done: Callable[[], bool], timeout: float = 20.0) -> None:
    worker = dramatiq.Worker(service.broker, worker_threads=2, worker_timeout=50)
    worker.start()
    try:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, "the worker did not finish in time"
            time.sleep(0.05)
    finally:
        worker.stop()


def test_dead_letters_are_chosen_by_channel_kind_and_age(service: Service) -> None:
    # Given dead letters of two channels and two kinds, dead for a minute or for two days,
    # and a notification that failed for good without being a dead letter
    now = db.now()
    email = bury(service, 2, prefix="ntf_email")
    sms = bury(service, channel="sms", prefix="ntf_sms")
    reminder = bury(service, kind="reminder.ship_by", prefix="ntf_reminder")
    old = bury(service, died=now - timedelta(days=2), prefix="ntf_old")
    bury(service, dead=False, prefix="ntf_refused")
    letters = DeadLetters(service.engine, None)

    def chosen(**which: Any) -> set[str]:
        page = letters.page(DeadLetterFilter(**which), limit=100)
        assert letters.count(DeadLetterFilter(**which)) == len(page.letters)
        return {letter.id for letter in page.letters}

    # Then each filter chooses its own, and none chooses the notification that is not dead
    assert chosen() == {*email, *sms, *reminder, *old}
    assert chosen(channel=Channel.SMS) == set(sms)
    assert chosen(kind="reminder.ship_by") == set(reminder)
    assert chosen(died_before=now - timedelta(days=1)) == set(old)
    assert chosen(died_since=now - timedelta(hours=1)) == {*email, *sms, *reminder}
    assert chosen(channel=Channel.EMAIL, died_since=now - timedelta(hours=1)) == {
        *email,
        *reminder,
    }
    assert chosen(ids=[sms[0], "ntf_refused_0000", "ntf_unknown"]) == set(sms)
    assert chosen(ids=[]) == set()


def test_dead_letters_are_paged_newest_first_both_ways(service: Service) -> None:
    # Given 120 dead letters, twenty of them dying in the same instant
    bury(service, 100, prefix="ntf_a", died=db.now() - timedelta(minutes=5))
    same = db.now()
    bury(service, 20, prefix="ntf_b", died=same)
    with service.engine.begin() as connection:
        connection.execute(
            update(db.notifications)
            .where(db.notifications.c.id.like("ntf_b_%"))
            .values(updated_at=same)
        )
    letters = DeadLetters(service.engine, None)
    everyone = DeadLetterFilter()

    # When the pages are read one after the other, older and older
    pages = [letters.page(everyone, limit=50)]
    while pages[-1].older is not None:
        pages.append(letters.page(everyone, limit=50, older_than=pages[-1].older))

    # Then each dead letter is on exactly one page, newest first, ties by id
    read = [letter for page in pages for letter in page.letters]
    assert [len(page.letters) for page in pages] == [50, 50, 20]
    assert len({letter.id for letter in read}) == 120
    assert read == sorted(read, key=lambda letter: (letter.updated_at, letter.id), reverse=True)
    assert pages[0].newer is None and pages[1].newer is not None

    # And going back from the last page gives the one before it again
    back = letters.page(everyone, limit=50, newer_than=pages[2].newer)
    assert [letter.id for letter in back.letters] == [letter.id for letter in pages[1].letters]
    assert back.older is not None and back.newer is not None


def test_a_replay_of_a_filter_queues_only_the_dead_letters_it_chooses(service: Service) -> None:
    # Given dead letters on email and SMS, and a notification refused for good
    email = bury(service, 3, prefix="ntf_email")
    sms = bury(service, channel="sms", prefix="ntf_sms")
    refused = bury(service, channel="sms", dead=False, prefix="ntf_refused")
    queued: list[str] = []
    letters = DeadLetters(service.engine, queued.append)

    # When the email ones are replayed, then a choice of nothing
    replayed = letters.replay(which=DeadLetterFilter(channel=Channel.EMAIL))
    nothing = letters.replay(which=DeadLetterFilter(ids=[]))

    # Then exactly the email ones are queued again, as new
    assert sorted(replayed) == sorted(queued) == email
    assert nothing == []
    for notification_id in email:
        record = row(service, notification_id)
        assert (record.status, record.dead, record.attempts) == ("queued", False, 0)
    assert (row(service, sms[0]).status, row(service, sms[0]).dead) == ("failed", True)
    assert (row(service, refused[0]).status, row(service, refused[0]).dead) == ("failed", False)

    # And a replay without a choice still takes every dead letter (the CLI's replay)
    assert letters.replay() == sms


def test_the_dead_letter_and_suppression_lists_read_their_indexes(tmp_path: Path) -> None:
    # Given a migrated SQLite database, and every statement the lists run
    engine = db.make_engine(f"sqlite:///{tmp_path / 'plans.db'}")
    migrate.upgrade(engine)
    letters = DeadLetters(engine, None)
    some = DeadLetterFilter(channel=Channel.SMS, kind="return.approved")
    position = (db.now(), "ntf_x")

    # When the lists are read, first and later pages, and counted
    with recorded(engine) as statements:
        letters.page(some)
        letters.page(some, older_than=position)
        letters.page(some, newer_than=position)
        letters.count(some)
        with engine.connect() as connection:
            for channel in (None, Channel.SMS):
                suppressions_page(connection, channel=channel)
                suppressions_page(connection, channel=channel, older_than=(db.now(), "sms", "+31"))

    # Then every one searches an index made for it, none scans its table
    plans = [
        plan(engine, sql, params)
        for sql, params in statements
        if sql.lstrip().upper().startswith("SELECT")
    ]
    engine.dispose()
    assert len(plans) == 8
    for each in plans:
        assert re.search(r"USING (COVERING )?INDEX ix_(notifications_dead|suppressions)_", each)
        assert "TEMP B-TREE" not in each, each
