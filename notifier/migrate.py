"""Schema migrations: Alembic, driven from code so an installed service needs no ini file."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from notifier.db import NO_DEADLINE

#: The key of the PostgreSQL advisory lock a migration holds ("notifier" in ASCII): any
#: other process migrating the same database waits for it, then finds the schema current.
MIGRATION_LOCK = 0x6E6F746966696572

#: Where the migration scripts live inside the package.
SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    # configparser treats "%" as interpolation: escape it (socket paths are URL-encoded).
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(engine: Engine) -> None:
    """Bring the database behind ``engine`` to the newest schema.

    On PostgreSQL the migration holds a transaction-level advisory lock, so processes that
    upgrade at once (a migrate step and an API starting, two replicas) take turns: the
    first migrates, the others then find nothing left to do. On SQLite the database's own
    write lock serializes them.

    A migration may take longer than any statement of the service (building an index on a
    big table): the database's deadlines (``NOTIFIER_DB_*``) do not apply to it.
    """
    config = alembic_config(engine)
    with engine.begin() as connection:
        connection.execution_options(**{NO_DEADLINE: True})
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL statement_timeout = 0"))
            connection.execute(text("SET LOCAL lock_timeout = 0"))
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
