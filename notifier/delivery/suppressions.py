"""Suppressions: addresses and numbers never to message again on a channel.

A hard bounce, a spam report or an unsubscribe (provider callbacks), and a permanent
refusal that says the recipient opted out (Twilio's 21610) suppress an address. Planning
checks it before a notification is made, delivery again before it is sent. Addresses are
kept lower-case, so ``Sanne@Example.nl`` and ``sanne@example.nl`` are one.

An erased customer's suppression (and one older than the retention period) is kept, as it
protects them, but under a pseudonym (:func:`pseudonym`, a hash of the address) instead of
the address itself: every check below finds an address by either form.

Staff list the suppressions newest first, a page at a time (indexes on ``created_at``, with
and without the channel first), and may lift one: later messages go to the address again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from notifier import db
from notifier.records import Suppression
from notifier.status import Channel

#: Where a page of suppressions starts or ends: a row's (created_at, channel, address).
Position = tuple[datetime, str, str]

_s = db.suppressions.c

#: How a pseudonymous suppression's ``address`` begins.
PSEUDONYM_PREFIX = "sha256:"


def pseudonym(address: str) -> str:
    """The form a suppression of ``address`` is kept in once its address is erased.

    ``sha256:`` and the hex digest of the lower-cased address: the address cannot be read
    back from it, yet a message to the same address later is still recognised as suppressed.
    """
    digest = hashlib.sha256(b"notifier-suppression\0" + address.lower().encode()).hexdigest()
    return PSEUDONYM_PREFIX + digest


def _forms(address: str) -> list[str]:
    return [address.lower(), pseudonym(address)]


def forms_of(addresses: Iterable[str]) -> dict[str, str]:
    """Each form a suppression of ``addresses`` may be kept in (lower-cased, or its
    :func:`pseudonym`), mapped to the lower-cased address."""
    clear = {address.lower() for address in addresses}
    return {pseudonym(address): address for address in clear} | {a: a for a in clear}


#: Of an address suppressed in both forms (erased, then suppressed again), the clear row is
#: the newer one, with the provider's reason.
_CLEAR_FIRST = _s.address.startswith(PSEUDONYM_PREFIX)


def suppressions_of(connection: Connection, addresses: Iterable[str]) -> dict[tuple[str, str], str]:
    """Why each of ``addresses`` is suppressed, by (channel, lower-cased address); an
    address held in clear or as its :func:`pseudonym` alike. Unsuppressed ones are left out."""
    forms = forms_of(addresses)
    if not forms:
        return {}
    found: dict[tuple[str, str], str] = {}
    for row in connection.execute(
        select(_s.channel, _s.address, _s.reason)
        .where(db.listed_in(_s.address, values=forms))
        .order_by(_CLEAR_FIRST)
    ):
        found.setdefault((row.channel, forms[row.address]), row.reason)
    return found


@dataclass(frozen=True, slots=True)
class SuppressionPage:
    """One page of suppressions, newest first, and where the pages beside it start.

    Attributes:
        suppressions: The rows of the page, addresses as stored (not masked).
        older: Give as ``older_than`` for the next page (older ones); None on the last page.
        newer: Give as ``newer_than`` for the page before (newer ones); None on the first.
    """

    suppressions: list[Suppression]
    older: Position | None
    newer: Position | None


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
        select(_s.reason)
        .where(_s.channel == channel, _s.address.in_(_forms(address)))
        .order_by(_CLEAR_FIRST)
        .limit(1)
    ).scalar_one_or_none()


def suppression_of(
    connection: Connection, channel: Channel | str, address: str
) -> Suppression | None:
    """The suppression of ``address`` on ``channel``, or None if it is not suppressed."""
    row = connection.execute(
        select(db.suppressions)
        .where(_s.channel == channel, _s.address.in_(_forms(address)))
        .order_by(_CLEAR_FIRST)
        .limit(1)
    ).one_or_none()
    return None if row is None else Suppression.from_row(row)


def lift(connection: Connection, channel: Channel | str, address: str) -> bool:
    """Message ``address`` on ``channel`` again: forget its suppression.

    Returns:
        Whether it was suppressed (False: nothing to lift, perhaps lifted already).
    """
    deleted = connection.execute(
        delete(db.suppressions).where(_s.channel == channel, _s.address.in_(_forms(address)))
    )
    return bool(deleted.rowcount)


def suppressions_page(
    connection: Connection,
    *,
    channel: Channel | None = None,
    limit: int = 50,
    older_than: Position | None = None,
    newer_than: Position | None = None,
) -> SuppressionPage:
    """One page of the suppressions (of one channel, or all), newest first.

    Args:
        connection: The database.
        channel: Only the suppressions of this channel.
        limit: Rows on a page.
        older_than: Start after this position (the ``older`` of the page before).
        newer_than: End before this position (the ``newer`` of the page after).
    """
    key = tuple_(_s.created_at, _s.channel, _s.address)
    query = select(db.suppressions)
    if channel is not None:
        query = query.where(_s.channel == channel)
    if newer_than is not None:
        query = query.where(key > tuple_(*newer_than)).order_by(
            _s.created_at.asc(), _s.channel.asc(), _s.address.asc()
        )
    else:
        if older_than is not None:
            query = query.where(key < tuple_(*older_than))
        query = query.order_by(_s.created_at.desc(), _s.channel.desc(), _s.address.desc())
    rows = list(connection.execute(query.limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    if newer_than is not None:
        rows.reverse()
    found = [Suppression.from_row(row) for row in rows]
    if not found:
        return SuppressionPage([], None, None)
    has_older = more if newer_than is None else True
    has_newer = (older_than is not None) if newer_than is None else more
    first, last = found[0], found[-1]
    return SuppressionPage(
        found,
        older=(last.created_at, last.channel, last.address) if has_older else None,
        newer=(first.created_at, first.channel, first.address) if has_newer else None,
    )


def suppressions_count(connection: Connection, *, channel: Channel | None = None) -> int:
    """How many addresses are suppressed (on one channel, or on any)."""
    query = select(func.count()).select_from(db.suppressions)
    if channel is not None:
        query = query.where(_s.channel == channel)
    return int(connection.execute(query).scalar_one())
