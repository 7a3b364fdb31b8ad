"""Suppressions: addresses and numbers never to message again on a channel.

A hard bounce, a spam report or an unsubscribe (provider callbacks), and a permanent
refusal that says the recipient opted out (Twilio's 21610) suppress an address. Planning
checks it before a notification is made, delivery again before it is sent. Addresses are
kept lower-case, so ``Sanne@Example.nl`` and ``sanne@example.nl`` are one.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from notifier import db
from notifier.status import Channel

_s = db.suppressions.c


def suppress(connection: Connection, channel: Channel | str, address: str, reason: str) -> None:
    """Never send ``channel`` messages to ``address`` again (idempotent; the first reason
    stays)."""
    key = address.lower()
    known = connection.execute(
        select(_s.address).where(_s.channel == channel, _s.address == key)
    ).first()
    if known is None:
        connection.execute(
            insert(db.suppressions).values(
                channel=channel, address=key, reason=reason, created_at=db.now()
            )
        )


def suppression(connection: Connection, channel: Channel | str, address: str) -> str | None:
    """Why ``address`` is suppressed on ``channel``, or None if it is not."""
    return connection.execute(
        select(_s.reason).where(_s.channel == channel, _s.address == address.lower())
    ).scalar_one_or_none()
