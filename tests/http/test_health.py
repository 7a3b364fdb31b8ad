"""``/healthz`` answers at once whatever the dependencies do; ``/readyz`` answers within a
second, with the reason, and is not ready when the database refuses writes."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from notifier.http import create_app
from notifier.queue import EmbeddedRedis
from notifier.service import Service
from notifier.settings import Settings
from tests.http.staff.conftest import serve

POSTGRESQL_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis(tmp_path / "redis", appendonly=False) as server:
        yield server


@SQLITE_ONLY
def test_a_hung_redis_leaves_healthz_at_once_and_readyz_within_a_second(
    settings: Settings,
    make_service: Callable[[Settings], Service],
    own_redis: EmbeddedRedis,
) -> None:
    # Given a running API whose Redis hangs (stopped with SIGSTOP)
    service = make_service(replace(settings, redis_url=own_redis.url))
    with serve(service) as live:
        assert httpx.get(f"{live.url}/readyz", timeout=5).status_code == 200
        assert own_redis.pid is not None
        os.kill(own_redis.pid, signal.SIGSTOP)
        try:
            # When 60 clients ask whether it is ready at once (more than its thread pool)
            with ThreadPoolExecutor(60) as pool:
                asked = [
                    pool.submit(httpx.get, f"{live.url}/readyz", timeout=10) for _ in range(60)
                ]
                time.sleep(0.2)
                health_started = time.monotonic()
                health = httpx.get(f"{live.url}/healthz", timeout=10)
                health_took = time.monotonic() - health_started
                answers = [future.result() for future in asked]
        finally:
            os.kill(own_redis.pid, signal.SIGCONT)
    # Then /healthz answered at once, and every /readyz within about a second: not ready,
    # saying Redis did not answer
    assert health.status_code == 200 and health_took < 0.5
    assert max(a.elapsed.total_seconds() for a in answers) < 2.5
    assert {a.status_code for a in answers} == {503}
    assert {a.json()["checks"]["redis"] for a in answers} == {"no answer within 1 s"}
    assert {a.json()["checks"]["database"] for a in answers} == {"ok"}


@POSTGRESQL_ONLY
def test_readyz_is_not_ready_while_postgresql_refuses_writes(service: Service) -> None:
    client = TestClient(create_app(service))
    # Given a PostgreSQL database that has become read-only for new sessions
    with service.engine.begin() as connection:
        name = connection.execute(text("SELECT current_database()")).scalar_one()
        connection.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    service.engine.dispose()
    try:
        # When readiness is asked
        answer = client.get("/readyz")
    finally:
        with service.engine.connect() as connection:
            connection.execute(text("SET transaction_read_only = off"))
            connection.execute(
                text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
            )
            connection.commit()
        service.engine.dispose()
    # Then it is not ready, and says why
    assert answer.status_code == 503
    assert answer.json()["checks"]["database"] == "refuses writes: the database is read-only"
    assert client.get("/readyz").status_code == 200


@SQLITE_ONLY
def test_readyz_is_not_ready_while_the_sqlite_file_cannot_be_written(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a SQLite file the process may not write (simulated: the suite runs as root,
    # for whom file modes do not hold)
    database = Path(service.engine.url.database or "")
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: real_access(path, mode) and Path(path) != database
    )
    # When readiness is asked
    answer = TestClient(create_app(service)).get("/readyz")
    # Then it is not ready, and says why
    assert answer.status_code == 503
    assert answer.json()["checks"]["database"] == f"refuses writes: {database} is read-only"
