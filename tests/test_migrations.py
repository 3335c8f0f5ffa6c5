"""Migrations bring an empty database to the schema the tables declare, on either engine."""

from __future__ import annotations

import pytest
from piccolo.conf.apps import Finder

from mediation import db

pytestmark = pytest.mark.anyio


def all_tables():
    return Finder().get_table_classes()


def test_every_domain_app_is_registered():
    names = {app.app_name for app in Finder().get_app_registry().app_configs.values()}
    assert {"grid", "intake", "cases", "suggestions"} <= names


def test_migration_ids_are_unique_across_apps():
    """Piccolo records a migration by its id and, going backwards, deletes the record by id
    alone: two apps with one id would undo each other's record and skip a migration."""
    from collections import Counter

    from piccolo.apps.migrations.commands.base import BaseMigrationManager

    manager = BaseMigrationManager()
    ids: Counter = Counter()
    for app in Finder().get_app_registry().app_configs.values():
        ids.update(list(manager.get_migration_modules(app.resolved_migrations_folder_path)))
    assert sum(ids.values()) >= 40
    assert [i for i, n in ids.items() if n > 1] == []


async def test_every_declared_column_exists_in_the_database():
    tables = all_tables()
    assert len(tables) >= 8
    for table in tables:
        # Selecting every declared column fails if a migration is missing one.
        await table.select(*table._meta.columns).limit(1)


async def test_running_migrations_again_changes_nothing():
    from piccolo.apps.migrations.tables import Migration

    await db.migrate()
    applied = await Migration.select(Migration.app_name, Migration.name).order_by(Migration.id)
    await db.migrate()
    assert applied, "the migration log is empty after migrating"
    assert (
        await Migration.select(Migration.app_name, Migration.name).order_by(Migration.id) == applied
    )


async def test_the_migrations_match_the_table_definitions():
    """No change is waiting to be turned into a migration."""
    from piccolo.apps.migrations.auto.diffable_table import DiffableTable
    from piccolo.apps.migrations.auto.schema_differ import SchemaDiffer
    from piccolo.apps.migrations.auto.schema_snapshot import SchemaSnapshot
    from piccolo.apps.migrations.commands.base import BaseMigrationManager

    manager = BaseMigrationManager()
    for app_config in Finder().get_app_registry().app_configs.values():
        snapshot = await manager.get_migration_managers(app_config=app_config)
        current = SchemaSnapshot(snapshot).get_snapshot()
        desired = [
            DiffableTable(
                class_name=t.__name__,
                tablename=t._meta.tablename,
                columns=t._meta.non_default_columns,
                schema=t._meta.schema,
            )
            for t in app_config.table_classes
        ]
        differ = SchemaDiffer(schema=desired, schema_snapshot=current, auto_input="y")
        statements = differ.get_alter_statements()
        pending = [s for s in statements if s.statements]
        assert pending == [], f"{app_config.app_name} needs a new migration"


async def test_case_search_has_a_trigram_index_on_either_engine():
    """A case number is found through the index, not by scanning every case."""
    from mediation.cases.tables import Case

    if not db.is_postgres():
        # SQLite: the FTS5 trigram table of its own migration answers the same LIKE.
        assert not await Case.raw("SELECT name FROM sqlite_master WHERE name LIKE '%trgm%'")
        plan = await Case.raw(
            "EXPLAIN QUERY PLAN SELECT rowid FROM case_search WHERE search_text LIKE '%平湖-2026%'"
        )
        assert "VIRTUAL TABLE INDEX" in " ".join(str(r) for r in plan)
        return
    rows = await Case.raw(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'case' "
        "AND indexname = 'case_search_text_trgm'"
    )
    assert rows == [{"indexname": "case_search_text_trgm"}]
    async with Case._meta.db.transaction():  # one connection for the setting and the plan
        await Case.raw("SET LOCAL enable_seqscan = off")
        plan = await Case.raw(
            "EXPLAIN SELECT id FROM \"case\" WHERE search_text LIKE '%平湖-2026-000123%'"
        )
    assert "case_search_text_trgm" in " ".join(str(r) for r in plan)
