"""Dispatching the events handed over together, in one transaction."""

from __future__ import annotations

from sqlalchemy import func, select

from channels.webhook import new_webhook_secret
from notifier import db
from notifier.delivery import suppress
from notifier.dispatch import Preferences
from notifier.http import EventIn
from notifier.service import Service
from tests.delivery_support import row, subscribe
from tests.factories import event


def _accept(service: Service, n: int, **customer: object) -> int:
    body = event(event_id=f"evt-{n}", return_id=f"RMA-{n}")
    body["customer"].update(id=f"C-{n}", email=f"klant{n}@example.nl", **customer)
    return service.intake.accept("shop", EventIn.model_validate(body).payload()).event_pk


def test_events_dispatched_together_are_planned_as_each_alone_would_be(service: Service) -> None:
    # Given a subscriber, and three refund events: an ordinary customer, one whose email is
    # suppressed, one who opted out of SMS
    subscribe(service, "https://hooks.example/in", new_webhook_secret())
    plain = _accept(service, 1)
    bounced = _accept(service, 2)
    quiet = _accept(service, 3)
    with service.engine.begin() as connection:
        suppress(connection, "email", "Klant2@Example.nl", "hard bounce")
    Preferences(service.engine).put("C-3", {"sms": False})

    # When they are dispatched together
    waiting = service.dispatcher.dispatch_many([plain, bounced, quiet])

    # Then each got the messages it calls for, and the ones to send are handed back in order
    planned = {pk: service.dispatcher.dispatch(pk) for pk in (plain, bounced, quiet)}
    assert [i for i, _ in waiting] == planned[plain] + planned[bounced] + planned[quiet]
    channels = ["email", "sms", "webhook"] + ["sms", "webhook"] + ["email", "webhook"]
    assert [channel for _, channel in waiting] == channels
    assert [row(service, i).channel for i, _ in waiting] == channels
    held = {
        (r.event_pk, r.channel): (r.status, r.reason)
        for r in _rows(service)
        if r.status != "queued"
    }
    assert held == {
        (bounced, "email"): ("suppressed", "address suppressed"),
        (quiet, "sms"): ("suppressed", "opted out"),
    }
    with service.engine.connect() as connection:
        undispatched = connection.execute(
            select(func.count()).where(db.outbox.c.dispatched_at.is_(None))
        ).scalar_one()
    assert undispatched == 0


def test_dispatching_a_group_again_plans_nothing_new(service: Service) -> None:
    pks = [_accept(service, n) for n in range(3)]

    first = service.dispatcher.dispatch_many(pks)
    again = service.dispatcher.dispatch_many([*pks, 999_999])

    assert again == first
    assert len(_rows(service)) == 6


def _rows(service: Service) -> list[object]:
    with service.engine.connect() as connection:
        return list(connection.execute(select(db.notifications)).all())
