"""status hooks: notifications may be webhooks telling what became of a message

Revision ID: 0010
Revises: 0008

Webhook subscribers may ask to be told when a customer's email or SMS is delivered, bounces,
fails for good or is suppressed (``notification.*``); those webhooks are notifications of
their own, of the kinds ``notification.delivered``, ``notification.bounced``,
``notification.failed`` and ``notification.suppressed``. The CHECK constraint on
``notifications.kind`` is written again with them. On SQLite a batch copies the table, which
loses the expression index of migration 0007 (``lower(recipient)``): it is made again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
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
_NOTIFICATION_EVENTS = (
    "notification.delivered",
    "notification.bounced",
    "notification.failed",
    "notification.suppressed",
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
#: own; ``tests/test_schema.py`` compares the newest with ``notifier.db``).
CHECKS: dict[str, dict[str, tuple[str, ...]]] = {
    "returns": {"status": _EVENT_TYPES},
    "notifications": {
        "status": _STATUSES,
        "channel": ("email", "sms", "webhook"),
        "kind": _EVENT_TYPES + _SCHEDULED_KINDS + _NOTIFICATION_EVENTS,
    },
    "suppressions": {"channel": ("email", "sms")},
}


def upgrade() -> None:
    _kinds(_EVENT_TYPES + _SCHEDULED_KINDS + _NOTIFICATION_EVENTS)


def downgrade() -> None:
    kinds = ", ".join(repr(kind) for kind in _NOTIFICATION_EVENTS)
    op.execute(f"DELETE FROM notifications WHERE kind IN ({kinds})")
    _kinds(_EVENT_TYPES + _SCHEDULED_KINDS)


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
