"""Suggestion figures kept by the database: counts per received day × region × dimension value.

The dashboard's suggestion figures (received by channel and point, routed, replied, adopted,
reward tiers, days to reply, ratings, reopened; per department) are sums over two tables:

- ``suggestion_stat``: a row per county (Beijing) day the suggestion was received
  (``received_on``) × region × dimension × value, with the count ``n``;
- ``suggestion_stat_month``: the same per county month (its first day), so a year reads
  twelve months of rows instead of 365 days.

The region is every level containing the suggestion's area: the root ``""`` and each prefix of
its ``region_path`` ending with ``/`` (the county, the town, the community), so a scope reads
only its own rows and gets exactly what ``region_path LIKE scope || '%'`` would count. A
suggestion with no area counts only at the root.

The dimensions (``DIMS``), each with the value it is split by:

- ``""`` (every suggestion, value ``""``), ``channel``, ``point`` (id; when there is one),
  ``outcome``, ``rating``, ``reward`` (tier) — the last three when not empty;
- ``reopened`` (value ``""``): reopened at least once;
- ``routed``, ``replied``, ``adopted`` (value: the department id): routed to a department;
  of those, replied; of those, adopted or partly adopted;
- ``reply_days`` (value: whole county days from receipt to the reply, for the median): routed
  and replied.

Database triggers keep both tables in step with the ``suggestion`` table in the same transaction
as the change, whoever writes it (the services, the sweep, a group reply reaching every member,
the demo, a direct ``UPDATE``): what a suggestion row contributed before is subtracted and what
it contributes now added, by ``n = n + delta`` upserts with the zero deltas left out. On
PostgreSQL one statement-level trigger per INSERT, UPDATE or DELETE does it set-based over the
statement's old and new rows (its keys in sorted order); on SQLite row triggers fire on the
columns the figures depend on. The county day of a reply is taken in the county's zone when
the triggers are installed (``install``; SQLite applies that zone's current UTC
offset, exact for a zone without daylight saving such as Asia/Shanghai), so after changing
``TIME_ZONE`` run ``rebuild_suggestion_stats(reinstall_triggers=True)``.

Bulk loads that switch triggers off (``session_replication_role = replica``) call
``rebuild_suggestion_stats`` (or run ``rebuild_statements``) afterwards.
"""

from __future__ import annotations

from datetime import datetime

from piccolo.engine import Engine, engine_finder
from piccolo.engine.sqlite import SQLiteEngine

from mediation.clock import county_zone

DAY_TABLE = "suggestion_stat"
MONTH_TABLE = "suggestion_stat_month"

DIMS = (
    "",
    "channel",
    "point",
    "outcome",
    "rating",
    "reward",
    "reopened",
    "routed",
    "replied",
    "adopted",
    "reply_days",
)

ADOPTED = ("adopted", "partly_adopted")

# The suggestion columns a contribution depends on (SQLite's triggers fire on these only).
COLUMNS = (
    "received_on",
    "region_path",
    "channel",
    "point",
    "outcome",
    "rating",
    "reward_tier",
    "times_reopened",
    "department",
    "replied_at",
)


def table_ddl() -> tuple[str, ...]:
    return tuple(
        f"CREATE TABLE IF NOT EXISTS {table} ("
        f"{column} DATE NOT NULL, region_path VARCHAR(400) NOT NULL, "
        "dim VARCHAR(16) NOT NULL, value VARCHAR(64) NOT NULL, n INTEGER NOT NULL DEFAULT 0, "
        f"PRIMARY KEY (region_path, {column}, dim, value))"
        for table, column in ((DAY_TABLE, "day"), (MONTH_TABLE, "month"))
    )


def _zone_name() -> str:
    return county_zone().key


def _sqlite_offset_minutes() -> int:
    offset = datetime.now(county_zone()).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def _reply_days(row: str, postgres: bool) -> str:
    """Whole county days from receipt to the reply (NULL when not replied)."""
    if postgres:
        zone = _zone_name().replace("'", "''")
        return f"(({row}.replied_at AT TIME ZONE '{zone}')::date - {row}.received_on)"
    minutes = _sqlite_offset_minutes()
    return (
        f"CAST(julianday(date({row}.replied_at, '{minutes:+d} minutes')) "
        f"- julianday({row}.received_on) AS INTEGER)"
    )


