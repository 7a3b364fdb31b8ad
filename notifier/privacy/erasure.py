"""A customer's personal data erased, or handed to them, on request (GDPR/AVG art. 15, 17).

Erasure deletes, in one transaction, everything stored about the customer: their returns,
the returns' events (and outbox rows), every notification about them or to them (sent, still
to be sent, dead letters), the scheduler's agenda and firings for their returns (so no
reminder is made later) and their preferences. A job still queued in Redis carries only ids
(an event's primary key, a notification id): when it runs it finds nothing and sends
nothing. The suppression of their address is kept, as it exists to protect them (no message
reaches an address that bounced or complained, nor a number that opted out), but under its
pseudonym (:func:`~notifier.delivery.pseudonym`), so the address itself is gone.

The erasure and each access request are recorded in ``privacy_audit`` with the API key's
name, the moment, the customer's :func:`~notifier.privacy.fingerprint` and the counts. An
event posted later for the customer starts a new return, as for anyone never seen before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, or_, select

from notifier import db
from notifier.delivery import forms_of
from notifier.privacy import audit
from notifier.privacy.retention import pseudonymize
from notifier.status import PENDING, Channel

_r = db.returns.c
_e = db.events.c
_n = db.notifications.c
_s = db.suppressions.c

#: What an erasure counts, by table, in order.
ERASED = (
    "returns",
    "events",
    "notifications",
    "cancelled",
    "dead_letters",
    "outbox",
    "agenda",
    "preferences",
    "suppressions",
)


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What an erasure removed.

    Attributes:
        counts: Rows by table: ``returns``, ``events``, ``notifications`` (all of them),
            ``cancelled`` (of those, still to be sent), ``dead_letters`` (of those, dead
            letters), ``outbox``, ``agenda`` (scheduler entries and firings),
            ``preferences``, ``suppressions`` (kept under a pseudonym).
    """

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ERASED, 0))

    @property
    def found(self) -> bool:
        """Whether anything was stored about the customer."""
        return any(self.counts.values())


