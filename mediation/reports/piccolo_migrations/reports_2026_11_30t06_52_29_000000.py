"""The monthly rollup is read by region and month range: one index for that, on both engines."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T06:52:29:000000"
VERSION = "1.38.0"
DESCRIPTION = "Index of the monthly case rollup by region, month and dimension"


async def _create() -> None:
    await engine_finder().run_ddl(
        "CREATE INDEX IF NOT EXISTS case_rollup_scope ON case_rollup (region_path, month, dim)"
    )


async def _drop() -> None:
    await engine_finder().run_ddl("DROP INDEX IF EXISTS case_rollup_scope")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reports", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    return manager
