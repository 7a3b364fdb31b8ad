"""Delivering the notifications handed over together: claimed at once, each sent once and
recorded as soon as it is, nothing lost and only the send in flight repeated when the worker
stops midway."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from channels.base import EmailMessage, SendResult
from notifier import db
from notifier.delivery import Outcome, sender
from notifier.service import Service
from notifier.settings import Settings
from tests.delivery_support import Twins, accept, row
from tests.factories import event


def _emails(service: Service, count: int) -> list[str]:
    """Plan ``count`` approval emails, each for a return of its own; returns their ids."""
    return [
        accept(service, event(type="return.approved", event_id=f"evt-{n}", return_id=f"RMA-{n}"))[
            "email"
        ]
        for n in range(count)
    ]


def _renders(service: Service, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The return ids of the messages ``service`` renders from now on, in order."""
    rendered: list[str] = []
    render = service.renderer.render

    def counted(kind: str, channel: str, data: Any, **options: Any) -> Any:
        rendered.append(data["return"]["id"])
        return render(kind, channel, data, **options)

    monkeypatch.setattr(service.renderer, "render", counted)
    return rendered


def test_a_group_is_claimed_at_once_and_each_of_it_sent_once_in_order(
    twinned: Service, twins: Twins
) -> None:
    # Given five planned emails, one of which was sent already, and an id nobody planned
    ids = _emails(twinned, 5)
    twinned.deliverer.deliver(ids[0])
    seen: list[Any] = []

    def probe(message: EmailMessage) -> SendResult:
        seen.extend(row(twinned, i) for i in ids[1:])
        return SendResult("probe", "p-1")

    twins.email.answer(probe)

    # When the group is delivered
    outcomes = twinned.deliverer.deliver_many([*ids, "ntf_unknown"])

    # Then the four still due were claimed together before the first was sent, with one
    # token, and sent in order; the others had nothing to do
    assert all(claimed.claimed_until is not None for claimed in seen)
    assert len({claimed.claim_token for claimed in seen}) == 1
    assert [message.id for message in twins.email.outbox] == ids
    assert outcomes == [(ids[0], Outcome(None))] + [(i, Outcome("sent")) for i in ids[1:]] + [
        ("ntf_unknown", Outcome(None))
    ]
    assert all(row(twinned, i).claim_token is None for i in ids)


def test_each_outcome_is_recorded_and_followed_up_as_soon_as_it_is_known(
    twinned: Service, twins: Twins
) -> None:
    # Given three planned emails, and a provider that looks at the store at the third send
    ids = _emails(twinned, 3)
    followed: list[str] = []
    statuses_then: list[str] = []

    def probe(message: EmailMessage) -> SendResult:
        statuses_then.extend(row(twinned, i).status for i in ids)
        return SendResult("probe", None)

    twins.email.answer(SendResult("probe", None), SendResult("probe", None), probe)

    # When the group is delivered, following up each outcome
    twinned.deliverer.deliver_many(ids, then=lambda i, outcome: followed.append(i))

    # Then the first two were recorded sent and followed up before the third was sent
    assert statuses_then == ["sent", "sent", "queued"]
    assert followed == ids


def test_a_redelivered_group_sends_nothing_twice(twinned: Service, twins: Twins) -> None:
    ids = _emails(twinned, 4)

    first = twinned.deliverer.deliver_many(ids)
    again = twinned.deliverer.deliver_many(ids)

    assert [outcome.status for _, outcome in first] == ["sent"] * 4
    assert [outcome.status for _, outcome in again] == [None] * 4
    assert len(twins.email.outbox) == 4


def test_a_worker_stopped_midway_loses_nothing_and_repeats_only_the_send_in_flight(
    twinned: Service, twins: Twins
) -> None:
    # Given five planned emails, and a worker that stops during the third send (its outcome
    # unknown: the provider may have taken it)
    ids = _emails(twinned, 5)

    def stopped(message: EmailMessage) -> SendResult:
        raise SystemExit("worker stopped")

    twins.email.answer(SendResult("p", None), SendResult("p", None), stopped)
    with pytest.raises(SystemExit):
        twinned.deliverer.deliver_many(ids)

    # Then the first two are recorded sent, the third stays claimed, and the last two were
    # given back unclaimed for the job's retry
    assert [row(twinned, i).status for i in ids] == ["sent", "sent", "queued", "queued", "queued"]
    assert row(twinned, ids[2]).claim_token is not None
    assert [row(twinned, i).claim_token for i in ids[3:]] == [None, None]

    # When the job is retried at once, and again once the third's lease has run out
    retried = twinned.deliverer.deliver_many(ids)
    lease = timedelta(seconds=twinned.settings.claim_lease)
    later = twinned.deliverer.deliver_many(ids, db.now() + lease + timedelta(seconds=1))

    # Then the retry sent the last two, the later one the third: every email reached the
    # provider, and only the one in flight when the worker stopped reached it twice
    assert [outcome.status for _, outcome in retried] == [None, None, None, "sent", "sent"]
    assert [outcome.status for _, outcome in later] == [None, None, "sent", None, None]
    sent = Counter(message.id for message in twins.email.outbox)
    assert set(sent) == set(ids)
    assert {i for i, times in sent.items() if times > 1} == {ids[2]}
    assert sent[ids[2]] == 2


