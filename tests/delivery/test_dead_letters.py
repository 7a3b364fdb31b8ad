"""Dead letters: exhausted deliveries listed and replayed by staff, never sent twice."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import dramatiq
import pytest

from notifier import cli, db
from notifier.delivery import DeadLetters
from notifier.service import Service
from notifier.settings import Settings
from tests.delivery_support import accept, row, with_providers
from tests.factories import event
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
