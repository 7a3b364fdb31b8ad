"""Schema migrations: two processes upgrading one database at once both succeed."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import inspect, text

from notifier import db
from tests.conftest import Postgres


@pytest.mark.slow
@pytest.mark.postgres
def test_concurrent_upgrades_of_a_fresh_postgresql_both_succeed(postgres: Postgres) -> None:
    # Given an empty PostgreSQL database
    url = postgres.empty()
    env = {**os.environ, "NOTIFIER_DATABASE_URL": url}
    # When three `notifier db upgrade` start at the same moment, as migrate steps or APIs may
    # (each imports everything first, then waits for the moment)
    start = time.time() + 6
    upgrades = [
        subprocess.Popen(
            [sys.executable, "-c", _UPGRADE_AT, str(start)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    outputs = [upgrade.communicate(timeout=60)[0].decode() for upgrade in upgrades]
    # Then each succeeded, and the schema is the newest, once
    assert [upgrade.returncode for upgrade in upgrades] == [0, 0, 0], "\n".join(outputs)
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert len(versions) == 1
    assert set(db.metadata.tables) <= tables


#: `notifier db upgrade`, started at the moment given as the first argument.
_UPGRADE_AT = """
import sys, time
import alembic.command, notifier.migrate, notifier.db
from notifier.cli import main
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
sys.exit(main(["db", "upgrade"]))
"""
