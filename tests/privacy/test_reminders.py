"""The scheduler reminds nobody whose personal data retention removed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from notifier import db
from notifier.service import Service
from tests.delivery_support import accept
from tests.factories import event


def test_a_purged_return_gets_no_reminder_while_another_does(service: Service) -> None:
    # Given two returns to ship by 4 December, one idle past the retention period and purged
    for return_id in ("RMA-OLD", "RMA-NEW"):
        accept(service, event("return.label_created", f"e-{return_id}", return_id=return_id))
    idle = db.now() - timedelta(days=service.settings.retention_days + 1)
    with service.engine.begin() as connection:
        connection.execute(
            update(db.returns).where(db.returns.c.return_id == "RMA-OLD").values(updated_at=idle)
        )
    assert service.retention.purge().counts["returns"] == 1

    # When the scheduler scans when the first reminder is due
    service.scheduler.scan(datetime.fromisoformat("2026-12-01T09:30:00+01:00"))

    # Then only the return that was not purged is reminded
    n = db.notifications.c
    with service.engine.connect() as connection:
        reminded = set(connection.execute(select(n.return_id).where(n.rule.is_not(None))).scalars())
    assert reminded == {"RMA-NEW"}
