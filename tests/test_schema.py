"""The migrations and the tables the code declares describe the same schema, on both backends."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from notifier import db, migrate
from notifier.delivery.dead_letters import DeadLetterFilter, DeadLetters
from notifier.privacy import Retention
from notifier.status import Channel
from tests.conftest import Postgres
from tests.plans import recorded


# SQLAlchemy cannot reflect SQLite's expression indexes (lower(recipient)) and says so, and
# Alembic then leaves them out of the comparison, on SQLite only (PostgreSQL compares them).
@pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index "
    "ix_notifications_lower_recipient",
    "ignore:autogenerate skipping metadata-specified expression-based index "
    "'ix_notifications_lower_recipient'",
)
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


def test_the_vocabulary_checks_of_the_migrations_are_the_declared_ones() -> None:
    # Given the CHECK constraints the newest vocabulary migration (0010) writes, and the ones
    # the code declares
    checks = importlib.import_module("notifier.migrations.versions.0010_status_hooks")

    # Then they allow the same values, column by column (a vocabulary change needs a new
    # migration)
    assert set(checks.CHECKS) == set(db.VOCABULARY_CHECKS)
    for table, columns in checks.CHECKS.items():
        declared = {column: db.one_of(column, values) for column, values in columns.items()}
        assert declared == db.VOCABULARY_CHECKS[table]


@pytest.mark.parametrize(
    ("column", "value"),
    [("status", "bounce"), ("status", "dead"), ("channel", "fax"), ("kind", "reminder.x")],
)
def test_the_database_refuses_a_value_outside_the_vocabulary(
    database_url: str, column: str, value: str
) -> None:
    # Given a migrated database and a notification row that is valid but for one column
    engine = db.make_engine(database_url)
    row = {
        "id": "ntf_vocabulary",
        "source": "test",
        "return_id": "RMA-1",
        "customer_id": "C-1",
        "kind": "return.received",
        "channel": "email",
        "recipient": "sanne@example.nl",
        "locale": "nl",
        "timezone": "Europe/Amsterdam",
        "status": "queued",
        "created_at": db.now(),
        "updated_at": db.now(),
    }

    # When a value outside the vocabulary is written
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(db.notifications).values({**row, column: value}))

    # Then nothing was stored, while the valid row itself is accepted
    with engine.begin() as connection:
        connection.execute(insert(db.notifications).values(row))
        stored = connection.execute(select(db.notifications.c.status)).scalars().all()
    engine.dispose()
    assert stored == ["queued"]


@pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index "
    "ix_notifications_lower_recipient"
)
def test_the_console_list_indexes_migration_goes_down_and_up_again(database_url: str) -> None:
    # Given a migrated database
    engine = db.make_engine(database_url)
    config = migrate.alembic_config(engine)
    listed = {
        "notifications": {"ix_notifications_dead_status_updated_at_id"},
        "suppressions": {
            "ix_suppressions_created_at_channel_address",
            "ix_suppressions_channel_created_at_address",
        },
    }

    def indexes() -> dict[str, set[str]]:
        found = inspect(engine)
        return {table: {ix["name"] for ix in found.get_indexes(table)} for table in listed}

    # When migration 0006 is undone and applied again
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
    without = indexes()
    migrate.upgrade(engine)
    again = indexes()
    engine.dispose()

    # Then the dead letters' and suppressions' indexes are gone in between and back after
    assert all(not names & without[table] for table, names in listed.items())
    assert all(names <= again[table] for table, names in listed.items())


@pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index "
    "ix_notifications_lower_recipient"
)
def test_the_return_expired_migration_goes_down_and_up_again(database_url: str) -> None:
    # Given a migrated database
    engine = db.make_engine(database_url)
    config = migrate.alembic_config(engine)
    row = {
        "id": "ntf_expired",
        "source": "rule:expired:RMA-1:2026-12-04/1d",
        "return_id": "RMA-1",
        "customer_id": "C-1",
        "kind": "return.expired",
        "channel": "email",
        "recipient": "sanne@example.nl",
        "locale": "nl",
        "timezone": "Europe/Amsterdam",
        "status": "queued",
        "created_at": db.now(),
        "updated_at": db.now(),
    }

    # When migration 0008 is undone, a return.expired notification written, and it is applied
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(db.notifications).values(row))
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(insert(db.notifications).values(row))
        kinds = connection.execute(select(db.notifications.c.kind)).scalars().all()
    with engine.connect() as connection:
        lowered = (
            connection.execute(
                select(db.notifications.c.id).where(
                    func.lower(db.notifications.c.recipient) == "sanne@example.nl"
                )
            )
            .scalars()
            .all()
        )
    names = {ix["name"] for ix in inspect(engine).get_indexes("notifications")}
    engine.dispose()

    # Then the kind is refused in between and accepted after, and the indexes are all back
    assert kinds == ["return.expired"] and lowered == ["ntf_expired"]
    assert "ix_notifications_dead_status_updated_at_id" in names


@pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index "
    "ix_notifications_lower_recipient"
)
def test_the_retention_migration_keeps_the_returns_stored_before_it(database_url: str) -> None:
    # Given a database at 0008 holding a return
    engine = db.make_engine(database_url)
    config = migrate.alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0008")
    without = set(inspect(engine).get_table_names())
    old = db.now() - timedelta(days=400)
    with engine.begin() as connection:
        connection.execute(
            insert(db.returns).values(
                return_id="RMA-1",
                order_id="ORD-1",
                customer_id="C-1",
                status="return.closed",
                status_at=old,
                snapshot={"customer": {"email": "sanne@example.nl"}},
                created_at=old,
                updated_at=old,
            )
        )

    # When migration 0009 is applied and retention runs
    migrate.upgrade(engine)
    report = Retention(engine, 90).purge()
    with engine.connect() as connection:
        stored = connection.execute(select(db.returns)).one()
        audit = connection.execute(select(db.privacy_audit.c.action)).scalars().all()
    names = {ix["name"] for ix in inspect(engine).get_indexes("notifications")}
    engine.dispose()

    # Then the return was kept, and is purged and audited like any other
    assert "privacy_audit" not in without
    assert report.counts["returns"] == 1 and audit == ["purge"]
    assert stored.snapshot == {} and stored.purged_at is not None
    assert "ix_notifications_dead_status_updated_at_id" in names


@pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index "
    "ix_notifications_lower_recipient"
)
def test_the_fewer_notification_indexes_migration_goes_down_and_up_again(
    database_url: str,
) -> None:
    # Given a migrated database
    engine = db.make_engine(database_url)
    config = migrate.alembic_config(engine)

    def indexes() -> tuple[set[str], str]:
        names = {ix["name"] for ix in inspect(engine).get_indexes("notifications")}
        return names, _index_definition(engine, "ix_notifications_provider_message_id")

    # When migration 0011 is undone and applied again
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    before, full = indexes()
    migrate.upgrade(engine)
    after, partial = indexes()
    engine.dispose()

    # Then the recipient index is there in between and gone after, and the provider's ids
    # are indexed whole in between and only where there is one after
    assert "ix_notifications_recipient" in before and "ix_notifications_recipient" not in after
    assert "IS NOT NULL" not in full
    assert "provider_message_id IS NOT NULL" in partial


@pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index "
    "ix_notifications_lower_recipient"
)
def test_the_dead_letters_index_migration_goes_down_and_up_again(database_url: str) -> None:
    # Given a migrated database
    engine = db.make_engine(database_url)
    config = migrate.alembic_config(engine)
    name = "ix_notifications_dead_status_updated_at_id"

    # When migration 0012 is undone and applied again
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")
    whole = _index_definition(engine, name)
    migrate.upgrade(engine)
    partial = _index_definition(engine, name)
    engine.dispose()

    # Then the dead letters' index holds every notification in between, and only the dead
    # letters after
    assert "WHERE" not in whole.upper()
    truth = "WHERE dead IS 1" if database_url.startswith("sqlite") else "WHERE (dead IS TRUE)"
    assert partial.endswith(truth), partial


def test_the_dead_letter_lists_read_the_partial_index_on_postgresql(postgres: Postgres) -> None:
    # Given a migrated PostgreSQL database, and the dead letter lists' statements
    engine = db.make_engine(postgres.fresh())
    letters = DeadLetters(engine, None)
    some = DeadLetterFilter(channel=Channel.SMS, kind="return.approved")

    # When they are read, with the planner told to avoid scanning the table
    with recorded(engine) as statements:
        letters.page(some)
        letters.count(some)
    plans = []
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        for sql, params in statements:
            rows = connection.exec_driver_sql(f"EXPLAIN {sql}", params).scalars().all()
            plans.append("\n".join(rows))
    engine.dispose()

    # Then each searches the partial index, which their condition implies
    assert len(plans) == 2
    for each in plans:
        assert "ix_notifications_dead_status_updated_at_id" in each, each


def _index_definition(engine: Engine, name: str) -> str:
    """Index ``name`` as the database holds it: SQLite's ``CREATE INDEX``, PostgreSQL's
    ``indexdef``."""
    if engine.dialect.name == "sqlite":
        query = "SELECT sql FROM sqlite_master WHERE name = :name"
    else:
        query = "SELECT indexdef FROM pg_indexes WHERE indexname = :name"
    with engine.connect() as connection:
        return str(connection.execute(text(query), {"name": name}).scalar_one())
