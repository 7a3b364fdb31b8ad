"""Every read path after retention purged a return, and after a customer was erased: each
answers, and says the personal data is gone instead of showing blanks or failing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from notifier import db
from notifier.cli import main
from notifier.delivery import DeadLetters
from notifier.service import Service
from tests.privacy.support import CUSTOMER, EMAIL

STAFF_TOKEN = "staff-token-0123456789"


def _purged(service: Service) -> None:
    later = db.now() + timedelta(days=service.settings.retention_days, minutes=1)
    service.retention.purge(now=later)


def _ids(service: Service, **where: object) -> list[str]:
    n = db.notifications.c
    query = select(n.id).where(*(getattr(n, k) == v for k, v in where.items()))
    with service.engine.connect() as connection:
        return list(connection.execute(query).scalars())


def test_reads_after_purge_say_the_personal_data_was_removed(
    busy: tuple[Service, TestClient], auth: dict[str, str]
) -> None:
    # Given a return of the canary customer purged by retention
    service, client = busy
    _purged(service)

    # When the API's notifications are paged through, two at a time
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        answer = client.get("/v1/notifications", params=params, headers=auth)
        assert answer.status_code == 200, answer.text
        seen += answer.json()["notifications"]
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break

    # Then every notification is listed, its recipient said to be removed
    assert len(seen) == len(_ids(service))
    assert {n["recipient"] for n in seen if n["channel"] != "webhook"} == {"[removed]"}
    assert all(n["last_error"] is None for n in seen)
    assert client.get("/metrics").status_code == 200

    # And the dead letters are listed, and refused a replay
    letters = DeadLetters(service.engine, None)
    assert [letter.recipient for letter in letters.pending()] == ["[removed]"]
    assert letters.replay() == []

    # And the staff console shows the return, its messages, search and lists
    signed_in = client.post(
        "/staff/sign-in", data={"token": STAFF_TOKEN, "next": "/staff"}, follow_redirects=False
    )
    assert signed_in.status_code == 303, signed_in.text
    page = client.get("/staff/returns/RMA-CANARY")
    assert page.status_code == 200
    assert "Persoonsgegevens verwijderd op" in page.text or "Personal data removed" in page.text
    for path in (
        "/staff",
        "/staff/returns?q=RMA-CANARY",
        f"/staff/returns?q={EMAIL}",
        f"/staff/returns?q={CUSTOMER}",
        "/staff/dead-letters",
        "/staff/suppressions",
        "/staff/audit",
    ):
        assert client.get(path).status_code == 200, path
    for notification_id in _ids(service, return_id="RMA-CANARY"):
        shown = client.get(f"/staff/returns/RMA-CANARY/notifications/{notification_id}")
        assert shown.status_code == 200, (notification_id, shown.text[-500:])

    # And a resend of the bounced email is refused, saying why
    n = db.notifications.c
    with service.engine.connect() as connection:
        bounced = connection.execute(
            select(n.id).where(n.channel == "email", n.status.in_(["bounced", "failed"]))
        ).scalar_one()
    refused = client.get(f"/staff/returns/RMA-CANARY/notifications/{bounced}/resend")
    assert refused.status_code == 409
    assert "bewaartermijn" in refused.text or "retention period" in refused.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_purge_command_prints_what_it_would_remove_then_removes_it(
    busy: tuple[Service, TestClient],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a service whose returns are all older than a day, and retention of one day
    service, _ = busy
    old = db.now() - timedelta(days=2)
    with service.engine.begin() as connection:
        connection.execute(db.returns.update().values(updated_at=old))
    monkeypatch.setenv("NOTIFIER_DATABASE_URL", service.settings.database_url)
    monkeypatch.setenv("NOTIFIER_RETENTION_DAYS", "1")

    # When the command runs dry, then for real
    assert main(["purge", "--dry-run"]) == 0
    dry = capsys.readouterr().out
    with service.engine.connect() as connection:
        untouched = connection.execute(select(db.returns.c.purged_at)).scalars().all()
    assert main(["purge"]) == 0
    done = capsys.readouterr().out

    # Then the dry run printed the cutoff and counts and changed nothing; the run removed it
    assert "would remove" in dry and "(1 days, NOTIFIER_RETENTION_DAYS)" in dry
    assert "  returns: 2" in dry and "  returns: 2" in done and "removed" in done
    assert untouched == [None, None]
    with service.engine.connect() as connection:
        purged = connection.execute(select(db.returns.c.purged_at)).scalars().all()
    assert all(purged)
