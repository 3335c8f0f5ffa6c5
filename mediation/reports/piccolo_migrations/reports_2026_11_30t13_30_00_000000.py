"""Mediator figures per county month × region × mediator (``mediator_rollup``), built once
from the existing cases and assignments: on PostgreSQL by one set-based statement (seconds at a
million cases), on SQLite from the rows. From then on every case and assignment change keeps it
(``mediation.reports.mediator_rollup``)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T13:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Mediator figures kept per month, region and mediator"

TABLE = (
    "CREATE TABLE IF NOT EXISTS mediator_rollup ("
    "region_path VARCHAR(400) NOT NULL, "
    "month DATE NOT NULL, "
    "mediator INTEGER NOT NULL, "
    "measure VARCHAR(16) NOT NULL, "
    "days INTEGER NOT NULL DEFAULT -1, "
    "n INTEGER NOT NULL DEFAULT 0, "
    "PRIMARY KEY (region_path, month, mediator, measure, days))"
)


async def _create() -> None:
    from mediation.reports.mediator_rollup import rebuild

    await engine_finder().run_ddl(TABLE)
    await rebuild()


async def _drop() -> None:
    await engine_finder().run_ddl("DROP TABLE IF EXISTS mediator_rollup")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reports", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    return manager
