"""Intake: store an accepted event durably, with the record that it must still be dispatched.

The event row, the return's new state and the outbox row are written in one transaction
(a transactional outbox). Only after the commit is the event handed to the queue; if that
hand-over is lost (a crash, a Redis restart), the relay finds the outbox row and hands it
over again. Nothing that was answered with 202 can be lost.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from notifier import db
from notifier.errors import EventConflictError
from notifier.lifecycle import judge


@dataclass(frozen=True, slots=True)
class Accepted:
    """The answer to one accepted event."""

    event_id: str
    return_id: str
    duplicate: bool
    event_pk: int


def body_hash(payload: Mapping[str, Any]) -> str:
    """A stable hash of an event body, to tell a retry from a conflicting reuse of an id."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class Intake:
    """Accepts validated events; ``enqueue`` is called with each new event's key after commit."""

    def __init__(self, engine: Engine, enqueue: Callable[[int], None]) -> None:
        self._engine = engine
        self._enqueue = enqueue

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
        """Store several events, each on its own, in one transaction where possible."""
        try:
            with self._engine.begin() as connection:
                results = [self._store(connection, api_key, p) for p in payloads]
        except IntegrityError:
            # A concurrent request stored one of these ids first: go one by one.
            results = []
            for payload in payloads:
                results.append(self._accept_alone(api_key, payload))
        for result in results:
            if isinstance(result, Accepted) and not result.duplicate:
                self._enqueue_quietly(result.event_pk)
        return results

    def _accept_alone(
        self, api_key: str, payload: Mapping[str, Any]
    ) -> Accepted | EventConflictError:
        for _ in range(2):
            try:
                with self._engine.begin() as connection:
                    return self._store(connection, api_key, payload)
            except IntegrityError:
                continue
        with self._engine.begin() as connection:
            return self._store(connection, api_key, payload)

    def _enqueue_quietly(self, event_pk: int) -> None:
        try:
            self._enqueue(event_pk)
        except Exception:  # noqa: BLE001 - the relay hands it over again
            import logging

            logging.getLogger(__name__).warning(
                "event %s stored but not queued; the relay will queue it", event_pk, exc_info=True
            )

    def _store(
        self, connection: Connection, api_key: str, payload: Mapping[str, Any]
    ) -> Accepted | EventConflictError:
        event_id = payload["event_id"]
        return_id = payload["return"]["id"]
        digest = body_hash(payload)
        known = connection.execute(
            select(db.events.c.pk, db.events.c.body_hash).where(
                db.events.c.api_key == api_key, db.events.c.event_id == event_id
            )
        ).first()
        if known is not None:
            if known.body_hash != digest:
                return EventConflictError(
                    f"event_id {event_id!r} was already accepted with a different body"
                )
            return Accepted(event_id, return_id, duplicate=True, event_pk=known.pk)
        occurred_at = datetime.fromisoformat(payload["occurred_at"])
        current = connection.execute(
            select(db.returns.c.status, db.returns.c.status_at, db.returns.c.snapshot).where(
                db.returns.c.return_id == return_id
            )
        ).first()
        verdict = judge(
            payload["type"], occurred_at, (current.status, current.status_at) if current else None
        )
        now = db.now()
        inserted = connection.execute(
            insert(db.events).values(
                api_key=api_key,
                event_id=event_id,
                type=payload["type"],
                return_id=return_id,
                occurred_at=occurred_at,
                received_at=now,
                body_hash=digest,
                payload=dict(payload),
                stale=verdict.stale,
                note=verdict.note,
            )
        )
        event_pk = int(inserted.inserted_primary_key[0])  # type: ignore[index]
        self._advance_return(connection, payload, occurred_at, verdict.stale, current, now)
        connection.execute(
            insert(db.outbox).values(event_pk=event_pk, created_at=now, enqueued_at=now)
        )
        return Accepted(event_id, return_id, duplicate=False, event_pk=event_pk)

    def _advance_return(
        self,
        connection: Connection,
        payload: Mapping[str, Any],
        occurred_at: datetime,
        stale: bool,
        current: Any,
        now: datetime,
    ) -> None:
        snapshot = merge_snapshot(current.snapshot if current else None, payload, newer=not stale)
        dates = _dates(snapshot)
        if current is None:
            connection.execute(
                insert(db.returns).values(
                    return_id=payload["return"]["id"],
                    order_id=payload["return"]["order_id"],
                    customer_id=payload["customer"]["id"],
                    status=payload["type"],
                    status_at=occurred_at,
                    snapshot=snapshot,
                    created_at=now,
                    updated_at=now,
                    **dates,
                )
            )
            return
        values: dict[str, Any] = {"snapshot": snapshot, "updated_at": now, **dates}
        if not stale:
            values.update(status=payload["type"], status_at=occurred_at)
        connection.execute(
            update(db.returns)
            .where(db.returns.c.return_id == payload["return"]["id"])
            .values(**values)
        )


def merge_snapshot(
    snapshot: Mapping[str, Any] | None, payload: Mapping[str, Any], *, newer: bool
) -> dict[str, Any]:
    """Fold an event into the return's latest known facts.

    A newer event's non-null fields win; an older (stale) event only fills what is missing.
    """
    merged: dict[str, Any] = dict(snapshot or {})
    for section in ("return", "customer", "policy"):
        old = dict(merged.get(section) or {})
        new = payload.get(section) or {}
        for key, value in new.items():
            if value is None:
                continue
            if newer or old.get(key) is None:
                old[key] = value
        merged[section] = old
    if newer or "type" not in merged:
        merged.update(
            event_id=payload["event_id"], type=payload["type"], occurred_at=payload["occurred_at"]
        )
    return merged


def _dates(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    ret = snapshot.get("return") or {}
    ship_by = ret.get("ship_by")
    expires = (ret.get("label") or {}).get("expires_at")
    return {
        "ship_by": date.fromisoformat(ship_by) if ship_by else None,
        "label_expires_at": datetime.fromisoformat(expires) if expires else None,
    }
