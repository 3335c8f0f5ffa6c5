"""SQLite only: an FTS5 trigram index beside ``case.search_text``, kept in step by triggers.

The case list's text search is ``search_text LIKE '%term%'``; FTS5's trigram tokenizer
answers the same LIKE for a term of three or more characters from its index instead of a scan
(PostgreSQL has its own trigram index, see the previous migration). Where the SQLite library
lacks FTS5 or the trigram tokenizer (before 3.34), nothing is created and the search keeps
scanning.
"""

import logging

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-23T15:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "FTS5 trigram index for the case search (SQLite)"

logger = logging.getLogger("mediation.migrations")

STATEMENTS = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS case_search USING fts5("
    "search_text, content='case', content_rowid='id', tokenize='trigram')",
    'CREATE TRIGGER IF NOT EXISTS case_search_insert AFTER INSERT ON "case" BEGIN '
    "INSERT INTO case_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    'CREATE TRIGGER IF NOT EXISTS case_search_delete AFTER DELETE ON "case" BEGIN '
    "INSERT INTO case_search(case_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    'CREATE TRIGGER IF NOT EXISTS case_search_update AFTER UPDATE OF search_text ON "case" '
    "BEGIN INSERT INTO case_search(case_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO case_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO case_search(case_search) VALUES ('rebuild')",
)


async def _fts_index() -> None:
    engine = engine_finder()
    if not isinstance(engine, SQLiteEngine):
        return
    try:
        await engine.run_ddl("CREATE VIRTUAL TABLE temp.trigram_probe USING fts5(x, tokenize='trigram')")
        await engine.run_ddl("DROP TABLE temp.trigram_probe")
    except Exception as exc:  # an SQLite build without FTS5 trigram: keep the scan
        logger.warning("FTS5 trigram not available (%s); case search stays a scan", exc)
        return
    for statement in STATEMENTS:
        await engine.run_ddl(statement)


async def _drop_fts_index() -> None:
    engine = engine_finder()
    if isinstance(engine, SQLiteEngine):
        for name in ("case_search_insert", "case_search_delete", "case_search_update"):
            await engine.run_ddl(f"DROP TRIGGER IF EXISTS {name}")
        await engine.run_ddl("DROP TABLE IF EXISTS case_search")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    manager.add_raw(_fts_index)
    manager.add_raw_backwards(_drop_fts_index)
    return manager