def _source_columns(row: str, sign: int, postgres: bool) -> str:
    """One suggestion row (``row``: NEW, OLD or a table alias) as the contribution's input."""
    return (
        f"{row}.received_on AS received_on, {row}.region_path AS region_path, "
        f"{row}.channel AS channel, {row}.point AS point, {row}.outcome AS outcome, "
        f"{row}.rating AS rating, {row}.reward_tier AS reward_tier, "
        f"{row}.times_reopened AS times_reopened, {row}.department AS department, "
        f"{_reply_days(row, postgres)} AS reply_days, {sign} AS sign"
    )


_DIM_LIST = " UNION ALL ".join(
    f"SELECT '{d}' AS dim" if i == 0 else f"SELECT '{d}'" for i, d in enumerate(DIMS)
)

_ADOPTED_SQL = "(" + ", ".join(f"'{o}'" for o in ADOPTED) + ")"

_VALUE = (
    "CASE d.dim WHEN 'channel' THEN s.channel "
    "WHEN 'point' THEN CAST(s.point AS TEXT) "
    "WHEN 'outcome' THEN s.outcome WHEN 'rating' THEN s.rating "
    "WHEN 'reward' THEN s.reward_tier "
    "WHEN 'routed' THEN CAST(s.department AS TEXT) "
    "WHEN 'replied' THEN CAST(s.department AS TEXT) "
    "WHEN 'adopted' THEN CAST(s.department AS TEXT) "
    "WHEN 'reply_days' THEN CAST(s.reply_days AS TEXT) "
    "ELSE '' END"
)

_COUNTED = (
    "(d.dim IN ('', 'channel') "
    "OR (d.dim = 'point' AND s.point IS NOT NULL) "
    "OR (d.dim = 'outcome' AND s.outcome <> '') "
    "OR (d.dim = 'rating' AND s.rating <> '') "
    "OR (d.dim = 'reward' AND s.reward_tier <> '') "
    "OR (d.dim = 'reopened' AND COALESCE(s.times_reopened, 0) > 0) "
    "OR (d.dim = 'routed' AND s.department IS NOT NULL) "
    "OR (d.dim IN ('replied', 'reply_days') AND s.department IS NOT NULL "
    "AND s.reply_days IS NOT NULL) "
    f"OR (d.dim = 'adopted' AND s.department IS NOT NULL AND s.outcome IN {_ADOPTED_SQL}))"
)

# Positions 0–499 (a region path is at most 400 characters): SQLite's triggers may not use
# WITH or table functions, so the prefixes of a path are found by a join with these.
_DIGITS = " UNION ALL ".join(f"SELECT {i}" if i else "SELECT 0 AS i" for i in range(10))
_HUNDREDS = " UNION ALL ".join(f"SELECT {i}" if i else "SELECT 0 AS i" for i in range(5))
_POSITIONS = (
    f"(SELECT a.i + 10 * b.i + 100 * c.i AS i FROM ({_DIGITS}) a, ({_DIGITS}) b, ({_HUNDREDS}) c)"
)


def _prefixes(postgres: bool) -> str:
    """Join ``c`` (with ``c.path``) to every region containing it: ``p.i`` is 0 for the root
    ``""``, else the position of a ``/`` ending a prefix."""
    if postgres:
        return (
            "JOIN LATERAL (SELECT 0 AS i UNION ALL SELECT g FROM generate_series(2, "
            "length(c.path)) AS g WHERE substr(c.path, g, 1) = '/') p ON true"
        )
    return (
        f"JOIN {_POSITIONS} p ON p.i = 0 OR (p.i > 1 AND p.i <= length(c.path) "
        "AND substr(c.path, p.i, 1) = '/')"
    )


def _month_of(column: str, postgres: bool) -> str:
    if postgres:
        return f"date_trunc('month', {column})::date"
    return f"date({column}, 'start of month')"


