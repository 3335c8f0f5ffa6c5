"""The clauses of effective agreements per deadline day and community, kept by the database.

The dashboard's agreement-performance figure counts the clauses of effective agreements due in
a period and how many of them are performed. Counting that per view joins every clause due in
the period with its agreement and case (about 28,000 a month at a million cases). Triggers
keep the counts in ``clause_stat`` instead, in the same transaction as the change that moves
them: a clause added, deleted or changed (deadline, performed date, agreement), an agreement
becoming effective (or, by a direct write, no longer effective), an agreement deleted (a
case's agreements are deleted just before the case, while its row is there to read). A row is
a deadline day and the region path of the case's community (a case's path never changes once
it has cases under it). The migration counts the existing clauses once.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-30T13:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Clauses of effective agreements per deadline day, kept by triggers"

TABLE = (
    "CREATE TABLE IF NOT EXISTS clause_stat ("
    "day DATE NOT NULL, region_path VARCHAR(255) NOT NULL, "
    "due INTEGER NOT NULL DEFAULT 0, performed INTEGER NOT NULL DEFAULT 0, "
    "PRIMARY KEY (day, region_path))"
)

RECOUNT = (
    "DELETE FROM clause_stat",
    "INSERT INTO clause_stat (day, region_path, due, performed) "
    "SELECT ac.deadline, c.region_path, count(*), count(ac.done_on) "
    'FROM agreement_clause ac JOIN agreement a ON a.id = ac.agreement JOIN "case" c '
    "ON c.id = a.\"case\" WHERE a.status = 'effective' AND ac.deadline IS NOT NULL "
    "GROUP BY ac.deadline, c.region_path",
)

# The community path of an effective agreement's case (no row: not effective, or gone).
_PATH = (
    'SELECT c.region_path FROM agreement a JOIN "case" c ON c.id = a."case" '
    "WHERE a.id = {row}.agreement AND a.status = 'effective'"
)

POSTGRES = (
    "CREATE OR REPLACE FUNCTION clause_stat_clause() RETURNS trigger AS $$\n"
    "DECLARE\n"
    "  path varchar;\n"
    "BEGIN\n"
    "  IF TG_OP <> 'INSERT' AND OLD.deadline IS NOT NULL THEN\n"
    "    "
    + _PATH.format(row="OLD").replace("SELECT c.region_path", "SELECT c.region_path INTO path")
    + " FOR SHARE OF a;\n"
    "    IF FOUND THEN\n"
    "      UPDATE clause_stat SET due = due - 1,\n"
    "        performed = performed - (OLD.done_on IS NOT NULL)::int\n"
    "      WHERE day = OLD.deadline AND region_path = path;\n"
    "    END IF;\n"
    "  END IF;\n"
    "  IF TG_OP <> 'DELETE' AND NEW.deadline IS NOT NULL THEN\n"
    "    "
    + _PATH.format(row="NEW").replace("SELECT c.region_path", "SELECT c.region_path INTO path")
    + " FOR SHARE OF a;\n"
    "    IF FOUND THEN\n"
    "      INSERT INTO clause_stat (day, region_path, due, performed)\n"
    "      VALUES (NEW.deadline, path, 1, (NEW.done_on IS NOT NULL)::int)\n"
    "      ON CONFLICT (day, region_path) DO UPDATE SET due = clause_stat.due + 1,\n"
    "        performed = clause_stat.performed + EXCLUDED.performed;\n"
    "    END IF;\n"
    "  END IF;\n"
    "  RETURN NULL;\n"
    "END $$ LANGUAGE plpgsql",
    # An agreement becoming effective (or no longer), or deleted: all its clauses move.
    "CREATE OR REPLACE FUNCTION clause_stat_agreement() RETURNS trigger AS $$\n"
    "DECLARE\n"
    "  was boolean := OLD.status = 'effective';\n"
    "  is_now boolean := false;\n"
    "  sign int;\n"
    "BEGIN\n"
    "  IF TG_OP = 'UPDATE' THEN\n"
    "    is_now := NEW.status = 'effective';\n"
    "  END IF;\n"
    "  IF was <> is_now THEN\n"
    "    sign := CASE WHEN is_now THEN 1 ELSE -1 END;\n"
    "    INSERT INTO clause_stat (day, region_path, due, performed)\n"
    "    SELECT ac.deadline, c.region_path, sign * count(*), sign * count(ac.done_on)\n"
    '    FROM agreement_clause ac JOIN "case" c ON c.id = OLD."case"\n'
    "    WHERE ac.agreement = OLD.id AND ac.deadline IS NOT NULL\n"
    "    GROUP BY ac.deadline, c.region_path\n"
    "    ON CONFLICT (day, region_path) DO UPDATE SET due = clause_stat.due + EXCLUDED.due,\n"
    "      performed = clause_stat.performed + EXCLUDED.performed;\n"
    "  END IF;\n"
    "  IF TG_OP = 'DELETE' THEN\n"
    "    RETURN OLD;\n"
    "  END IF;\n"
    "  RETURN NULL;\n"
    "END $$ LANGUAGE plpgsql",
    # A case deleted: its agreements go first, while the case row is there for their trigger
    # (the cascade that would follow finds none left).
    "CREATE OR REPLACE FUNCTION clause_stat_case() RETURNS trigger AS $$\n"
    "BEGIN\n"
    '  DELETE FROM agreement WHERE "case" = OLD.id;\n'
    "  RETURN OLD;\n"
    "END $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS clause_stat_clause ON agreement_clause",
    "CREATE TRIGGER clause_stat_clause "
    "AFTER INSERT OR DELETE OR UPDATE OF deadline, done_on, agreement ON agreement_clause "
    "FOR EACH ROW EXECUTE FUNCTION clause_stat_clause()",
    "DROP TRIGGER IF EXISTS clause_stat_agreement_status ON agreement",
    "CREATE TRIGGER clause_stat_agreement_status AFTER UPDATE OF status ON agreement "
    "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) "
    "EXECUTE FUNCTION clause_stat_agreement()",
    "DROP TRIGGER IF EXISTS clause_stat_agreement_delete ON agreement",
    "CREATE TRIGGER clause_stat_agreement_delete BEFORE DELETE ON agreement "
    "FOR EACH ROW EXECUTE FUNCTION clause_stat_agreement()",
    'DROP TRIGGER IF EXISTS clause_stat_case_delete ON "case"',
    'CREATE TRIGGER clause_stat_case_delete BEFORE DELETE ON "case" '
    "FOR EACH ROW EXECUTE FUNCTION clause_stat_case()",
)

_SQLITE_ADD = (
    "INSERT OR IGNORE INTO clause_stat (day, region_path, due, performed) "
    "SELECT {row}.deadline, ({path}), 0, 0 WHERE {row}.deadline IS NOT NULL AND ({path}) "
    "IS NOT NULL; "
    "UPDATE clause_stat SET due = due {sign} 1, "
    "performed = performed {sign} ({row}.done_on IS NOT NULL) "
    "WHERE day = {row}.deadline AND region_path = ({path});"
)


def _sqlite_clause(row: str, sign: str) -> str:
    return _SQLITE_ADD.format(row=row, sign=sign, path=_PATH.format(row=row))


# All clauses of one agreement ({row} is the agreement), on or off.
_SQLITE_AGREEMENT = (
    "INSERT OR IGNORE INTO clause_stat (day, region_path, due, performed) "
    'SELECT DISTINCT ac.deadline, c.region_path, 0, 0 FROM agreement_clause ac JOIN "case" c '
    'ON c.id = {row}."case" WHERE ac.agreement = {row}.id AND ac.deadline IS NOT NULL; '
    "UPDATE clause_stat SET "
    "due = due {sign} (SELECT count(*) FROM agreement_clause ac WHERE ac.agreement = {row}.id "
    "AND ac.deadline = clause_stat.day), "
    "performed = performed {sign} (SELECT count(ac.done_on) FROM agreement_clause ac "
    "WHERE ac.agreement = {row}.id AND ac.deadline = clause_stat.day) "
    'WHERE region_path = (SELECT region_path FROM "case" WHERE id = {row}."case") '
    "AND day IN (SELECT deadline FROM agreement_clause WHERE agreement = {row}.id);"
)

SQLITE = (
    "CREATE TRIGGER IF NOT EXISTS clause_stat_clause_insert AFTER INSERT ON agreement_clause "
    "BEGIN " + _sqlite_clause("NEW", "+") + " END",
    "CREATE TRIGGER IF NOT EXISTS clause_stat_clause_delete AFTER DELETE ON agreement_clause "
    "BEGIN " + _sqlite_clause("OLD", "-") + " END",
    "CREATE TRIGGER IF NOT EXISTS clause_stat_clause_update "
    "AFTER UPDATE OF deadline, done_on, agreement ON agreement_clause BEGIN "
    + _sqlite_clause("OLD", "-")
    + " "
    + _sqlite_clause("NEW", "+")
    + " END",
    "CREATE TRIGGER IF NOT EXISTS clause_stat_agreement_on AFTER UPDATE OF status ON agreement "
    "WHEN OLD.status <> 'effective' AND NEW.status = 'effective' BEGIN "
    + _SQLITE_AGREEMENT.format(row="NEW", sign="+")
    + " END",
    "CREATE TRIGGER IF NOT EXISTS clause_stat_agreement_off AFTER UPDATE OF status ON agreement "
    "WHEN OLD.status = 'effective' AND NEW.status <> 'effective' BEGIN "
    + _SQLITE_AGREEMENT.format(row="NEW", sign="-")
    + " END",
    "CREATE TRIGGER IF NOT EXISTS clause_stat_agreement_delete BEFORE DELETE ON agreement "
    "WHEN OLD.status = 'effective' BEGIN " + _SQLITE_AGREEMENT.format(row="OLD", sign="-") + " END",
    'CREATE TRIGGER IF NOT EXISTS clause_stat_case_delete BEFORE DELETE ON "case" BEGIN '
    'DELETE FROM agreement WHERE "case" = OLD.id; END',
)

SQLITE_TRIGGERS = (
    "clause_stat_clause_insert",
    "clause_stat_clause_delete",
    "clause_stat_clause_update",
    "clause_stat_agreement_on",
    "clause_stat_agreement_off",
    "clause_stat_agreement_delete",
    "clause_stat_case_delete",
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
        await engine.run_ddl("DROP TRIGGER IF EXISTS clause_stat_clause ON agreement_clause")
        await engine.run_ddl("DROP TRIGGER IF EXISTS clause_stat_agreement_status ON agreement")
        await engine.run_ddl("DROP TRIGGER IF EXISTS clause_stat_agreement_delete ON agreement")
        await engine.run_ddl('DROP TRIGGER IF EXISTS clause_stat_case_delete ON "case"')
        for name in ("clause_stat_clause", "clause_stat_agreement", "clause_stat_case"):
            await engine.run_ddl(f"DROP FUNCTION IF EXISTS {name}()")
    await engine.run_ddl("DROP TABLE IF EXISTS clause_stat")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    return manager
