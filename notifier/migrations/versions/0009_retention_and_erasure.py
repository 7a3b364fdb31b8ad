"""retention and erasure: returns whose personal data was removed, and the privacy audit

Revision ID: 0009
Revises: 0008

``returns.purged_at`` marks a return whose personal data retention removed;
``privacy_audit`` records every erasure, access request and retention run. Adding a
nullable column needs no table copy on SQLite, so the expression index of migration 0007
stays as it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from notifier.db import BigId, UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("returns", sa.Column("purged_at", UTCDateTime(), nullable=True))
    op.create_table(
        "privacy_audit",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_audit")),
    )
    op.create_index("ix_privacy_audit_at", "privacy_audit", ["at"], unique=False)
    op.create_index("ix_privacy_audit_subject", "privacy_audit", ["subject"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_privacy_audit_subject", table_name="privacy_audit")
    op.drop_index("ix_privacy_audit_at", table_name="privacy_audit")
    op.drop_table("privacy_audit")
    with op.batch_alter_table("returns") as batch_op:
        batch_op.drop_column("purged_at")