def apply_statement(source: str, postgres: bool, monthly: bool, recount: bool = False) -> str:
    """Add the signed contributions of the rows of ``source`` (a subquery with the columns of
    ``_source_columns``) to the daily or monthly table, zero sums left out, keys in order.

    ``recount``: ``source`` is ``src`` and the prefixes of its paths are ``pre`` (the common
    table expressions of ``rebuild_statements``), and the table is empty: plain inserts."""
    table, column = (MONTH_TABLE, "month") if monthly else (DAY_TABLE, "day")
    day = _month_of("s.received_on", postgres) if monthly else "s.received_on"
    region = "CASE WHEN p.i = 0 THEN '' ELSE substr(c.path, 1, p.i) END"
    prefixes = "JOIN pre p ON p.path = c.path" if recount else _prefixes(postgres)
    return (
        f"INSERT INTO {table} ({column}, region_path, dim, value, n) "
        f"SELECT c.day, {region}, c.dim, c.value, sum(c.n) FROM ("
        f"SELECT {day} AS day, s.region_path AS path, d.dim AS dim, {_VALUE} AS value, "
        f"sum(s.sign) AS n FROM {source} s CROSS JOIN ({_DIM_LIST}) d "
        f"WHERE {_COUNTED} GROUP BY 1, 2, 3, 4) c {prefixes} "
        "WHERE c.n <> 0 "
        f"GROUP BY c.day, {region}, c.dim, c.value HAVING sum(c.n) <> 0 "
        "ORDER BY 2, 1, 3, 4"
        + (
            ""
            if recount
            else f" ON CONFLICT (region_path, {column}, dim, value) "
            f"DO UPDATE SET n = {table}.n + excluded.n"
        )
    )


def _pg_source(*parts: tuple[str, int]) -> str:
    return (
        "("
        + " UNION ALL ".join(
            f"SELECT {_source_columns('r', sign, True)} FROM {table} r" for table, sign in parts
        )
        + ")"
    )


def _pg_function() -> str:
    branches = []
    for op, parts in (
        ("INSERT", (("new_rows", 1),)),
        ("UPDATE", (("new_rows", 1), ("old_rows", -1))),
        ("DELETE", (("old_rows", -1),)),
    ):
        source = _pg_source(*parts)
        body = "\n".join(
            f"    {apply_statement(source, True, monthly)};" for monthly in (False, True)
        )
        branches.append((op, body))
    text = "CREATE OR REPLACE FUNCTION suggestion_stat_apply() RETURNS trigger AS $$\nBEGIN\n"
    for i, (op, body) in enumerate(branches):
        text += f"  {'IF' if i == 0 else 'ELSIF'} TG_OP = '{op}' THEN\n{body}\n"
    text += "  END IF;\n  RETURN NULL;\nEND $$ LANGUAGE plpgsql"
    return text


