"""First writes that race: two requests or callbacks creating the same row at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select

from notifier import db
from notifier.delivery import suppress
from notifier.dispatch import Preferences
from notifier.service import Service

WRITERS = 4


def _at_once(work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in WRITERS threads that start together; returns what each returned."""
    barrier = threading.Barrier(WRITERS)

    def run(i: int) -> Any:
        barrier.wait(timeout=10)
        return work(i)

    with ThreadPoolExecutor(WRITERS) as pool:
        return list(pool.map(run, range(WRITERS)))


def test_first_preferences_of_a_customer_set_at_once_are_all_stored(service: Service) -> None:
    # Given customers nobody has set preferences for
    preferences = Preferences(service.engine)

    # When four requests set each one's preferences at the same moment
    answers = []
    for n in range(10):
        answers += _at_once(
            lambda i, n=n: preferences.put(f"C-race-{n}", {"sms": i % 2 == 0, "locale": "en"})
        )

    # Then every request succeeded, and each customer has one row
    assert len(answers) == 10 * WRITERS
    assert all(a.locale == "en" for a in answers)
    with service.engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(db.customers)).scalar_one()
    assert count == 10


def test_one_address_suppressed_by_callbacks_at_once_is_stored_once(service: Service) -> None:
    # Given addresses that two providers' callbacks suppress at the same moment
    def work(i: int, n: int) -> None:
        with service.engine.begin() as connection:
            suppress(connection, "email", f"Race{n}@Example.nl", f"bounce {i}")

    # When four callbacks suppress each address at once
    for n in range(10):
        _at_once(lambda i, n=n: work(i, n))

    # Then none failed, and each address is suppressed once, lower-case
    with service.engine.connect() as connection:
        rows = connection.execute(select(db.suppressions.c.address)).scalars().all()
    assert sorted(rows) == sorted(f"race{n}@example.nl" for n in range(10))