def test_a_group_slower_than_the_lease_keeps_its_claims_from_other_workers(
    settings: Settings, make_service: Callable[..., Service], twins: Twins
) -> None:
    # Given a lease of 0.6 s and a provider taking 0.25 s a send: six sends take 1.5 s
    service = make_service(replace(settings, claim_lease=0.6), channels=twins.senders)
    ids = _emails(service, 6)
    done = threading.Event()

    def rival() -> None:
        while not done.is_set():
            service.deliverer.deliver_many(ids)
            time.sleep(0.05)

    other = threading.Thread(target=rival)

    def slow(message: EmailMessage) -> SendResult:
        if not other.is_alive():
            other.start()  # the group is claimed: from now on another worker keeps trying
        time.sleep(0.25)
        return SendResult("slow", None)

    twins.email.answer(*[slow] * 20)

    # When one worker delivers the group, while another keeps trying the same notifications
    try:
        service.deliverer.deliver_many(ids)
    finally:
        done.set()
        other.join(timeout=30)

    # Then every email was sent exactly once, by the first worker
    sent = Counter(message.id for message in twins.email.outbox)
    assert sent == Counter(ids)
    assert all(row(service, i).status == "sent" for i in ids)


def test_a_group_renders_its_messages_before_it_sends_the_first(
    twinned: Service, twins: Twins, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given four planned emails, and a count of the renders made
    ids = _emails(twinned, 4)
    rendered = _renders(twinned, monkeypatch)
    renders_then: list[int] = []

    def probe(message: EmailMessage) -> SendResult:
        renders_then.append(len(rendered))
        return SendResult("probe", None)

    twins.email.answer(*[probe] * 4)

    # When the group is delivered
    outcomes = twinned.deliverer.deliver_many(ids)

    # Then all four were rendered, once each and in order, before the first was sent, and
    # each was sent as rendered
    assert renders_then == [4, 4, 4, 4]
    assert rendered == [f"RMA-{n}" for n in range(4)]
    assert [outcome.status for _, outcome in outcomes] == ["sent"] * 4
    assert [m.id for m in twins.email.outbox] == ids
    assert all(f"RMA-{n}" in m.text for n, m in enumerate(twins.email.outbox))


def test_a_message_that_cannot_be_rendered_fails_alone_at_its_turn(
    twinned: Service, twins: Twins
) -> None:
    # Given three planned emails, the second for an event whose policy cannot apply
    first = _emails(twinned, 1)[0]
    bad = accept(
        twinned,
        event(
            type="return.approved",
            event_id="evt-bad",
            return_id="RMA-bad",
            policy={"return_shipping": "paid", "shipping_cost": None},
        ),
    )["email"]
    third = accept(
        twinned, event(type="return.approved", event_id="evt-last", return_id="RMA-last")
    )["email"]
    statuses_then: list[list[str]] = []

    def probe(message: EmailMessage) -> SendResult:
        statuses_then.append([row(twinned, i).status for i in (first, bad, third)])
        return SendResult("probe", None)

    twins.email.answer(probe, probe)

    # When the group is delivered
    outcomes = twinned.deliverer.deliver_many([first, bad, third])

    # Then the second failed with its reason once the first was sent and before the third
    # was, and the other two were sent
    assert [outcome.status for _, outcome in outcomes] == ["sent", "failed", "sent"]
    assert statuses_then == [["queued", "queued", "queued"], ["sent", "failed", "queued"]]
    failed = row(twinned, bad)
    assert (failed.attempts, failed.claim_token) == (1, None)
    assert "policy: field 'shipping_cost' is required" in (failed.last_error or "")
    assert [m.id for m in twins.email.outbox] == [first, third]


def test_a_message_rendered_ahead_and_held_up_is_rendered_again_before_its_send(
    twinned: Service, twins: Twins, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given three planned emails, a count of each return's renders, and a provider that takes
    # longer than a message rendered ahead stays fresh (on the sender's clock)
    ids = _emails(twinned, 3)
    rendered = _renders(twinned, monkeypatch)
    clock = [1000.0]
    monkeypatch.setattr(sender, "_clock", lambda: clock[0])
    renders_then: list[list[str]] = []

    def slow(message: EmailMessage) -> SendResult:
        renders_then.append(list(rendered))
        clock[0] += sender.RENDERED_AHEAD_FOR + 1
        return SendResult("probe", None)

    twins.email.answer(slow, slow, slow)

    # When the group is delivered
    outcomes = twinned.deliverer.deliver_many(ids)

    # Then all three were rendered ahead; the first went as rendered, and each of the others,
    # grown too old waiting for the provider, was rendered again right before its send
    ahead = ["RMA-0", "RMA-1", "RMA-2"]
    assert renders_then == [ahead, [*ahead, "RMA-1"], [*ahead, "RMA-1", "RMA-2"]]
    assert [outcome.status for _, outcome in outcomes] == ["sent"] * 3
