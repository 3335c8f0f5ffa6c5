"""Index on ``suggestion.group_leader``: a suggestion's page lists the suggestions it leads
(at two hundred thousand suggestions, without it every view read them all). Both engines;
not declared on the table, like the other indexes added for scale."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T04:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Index on suggestion.group_leader"


async def _create() -> None:
    await engine_finder().run_ddl(
        "CREATE INDEX IF NOT EXISTS suggestion_group_leader ON suggestion (group_leader)"
    )


async def _drop() -> None:
    await engine_finder().run_ddl("DROP INDEX IF EXISTS suggestion_group_leader")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="suggestions", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    return manager
