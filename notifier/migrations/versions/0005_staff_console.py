"""staff console: the audit log, and indexes to find a return by order, customer or address

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import notifier.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_audit",
        sa.Column("id", notifier.db.BigId, autoincrement=True, nullable=False),
        sa.Column("at", notifier.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("staff", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=400), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_audit")),
    )
    with op.batch_alter_table("staff_audit") as batch_op:
        batch_op.create_index("ix_staff_audit_at", ["at"], unique=False)
        batch_op.create_index("ix_staff_audit_action_at", ["action", "at"], unique=False)
    with op.batch_alter_table("returns") as batch_op:
        batch_op.create_index("ix_returns_order_id", ["order_id"], unique=False)
        batch_op.create_index("ix_returns_customer_id", ["customer_id"], unique=False)
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.create_index("ix_notifications_recipient", ["recipient"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_index("ix_notifications_recipient")
    with op.batch_alter_table("returns") as batch_op:
        batch_op.drop_index("ix_returns_customer_id")
        batch_op.drop_index("ix_returns_order_id")
    op.drop_table("staff_audit")
