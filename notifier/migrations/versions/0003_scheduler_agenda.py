"""scheduler agenda: the next due moment per rule and return, customers by last change

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import notifier.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rule_due",
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("return_id", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("due_at", notifier.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", notifier.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("rule", "return_id", name=op.f("pk_rule_due")),
    )
    with op.batch_alter_table("rule_due", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rule_due_due_at_rule_return_id", ["due_at", "rule", "return_id"], unique=False
        )
        batch_op.create_index("ix_rule_due_customer_id", ["customer_id"], unique=False)
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index("ix_customers_updated_at", ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_updated_at")
    with op.batch_alter_table("rule_due", schema=None) as batch_op:
        batch_op.drop_index("ix_rule_due_customer_id")
        batch_op.drop_index("ix_rule_due_due_at_rule_return_id")
    op.drop_table("rule_due")
