"""Handing accepted events to the queue: one message per group, and a stable body hash."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from notifier.http import EventIn
from notifier.intake import body_hash
from notifier.queue import DISPATCH_CHUNK, declare_actors
from notifier.service import Service
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


def test_the_body_hash_is_that_of_the_standard_librarys_canonical_json() -> None:
    body = event(customer={"name": 'Zoë \u00e9\u2028 "quoted" \\ \x01\x1f\x7f 😀'})
    body["return"]["items"][0]["name"] = "Trui\tmaat M\n"
    payload = EventIn.model_validate(body).payload()

    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    assert body_hash(payload) == hashlib.sha256(canonical.encode()).hexdigest()
