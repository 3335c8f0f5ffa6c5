"""Suggestion figures kept by the database: ``suggestion_stat`` (per received day × region ×
dimension value) and ``suggestion_stat_month``, kept in step by triggers on ``suggestion``
(see ``mediation.suggestions.stats``). The migration counts the existing suggestions once,
set-based. Both engines; raw tables, not declared as Piccolo tables (like ``mediator_load``).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-30T13:30:02:000000"
VERSION = "1.38.0"
DESCRIPTION = "Suggestion figures kept per day and month by triggers"


async def _create() -> None:
    from mediation.suggestions.stats import install, rebuild_suggestion_stats

    await install()
    await rebuild_suggestion_stats()


async def _drop() -> None:
    from mediation.suggestions.stats import drop_statements

    engine = engine_finder()
    for statement in drop_statements(not isinstance(engine, SQLiteEngine)):
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="suggestions", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    return manager
