"""Handing accepted events to the queue: one message per group, and a stable body hash."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from channels.webhook import new_webhook_secret
from notifier import db, processes
from notifier.http import EventIn
from notifier.intake import Intake, body_hash
from notifier.queue import DELIVERY_CHUNK, DISPATCH_CHUNK, declare_actors
from notifier.service import Service
from notifier.settings import Settings
from tests.delivery_support import Twins, row, rows, subscribe
from tests.drain import drain
from tests.factories import event


def _queued(broker: Any, queue: str) -> list[dramatiq.Message[Any]]:
    return [dramatiq.Message.decode(data) for data in list(broker.queues[queue].queue)]


def test_a_group_of_events_is_handed_over_in_one_message_per_chunk(service: Service) -> None:
    payloads = [
        EventIn.model_validate(event(event_id=f"evt-{i}", return_id=f"RMA-{i}")).payload()
        for i in range(DISPATCH_CHUNK * 2 + 1)
    ]

    accepted = service.intake.accept_many("shop", payloads)

    messages = _queued(service.broker, "events")
    assert [m.actor_name for m in messages] == ["dispatch_events"] * 3
    assert [len(m.args[0]) for m in messages] == [DISPATCH_CHUNK, DISPATCH_CHUNK, 1]
    assert [pk for m in messages for pk in m.args[0]] == [a.event_pk for a in accepted]  # type: ignore[union-attr]


def test_the_notifications_of_a_group_go_to_delivery_in_groups_and_webhooks_alone(
    service: Service,
) -> None:
    # Given two more events than a group holds accepted together, each sending an email, an
    # SMS and a webhook
    subscribe(service, "https://hooks.example/in", new_webhook_secret())
    count = DELIVERY_CHUNK + 2
    payloads = [
        EventIn.model_validate(event(event_id=f"evt-{i}", return_id=f"RMA-{i}")).payload()
        for i in range(count)
    ]
    service.intake.accept_many("shop", payloads)
    [dispatch] = _queued(service.broker, "events")

    # When a worker dispatches them
    service.actors.dispatch_events.fn(*dispatch.args)

    # Then their emails and SMS go to delivery in messages of up to DELIVERY_CHUNK, event by
    # event, and each webhook in a message of its own
    messages = _queued(service.broker, "deliveries")
    groups = [m.args[0] for m in messages if m.actor_name == "deliver_notifications"]
    alone = [m.args[0] for m in messages if m.actor_name == "deliver_notification"]
    assert [len(group) for group in groups] == [DELIVERY_CHUNK, DELIVERY_CHUNK, 4]
    grouped = [notification_id for group in groups for notification_id in group]
    assert [row(service, i).channel for i in grouped] == ["email", "sms"] * count
    assert [row(service, i).event_pk for i in grouped[::2]] == sorted(dispatch.args[0])
    assert sorted(row(service, i).channel for i in alone) == ["webhook"] * count
    assert len(messages) == len(groups) + len(alone)


class _Dispatcher:
    """Fails for the event keys it is given; plans nothing for the others."""

    def __init__(self, failing: set[int]) -> None:
        self.failing = failing
        self.seen: list[int] = []

    def dispatch(self, event_pk: int) -> list[str]:
        self.seen.append(event_pk)
        if event_pk in self.failing:
            raise ConnectionError("database went away")
        return []


def test_only_the_events_that_failed_to_dispatch_are_queued_again() -> None:
    broker = StubBroker()
    dispatcher = _Dispatcher(failing={2})
    actors = declare_actors(broker, dispatcher, deliverer=None)  # type: ignore[arg-type]

    actors.dispatch_events.fn([1, 2, 3])

    assert dispatcher.seen == [1, 2, 3]
    [again] = _queued(broker, "events")
    assert (again.actor_name, again.args) == ("dispatch_events", ([2],))
    broker.close()


def test_a_message_whose_events_all_fail_is_retried_whole() -> None:
    broker = StubBroker()
    dispatcher = _Dispatcher(failing={1, 2})
    actors = declare_actors(broker, dispatcher, deliverer=None)  # type: ignore[arg-type]

    with pytest.raises(ConnectionError):
        actors.dispatch_events.fn([1, 2])

    assert _queued(broker, "events") == []
    broker.close()


def test_a_message_for_the_one_event_actor_of_an_earlier_version_is_recovered(
    service: Service,
) -> None:
    # Given a stored event whose only hand-over is a message for the one-event actor of an
    # earlier version, left in the queue
    payload = EventIn.model_validate(event()).payload()
    stored = Intake(service.engine, lambda event_pks: None).accept("shop", payload)
    service.broker.enqueue(
        dramatiq.Message(
            queue_name="events",
            actor_name="dispatch_event",
            args=(stored.event_pk,),
            kwargs={},
            options={},
        )
    )

    # When a worker takes the queue, and the relay runs once the event has waited its grace
    worker = dramatiq.Worker(service.broker, worker_timeout=50)
    worker.start()
    try:
        service.broker.join("events", fail_fast=False, timeout=30_000)  # type: ignore[attr-defined]
    finally:
        worker.stop()
    dead = service.broker.dead_letters_by_queue.pop("events")  # type: ignore[attr-defined]
    later = db.now() + timedelta(seconds=service.settings.redeliver_after + 1)
    relayed = service.relay.run_once(later)
    drain(service)

    # Then the worker set the message aside unrun, the relay handed the event over again, and
    # its messages were planned and sent
    assert [message.actor_name for message in dead] == ["dispatch_event"]
    assert relayed == 1
    assert sorted((row.channel, row.status) for row in rows(service)) == [
        ("email", "sent"),
        ("sms", "sent"),
    ]


def test_the_body_hash_is_that_of_the_standard_librarys_canonical_json() -> None:
    body = event(customer={"name": 'Zoë \u00e9\u2028 "quoted" \\ \x01\x1f\x7f 😀'})
    body["return"]["items"][0]["name"] = "Trui\tmaat M\n"
    payload = EventIn.model_validate(body).payload()

    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    assert body_hash(payload) == hashlib.sha256(canonical.encode()).hexdigest()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_event_after_a_quiet_spell_is_picked_up_within_a_tenth_of_a_second_a_hop(
    settings: Settings, redis_url: str, make_service: Callable[..., Service], twins: Twins
) -> None:
    # Given a worker on Redis
    service = make_service(replace(settings, redis_url=redis_url), channels=twins.senders)
    took: list[float] = []
    with processes.worker(service):
        for n in range(3):
            # When an event is accepted after its queues have been idle for 2.5 s
            time.sleep(2.5)
            payload = EventIn.model_validate(
                event(type="return.approved", event_id=f"evt-{n}", return_id=f"RMA-{n}")
            ).payload()
            started = time.monotonic()
            service.intake.accept("shop", payload)
            while len(twins.email.outbox) <= n and time.monotonic() - started < 10:
                time.sleep(0.005)
            took.append(time.monotonic() - started)

    # Then each email went out well within a second: the events queue and the deliveries
    # queue each picked up their job within about 100 ms (dramatiq's idle consumers wait
    # between 0.5 and 1 s between polls, so three such emails would hardly all make it)
    assert len(twins.email.outbox) == 3
    assert max(took) < 0.45, f"the emails went out {took} s after their events"
