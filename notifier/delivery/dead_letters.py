"""Dead letters: notifications that exhausted their retries, listed and replayed by staff.

A replay puts the same notification (same id) back in the queue; delivery's claim still
refuses anything already sent, so a replay can never send a message twice.

The lists read the index ``ix_notifications_dead_status_updated_at_id``: dead letters newest
first, a page at a time, whatever else the table holds.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, and_, func, or_, select, update

from notifier import db
from notifier.masking import customer_names, mask_recipient, mask_text
from notifier.records import DeadLetter
from notifier.status import REMOVED_RECIPIENT, Channel, NotificationStatus

#: Where a page of dead letters starts or ends: the (updated_at, id) of a dead letter.
Position = tuple[datetime, str]

_n = db.notifications.c


@dataclass(frozen=True, slots=True)
class DeadLetterFilter:
    """Which dead letters: every field that is not None narrows the choice.

    Attributes:
        channel: Only those of this channel.
        kind: Only those of this message kind (``return.approved``, ``reminder.ship_by``, ...).
        died_before: Only those that died before this moment.
        died_since: Only those that died at or after this moment.
        ids: Only these notifications; an empty set chooses none.
    """

    channel: Channel | None = None
    kind: str | None = None
    died_before: datetime | None = None
    died_since: datetime | None = None
    ids: Collection[str] | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The SQL conditions choosing these dead letters among the notifications."""
        chosen = [_n.dead.is_(True), _n.status == NotificationStatus.FAILED]
        if self.channel is not None:
            chosen.append(_n.channel == self.channel)
        if self.kind is not None:
            chosen.append(_n.kind == self.kind)
        if self.died_before is not None:
            chosen.append(_n.updated_at < self.died_before)
        if self.died_since is not None:
            chosen.append(_n.updated_at >= self.died_since)
        if self.ids is not None:
            chosen.append(_n.id.in_(list(self.ids)))
        return chosen


@dataclass(frozen=True, slots=True)
class DeadLetterPage:
    """One page of dead letters, newest first, and where the pages beside it start.

    Attributes:
        letters: The dead letters of the page, recipients and errors masked.
        older: Give as ``older_than`` for the next page (older ones); None on the last page.
        newer: Give as ``newer_than`` for the page before (newer ones); None on the first.
    """

    letters: list[DeadLetter]
    older: Position | None
    newer: Position | None


class DeadLetters:
    """Lists and replays dead letters."""

    def __init__(self, engine: Engine, enqueue_delivery: Callable[[str], None] | None) -> None:
        self._engine = engine
        self._enqueue = enqueue_delivery

    def pending(self, limit: int = 500) -> list[DeadLetter]:
        """The newest ``limit`` dead letters, recipients and errors masked."""
        return self.page(DeadLetterFilter(), limit=limit).letters

    def page(
        self,
        which: DeadLetterFilter,
        *,
        limit: int = 50,
        older_than: Position | None = None,
        newer_than: Position | None = None,
    ) -> DeadLetterPage:
        """One page of the dead letters ``which`` chooses, newest first.

        Args:
            which: The dead letters to list.
            limit: Dead letters on a page.
            older_than: Start after this position (the ``older`` of the page before).
            newer_than: End before this position (the ``newer`` of the page after).
        """
        key = (_n.updated_at, _n.id)
        query = select(
            _n.id,
            _n.return_id,
            _n.kind,
            _n.channel,
            _n.recipient,
            _n.attempts,
            _n.last_error,
            _n.updated_at,
        ).where(*which.conditions())
        if newer_than is not None:
            query = query.where(_after(newer_than)).order_by(*(c.asc() for c in key))
        else:
            if older_than is not None:
                query = query.where(_before(older_than))
            query = query.order_by(*(c.desc() for c in key))
        with self._engine.connect() as connection:
            rows = list(connection.execute(query.limit(limit + 1)).all())
            names = customer_names(connection, {row.return_id for row in rows[:limit]})
        more = len(rows) > limit
        rows = rows[:limit]
        if newer_than is not None:
            rows.reverse()
        letters = [_masked(DeadLetter.from_row(row), names.get(row.return_id, ())) for row in rows]
        if not letters:
            return DeadLetterPage([], None, None)
        first, last = letters[0], letters[-1]
        has_older = more if newer_than is None else True
        has_newer = (older_than is not None) if newer_than is None else more
        return DeadLetterPage(
            letters,
            older=(last.updated_at, last.id) if has_older else None,
            newer=(first.updated_at, first.id) if has_newer else None,
        )

    def count(self, which: DeadLetterFilter) -> int:
        """How many dead letters ``which`` chooses."""
        query = select(func.count()).select_from(db.notifications).where(*which.conditions())
        with self._engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def replay(
        self, ids: Sequence[str] = (), *, which: DeadLetterFilter | None = None
    ) -> list[str]:
        """Queue dead letters again; returns the ids queued.

        Args:
            ids: The dead letters to replay; empty (and no ``which``) means every one.
            which: Replay the dead letters this chooses instead (an empty ``ids`` set in it
                chooses none).

        Ids that are not dead letters (sent, delivered, unknown) are left alone, and so are
        dead letters whose personal data retention removed (there is no one to send to). Without an
        ``enqueue_delivery`` the rows are only marked, and a running service's relay queues
        them within one relay interval.
        """
        if which is None:
            which = DeadLetterFilter(ids=ids or None)
        now = db.now()
        with self._engine.begin() as connection:
            replayed = list(
                connection.execute(
                    update(db.notifications)
                    .where(*which.conditions(), _n.recipient != REMOVED_RECIPIENT)
                    .values(
                        status=NotificationStatus.QUEUED,
                        dead=False,
                        attempts=0,
                        next_attempt_at=now,
                        enqueued_at=None,
                        updated_at=now,
                    )
                    .returning(_n.id)
                ).scalars()
            )
        if self._enqueue is not None:
            for notification_id in replayed:
                self._enqueue(notification_id)
        return replayed


def _before(position: Position) -> ColumnElement[bool]:
    at, last_id = position
    return or_(_n.updated_at < at, and_(_n.updated_at == at, _n.id < last_id))


def _after(position: Position) -> ColumnElement[bool]:
    at, last_id = position
    return or_(_n.updated_at > at, and_(_n.updated_at == at, _n.id > last_id))


def _masked(letter: DeadLetter, names: Iterable[str] = ()) -> DeadLetter:
    return replace(
        letter,
        recipient=mask_recipient(letter.channel, letter.recipient),
        last_error=mask_text(letter.last_error, names),
    )
