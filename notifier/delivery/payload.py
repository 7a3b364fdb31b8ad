"""The payload of a notification: the data its templates read, and its webhook body.

A notification an event caused reads the return's snapshot merged with that event (the
event wins: it is what the message is about); one a rule planned reads the data it was
planned with. A webhook body is the CONTRACT section 6 envelope around that data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from notifier.records import NotificationRecord
from notifier.snapshot import merge_snapshot


def template_data(
    row: NotificationRecord, snapshot: Mapping[str, Any] | None, event: Mapping[str, Any] | None
) -> tuple[dict[str, Any], str]:
    """The data a notification's templates read, and the moment it tells of.

    Args:
        row: The ``notifications`` row.
        snapshot: The return's snapshot now, or None if the return is unknown.
        event: The payload of the event that caused it, or None for a rule's notification.

    Returns:
        The data, and the ISO moment of the event (or of planning, for a rule's).
    """
    if event is None:
        return dict(row.data or snapshot or {}), row.created_at.isoformat()
    return merge_snapshot(snapshot, event, newer=True), event["occurred_at"]


def webhook_body(
    row: NotificationRecord,
    data: Mapping[str, Any],
    occurred: str,
    message: Mapping[str, str] | None,
) -> bytes:
    """The CONTRACT section 6 body; ``id`` is the notification id, stable across retries.

    Args:
        row: The ``notifications`` row.
        data: Its template data (see :func:`template_data`).
        occurred: The moment it tells of.
        message: The rendered ``subject`` and ``text``, or None for a kind without one.
    """
    body = {
        "id": row.id,
        "type": row.kind,
        "timestamp": occurred,
        "data": {
            "return_id": row.return_id,
            "order_id": (data.get("return") or {}).get("order_id"),
            "status": data.get("type"),
            "locale": row.locale,
            "message": message,
            "customer_id": row.customer_id,
        },
    }
    return json.dumps(body, ensure_ascii=False).encode()
