"""The privacy audit: every erasure, access request and retention run, without the data."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection, insert

from notifier import db

#: Hex digits of a customer fingerprint (128 bits).
FINGERPRINT_LENGTH = 32


def fingerprint(customer_id: str) -> str:
    """The customer id as the privacy audit keeps it: a SHA-256 fingerprint, never the id.

    The same id always gives the same fingerprint, so the shop can show that a customer's
    erasure was done (hash the id, look it up) while the audit alone names nobody.
    """
    digest = hashlib.sha256(b"notifier-customer\0" + customer_id.encode()).hexdigest()
    return digest[:FINGERPRINT_LENGTH]


def record(
    connection: Connection,
    *,
    actor: str,
    action: str,
    subject: str | None,
    counts: Mapping[str, object],
    at: datetime | None = None,
) -> None:
    """Add one line to ``privacy_audit``.

    Args:
        connection: The transaction of the action itself, so the line and the action are
            stored together or not at all.
        actor: Who: an API key's name, or ``retention`` for the scheduler and ``cli``.
        action: ``erasure``, ``access`` or ``purge``.
        subject: The customer's :func:`fingerprint`, or None for a retention run.
        counts: What was found or changed, by table (numbers and dates only).
        at: When; now if not given.
    """
    connection.execute(
        insert(db.privacy_audit).values(
            at=at or db.now(), actor=actor, action=action, subject=subject, counts=dict(counts)
        )
    )
