"""The relay against a real Redis: it hands over again only the notifications whose job was
lost, never the ones waiting their turn in a backlog."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import dramatiq
import pytest
import redis
from sqlalchemy import update

from channels.webhook import new_webhook_secret
from notifier import db, processes
from notifier.http import EventIn
from notifier.queue import DELIVERY_CHUNK, relay
from notifier.service import Service
from notifier.settings import Settings
from tests.delivery_support import Twins, row, rows, subscribe
from tests.factories import event

EVENTS = 25
MSGS = "notifier:deliveries.msgs"


def _backlog(service: Service) -> None:
    """Accept EVENTS events together and dispatch them, with no worker taking deliveries."""
    payloads = [
        EventIn.model_validate(event(event_id=f"evt-{i}", return_id=f"RMA-{i}")).payload()
        for i in range(EVENTS)
    ]
    accepted = service.intake.accept_many("shop", payloads)
    service.actors.dispatch_events.fn([a.event_pk for a in accepted])  # type: ignore[union-attr]


def _jobs(client: redis.Redis) -> dict[bytes, dramatiq.Message[Any]]:
    """Every delivery job in Redis (waiting or delayed), by its Redis id."""
    jobs = {}
    for key in (MSGS, "notifier:deliveries.DQ.msgs"):
        for job_id, body in client.hgetall(key).items():
            jobs[job_id] = dramatiq.Message.decode(body)
    return jobs


def _named(job: dramatiq.Message[Any]) -> list[str]:
    return list(job.args[0]) if job.actor_name == "deliver_notifications" else [job.args[0]]


def _lose(client: redis.Redis, job_id: bytes) -> None:
    """Take a job out of Redis as a Redis restart without its append-only file would."""
    client.hdel(MSGS, job_id)
    client.lrem("notifier:deliveries", 0, job_id)


def _rounds(service: Service, start: datetime, count: int) -> list[int]:
    """``count`` relay rounds, each a grace after the one before."""
    grace = timedelta(seconds=service.settings.redeliver_after + 1)
    return [service.relay.run_once(start + grace * (i + 1)) for i in range(count)]


def test_the_relay_hands_over_only_the_jobs_redis_lost_and_each_is_sent_once(
    settings: Settings, redis_url: str, make_service: Callable[..., Service], twins: Twins
) -> None:
    # Given a backlog in Redis: an email and an SMS for each of 25 events, in groups
    service = make_service(replace(settings, redis_url=redis_url), channels=twins.senders)
    client = redis.Redis.from_url(redis_url)
    _backlog(service)
    waiting = {row.id for row in rows(service)}
    groups = -(-len(waiting) // DELIVERY_CHUNK)
    before = _jobs(client)

    # When the relay runs four times, each past its grace, with no worker taking the queue
    now = db.now()
    idle = _rounds(service, now, 4)

    # Then it handed nothing over: every notification was still waiting in a job
    assert len(waiting) == 2 * EVENTS
    assert idle == [0, 0, 0, 0]
    assert _jobs(client).keys() == before.keys()
    assert len(before) == groups

    # When Redis loses two of the groups, and the relay runs again past its grace
    lost_jobs = list(before)[1:3]
    lost = {i for job_id in lost_jobs for i in _named(before[job_id])}
    for job_id in lost_jobs:
        _lose(client, job_id)
    handed = _rounds(service, now + timedelta(hours=1), 3)

    # Then it handed over those notifications, only those, once each
    after = _jobs(client)
    new = [after[job_id] for job_id in after.keys() - before.keys()]
    assert handed == [len(lost), 0, 0]
    assert sorted(i for job in new for i in _named(job)) == sorted(lost)
    assert [len(_named(job)) for job in new] == [DELIVERY_CHUNK] * len(lost_jobs)
    assert len(after) == groups

    # When a worker takes the queue
    with processes.worker(service):
        deadline = time.monotonic() + 30
        while len(twins.email.outbox) + len(twins.sms.outbox) < len(waiting):
            assert time.monotonic() < deadline, "the backlog was not delivered within 30 s"
            time.sleep(0.05)
        time.sleep(0.3)

    # Then every notification went out exactly once
    sent = [m.id for m in twins.email.outbox] + [m.id for m in twins.sms.outbox]
    assert sorted(sent) == sorted(waiting)
    assert {row.status for row in rows(service)} == {"sent"}
    client.close()


def test_a_dead_workers_claim_is_handed_over_only_if_its_job_is_gone(
    settings: Settings, redis_url: str, make_service: Callable[..., Service], twins: Twins
) -> None:
    # Given a backlog whose first two groups a worker claimed and was killed sending, and
    # the job of the second of them gone from Redis (dramatiq did not requeue it)
    service = make_service(replace(settings, redis_url=redis_url), channels=twins.senders)
    client = redis.Redis.from_url(redis_url)
    _backlog(service)
    jobs = _jobs(client)
    requeued, gone = (_named(job) for job in list(jobs.values())[:2])
    _lose(client, list(jobs)[1])
    now = db.now()
    n = db.notifications.c
    with service.engine.begin() as connection:
        connection.execute(
            update(db.notifications)
            .where(n.id.in_(requeued + gone))
            .values(enqueued_at=now, claimed_until=now + timedelta(seconds=60), claim_token="dead")
        )

    # When the relay runs just after the lease ends, long before its grace
    handed = service.relay.run_once(now + timedelta(seconds=61))

    # Then it handed over the notifications whose job is gone, and not the ones whose job
    # is still in Redis
    new = [job for job_id, job in _jobs(client).items() if job_id not in jobs]
    assert handed == len(gone)
    assert sorted(i for job in new for i in _named(job)) == sorted(gone)
    client.close()


def test_rounds_go_through_a_backlog_longer_than_a_page(
    settings: Settings,
    redis_url: str,
    make_service: Callable[..., Service],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a backlog of five groups, of which Redis lost the last, and a relay that looks
    # at one group's worth of notifications a round
    monkeypatch.setattr(relay, "PAGE", DELIVERY_CHUNK)
    service = make_service(replace(settings, redis_url=redis_url))
    client = redis.Redis.from_url(redis_url)
    _backlog(service)
    jobs = _jobs(client)
    last = list(jobs)[-1]
    _lose(client, last)

    # When the relay runs five rounds past its grace
    handed = _rounds(service, db.now(), 5)

    # Then one of them found the lost group's notifications, and handed over nothing else
    new = [job for job_id, job in _jobs(client).items() if job_id not in jobs]
    assert sorted(handed) == [0, 0, 0, 0, DELIVERY_CHUNK]
    assert sorted(i for job in new for i in _named(job)) == sorted(_named(jobs[last]))
    client.close()


EVENT_MSGS = "notifier:events.msgs"


def _event_jobs(client: redis.Redis) -> dict[bytes, list[int]]:
    """The events each dispatch job in Redis names (waiting, delayed, or taken), by its id."""
    jobs = {}
    for key in (EVENT_MSGS, "notifier:events.DQ.msgs"):
        for job_id, body in client.hgetall(key).items():
            jobs[job_id] = list(dramatiq.Message.decode(body).args[0])
    return jobs


def _accept_in_groups(service: Service, groups: int, size: int) -> None:
    """Accept ``groups`` batches of ``size`` events with no worker running: one dispatch job
    each waits in Redis."""
    for g in range(groups):
        payloads = [
            EventIn.model_validate(event(event_id=f"evt-{g}-{i}", return_id=f"RMA-{g}-{i}"))
            for i in range(size)
        ]
        service.intake.accept_many("shop", [p.payload() for p in payloads])


def test_events_waiting_their_turn_in_redis_are_not_handed_over_again(
    settings: Settings, redis_url: str, make_service: Callable[..., Service]
) -> None:
    # Given three batches of events accepted while no worker runs: a dispatch job each in Redis
    service = make_service(replace(settings, redis_url=redis_url))
    client = redis.Redis.from_url(redis_url)
    _accept_in_groups(service, 3, 4)
    before = _event_jobs(client)

    # When the relay runs four times, each past its grace
    handed = _rounds(service, db.now(), 4)

    # Then it handed nothing over again: every event still waits in its job
    assert len(before) == 3
    assert handed == [0, 0, 0, 0]
    assert _event_jobs(client) == before
    client.close()


def test_events_whose_job_redis_lost_or_a_worker_left_unacknowledged_are_handed_over_once(
    settings: Settings, redis_url: str, make_service: Callable[..., Service]
) -> None:
    # Given three dispatch jobs in Redis: one Redis lost whole, one a worker took and never
    # acknowledged (its body still in the hash, its id no longer in the queue), one waiting
    service = make_service(replace(settings, redis_url=redis_url))
    client = redis.Redis.from_url(redis_url)
    _accept_in_groups(service, 3, 4)
    before = _event_jobs(client)
    lost, taken, _ = before
    client.hdel(EVENT_MSGS, lost)
    client.lrem("notifier:events", 0, lost)
    client.lrem("notifier:events", 0, taken)

    # When the relay runs three times, each past its grace
    handed = _rounds(service, db.now(), 3)

    # Then the first round handed over the events of the lost and the taken job, in one new
    # job, and no round handed over those still waiting
    new = {job_id: pks for job_id, pks in _event_jobs(client).items() if job_id not in before}
    assert handed == [8, 0, 0]
    assert sorted(pk for pks in new.values() for pk in pks) == sorted(before[lost] + before[taken])
    client.close()


def test_relay_rounds_go_through_an_event_backlog_longer_than_a_page(
    settings: Settings,
    redis_url: str,
    make_service: Callable[..., Service],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given four dispatch jobs of four events each, of which Redis lost the last, and a relay
    # that looks at four events a round
    monkeypatch.setattr(relay, "PAGE", 4)
    service = make_service(replace(settings, redis_url=redis_url))
    client = redis.Redis.from_url(redis_url)
    _accept_in_groups(service, 4, 4)
    before = _event_jobs(client)
    last = max(before, key=lambda job_id: before[job_id])
    client.hdel(EVENT_MSGS, last)
    client.lrem("notifier:events", 0, last)

    # When the relay runs four rounds, each past its grace
    handed = _rounds(service, db.now(), 4)

    # Then one of them found the lost job's events, and none handed over anything else
    new = [pks for job_id, pks in _event_jobs(client).items() if job_id not in before]
    assert sorted(handed) == [0, 0, 0, 4]
    assert new == [before[last]]
    client.close()


def _dispatched_with_webhooks(service: Service, events: int) -> None:
    """Accept and dispatch ``events`` events, each sending an email, an SMS and a webhook,
    then empty the in-memory queue as a Redis that lost everything would be."""
    subscribe(service, "https://hooks.example/in", new_webhook_secret())
    _accept_in_groups(service, 1, events)
    [dispatch] = service.broker.queues["events"].queue  # type: ignore[attr-defined]
    service.actors.dispatch_events.fn(*dramatiq.Message.decode(dispatch).args)
    service.broker.flush_all()  # type: ignore[attr-defined]


def test_lost_emails_and_sms_are_handed_over_in_groups_and_webhooks_alone(
    service: Service,
) -> None:
    # Given two more dispatched events than a group holds, each with an email, an SMS and a
    # webhook, whose delivery jobs were all lost
    count = DELIVERY_CHUNK + 2
    _dispatched_with_webhooks(service, count)

    # When the relay runs past its grace
    later = db.now() + timedelta(seconds=service.settings.redeliver_after + 1)
    handed = service.relay.run_once(later)

    # Then it handed the emails and SMS over in groups of up to DELIVERY_CHUNK, and each
    # webhook in a job of its own
    messages = [
        dramatiq.Message.decode(data)
        for data in service.broker.queues["deliveries"].queue  # type: ignore[attr-defined]
    ]
    groups = [m.args[0] for m in messages if m.actor_name == "deliver_notifications"]
    alone = [m.args[0] for m in messages if m.actor_name == "deliver_notification"]
    assert handed == 3 * count
    assert [len(group) for group in groups] == [DELIVERY_CHUNK, DELIVERY_CHUNK, 4]
    grouped = [i for group in groups for i in group]
    assert sorted(row(service, i).channel for i in grouped) == ["email"] * count + ["sms"] * count
    assert sorted(row(service, i).channel for i in alone) == ["webhook"] * count
    assert len(messages) == len(groups) + len(alone)


def test_notifications_a_failed_hand_over_took_are_taken_again_at_the_next_round(
    service: Service,
) -> None:
    # Given dispatched events whose delivery jobs were all lost, and a queue that fails once
    _dispatched_with_webhooks(service, 2)
    singles: list[str] = []
    grouped: list[list[str]] = []

    def enqueue_deliveries(notification_ids: Sequence[str]) -> None:
        if not grouped:
            grouped.append([])
            raise redis.ConnectionError("Redis went away")
        grouped.append(list(notification_ids))

    flaky = relay.Relay(
        service.engine,
        lambda event_pks: None,
        singles.append,
        grace=30,
        enqueue_deliveries=enqueue_deliveries,
    )
    later = db.now() + timedelta(seconds=31)

    # When a round fails to hand them over, and the next round runs a second later
    with pytest.raises(redis.ConnectionError):
        flaky.run_once(later)
    singles.clear()
    handed = flaky.run_once(later + timedelta(seconds=1))

    # Then the next round handed all of them over, without waiting for the grace
    assert handed == 6
    assert sorted(row(service, i).channel for i in grouped[1]) == ["email"] * 2 + ["sms"] * 2
    assert sorted(row(service, i).channel for i in singles) == ["webhook"] * 2
