"""vocabulary checks: statuses, channels and kinds refuse values outside notifier.status

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
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
    "nudge.stale",
    "staff.stale_return",
)
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
#: own; ``tests/test_schema.py`` compares these with ``notifier.db``).
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
    # On SQLite a batch copies the table, which is how SQLite adds a constraint; none of
    # these tables is the parent of a foreign key, so the copy can replace it.
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table) as batch_op:
            for column, values in checks.items():
                condition = f"{column} IN ({', '.join(repr(v) for v in values)})"
                batch_op.create_check_constraint(op.f(f"ck_{table}_{column}"), condition)


def downgrade() -> None:
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table) as batch_op:
            for column in checks:
                batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
