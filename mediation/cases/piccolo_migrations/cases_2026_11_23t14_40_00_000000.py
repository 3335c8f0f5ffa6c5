"""PostgreSQL only: a trigram index so the case list's text search need not scan every case.

The search is ``search_text LIKE '%term%'``; with ``pg_trgm`` a term of three or more
characters (a case number, a full name) is found through the index. Where the extension
cannot be created (no privilege), the migration leaves a warning and the search keeps working
as a scan. SQLite: nothing to do.
"""

import logging

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-23T14:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Trigram index on case.search_text (PostgreSQL)"

logger = logging.getLogger("mediation.migrations")


async def _trigram_index() -> None:
    engine = engine_finder()
    if not isinstance(engine, PostgresEngine):
        return
    await engine.run_ddl("SAVEPOINT trigram")
    try:
        await engine.run_ddl("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # the role may not create extensions: keep the scan
        await engine.run_ddl("ROLLBACK TO SAVEPOINT trigram")
        logger.warning("pg_trgm not available (%s); case search stays a scan", exc)
        return
    await engine.run_ddl(
        'CREATE INDEX IF NOT EXISTS case_search_text_trgm ON "case" '
        "USING gin (search_text gin_trgm_ops)"
    )


async def _drop_trigram_index() -> None:
    engine = engine_finder()
    if isinstance(engine, PostgresEngine):
        await engine.run_ddl("DROP INDEX IF EXISTS case_search_text_trgm")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    manager.add_raw(_trigram_index)
    manager.add_raw_backwards(_drop_trigram_index)
    return manager
