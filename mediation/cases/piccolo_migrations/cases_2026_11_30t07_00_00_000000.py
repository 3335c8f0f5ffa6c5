"""Each mediator's open-case load, kept by the database in ``mediator_load``.

The mediator ranking shows every mediator's load: their active assignments on open cases.
Counting that per view joins every active assignment with its case (about 48,000 at a
million cases). Triggers keep the count instead, in the same transaction as the change that
moves it: an assignment added, ended, moved or deleted, a case whose status crosses between
open and final (declined, closed) either way, a case deleted. The migration counts the
existing assignments once. The open statuses are those of ``workflow.is_open`` when this
migration was written (all but ``declined`` and ``closed``).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-30T07:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Mediator loads kept by triggers"

OPEN = "('registered', 'accepted', 'mediating', 'settled', 'terminated', 'performing', 'performed', 'breached')"

TABLE = (
    "CREATE TABLE IF NOT EXISTS mediator_load ("
    "mediator INTEGER PRIMARY KEY, open_cases INTEGER NOT NULL DEFAULT 0)"
)

RECOUNT = (
    "DELETE FROM mediator_load",
    "INSERT INTO mediator_load (mediator, open_cases) "
    'SELECT cm.mediator, count(*) FROM case_mediator cm JOIN "case" c ON c.id = cm."case" '
    f"WHERE cm.active AND c.status IN {OPEN} GROUP BY cm.mediator",
)

_OPEN_CASE = (
    'EXISTS (SELECT 1 FROM "case" c WHERE c.id = {row}."case" AND c.status IN ' + OPEN + ")"
)

POSTGRES = (
    # An assignment added, changed or deleted: take its old contribution off, add its new one.
    # The case rows are share-locked first: a status change of the case in another
    # transaction is then waited for and seen (read committed: each statement reads afresh),
    # so an assignment added or ended while its case closes is counted exactly once.
    "CREATE OR REPLACE FUNCTION mediator_load_assignment() RETURNS trigger AS $$\n"
    "BEGIN\n"
    "  IF TG_OP <> 'INSERT' THEN\n"
    '    PERFORM 1 FROM "case" WHERE id = OLD."case" FOR SHARE;\n'
    "  END IF;\n"
    "  IF TG_OP <> 'DELETE' THEN\n"
    '    PERFORM 1 FROM "case" WHERE id = NEW."case" FOR SHARE;\n'
    "  END IF;\n"
    "  IF TG_OP <> 'INSERT' THEN\n"
    "    IF OLD.active AND " + _OPEN_CASE.format(row="OLD") + " THEN\n"
    "      UPDATE mediator_load SET open_cases = open_cases - 1 WHERE mediator = OLD.mediator;\n"
    "    END IF;\n"
    "  END IF;\n"
    "  IF TG_OP <> 'DELETE' THEN\n"
    "    IF NEW.active AND " + _OPEN_CASE.format(row="NEW") + " THEN\n"
    "      INSERT INTO mediator_load (mediator, open_cases) VALUES (NEW.mediator, 1)\n"
    "      ON CONFLICT (mediator) DO UPDATE SET open_cases = mediator_load.open_cases + 1;\n"
    "    END IF;\n"
    "  END IF;\n"
    "  RETURN NULL;\n"
    "END $$ LANGUAGE plpgsql",
    # A case becoming open or final (or deleted while open) moves all its active assignments.
    "CREATE OR REPLACE FUNCTION mediator_load_case() RETURNS trigger AS $$\n"
    "DECLARE\n"
    "  was_open boolean := OLD.status IN " + OPEN + ";\n"
    "  is_open boolean := false;\n"
    "BEGIN\n"
    "  IF TG_OP = 'UPDATE' THEN\n"
    "    is_open := NEW.status IN " + OPEN + ";\n"
    "  END IF;\n"
    "  IF was_open <> is_open THEN\n"
    "    INSERT INTO mediator_load (mediator, open_cases)\n"
    "    SELECT cm.mediator, CASE WHEN is_open THEN count(*) ELSE -count(*) END\n"
    '    FROM case_mediator cm WHERE cm."case" = OLD.id AND cm.active GROUP BY cm.mediator\n'
    "    ON CONFLICT (mediator) DO UPDATE\n"
    "    SET open_cases = mediator_load.open_cases + EXCLUDED.open_cases;\n"
    "  END IF;\n"
    "  IF TG_OP = 'DELETE' THEN\n"
    "    RETURN OLD;\n"
    "  END IF;\n"
    "  RETURN NULL;\n"
    "END $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS mediator_load_assignment ON case_mediator",
    "CREATE TRIGGER mediator_load_assignment "
    'AFTER INSERT OR DELETE OR UPDATE OF active, mediator, "case" ON case_mediator '
    "FOR EACH ROW EXECUTE FUNCTION mediator_load_assignment()",
    'DROP TRIGGER IF EXISTS mediator_load_case_status ON "case"',
    'CREATE TRIGGER mediator_load_case_status AFTER UPDATE OF status ON "case" '
    "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) "
    "EXECUTE FUNCTION mediator_load_case()",
    # Before the row goes: its assignments are still there to count (a cascade deletes them
    # after, when their case no longer counts as open).
    'DROP TRIGGER IF EXISTS mediator_load_case_delete ON "case"',
    'CREATE TRIGGER mediator_load_case_delete BEFORE DELETE ON "case" '
    "FOR EACH ROW EXECUTE FUNCTION mediator_load_case()",
)

_SQLITE_CASE_MOVE = (
    "INSERT OR IGNORE INTO mediator_load (mediator, open_cases) "
    'SELECT DISTINCT mediator, 0 FROM case_mediator WHERE "case" = {row}.id AND active; '
    "UPDATE mediator_load SET open_cases = open_cases + {sign} * ("
    'SELECT count(*) FROM case_mediator cm WHERE cm."case" = {row}.id AND cm.active '
    "AND cm.mediator = mediator_load.mediator) "
    'WHERE mediator IN (SELECT mediator FROM case_mediator WHERE "case" = {row}.id AND active);'
)

SQLITE = (
    "CREATE TRIGGER IF NOT EXISTS mediator_load_assignment_insert AFTER INSERT ON case_mediator "
    "WHEN NEW.active AND " + _OPEN_CASE.format(row="NEW") + " BEGIN "
    "INSERT OR IGNORE INTO mediator_load (mediator, open_cases) VALUES (NEW.mediator, 0); "
    "UPDATE mediator_load SET open_cases = open_cases + 1 WHERE mediator = NEW.mediator; END",
    "CREATE TRIGGER IF NOT EXISTS mediator_load_assignment_delete AFTER DELETE ON case_mediator "
    "WHEN OLD.active AND " + _OPEN_CASE.format(row="OLD") + " BEGIN "
    "UPDATE mediator_load SET open_cases = open_cases - 1 WHERE mediator = OLD.mediator; END",
    "CREATE TRIGGER IF NOT EXISTS mediator_load_assignment_update "
    'AFTER UPDATE OF active, mediator, "case" ON case_mediator BEGIN '
    "UPDATE mediator_load SET open_cases = open_cases - 1 WHERE mediator = OLD.mediator "
    "AND OLD.active AND " + _OPEN_CASE.format(row="OLD") + "; "
    "INSERT OR IGNORE INTO mediator_load (mediator, open_cases) VALUES (NEW.mediator, 0); "
    "UPDATE mediator_load SET open_cases = open_cases + 1 WHERE mediator = NEW.mediator "
    "AND NEW.active AND " + _OPEN_CASE.format(row="NEW") + "; END",
    'CREATE TRIGGER IF NOT EXISTS mediator_load_case_opened AFTER UPDATE OF status ON "case" '
    f"WHEN OLD.status NOT IN {OPEN} AND NEW.status IN {OPEN} BEGIN "
    + _SQLITE_CASE_MOVE.format(row="NEW", sign="1")
    + " END",
    'CREATE TRIGGER IF NOT EXISTS mediator_load_case_closed AFTER UPDATE OF status ON "case" '
    f"WHEN OLD.status IN {OPEN} AND NEW.status NOT IN {OPEN} BEGIN "
    + _SQLITE_CASE_MOVE.format(row="NEW", sign="-1")
    + " END",
    'CREATE TRIGGER IF NOT EXISTS mediator_load_case_delete BEFORE DELETE ON "case" '
    f"WHEN OLD.status IN {OPEN} BEGIN " + _SQLITE_CASE_MOVE.format(row="OLD", sign="-1") + " END",
)

SQLITE_TRIGGERS = (
    "mediator_load_assignment_insert",
    "mediator_load_assignment_delete",
    "mediator_load_assignment_update",
    "mediator_load_case_opened",
    "mediator_load_case_closed",
    "mediator_load_case_delete",
)


async def _create() -> None:
    engine = engine_finder()
    await engine.run_ddl(TABLE)
    for statement in SQLITE if isinstance(engine, SQLiteEngine) else POSTGRES:
        await engine.run_ddl(statement)
    for statement in RECOUNT:
        await engine.run_ddl(statement)


async def _drop() -> None:
    engine = engine_finder()
    if isinstance(engine, SQLiteEngine):
        for name in SQLITE_TRIGGERS:
            await engine.run_ddl(f"DROP TRIGGER IF EXISTS {name}")
    else:
        await engine.run_ddl("DROP TRIGGER IF EXISTS mediator_load_assignment ON case_mediator")
        await engine.run_ddl('DROP TRIGGER IF EXISTS mediator_load_case_status ON "case"')
        await engine.run_ddl('DROP TRIGGER IF EXISTS mediator_load_case_delete ON "case"')
        await engine.run_ddl("DROP FUNCTION IF EXISTS mediator_load_assignment()")
        await engine.run_ddl("DROP FUNCTION IF EXISTS mediator_load_case()")
    await engine.run_ddl("DROP TABLE IF EXISTS mediator_load")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    return manager
