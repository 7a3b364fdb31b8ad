"""Suppressions as staff see them: listed newest first, found by address, lifted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from notifier import db
from notifier.delivery import (
    lift,
    pseudonym,
    suppress,
    suppression,
    suppression_of,
    suppressions_count,
    suppressions_of,
    suppressions_page,
)
from notifier.service import Service
from notifier.status import Channel


def test_a_lifted_suppression_is_gone_and_lifting_it_again_says_so(service: Service) -> None:
    # Given an email address suppressed after a bounce
    with service.engine.begin() as connection:
        suppress(connection, Channel.EMAIL, "Sanne@Example.nl", "bounce: mailbox unknown")

    # When it is lifted, written in other capitals, and then lifted once more
    with service.engine.begin() as connection:
        first = lift(connection, Channel.EMAIL, "SANNE@example.nl")
        again = lift(connection, Channel.EMAIL, "sanne@example.nl")

    # Then the first lifting removed it and the second found nothing to lift
    assert (first, again) == (True, False)
    with service.engine.connect() as connection:
        assert suppression(connection, Channel.EMAIL, "sanne@example.nl") is None


def test_lifting_one_channel_leaves_the_other(service: Service) -> None:
    with service.engine.begin() as connection:
        suppress(connection, Channel.EMAIL, "same@example.nl", "spam report")
        suppress(connection, Channel.SMS, "same@example.nl", "odd, but another channel")

        assert lift(connection, Channel.SMS, "same@example.nl")

        found = suppression_of(connection, Channel.EMAIL, "same@example.nl")
        assert found is not None and found.reason == "spam report"
        assert suppression_of(connection, Channel.SMS, "same@example.nl") is None


def test_suppressions_are_paged_newest_first_by_channel(service: Service) -> None:
    # Given 70 email and 30 SMS suppressions, ten of them made in the same instant
    now = db.now()
    rows = [
        {
            "channel": "email" if i % 10 < 7 else "sms",
            "address": f"klant{i:03d}@example.nl" if i % 10 < 7 else f"+316{i:08d}",
            "reason": "bounce",
            "created_at": now - timedelta(minutes=max(i, 10)),
        }
        for i in range(100)
    ]
    with service.engine.begin() as connection:
        connection.execute(insert(db.suppressions), rows)

    with service.engine.connect() as connection:
        # When every page is read, of all channels and of SMS only
        def every_page(channel: Channel | None) -> list[list[tuple[str, str]]]:
            pages = [suppressions_page(connection, channel=channel, limit=40)]
            while pages[-1].older is not None:
                pages.append(
                    suppressions_page(
                        connection, channel=channel, limit=40, older_than=pages[-1].older
                    )
                )
            return [[(s.channel, s.address) for s in page.suppressions] for page in pages]

        everything = every_page(None)
        texts = every_page(Channel.SMS)
        counts = suppressions_count(connection), suppressions_count(connection, channel="sms")
        last = suppressions_page(connection, limit=40, older_than=None)
        back = suppressions_page(
            connection,
            limit=40,
            newer_than=suppressions_page(connection, limit=40, older_than=last.older).newer,
        )

    # Then each is on one page only, newest first, and the channel filter keeps to its own
    expected = sorted(rows, key=lambda r: (r["created_at"], r["channel"], r["address"]))[::-1]
    assert [len(page) for page in everything] == [40, 40, 20]
    assert sum(everything, []) == [(r["channel"], r["address"]) for r in expected]
    assert sum(texts, []) == [
        (r["channel"], r["address"]) for r in expected if r["channel"] == "sms"
    ]
    assert counts == (100, 30)
    # And paging back from the second page gives the first again
    assert [(s.channel, s.address) for s in back.suppressions] == everything[0]
    assert back.newer is None and back.older is not None


def test_an_address_suppressed_again_after_its_erasure_shows_its_new_reason(
    service: Service,
) -> None:
    # Given an address whose suppression was kept under its pseudonym when it was erased,
    # and which bounced again since
    with service.engine.begin() as connection:
        suppress(connection, Channel.EMAIL, pseudonym("tom@example.nl"), "details removed")
        suppress(connection, Channel.EMAIL, "tom@example.nl", "bounce: mailbox full")

    # When staff and planning look the address up
    with service.engine.connect() as connection:
        found = suppression_of(connection, Channel.EMAIL, "Tom@example.nl")
        reason = suppression(connection, Channel.EMAIL, "tom@example.nl")
        reasons = suppressions_of(connection, ["TOM@example.nl"])

    # Then each finds the new suppression, with the provider's reason
    assert found is not None and found.reason == "bounce: mailbox full"
    assert reason == "bounce: mailbox full"
    assert reasons == {("email", "tom@example.nl"): "bounce: mailbox full"}
