"""Staff resend a failed or bounced notification as a new one; nothing else is resent."""

from __future__ import annotations

import pytest

from channels.errors import PermanentChannelError
from channels.tracking import TrackingEvent, TrackingStatus
from channels.webhook import new_webhook_secret
from notifier.dispatch import Resends
from notifier.errors import NotFoundError, ResendRefusedError
from notifier.service import Service
from tests.delivery_support import Twins, accept, row, rows, subscribe
from tests.drain import drain
from tests.factories import event


def _bounce(service: Service, notification_id: str) -> None:
    """The provider reports a hard bounce of the sent notification."""
    service.tracker.apply(
        [
            TrackingEvent(
                "sendgrid",
                TrackingStatus.BOUNCED,
                notification_id,
                None,
                None,
                None,
                "550 5.1.1 mailbox unknown",
                True,
            )
        ]
    )


def test_a_bounced_email_is_resent_as_a_new_notification_to_a_corrected_address(
    twinned: Service, twins: Twins
) -> None:
    # Given a refund email that was sent and bounced
    ids = accept(twinned, event())
    drain(twinned)
    _bounce(twinned, ids["email"])
    original = row(twinned, ids["email"])
    queued: list[str] = []
    resends = Resends(twinned.engine, queued.append)

    # When staff resend it to a corrected address
    resent = resends.resend(ids["email"], "sanne.devries@example.nl", 1)

    # Then a new notification waits for delivery: the same message to the new address
    new = row(twinned, resent.notification.id)
    assert resent.created and queued == [new.id] and new.id != original.id
    assert (new.source, new.status, new.attempts, new.dead, new.recipient) == (
        f"resend:{original.id}:1",
        "queued",
        0,
        False,
        "sanne.devries@example.nl",
    )
    same = ("event_pk", "return_id", "customer_id", "kind", "channel", "locale", "timezone")
    assert [new._mapping[c] for c in same] == [original._mapping[c] for c in same]
    assert (new.data, new.rule) == (original.data, original.rule)
    # And the original keeps its status
    assert row(twinned, ids["email"]).status == "bounced"


def test_the_same_resend_confirmed_twice_is_stored_and_sent_once(
    twinned: Service, twins: Twins
) -> None:
    # Given a bounced email
    ids = accept(twinned, event())
    drain(twinned)
    _bounce(twinned, ids["email"])
    queued: list[str] = []
    resends = Resends(twinned.engine, queued.append)
    original = resends.original(ids["email"])
    before = len(rows(twinned))

    # When its first resend is confirmed twice, then a second resend is made
    first = resends.resend(original.id, None, resends.next_number(original))
    again = resends.resend(original.id, None, 1)
    second = resends.resend(original.id, None, resends.next_number(original))

    # Then the first confirmation stored one, the repeat nothing, and the next a new one
    assert (first.created, again.created, second.created) == (True, False, True)
    assert again.notification.id == first.notification.id != second.notification.id
    assert second.notification.source == f"resend:{original.id}:2"
    assert queued == [first.notification.id, second.notification.id]
    assert len(rows(twinned)) == before + 2
    assert first.notification.recipient == "sanne@example.nl"


def test_only_failed_and_bounced_notifications_are_resent(twinned: Service, twins: Twins) -> None:
    # Given a sent email and a webhook that failed for good
    subscribe(twinned, "https://shop.example/hooks", new_webhook_secret())
    twins.webhook.answer(PermanentChannelError("400 Bad Request", status=400))
    ids = accept(twinned, event())
    drain(twinned)
    before = len(rows(twinned))
    queued: list[str] = []
    resends = Resends(twinned.engine, queued.append)

    # When staff try to resend the sent email, an unknown one, and the webhook elsewhere
    with pytest.raises(ResendRefusedError, match="is sent: only a failed or bounced"):
        resends.resend(ids["email"], None, 1)
    with pytest.raises(NotFoundError):
        resends.resend("ntf_unknown", None, 1)
    with pytest.raises(ResendRefusedError, match="own subscription"):
        resends.resend(ids["webhook"], "wh_other", 1)

    # Then nothing was stored or queued; the webhook itself may go again, to its subscription
    assert len(rows(twinned)) == before and queued == []
    assert (
        resends.resend(ids["webhook"], None, 1).notification.recipient
        == row(twinned, ids["webhook"]).recipient
    )
