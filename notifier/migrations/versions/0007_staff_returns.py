"""staff returns: find notifications by email address in any case, list returns by last change

Revision ID: 0007
Revises: 0006

``ix_notifications_lower_recipient`` is an expression index (``lower(recipient)``). SQLite's
batch mode does not reflect expression indexes: a later migration that recreates
``notifications`` on SQLite must create this index again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_returns_updated_at_return_id", "returns", ["updated_at", "return_id"], unique=False
    )
    op.create_index(
        "ix_notifications_lower_recipient",
        "notifications",
        [sa.func.lower(sa.column("recipient"))],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_lower_recipient", table_name="notifications")
    op.drop_index("ix_returns_updated_at_return_id", table_name="returns")
