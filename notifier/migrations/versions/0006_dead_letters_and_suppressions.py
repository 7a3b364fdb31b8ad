"""dead letters and suppressions, newest first: indexes for the console's lists

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.create_index(
            "ix_notifications_dead_status_updated_at_id",
            ["dead", "status", "updated_at", "id"],
            unique=False,
        )
    with op.batch_alter_table("suppressions") as batch_op:
        batch_op.create_index(
            "ix_suppressions_created_at_channel_address",
            ["created_at", "channel", "address"],
            unique=False,
        )
        batch_op.create_index(
            "ix_suppressions_channel_created_at_address",
            ["channel", "created_at", "address"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("suppressions") as batch_op:
        batch_op.drop_index("ix_suppressions_channel_created_at_address")
        batch_op.drop_index("ix_suppressions_created_at_channel_address")
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_index("ix_notifications_dead_status_updated_at_id")
