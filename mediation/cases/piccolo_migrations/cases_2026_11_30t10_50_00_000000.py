"""An index on the time a mediator was assigned, on both engines.

The dashboard's mediator figures count the assignments made in a period; without an index that
read every assignment.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T10:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Index on case_mediator.assigned_at"


async def _create() -> None:
    await engine_finder().run_ddl(
        "CREATE INDEX IF NOT EXISTS case_mediator_assigned_at ON case_mediator (assigned_at)"
    )


async def _drop() -> None:
    await engine_finder().run_ddl("DROP INDEX IF EXISTS case_mediator_assigned_at")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    return manager
