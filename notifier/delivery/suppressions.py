"""Suppressions: addresses and numbers never to message again on a channel.

A hard bounce, a spam report or an unsubscribe (provider callbacks), and a permanent
refusal that says the recipient opted out (Twilio's 21610) suppress an address. Planning
checks it before a notification is made, delivery again before it is sent. Addresses are
kept lower-case, so ``Sanne@Example.nl`` and ``sanne@example.nl`` are one.
"""

from __future__ import annotations

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from notifier import db
from notifier.status import Channel

_s = db.suppressions.c


def suppress(connection: Connection, channel: Channel | str, address: str, reason: str) -> None:
    """Never send ``channel`` messages to ``address`` again (idempotent; the first reason
    stays, also when two callbacks suppress the same address at once)."""
    insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(
        insert(db.suppressions)
        .values(channel=channel, address=address.lower(), reason=reason, created_at=db.now())
        .on_conflict_do_nothing()
    )


def suppression(connection: Connection, channel: Channel | str, address: str) -> str | None:
    """Why ``address`` is suppressed on ``channel``, or None if it is not."""
    return connection.execute(
        select(_s.reason).where(_s.channel == channel, _s.address == address.lower())
    ).scalar_one_or_none()
