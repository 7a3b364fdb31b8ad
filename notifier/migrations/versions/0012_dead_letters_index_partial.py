"""dead letters index holds the dead letters only

Revision ID: 0012
Revises: 0011

``ix_notifications_dead_status_updated_at_id`` (0006) serves the dead letter lists and
counts, which all ask for ``dead IS true``, but held an entry for every notification: each
claim and each outcome written moved one (``status`` and ``updated_at`` change), and on
PostgreSQL every update of a row added one. It is now partial, ``WHERE dead IS true``
(SQLite stores the boolean as ``1``), the very term those queries carry, which both
databases take as implying it; sending a message no longer touches it.

Like the other partial and expression indexes, it is a thing SQLite's batch mode may not
copy: a later migration that recreates ``notifications`` on SQLite must create it again.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _index_dead_letters(sqlite_where=sa.text("dead IS 1"), postgresql_where=sa.text("dead IS true"))


def downgrade() -> None:
    _index_dead_letters()


def _index_dead_letters(**where: Any) -> None:
    """Index the dead letters again: the rows ``where`` holds, or all."""
    op.drop_index("ix_notifications_dead_status_updated_at_id", table_name="notifications")
    op.create_index(
        "ix_notifications_dead_status_updated_at_id",
        "notifications",
        ["dead", "status", "updated_at", "id"],
        unique=False,
        **where,
    )
