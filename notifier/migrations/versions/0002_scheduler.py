"""scheduler: rule firings, scan marks, returns by status and last change

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import notifier.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rule_firings",
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("return_id", sa.String(length=128), nullable=False),
        sa.Column("due_key", sa.String(length=128), nullable=False),
        sa.Column("due_at", notifier.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", notifier.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("rule", "return_id", "due_key", name=op.f("pk_rule_firings")),
    )
    op.create_table(
        "scan_marks",
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("scanned_until", notifier.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("rule", name=op.f("pk_scan_marks")),
    )
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.create_index(
            "ix_returns_status_updated_at", ["status", "updated_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_index("ix_returns_status_updated_at")
    op.drop_table("scan_marks")
    op.drop_table("rule_firings")
