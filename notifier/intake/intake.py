"""Intake: store an accepted event durably, with the record that it must still be dispatched.

The event row, the return's new state and the outbox row are written in one transaction
(a transactional outbox). Only after the commit is the event handed to the queue, by a thread
of its own that nobody waits for longer than a deadline (:mod:`notifier.intake.hand_over`);
if that hand-over is lost (a crash, a Redis restart or outage), the relay finds the outbox
row and hands it over again. Nothing that was answered with 202 can be lost.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, update

from notifier import db
from notifier.errors import EventConflictError
from notifier.incidents import Incident
from notifier.intake.bulk import Rows, bulk_for, document
from notifier.intake.hand_over import HandOver
from notifier.lifecycle import judge
from notifier.snapshot import merge_snapshot

log = logging.getLogger(__name__)

#: Most single events the group commit stores in one transaction.
MAX_GROUP = 500
#: Seconds an answer waits for its events' hand-over to the queue, unless told.
HAND_OVER_DEADLINE = 0.05
#: Seconds after a failed hand-over during which events are left to the relay, unless told.
HAND_OVER_PAUSE = 5.0


@dataclass(frozen=True, slots=True)
class Accepted:
    """The answer to one accepted event."""

    event_id: str
    return_id: str
    duplicate: bool
    event_pk: int


def canonical_json(payload: Mapping[str, Any]) -> bytes:
    """An event body as sorted, compact, unescaped UTF-8 JSON: hashed, and stored as it is.

    Byte for byte what ``json.dumps(payload, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`` gives, so hashes already stored stay valid; about six times faster.
    """
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)


def body_hash(payload: Mapping[str, Any]) -> str:
    """A stable hash of an event body, to tell a retry from a conflicting reuse of an id."""
    return hashlib.sha256(canonical_json(payload)).hexdigest()


class Intake:
    """Accepts validated events; ``enqueue`` is called with the new events' keys after commit.

    Args:
        engine: the database.
        enqueue: hands event keys to the queue.
        hand_over_deadline: seconds an answer waits for its events' hand-over
            (``NOTIFIER_HAND_OVER_DEADLINE``).
        hand_over_pause: seconds after a failed hand-over during which events are left to
            the relay without trying the queue (``NOTIFIER_HAND_OVER_PAUSE``).
    """

    def __init__(
        self,
        engine: Engine,
        enqueue: Callable[[Sequence[int]], None],
        *,
        hand_over_deadline: float = HAND_OVER_DEADLINE,
        hand_over_pause: float = HAND_OVER_PAUSE,
    ) -> None:
        self._engine = engine
        self._enqueue = enqueue
        self._handing_over = Incident(log, "handing accepted events to the queue")
        self.handing_over = HandOver(
            self._send,
            self._never_handed_over,
            deadline=hand_over_deadline,
            pause=hand_over_pause,
        )

    def accept(self, api_key: str, payload: Mapping[str, Any]) -> Accepted:
        """Store one event and queue it.

        Raises:
            EventConflictError: the ``event_id`` was used before with a different body.
        """
        [result] = self.accept_many(api_key, [payload])
        if isinstance(result, EventConflictError):
            raise result
        return result

    def accept_many(
        self, api_key: str, payloads: Sequence[Mapping[str, Any]]
    ) -> list[Accepted | EventConflictError]:
        """Store several events in one transaction, each judged as if posted alone, in order.

        A concurrent request that stores one of the same event ids or creates one of the same
        returns first makes the transaction fail on a unique key; it then runs again and sees
        what the other request stored.
        """
        results = self.store_many(api_key, payloads)
        self.handing_over.wait(self.hand_over_soon(results))
        return results

    def store_many(
        self, api_key: str, payloads: Sequence[Mapping[str, Any]]
    ) -> list[Accepted | EventConflictError]:
        """The storing half of :meth:`accept_many`: commit, but queue nothing yet."""
        if not payloads:
            return []
        dialect = self._engine.dialect.name
        return db.retry_on_conflict(
            self._engine, lambda connection: _store(connection, Batch(api_key, payloads, dialect))
        )

    def hand_over(self, results: Sequence[Accepted | EventConflictError]) -> None:
        """Queue the new events of ``results`` now, all at once; what fails here the relay
        queues later. Waits for the queue as long as it takes (its client's timeouts)."""
        fresh = _fresh(results)
        if fresh and not self._send(fresh):
            self._never_handed_over(fresh)

    def hand_over_soon(self, results: Sequence[Accepted | EventConflictError]) -> Future[None]:
        """The queuing half of :meth:`accept_many`: queue the new events of ``results`` in the
        hand-over thread. The future is done once they are queued or left to the relay, or at
        once while the queue fails; wait for it at most :attr:`HandOver.deadline`."""
        return self.handing_over.submit(_fresh(results))

    def close(self) -> None:
        """Finish the hand-overs under way; called once, when the service closes."""
        self.handing_over.close()

    def _send(self, event_pks: Sequence[int]) -> bool:
        try:
            self._enqueue(event_pks)
        except Exception as error:  # noqa: BLE001 - the relay hands them over again
            self._handing_over.failed(error, "stored events are queued by the relay")
            return False
        self._handing_over.succeeded()
        return True

    def _never_handed_over(self, event_pks: Sequence[int]) -> None:
        """Tell the relay these events never reached the queue, so its next round takes them
        rather than waiting out the grace it gives a hand-over that may still arrive."""
        o = db.outbox.c
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    update(db.outbox)
                    .where(o.event_pk.in_(event_pks), o.dispatched_at.is_(None))
                    .values(enqueued_at=None)
                )
        except Exception:  # noqa: BLE001 - then the relay takes them after its grace
            log.debug("could not mark %d events for the relay", len(event_pks), exc_info=True)


def _fresh(results: Sequence[Accepted | EventConflictError]) -> list[int]:
    return [r.event_pk for r in results if isinstance(r, Accepted) and not r.duplicate]


def _store(connection: Connection, batch: Batch) -> list[Accepted | EventConflictError]:
    events, returns = batch.bulk.lookup(connection, batch.lookup())
    rows = batch.rows(events, returns)
    return batch.answers(batch.bulk.store(connection, rows) if rows else {})


@dataclass(slots=True)
class _Return:
    """A return as one batch sees it: stored before, or created by an earlier event of it."""

    return_id: str
    status: str
    status_at: datetime
    snapshot: Mapping[str, Any]
    stored: bool
    touched: bool = False
    owner: tuple[str, str] = ("", "")  # order id and customer id of a new return


class Batch:
    """The storing of a sequence of events, without I/O: what to read, then what to write.

    One transaction reads :meth:`lookup` with ``bulk.read`` (and ``bulk.returns``), hands
    the rows to :meth:`judge`, writes what it returns with ``bulk.write`` (and the
    statements that follow it), and gets each event's answer from :meth:`answers`. The
    same steps run on a SQLAlchemy connection (:meth:`Intake.store_many`) and on the
    PostgreSQL writer of the group commit.
    """

    def __init__(self, api_key: str, payloads: Sequence[Mapping[str, Any]], dialect: str) -> None:
        self._api_key = api_key
        self._payloads = payloads
        self._now = db.now()
        self.bulk = bulk_for(dialect)
        self._known: dict[str, tuple[int, str]] = {}
        self._plan: list[tuple[str, str, bool | None]] = []

    def lookup(self) -> dict[str, Any]:
        """The parameters of the read: the batch's event ids and return ids."""
        return {
            "api_key": self._api_key,
            "event_ids": document(list({p["event_id"]: None for p in self._payloads})),
            "return_ids": document(sorted({p["return"]["id"] for p in self._payloads})),
        }

    def rows(self, events: Iterable[Any], returns: Iterable[Any]) -> Rows | None:
        """Judge each event against what the read found; the rows to write, or ``None``
        when every event was stored before.

        ``events`` have ``pk, event_id, body_hash``; ``returns`` have ``return_id, status,
        status_at, snapshot`` (the snapshot parsed or as JSON text).
        """
        self._known = {row.event_id: (int(row.pk), row.body_hash) for row in events}
        known_returns = {
            row.return_id: _Return(row.return_id, row.status, row.status_at, row.snapshot, True)
            for row in returns
        }
        hashes = {event_id: digest for event_id, (_, digest) in self._known.items()}
        fresh: list[dict[str, Any]] = []
        for payload in self._payloads:
            event_id, return_id = payload["event_id"], payload["return"]["id"]
            canonical = canonical_json(payload)
            digest = hashlib.sha256(canonical).hexdigest()
            seen = hashes.get(event_id)  # stored before, or earlier in this batch
            if seen is not None:
                self._plan.append((event_id, return_id, True if seen == digest else None))
                continue
            hashes[event_id] = digest
            fresh.append(self._event_row(len(fresh), payload, canonical, digest, known_returns))
            self._plan.append((event_id, return_id, False))
        if not fresh:
            return None
        touched = [r for r in known_returns.values() if r.touched]
        return Rows(
            api_key=self._api_key,
            now=self._now,
            events=fresh,
            created=[self._return_row(r) for r in touched if not r.stored],
            changed=[self._return_row(r) for r in touched if r.stored],
        )

    def answers(self, pks: Mapping[str, int]) -> list[Accepted | EventConflictError]:
        """Each event's answer, in order, from the new events' pks by event id."""
        pks = {**{event_id: pk for event_id, (pk, _) in self._known.items()}, **pks}
        return [
            EventConflictError(f"event_id {event_id!r} was already accepted with a different body")
            if duplicate is None
            else Accepted(event_id, return_id, duplicate=duplicate, event_pk=pks[event_id])
            for event_id, return_id, duplicate in self._plan
        ]

    def _event_row(
        self,
        n: int,
        payload: Mapping[str, Any],
        canonical: bytes,
        digest: str,
        returns: dict[str, _Return],
    ) -> dict[str, Any]:
        return_id, event_type = payload["return"]["id"], payload["type"]
        occurred_at = datetime.fromisoformat(payload["occurred_at"])
        known = returns.get(return_id)
        verdict = judge(event_type, occurred_at, (known.status, known.status_at) if known else None)
        snapshot = merge_snapshot(
            known.snapshot if known else None, payload, newer=not verdict.stale
        )
        if known is None:
            known = returns[return_id] = _Return(return_id, event_type, occurred_at, {}, False)
            known.owner = (payload["return"]["order_id"], payload["customer"]["id"])
        elif not verdict.stale:
            known.status, known.status_at = event_type, occurred_at
        known.snapshot = snapshot
        known.touched = True
        return {
            "n": n,
            "event_id": payload["event_id"],
            "type": event_type,
            "return_id": return_id,
            "occurred_at": self.bulk.stamp(occurred_at),
            "body_hash": digest,
            "payload": canonical.decode(),
            "stale": verdict.stale,
            "note": verdict.note,
        }

    def _return_row(self, known: _Return) -> dict[str, Any]:
        ship_by, expires = _dates(known.snapshot)
        stamp = self.bulk.stamp
        return {
            "return_id": known.return_id,
            "order_id": known.owner[0],
            "customer_id": known.owner[1],
            "status": known.status,
            "status_at": stamp(known.status_at),
            "snapshot": orjson.dumps(known.snapshot).decode(),
            "ship_by": ship_by,
            "label_expires_at": stamp(expires) if expires else None,
        }


def _dates(snapshot: Mapping[str, Any]) -> tuple[str | None, datetime | None]:
    """The return's ship-by date (ISO text) and label expiry from its snapshot."""
    ret = snapshot.get("return") or {}
    ship_by = ret.get("ship_by")
    expires = (ret.get("label") or {}).get("expires_at")
    return (
        date.fromisoformat(ship_by).isoformat() if ship_by else None,
        datetime.fromisoformat(expires) if expires else None,
    )
