"""Indexes on the days a case's clocks finish, on both engines.

The dashboard's on-time figures and mediator figures, and the case lists its figures link to
("dates refer to": accepted, mediation started, concluded), select cases by these days; without
an index each of them read the whole case table.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T07:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Indexes on accepted_on, mediation_started_on and concluded_on"

INDEXES = {
    "case_accepted_on": "accepted_on",
    "case_mediation_started_on": "mediation_started_on",
    "case_concluded_on": "concluded_on",
}


async def _create() -> None:
    for name, column in INDEXES.items():
        await engine_finder().run_ddl(f'CREATE INDEX IF NOT EXISTS {name} ON "case" ({column})')


async def _drop() -> None:
    for name in INDEXES:
        await engine_finder().run_ddl(f"DROP INDEX IF EXISTS {name}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    return manager
