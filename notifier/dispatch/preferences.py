"""Customer preferences: channel opt-outs, locale and time zone, used by every later message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from notifier import db
from notifier.records import CustomerPreferences

#: The fields a customer's preferences hold.
FIELDS = ("email", "sms", "locale", "timezone")


class Preferences:
    """Stores and reads customers' preferences."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def put(self, customer_id: str, values: Mapping[str, Any]) -> CustomerPreferences:
        """Set the given fields (others keep their value); returns the whole record."""
        changes = {k: v for k, v in values.items() if k in FIELDS}
        # Two first PUTs for one customer race to insert the row: the loser runs again and
        # updates the row the winner inserted.
        return db.retry_on_conflict(
            self._engine, lambda connection: _put(connection, customer_id, changes)
        )


def _put(
    connection: Connection, customer_id: str, changes: Mapping[str, Any]
) -> CustomerPreferences:
    c = db.customers.c
    known = connection.execute(select(c.customer_id).where(c.customer_id == customer_id)).first()
    if known is None:
        connection.execute(
            insert(db.customers).values(customer_id=customer_id, updated_at=db.now(), **changes)
        )
    else:
        connection.execute(
            update(db.customers)
            .where(c.customer_id == customer_id)
            .values(updated_at=db.now(), **changes)
        )
    row = connection.execute(select(db.customers).where(c.customer_id == customer_id)).one()
    return CustomerPreferences.from_row(row)
