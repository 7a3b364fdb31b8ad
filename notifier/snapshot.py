"""A return's snapshot: its latest known facts, folded together from its events.

Intake keeps the snapshot on the return; delivery and the scheduler render from it. Neither
side owns it, so it lives here, below both in the flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


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
