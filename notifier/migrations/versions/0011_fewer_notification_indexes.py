"""fewer notification indexes: one for recipients, provider ids only where there is one

Revision ID: 0011
Revises: 0010

Every notification written kept all of ``notifications``' indexes up to date, and a first
scheduler scan writes a hundred thousand and more at once. Two of them did less than they
cost:

- ``ix_notifications_recipient`` served the staff console's search for a phone number, and
  ``ix_notifications_lower_recipient`` (0007) its search for an email address in any case. A
  phone number is stored as E.164 (``+31612345678``), which ``lower()`` leaves as it is, so
  the search reads ``lower(recipient)`` for both and the first index goes.
- ``ix_notifications_provider_message_id`` held an entry for every notification, those
  without a provider's message id too (not sent yet, skipped, suppressed, webhooks), though
  the tracker only ever looks one up by its id. It is now partial: ``WHERE
  provider_message_id IS NOT NULL``, which a lookup by equality implies on both databases.

Like the expression index, the partial one is a thing SQLite's batch mode may not copy: a
later migration that recreates ``notifications`` on SQLite must create it again.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_SENT = sa.text("provider_message_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_notifications_recipient", table_name="notifications")
    _index_provider_ids(sqlite_where=_SENT, postgresql_where=_SENT)


def downgrade() -> None:
    _index_provider_ids()
    op.create_index("ix_notifications_recipient", "notifications", ["recipient"], unique=False)


def _index_provider_ids(**where: Any) -> None:
    """Index the provider's message ids again: of the rows ``where`` holds, or of all."""
    op.drop_index("ix_notifications_provider_message_id", table_name="notifications")
    op.create_index(
        "ix_notifications_provider_message_id",
        "notifications",
        ["provider_message_id"],
        unique=False,
        **where,
    )
