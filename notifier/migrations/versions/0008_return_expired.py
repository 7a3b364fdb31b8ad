"""return expired: notifications may be of the scheduled kind return.expired

Revision ID: 0008
Revises: 0007

The CHECK constraint on ``notifications.kind`` is written again with the new kind. On SQLite
a batch copies the table, which loses the expression index of migration 0007
(``lower(recipient)``): it is made again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_EVENT_TYPES = (
    "return.requested",
    "return.approved",
    "return.rejected",
    "return.label_created",
    "return.in_transit",
    "return.received",
    "return.inspected",
    "return.refund_issued",
    "return.exchange_shipped",
    "return.cancelled",
    "return.closed",
)
_SCHEDULED_KINDS = (
    "reminder.ship_by",
    "reminder.label_expiring",
    "return.expired",
    "nudge.stale",
    "staff.stale_return",
)
_BEFORE = tuple(kind for kind in _SCHEDULED_KINDS if kind != "return.expired")
_STATUSES = (
    "scheduled",
    "queued",
    "sent",
    "delivered",
    "bounced",
    "failed",
    "suppressed",
    "skipped",
)

#: The constraints as of this revision (a later vocabulary change needs a migration of its
#: own; ``tests/test_schema.py`` compares the newest with ``notifier.db``).
CHECKS: dict[str, dict[str, tuple[str, ...]]] = {
    "returns": {"status": _EVENT_TYPES},
    "notifications": {
        "status": _STATUSES,
        "channel": ("email", "sms", "webhook"),
        "kind": _EVENT_TYPES + _SCHEDULED_KINDS,
    },
    "suppressions": {"channel": ("email", "sms")},
}


def upgrade() -> None:
    _kinds(_EVENT_TYPES + _SCHEDULED_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE kind = 'return.expired'")
    _kinds(_EVENT_TYPES + _BEFORE)


def _kinds(kinds: tuple[str, ...]) -> None:
    condition = f"kind IN ({', '.join(repr(kind) for kind in kinds)})"
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.drop_index("ix_notifications_lower_recipient", table_name="notifications")
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_constraint(op.f("ck_notifications_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notifications_kind"), condition)
    if sqlite:
        op.create_index(
            "ix_notifications_lower_recipient",
            "notifications",
            [sa.func.lower(sa.column("recipient"))],
            unique=False,
        )
