"""The key of the web form a suggestion was filed with is unique: the same form sent twice
(a double tap, a form resent) files one suggestion. Suggestions filed without one (kiosk,
staff, Open311) keep NULL, which a unique index allows any number of times on either engine.

An index of its own, after the column's migration: SQLite cannot add a UNIQUE column to an
existing table, and Piccolo runs a migration's raw steps before its columns.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T05:21:06:000000"
VERSION = "1.38.0"
DESCRIPTION = "The web form's key files one suggestion"

INDEX = "suggestion_idempotency_key_unique"


async def _create() -> None:
    await engine_finder().run_ddl(
        f"CREATE UNIQUE INDEX IF NOT EXISTS {INDEX} ON suggestion (idempotency_key)"
    )


async def _drop() -> None:
    await engine_finder().run_ddl(f"DROP INDEX IF EXISTS {INDEX}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="suggestions", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    return manager
