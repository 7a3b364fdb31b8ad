"""Test data: the CONTRACT's example event, and variations of it."""

from __future__ import annotations

import copy
from typing import Any

from notifier.http import EXAMPLE_EVENT


def event(
    type: str = "return.refund_issued",
    event_id: str = "evt-2f6c1a",
    *,
    return_id: str = "RMA-1001",
    occurred_at: str = "2026-11-20T10:15:00+01:00",
    **changes: Any,
) -> dict[str, Any]:
    """The CONTRACT example with another type, id, return or time; ``changes`` merge at the top."""
    body = copy.deepcopy(EXAMPLE_EVENT)
    body.update(type=type, event_id=event_id, occurred_at=occurred_at)
    body["return"]["id"] = return_id
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key].update(value)
        else:
            body[key] = value
    return body
