"""Indexes for reading agreements by date, on both engines.

The dashboard's agreement-performance figure counts the clauses due in a period, the sweep
looks for clauses past their deadline and not yet performed or reported, and for agreements
whose judicial-confirmation window is closing; without these indexes each read every clause or
agreement of the county.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T13:30:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Indexes on agreement clause deadlines and agreement effective dates"


INDEXES = {
    "agreement_clause_deadline": "agreement_clause (deadline)",
    "agreement_clause_unreported": (
        "agreement_clause (deadline) WHERE done_on IS NULL AND overdue_notified_on IS NULL"
    ),
    "agreement_effective_on": "agreement (effective_on)",
}


async def _create() -> None:
    for name, definition in INDEXES.items():
        await engine_finder().run_ddl(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


async def _drop() -> None:
    for name in INDEXES:
        await engine_finder().run_ddl(f"DROP INDEX IF EXISTS {name}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    return manager
