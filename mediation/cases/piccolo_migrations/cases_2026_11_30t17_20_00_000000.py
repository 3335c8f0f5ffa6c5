"""Indexes of the open cases for "my work", on both engines.

"My work" lists the newest open cases of the user's area that are at their level, red or
overdue (centre staff), or of their grids (grid workers and police). The index of status and
area read every open case of a town from the table to keep a tenth of them; these partial
indexes (open cases only, about one case in twenty) hold what the choice needs, so the newest
ids come from the index alone and only the rows shown are read.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-30T17:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Partial indexes of open cases by area and by grid"

# mediation.cases.common.OPEN_STATUSES when this was written (a migration keeps its own copy).
OPEN = "('registered', 'accepted', 'mediating', 'settled', 'terminated', 'performing', 'performed', 'breached')"

POSTGRES = {
    "case_open_area": (
        f'"case" (region_path text_pattern_ops, level, colour, overdue) INCLUDE (id) '
        f"WHERE status IN {OPEN}"
    ),
    "case_open_grid": f'"case" (grid, id) INCLUDE (registered_by) WHERE status IN {OPEN}',
}
SQLITE = {
    "case_open_area": f'"case" (region_path, level, colour, overdue, id) WHERE status IN {OPEN}',
    "case_open_grid": f'"case" (grid, id, registered_by) WHERE status IN {OPEN}',
}


async def _create() -> None:
    engine = engine_finder()
    indexes = POSTGRES if isinstance(engine, PostgresEngine) else SQLITE
    for name, definition in indexes.items():
        await engine.run_ddl(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


async def _drop() -> None:
    for name in POSTGRES:
        await engine_finder().run_ddl(f"DROP INDEX IF EXISTS {name}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    return manager
