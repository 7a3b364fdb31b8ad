"""Delivery: claim, send, retry on the schedule, record, never twice.

Sends go through the real SDKs to the stand-ins, or to in-memory channels where a test plays
a provider's answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from channels.base import EmailMessage, SendResult
from channels.tracking import TrackingEvent, TrackingStatus
from channels.webhook import new_webhook_secret
from notifier import db
from notifier.delivery import RetryPolicy
from notifier.queue import Relay
from notifier.service import Service
from notifier.settings import Settings
from tests.delivery_support import Twins, accept, row, rows, subscribe, with_providers
from tests.drain import drain
from tests.factories import event
from tests.standins import SendGridStandin, TwilioStandin, sendgrid_error

# The retry schedule ------------------------------------------------------------------------


def test_the_default_schedule_doubles_from_15_s_to_an_hour_over_twelve_attempts() -> None:
    # Given the retry policy of the default settings
    policy = RetryPolicy.configured(Settings())

    # When its nominal waits are listed
    waits = [int(w.total_seconds()) for w in policy.schedule()]

    # Then they are the documented ones, about four hours in all
    assert waits == [15, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert sum(waits) == 14_625
    assert not policy.exhausted(11)
    assert policy.exhausted(12)


def test_each_wait_is_jittered_within_twenty_percent() -> None:
    policy = RetryPolicy.configured(Settings())

    waits = [policy.wait(3).total_seconds() for _ in range(200)]

    assert all(48.0 <= w <= 72.0 for w in waits)
    assert len(set(waits)) > 100


def test_a_provider_asking_for_longer_than_the_backoff_is_honoured() -> None:
    policy = RetryPolicy.configured(Settings())

    longer = policy.wait(1, retry_after=7200)
    shorter = policy.wait(1, retry_after=1)

    assert longer == timedelta(hours=2)
    assert 12 <= shorter.total_seconds() <= 18


# Transient and permanent failures ------------------------------------------------------------


def test_a_sendgrid_503_is_retried_after_the_backoff_with_the_same_notification_id(
    provided: Service, sendgrid: SendGridStandin
) -> None:
    # Given SendGrid answers 503 once
    ids = accept(provided, event(type="return.approved"))
    sendgrid.respond_with(503, body=sendgrid_error("Service Unavailable"), times=1)
    now = db.now()

    # When the email is delivered, redelivered at once, and again when the backoff is over
    first = provided.deliverer.deliver(ids["email"], now)
    early = provided.deliverer.deliver(ids["email"], now + timedelta(seconds=1))
    assert first.retry_in is not None
    later = provided.deliverer.deliver(ids["email"], now + first.retry_in)

    # Then it waited 15 s +-20%, did nothing in between, and was sent on the second try
    assert first.status == "queued"
    assert 12 <= first.retry_in.total_seconds() <= 18
    assert early.status is None
    assert later.status == "sent"
    assert [m["custom_args"]["notification_id"] for m in sendgrid.mails] == [ids["email"]] * 2
    record = row(provided, ids["email"])
    assert (record.status, record.attempts, record.last_error) == ("sent", 2, None)


def test_a_sendgrid_429_waits_until_x_ratelimit_reset(
    provided: Service, sendgrid: SendGridStandin
) -> None:
    ids = accept(provided, event(type="return.approved"))
    reset = int(time.time()) + 600
    sendgrid.respond_with(429, {"X-RateLimit-Reset": str(reset)}, sendgrid_error("rate"), times=1)

    outcome = provided.deliverer.deliver(ids["email"])

    assert outcome.status == "queued"
    assert outcome.retry_in is not None
    assert 590 <= outcome.retry_in.total_seconds() <= 600
    assert "rate limit" in (row(provided, ids["email"]).last_error or "")


def test_a_sendgrid_400_fails_at_once_with_its_reason_and_the_message_goes_by_sms(
    provided: Service, sendgrid: SendGridStandin, twilio: TwilioStandin
) -> None:
    # Given SendGrid refuses the address, for an email-only message
    sendgrid.respond_with(400, body=sendgrid_error("Does not contain a valid address."))
    provided.intake.accept("shop", _payload(event(type="return.approved")))

    # When the worker runs
    drain(provided)

    # Then the email failed once with SendGrid's words, and Twilio got the same message
    [mail] = [r for r in rows(provided) if r.channel == "email"]
    [sms] = [r for r in rows(provided) if r.channel == "sms"]
    assert (mail.status, mail.attempts, mail.dead) == ("failed", 1, False)
    assert mail.last_error.endswith("Does not contain a valid address.")
    assert (sms.kind, sms.status) == ("return.approved", "sent")
    assert len(sendgrid.mails) == 1
    assert [m["To"] for m in twilio.messages] == ["+31612345678"]


def test_a_refused_sendgrid_key_does_not_fall_back_to_sms(
    provided: Service, sendgrid: SendGridStandin, twilio: TwilioStandin
) -> None:
    sendgrid.respond_with(403, body=sendgrid_error("access forbidden"))
    provided.intake.accept("shop", _payload(event(type="return.approved")))

    drain(provided)

    assert [(r.channel, r.status) for r in rows(provided)] == [("email", "failed")]
    assert twilio.messages == []


def test_an_event_policy_that_cannot_apply_fails_its_messages_with_the_reason(
    provided: Service, sendgrid: SendGridStandin, twilio: TwilioStandin
) -> None:
    # Given an event that asks for paid return shipping without saying what it costs
    ids = accept(provided, event(policy={"return_shipping": "paid", "shipping_cost": None}))

    # When its messages are delivered
    outcomes = [provided.deliverer.deliver(notification_id) for notification_id in ids.values()]

    # Then each fails at once with the field named, and no provider is called
    assert sorted(ids) == ["email", "sms"]
    assert [outcome.status for outcome in outcomes] == ["failed", "failed"]
    for notification_id in ids.values():
        failed = row(provided, notification_id)
        assert (failed.status, failed.attempts, failed.claimed_until) == ("failed", 1, None)
        assert "policy: field 'shipping_cost' is required" in failed.last_error
    assert sendgrid.mails == []
    assert twilio.messages == []


def test_exhausted_retries_make_a_dead_letter_with_the_last_error(
    settings: Settings,
    make_service: Callable[[Settings], Service],
    sendgrid: SendGridStandin,
    twilio: TwilioStandin,
) -> None:
    # Given three attempts in all, and SendGrid down
    service = make_service(replace(with_providers(settings, sendgrid, twilio), retry_attempts=3))
    ids = accept(service, event(type="return.approved"))
    sendgrid.respond_with(502, body=b"bad gateway")
    now = db.now()

    # When each attempt is made when due
    outcomes = [service.deliverer.deliver(ids["email"], now + timedelta(hours=h)) for h in range(3)]

    # Then the third failure is final and marks a dead letter
    assert [o.status for o in outcomes] == ["queued", "queued", "failed"]
    assert outcomes[-1].retry_in is None
    record = row(service, ids["email"])
    assert (record.status, record.dead, record.attempts) == ("failed", True, 3)
    assert "502" in record.last_error and "bad gateway" in record.last_error
    assert len(sendgrid.mails) == 3


# At most once --------------------------------------------------------------------------------


def test_eight_workers_racing_for_one_notification_call_sendgrid_once(
    provided: Service, sendgrid: SendGridStandin
) -> None:
    # Given a slow SendGrid and eight threads starting together
    ids = accept(provided, event(type="return.approved"))
    sendgrid.respond_with(202, {"X-Message-Id": "slow-1"}, delay=0.3)
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def work() -> None:
        start.wait()
        outcomes.append(provided.deliverer.deliver(ids["email"]).status)

    # When they all deliver the same notification
    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # Then exactly one called the provider
    assert sorted(outcomes, key=str) == [None] * 7 + ["sent"]
    assert len(sendgrid.mails) == 1
    assert row(provided, ids["email"]).provider_message_id == "slow-1"


def test_a_claim_left_by_a_killed_worker_blocks_until_its_lease_ends(
    provided: Service, sendgrid: SendGridStandin
) -> None:
    # Given a worker claimed the email and died without recording anything
    ids = accept(provided, event(type="return.approved"))
    now = db.now()
    lease = timedelta(seconds=provided.settings.claim_lease)
    with provided.engine.begin() as connection:
        connection.execute(
            update(db.notifications)
            .where(db.notifications.c.id == ids["email"])
            .values(claimed_until=now + lease, claim_token="dead-worker")
        )

    # When another worker tries during the lease and after it
    during = provided.deliverer.deliver(ids["email"], now + lease - timedelta(seconds=1))
    after = provided.deliverer.deliver(ids["email"], now + lease + timedelta(seconds=1))

    # Then only the attempt after the lease sends (at least once)
    assert (during.status, after.status) == (None, "sent")
    assert len(sendgrid.mails) == 1


def test_the_claim_lease_is_the_configured_one(
    settings: Settings, make_service: Callable[..., Service], twins: Twins
) -> None:
    # Given a 25 s lease, and a provider that looks at the notification while it has it
    service = make_service(replace(settings, claim_lease=25.0), channels=twins.senders)
    seen: list[Any] = []

    def probe(message: EmailMessage) -> SendResult:
        seen.append(row(service, message.id))
        return SendResult("probe", None)

    twins.email.answer(probe)
    ids = accept(service, event(type="return.approved"))
    now = db.now()

    # When the email is delivered
    service.deliverer.deliver(ids["email"], now)

    # Then it was claimed for the configured lease during the send
    [claimed] = seen
    assert claimed.claimed_until == now + timedelta(seconds=25)


def test_a_sent_notification_is_never_sent_again_by_a_redelivered_job(
    provided: Service, sendgrid: SendGridStandin
) -> None:
    ids = accept(provided, event(type="return.approved"))

    outcomes = [provided.deliverer.deliver(ids["email"]) for _ in range(3)]

    assert [o.status for o in outcomes] == ["sent", None, None]
    assert [o.retry_in for o in outcomes] == [None, None, None]
    assert len(sendgrid.mails) == 1


def test_a_delivered_callback_that_beats_the_send_is_not_overwritten(
    twinned: Service, twins: Twins
) -> None:
    # Given a provider whose "delivered" callback arrives before its answer does
    def callback_first(message: EmailMessage) -> SendResult:
        callback = TrackingEvent(
            "sendgrid", TrackingStatus.DELIVERED, message.id, None, message.to, None, None, False
        )
        twinned.tracker.apply([callback])
        return SendResult("sendgrid", "fast-1")

    twins.email.answer(callback_first)
    ids = accept(twinned, event(type="return.approved"))

    # When the email is sent
    outcome = twinned.deliverer.deliver(ids["email"])

    # Then the notification stays delivered, with the provider's id recorded
    record = row(twinned, ids["email"])
    assert outcome.status == "sent"
    assert (record.status, record.provider_message_id, record.attempts) == (
        "delivered",
        "fast-1",
        1,
    )


def test_a_service_built_with_given_channels_sends_through_them(
    twinned: Service, twins: Twins
) -> None:
    # Given a webhook subscriber, and a refund for a customer reachable by email and SMS
    subscribe(twinned, "https://shop.example/hooks", new_webhook_secret())
    twinned.intake.accept("shop", _payload(event()))

    # When the worker runs
    drain(twinned)

    # Then each message went to its medium's twin, and its notification records the answer
    [mail] = twins.email.outbox
    [text] = twins.sms.outbox
    [delivery] = twins.webhook.outbox
    assert (mail.to, text.to, delivery.url) == (
        "sanne@example.nl",
        "+31612345678",
        "https://shop.example/hooks",
    )
    assert sorted((r.channel, r.status, r.provider_message_id) for r in rows(twinned)) == [
        ("email", "sent", "memory-email-1"),
        ("sms", "sent", "memory-sms-1"),
        ("webhook", "sent", "memory-webhook-1"),
    ]


# The relay -----------------------------------------------------------------------------------


def test_the_relay_hands_over_a_retry_whose_delayed_job_was_lost(
    provided: Service, sendgrid: SendGridStandin
) -> None:
    # Given a failed attempt whose delayed job vanished with Redis
    ids = accept(provided, event(type="return.approved"))
    sendgrid.respond_with(500, times=1)
    now = db.now()
    outcome = provided.deliverer.deliver(ids["email"], now)
    assert outcome.retry_in is not None
    due = now + outcome.retry_in
    handed: list[str] = []
    relay = Relay(provided.engine, lambda pk: None, handed.append, grace=30)

    # When the relay runs before the retry is due, then once it is overdue by the grace
    before = relay.run_once(due - timedelta(seconds=1))
    overdue = relay.run_once(due + timedelta(seconds=31))
    again = relay.run_once(due + timedelta(seconds=32))

    # Then it hands the notification over once, after the grace
    assert (before, overdue, again) == (0, 1, 0)
    assert handed == [ids["email"]]


def test_the_relay_hands_over_a_claim_abandoned_mid_send_as_soon_as_its_lease_ends(
    provided: Service,
) -> None:
    # Given a worker that claimed the email just now and was killed mid-send
    ids = accept(provided, event(type="return.approved"))
    now = db.now()
    lease = timedelta(seconds=provided.settings.claim_lease)
    with provided.engine.begin() as connection:
        connection.execute(
            update(db.notifications)
            .where(db.notifications.c.id == ids["email"])
            .values(enqueued_at=now, claimed_until=now + lease, claim_token="dead-worker")
        )
    handed: list[str] = []
    relay = Relay(provided.engine, lambda pk: None, handed.append, grace=3600)

    # When the relay runs during the lease, just after it, and again
    during = relay.run_once(now + lease - timedelta(seconds=1))
    after = relay.run_once(now + lease + timedelta(seconds=1))
    again = relay.run_once(now + lease + timedelta(seconds=2))

    # Then it hands the notification over once, without waiting for the hour of grace
    assert (during, after, again) == (0, 1, 0)
    assert handed == [ids["email"]]


def test_a_job_for_a_notification_already_sent_is_harmless_after_a_relay_hand_over(
    provided: Service, sendgrid: SendGridStandin
) -> None:
    ids = accept(provided, event(type="return.approved"))
    provided.deliverer.deliver(ids["email"])
    handed: list[str] = []
    relay = Relay(provided.engine, lambda pk: None, handed.append, grace=0.1)

    relay.run_once(db.now() + timedelta(minutes=5))

    assert handed == []
    assert len(sendgrid.mails) == 1


# Helpers -------------------------------------------------------------------------------------


def _payload(body: dict[str, Any]) -> dict[str, Any]:
    from notifier.http import EventIn

    return EventIn.model_validate(body).payload()
