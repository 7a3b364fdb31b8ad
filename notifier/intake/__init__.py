"""Intake: an accepted event stored durably, with its outbox row, before the answer.

Offers :class:`Intake` (store one event or a batch), the group commits that store events
posted at the same moment in one transaction (:func:`group_commit_for` picks the one for the
database), and :class:`Accepted`, the answer for one event.
"""

from notifier.intake.group_commit import GroupCommit, group_commit_for
from notifier.intake.groups import GroupCommitter
from notifier.intake.intake import Accepted, Intake, body_hash
from notifier.intake.pg_group_commit import PostgresGroupCommit

__all__ = [
    "Accepted",
    "GroupCommit",
    "GroupCommitter",
    "Intake",
    "PostgresGroupCommit",
    "body_hash",
    "group_commit_for",
]
