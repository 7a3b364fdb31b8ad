"""Reads and metrics answer 503 with Retry-After when the database does not answer in time:
a lock not granted within the lock timeout, no free connection within the pool's timeout."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from notifier.http import create_app
from notifier.service import Service
from notifier.settings import Settings
from tests.factories import event


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_read_waiting_for_a_lock_is_a_503_at_the_lock_timeout_then_answers_again(
    settings: Settings, make_service: Callable[[Settings], Service], auth: dict[str, str]
) -> None:
    service = make_service(replace(settings, db_lock_timeout=0.5))
    client = TestClient(create_app(service))
    assert client.post("/v1/events", json=event(), headers=auth).status_code == 202
    # Given the tables locked by another session
    locker = service.engine.connect()
    locker.execute(text("LOCK TABLE returns, notifications, outbox IN ACCESS EXCLUSIVE MODE"))
    try:
        # When a return and the metrics are read
        started = time.monotonic()
        read = client.get("/v1/returns/RMA-1001", headers=auth)
        metrics = client.get("/metrics")
        took = time.monotonic() - started
    finally:
        locker.rollback()
        locker.close()
    # Then the read is a 503 with Retry-After, at the lock timeout; the scrape still answers,
    # without the outbox's figures it could not read
    assert (read.status_code, metrics.status_code) == (503, 200)
    assert read.headers["retry-after"] == "5"
    assert read.json()["detail"] == "the database is unavailable; retry later"
    assert "notifier_outbox_pending" not in metrics.text
    assert took < 3.0
    # And once the lock is gone they answer again, with the outbox
    assert client.get("/v1/returns/RMA-1001", headers=auth).status_code == 200
    assert "notifier_outbox_pending" in client.get("/metrics").text


def test_a_read_finding_no_free_connection_is_a_503_at_the_pools_timeout(
    settings: Settings, make_service: Callable[[Settings], Service], auth: dict[str, str]
) -> None:
    # Given every connection of the pool in use
    service = make_service(replace(settings, db_pool_timeout=0.2))
    client = TestClient(create_app(service))
    pool = service.engine.pool
    held = [service.engine.connect() for _ in range(pool.size() + pool._max_overflow)]  # type: ignore[attr-defined]
    try:
        # When a return is read
        started = time.monotonic()
        read = client.get("/v1/returns/RMA-1001", headers=auth)
        took = time.monotonic() - started
    finally:
        for connection in held:
            connection.close()
    # Then it is a 503 with Retry-After, at once
    assert read.status_code == 503
    assert read.headers["retry-after"] == "5"
    assert took < 1.5
    assert client.get("/v1/returns/RMA-1001", headers=auth).status_code == 404