PG_TRIGGERS = (
    ("suggestion_stat_insert", "INSERT", "REFERENCING NEW TABLE AS new_rows"),
    ("suggestion_stat_update", "UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("suggestion_stat_delete", "DELETE", "REFERENCING OLD TABLE AS old_rows"),
)

SQLITE_TRIGGERS = ("suggestion_stat_insert", "suggestion_stat_update", "suggestion_stat_delete")


def _sqlite_source(*parts: tuple[str, int]) -> str:
    return (
        "("
        + " UNION ALL ".join(f"SELECT {_source_columns(row, sign, False)}" for row, sign in parts)
        + ")"
    )


def trigger_statements(postgres: bool) -> tuple[str, ...]:
    """The DDL that installs the triggers (replacing any there), in the county's zone now."""
    if postgres:
        out = [_pg_function()]
        for name, op, referencing in PG_TRIGGERS:
            out.append(f"DROP TRIGGER IF EXISTS {name} ON suggestion")
            out.append(
                f"CREATE TRIGGER {name} AFTER {op} ON suggestion {referencing} "
                "FOR EACH STATEMENT EXECUTE FUNCTION suggestion_stat_apply()"
            )
        return tuple(out)
    out = [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS]
    for name, event, parts in (
        ("suggestion_stat_insert", "INSERT", (("NEW", 1),)),
        ("suggestion_stat_update", f"UPDATE OF {', '.join(COLUMNS)}", (("NEW", 1), ("OLD", -1))),
        ("suggestion_stat_delete", "DELETE", (("OLD", -1),)),
    ):
        source = _sqlite_source(*parts)
        body = " ".join(f"{apply_statement(source, False, m)};" for m in (False, True))
        out.append(f"CREATE TRIGGER {name} AFTER {event} ON suggestion BEGIN {body} END")
    return tuple(out)


def drop_statements(postgres: bool) -> tuple[str, ...]:
    if postgres:
        return (
            *(f"DROP TRIGGER IF EXISTS {name} ON suggestion" for name, _op, _r in PG_TRIGGERS),
            "DROP FUNCTION IF EXISTS suggestion_stat_apply()",
            f"DROP TABLE IF EXISTS {DAY_TABLE}",
            f"DROP TABLE IF EXISTS {MONTH_TABLE}",
        )
    return (
        *(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS),
        f"DROP TABLE IF EXISTS {DAY_TABLE}",
        f"DROP TABLE IF EXISTS {MONTH_TABLE}",
    )


def rebuild_statements(postgres: bool) -> tuple[str, ...]:
    """Recount both tables from the suggestions, set-based: the daily one from the suggestions
    (read once into the few columns counted; each path's prefixes found once), the monthly one
    from the daily one."""
    positions = (
        "generate_series(2, 400) AS g(i)"
        if postgres
        else "(SELECT a.i + 10 * b.i + 100 * c.i AS i FROM "
        f"({_DIGITS}) a, ({_DIGITS}) b, ({_HUNDREDS}) c) g"
    )
    ctes = (
        f"WITH src AS MATERIALIZED (SELECT {_source_columns('r', 1, postgres)} "
        "FROM suggestion r), "
        "paths AS MATERIALIZED (SELECT DISTINCT region_path AS path FROM src), "
        "pre AS MATERIALIZED (SELECT path, 0 AS i FROM paths UNION ALL "
        f"SELECT x.path, g.i FROM paths x JOIN {positions} ON g.i > 1 "
        "AND g.i <= length(x.path) AND substr(x.path, g.i, 1) = '/') "
    )
    month = _month_of("day", postgres)
    return (
        f"DELETE FROM {DAY_TABLE}",
        f"DELETE FROM {MONTH_TABLE}",
        ctes + apply_statement("src", postgres, monthly=False, recount=True),
        f"INSERT INTO {MONTH_TABLE} (month, region_path, dim, value, n) "
        f"SELECT {month}, region_path, dim, value, sum(n) FROM {DAY_TABLE} "
        f"GROUP BY {month}, region_path, dim, value HAVING sum(n) <> 0",
    )


def _engine() -> Engine:
    engine = engine_finder()
    if engine is None:
        raise RuntimeError("No database engine is configured.")
    return engine


def _is_postgres(engine: Engine) -> bool:
    return not isinstance(engine, SQLiteEngine)


async def install() -> None:
    """Create the tables if missing and (re)install the triggers."""
    engine = _engine()
    postgres = _is_postgres(engine)
    for statement in (*table_ddl(), *trigger_statements(postgres)):
        await engine.run_ddl(statement)


async def rebuild_suggestion_stats(reinstall_triggers: bool = False) -> int:
    """Recount both tables from the suggestions in one transaction (set-based); returns the
    number of daily rows. ``reinstall_triggers``: install the triggers again first, in the
    county's zone now.

    Call it after loading suggestions with the triggers off (``rebuild_rollups`` does), or
    with ``reinstall_triggers`` after changing ``TIME_ZONE``.
    """
    from mediation import db

    engine = _engine()
    postgres = _is_postgres(engine)
    async with db.write_transaction():
        if postgres:
            # Writers wait for the recount instead of adding to a table being replaced; the
            # grouping of a few million contributions is kept in memory.
            await engine.run_ddl("LOCK TABLE suggestion IN SHARE ROW EXCLUSIVE MODE")
            await engine.run_ddl("SET LOCAL work_mem = '256MB'")
        for statement in table_ddl():
            await engine.run_ddl(statement)
        if reinstall_triggers:
            for statement in trigger_statements(postgres):
                await engine.run_ddl(statement)
        for statement in rebuild_statements(postgres):
            await engine.run_ddl(statement)
        rows = await engine.run_ddl(f"SELECT count(*) AS n FROM {DAY_TABLE}")
    return int(rows[0]["n"]) if rows else 0
