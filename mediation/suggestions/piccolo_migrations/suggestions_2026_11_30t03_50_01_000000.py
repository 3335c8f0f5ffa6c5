"""Indexes for two hundred thousand suggestions, on both engines.

- ``suggestion.created_at``: the Open311 list is a date range, newest first;
- ``suggestion.case``: a case's page shows the suggestion it came from;
- ``suggestion.region_path`` with ``text_pattern_ops`` (PostgreSQL): staff lists are scoped by
  ``region_path LIKE 'prefix%'``, which the existing B-tree cannot answer unless the
  database's collation is C.

Not declared on the table (Piccolo cannot declare operator classes); ``IF NOT EXISTS`` makes
the migration safe on a database a benchmark loader already indexed.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-30T03:50:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Indexes on suggestion.created_at, case and the region path prefix"


async def _create() -> None:
    engine = engine_finder()
    await engine.run_ddl(
        "CREATE INDEX IF NOT EXISTS suggestion_created_at ON suggestion (created_at)"
    )
    await engine.run_ddl('CREATE INDEX IF NOT EXISTS suggestion_case ON suggestion ("case")')
    if isinstance(engine, PostgresEngine):
        await engine.run_ddl(
            "CREATE INDEX IF NOT EXISTS suggestion_region_path_prefix ON suggestion "
            "(region_path text_pattern_ops)"
        )


async def _drop() -> None:
    engine = engine_finder()
    for name in ("suggestion_created_at", "suggestion_case", "suggestion_region_path_prefix"):
        await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="suggestions", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    return manager
