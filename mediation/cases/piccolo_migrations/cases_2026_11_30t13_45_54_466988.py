"""Indexes on ``case`` that no query needs, dropped on both engines (and, on PostgreSQL, a
partial index for the overdue cases in place of the one on ``overdue``).

Every index is written again whenever a case row moves (a PostgreSQL update that changes an
indexed column cannot be written in place, "HOT"), and the deadline sweep updates tens of
thousands of rows at scale: ``level``, ``overdue``, ``version`` and ``updated_at``.

- ``level``: four values; the case list's level filter and "my work" of centre staff read the
  newest cases by id first and filter (the list is newest first, a page is 25 rows);
- ``overdue``: "my work" as for ``level``; the list's "overdue only" filter needs an index
  where few cases are overdue (else it reads every case of the area: 90 ms at 50,000 cases,
  seconds at a million), so PostgreSQL gets a partial one, ``case_overdue_id``, holding only
  the overdue cases (the sweep's updates change ``overdue``, so they are not HOT either way;
  this index is written for the cases flagged, not for every case). SQLite, which holds a
  county's cases, reads the table;
- ``updated_at``: no query selects or sorts by it;
- ``region_path`` (plain B-tree): the lists scope by ``region_path LIKE 'prefix%'``, which
  this index cannot answer under a non-C collation (PostgreSQL has ``case_region_path_prefix``
  with text_pattern_ops for that, migration 2026-11-30T03:50) nor in SQLite's LIKE; nothing
  compares the path for equality;
- ``termination_number``: read only with its case, by id.

Backwards puts them back.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.columns.column_types import Boolean
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import Varchar

ID = "2026-11-30T13:45:54:466988"
VERSION = "1.38.0"
DESCRIPTION = "Drop the indexes on case that no query needs; partial index on overdue"


async def _partial_overdue_index() -> None:
    engine = engine_finder()
    if isinstance(engine, PostgresEngine):
        await engine.run_ddl(
            'CREATE INDEX IF NOT EXISTS case_overdue_id ON "case" (id) WHERE overdue'
        )


async def _drop_partial_overdue_index() -> None:
    engine = engine_finder()
    if isinstance(engine, PostgresEngine):
        await engine.run_ddl("DROP INDEX IF EXISTS case_overdue_id")


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="cases", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Case",
        tablename="case",
        column_name="region_path",
        db_column_name="region_path",
        params={"index": False},
        old_params={"index": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Case",
        tablename="case",
        column_name="level",
        db_column_name="level",
        params={"index": False},
        old_params={"index": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Case",
        tablename="case",
        column_name="overdue",
        db_column_name="overdue",
        params={"index": False},
        old_params={"index": True},
        column_class=Boolean,
        old_column_class=Boolean,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Case",
        tablename="case",
        column_name="updated_at",
        db_column_name="updated_at",
        params={"index": False},
        old_params={"index": True},
        column_class=Timestamptz,
        old_column_class=Timestamptz,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Case",
        tablename="case",
        column_name="termination_number",
        db_column_name="termination_number",
        params={"index": False},
        old_params={"index": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.add_raw(_partial_overdue_index)
    manager.add_raw_backwards(_drop_partial_overdue_index)

    return manager