class Erasure:
    """Erases a customer's personal data, and gathers it for them.

    Args:
        engine: The database.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def erase(self, customer_id: str, *, actor: str) -> ErasureReport:
        """Erase everything stored about ``customer_id``, and record it in the audit.

        Args:
            customer_id: The shop's id of the customer.
            actor: Who asked: the API key's name.

        Returns:
            The counts; all zero when nothing was stored (that is recorded too).
        """

        def work(connection: Connection) -> ErasureReport:
            report = _erase(connection, customer_id)
            audit.record(
                connection,
                actor=actor,
                action="erasure",
                subject=audit.fingerprint(customer_id),
                counts=report.counts,
            )
            return report

        return db.retry_on_conflict(self._engine, work)

    def export(self, customer_id: str, *, actor: str) -> dict[str, Any] | None:
        """Everything stored about ``customer_id``, as JSON-ready data; None if nothing is.

        The request is recorded in the audit (without the data).
        """
        with self._engine.begin() as connection:
            data = _export(connection, customer_id)
            if data is None:
                return None
            audit.record(
                connection,
                actor=actor,
                action="access",
                subject=audit.fingerprint(customer_id),
                counts={
                    name: len(data[name]) for name in ("returns", "notifications", "suppressions")
                },
            )
        return data


def _return_ids(connection: Connection, customer_id: str) -> list[str]:
    return list(
        connection.execute(select(_r.return_id).where(_r.customer_id == customer_id)).scalars()
    )


def _addresses(
    connection: Connection, customer_id: str, return_ids: list[str]
) -> set[tuple[str, str]]:
    """The (channel, address) pairs the customer was or would be messaged at."""
    found: set[tuple[str, str]] = set()
    for row in connection.execute(
        select(_n.channel, _n.recipient).where(
            _notifications(customer_id, return_ids),
            _n.channel.in_([Channel.EMAIL, Channel.SMS]),
        )
    ):
        found.add((row.channel, row.recipient.lower()))
    payloads = connection.execute(select(_e.payload).where(_e.return_id.in_(return_ids)))
    snapshots = connection.execute(select(_r.snapshot).where(_r.return_id.in_(return_ids)))
    for (document,) in [*payloads, *snapshots]:
        customer = (document or {}).get("customer") or {}
        for channel, key in ((Channel.EMAIL, "email"), (Channel.SMS, "phone")):
            if isinstance(customer.get(key), str):
                found.add((channel, customer[key].lower()))
    return found


def _notifications(customer_id: str, return_ids: Iterable[str]) -> Any:
    return or_(_n.customer_id == customer_id, _n.return_id.in_(list(return_ids)))


def _erase(connection: Connection, customer_id: str) -> ErasureReport:
    report = ErasureReport()
    counts = report.counts
    ids = _return_ids(connection, customer_id)
    addresses = _addresses(connection, customer_id, ids)
    mine = _notifications(customer_id, ids)
    counts["cancelled"] = _count(connection, mine, _n.status.in_(list(PENDING)))
    counts["dead_letters"] = _count(connection, mine, _n.dead.is_(True))
    counts["notifications"] = connection.execute(delete(db.notifications).where(mine)).rowcount
    pks = list(connection.execute(select(_e.pk).where(_e.return_id.in_(ids))).scalars())
    counts["outbox"] = connection.execute(
        delete(db.outbox).where(db.outbox.c.event_pk.in_(pks))
    ).rowcount
    counts["events"] = connection.execute(delete(db.events).where(_e.pk.in_(pks))).rowcount
    counts["agenda"] = (
        connection.execute(
            delete(db.rule_due).where(
                or_(db.rule_due.c.return_id.in_(ids), db.rule_due.c.customer_id == customer_id)
            )
        ).rowcount
        + connection.execute(
            delete(db.rule_firings).where(db.rule_firings.c.return_id.in_(ids))
        ).rowcount
    )
    counts["returns"] = connection.execute(delete(db.returns).where(_r.return_id.in_(ids))).rowcount
    counts["preferences"] = connection.execute(
        delete(db.customers).where(db.customers.c.customer_id == customer_id)
    ).rowcount
    counts["suppressions"] = pseudonymize(connection, sorted(addresses))
    return report


def _count(connection: Connection, *where: Any) -> int:
    query = select(func.count()).select_from(db.notifications).where(*where)
    return int(connection.execute(query).scalar_one())


def _export(connection: Connection, customer_id: str) -> dict[str, Any] | None:
    ids = _return_ids(connection, customer_id)
    returns = []
    for ret in connection.execute(
        select(db.returns).where(_r.return_id.in_(ids)).order_by(_r.created_at, _r.return_id)
    ):
        events = [
            {
                "event_id": event.event_id,
                "type": event.type,
                "occurred_at": event.occurred_at,
                "received_at": event.received_at,
                "payload": event.payload,
            }
            for event in connection.execute(
                select(db.events)
                .where(_e.return_id == ret.return_id)
                .order_by(_e.occurred_at, _e.pk)
            )
        ]
        returns.append(
            {
                "return_id": ret.return_id,
                "order_id": ret.order_id,
                "status": ret.status,
                "status_at": ret.status_at,
                "created_at": ret.created_at,
                "updated_at": ret.updated_at,
                "personal_data_removed_at": ret.purged_at,
                "facts": ret.snapshot,
                "events": events,
            }
        )
    notifications = [
        {
            "id": row.id,
            "return_id": row.return_id,
            "kind": row.kind,
            "channel": row.channel,
            "recipient": row.recipient,
            "locale": row.locale,
            "timezone": row.timezone,
            "status": row.status,
            "reason": row.reason,
            "data": row.data,
            "last_error": row.last_error,
            "created_at": row.created_at,
            "sent_at": row.sent_at,
        }
        for row in connection.execute(
            select(db.notifications)
            .where(_notifications(customer_id, ids))
            .order_by(_n.created_at, _n.id)
        )
    ]
    prefs = connection.execute(
        select(db.customers).where(db.customers.c.customer_id == customer_id)
    ).first()
    preferences = (
        None
        if prefs is None
        else {
            "email": prefs.email,
            "sms": prefs.sms,
            "locale": prefs.locale,
            "timezone": prefs.timezone,
            "updated_at": prefs.updated_at,
        }
    )
    addresses = _addresses(connection, customer_id, ids)
    forms = forms_of(a for _, a in addresses)
    suppressions = [
        {
            "channel": row.channel,
            "address": forms[row.address],
            "reason": row.reason,
            "created_at": row.created_at,
        }
        for row in connection.execute(
            select(db.suppressions).where(_s.address.in_(list(forms))).order_by(_s.created_at)
        )
        if (row.channel, forms[row.address]) in addresses
    ]
    if not (returns or notifications or preferences or suppressions):
        return None
    return {
        "customer_id": customer_id,
        "returns": returns,
        "notifications": notifications,
        "preferences": preferences,
        "suppressions": suppressions,
    }
