"""Indexes for a province-sized register (a million cases), on both engines.

- ``lower(party.name)``: the search looks a short term up as the start of a party's name
  (PostgreSQL: ``text_pattern_ops``, so ``LIKE 'term%'`` uses it under any collation;
  SQLite: a plain expression index, used by the range the search writes there);
- ``reverse(party.phone)`` (PostgreSQL): the search by the last digits of a phone number;
- ``case.region_path`` with ``text_pattern_ops`` (PostgreSQL): every list is scoped by
  ``region_path LIKE 'prefix%'``, which the existing B-tree cannot answer unless the
  database's collation is C;
- ``case (status, region_path text_pattern_ops)`` (PostgreSQL): "my work" and lists filtered
  by status within a town read only that status's cases of the town;
- ``case.registered_by``: a grid worker's list and "my work" include the cases they
  registered;
- ``case_mediator (mediator, case) WHERE active``: mediators' loads (one aggregate query).

The indexes are not declared on the tables (Piccolo cannot declare expression, operator-class
or partial indexes); ``IF NOT EXISTS`` makes the migration safe to run on a database that a
benchmark loader already indexed.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-30T03:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Indexes for search by name and phone, scoping by region path, mediator loads"

POSTGRES = (
    "CREATE INDEX IF NOT EXISTS party_name_prefix ON party (lower(name) text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS party_phone_reverse ON party (reverse(phone) text_pattern_ops)",
    'CREATE INDEX IF NOT EXISTS case_region_path_prefix ON "case" '
    "(region_path text_pattern_ops)",
    'CREATE INDEX IF NOT EXISTS case_status_region ON "case" (status, region_path text_pattern_ops)',
)
SQLITE = ("CREATE INDEX IF NOT EXISTS party_name_prefix ON party (lower(name))",)
BOTH = (
    'CREATE INDEX IF NOT EXISTS case_registered_by ON "case" (registered_by)',
    'CREATE INDEX IF NOT EXISTS case_mediator_active ON case_mediator (mediator, "case") '
    "WHERE active",
)
NAMES = (
    "party_name_prefix",
    "party_phone_reverse",
    "case_region_path_prefix",
    "case_status_region",
    "case_registered_by",
    "case_mediator_active",
)


async def _create() -> None:
    engine = engine_finder()
    statements = POSTGRES if isinstance(engine, PostgresEngine) else SQLITE
    for statement in (*statements, *BOTH):
        await engine.run_ddl(statement)


async def _drop() -> None:
    engine = engine_finder()
    for name in NAMES:
        await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    return manager
