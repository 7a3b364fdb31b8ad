"""The migrations and the tables the code declares describe the same schema, on both backends."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from notifier import db, migrate


def test_the_migrated_schema_matches_the_declared_tables(database_url: str) -> None:
    # Given a database migrated to the newest revision
    engine = db.make_engine(database_url)

    # When Alembic compares it with the tables the code declares
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    engine.dispose()

    # Then there is nothing left to generate
    assert differences == []


def test_the_scheduler_agenda_migration_goes_down_and_up_again(database_url: str) -> None:
    # Given a migrated database
    engine = db.make_engine(database_url)
    config = migrate.alembic_config(engine)

    # When the agenda migration is undone and applied again
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    without = set(inspect(engine).get_table_names())
    migrate.upgrade(engine)
    with_agenda = inspect(engine)
    indexes = {ix["name"] for ix in with_agenda.get_indexes("rule_due")}
    tables = set(with_agenda.get_table_names())
    engine.dispose()

    # Then the agenda table is gone in between and back with its indexes
    assert "rule_due" not in without and "rule_firings" in without
    assert "rule_due" in tables
    assert indexes == {"ix_rule_due_due_at_rule_return_id", "ix_rule_due_customer_id"}
