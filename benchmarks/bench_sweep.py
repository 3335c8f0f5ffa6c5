#!/usr/bin/env python
"""The deadline sweep on PostgreSQL with many open cases.

Run on demand (not a test):

    .venv/bin/python benchmarks/bench_sweep.py --cases 50000

What it does:
1. drops and creates the PostgreSQL database ``bench_sweep`` (``--pg-url``), migrates it and
   loads the demo county (grids, teams, centre staff);
2. inserts N open cases in one ``INSERT ... SELECT FROM generate_series`` statement: registered
   0-119 days ago (spread over holidays and weekends), statuses registered / accepted /
   mediating / performing, a mix of categories, colours and levels, some with an extension;
   then rebuilds the statistics rollups and runs ANALYZE (none of this is timed);
3. runs the whole periodic sweep (``tasks.run_sweep``: cases, agreements, suggestions and the
   early-warning rules) twice: the first run finds the overdue cases (marks, records, notifies,
   escalates) and raises the warnings (a red case without contact after 24 hours), the second
   has nothing to change;
4. prints, for each run, the time and the number of SQL statements of the whole sweep and of
   each of its parts (the deadline part is ``sweep_deadlines``), and the statements that took
   longest (by kind, their first words), with the rows the ``case`` table's updates wrote
   through its indexes and those written in place (HOT).

To compare two versions of the code on equal data, prepare once and run on copies:

    bench_sweep.py --prepare-only --pg-url …/bench_a      # steps 1-2, then stop
    psql -c 'CREATE DATABASE bench_b TEMPLATE bench_a'    # a fresh copy for each run
    bench_sweep.py --reuse --pg-url …/bench_b             # migrate, then steps 3-4
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cases", type=int, default=50_000, help="open cases to insert")
    p.add_argument(
        "--pg-url",
        default="postgresql://postgres@127.0.0.1:5432/bench_sweep",
        help="PostgreSQL database to (re)create; never point this at a database you need",
    )
    p.add_argument("--data-dir", default="/tmp/mediation-bench-sweep")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--prepare-only", action="store_true", help="create and load the database, do not sweep"
    )
    mode.add_argument(
        "--reuse",
        action="store_true",
        help="sweep the database as it is (migrated first): a copy of a prepared one",
    )
    p.add_argument("--top", type=int, default=12, help="kinds of statement to list by time")
    return p.parse_args(argv)


def configure_env(args: argparse.Namespace) -> None:
    os.environ.update(
        {
            "DATABASE_URL": args.pg_url,
            "MEDIATION_DATA_DIR": args.data_dir,
            "RUN_BACKGROUND_TASKS": "0",
            "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
            "FIELD_KEY": "bench-field-key-not-for-production-0123456789abcdef",
        }
    )


async def recreate_postgres(url: str) -> None:
    import asyncpg

    base, _, name = url.rpartition("/")
    if name in ("", "postgres", "template0", "template1", "test"):
        raise SystemExit(f"refusing to drop the database {name!r}")
    conn = await asyncpg.connect(base + "/postgres")
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


# One statement: N open cases with realistic dates, spread over the demo's grids.
INSERT_CASES = """
WITH grids AS (
    SELECT array_agg(g.id ORDER BY g.id) AS ids, array_agg(r.path ORDER BY g.id) AS paths
    FROM grid g JOIN region r ON r.id = g.region
), cases AS (
    SELECT n,
           (CURRENT_DATE - ((n * 7919) % 120))::date AS registered_on,
           (ARRAY['registered', 'accepted', 'mediating', 'mediating', 'mediating',
                  'performing'])[1 + (n * 31) % 6] AS status,
           1 + (n * 13) % array_length((SELECT ids FROM grids), 1) AS grid_index
    FROM generate_series(1, $1::int) AS n
)
INSERT INTO "case" (number, category, summary, facts, grid, region_path, source, colour, level,
                    status, location, registered_on, registered_at, accepted_on,
                    mediation_started_on, extension_days, search_text, version, updated_at)
SELECT 'BENCH-' || lpad(n::text, 7, '0'),
       (ARRAY['neighbour', 'housing_land', 'marriage_family', 'labour', 'contract',
              'damages'])[1 + (n * 7) % 6],
       '楼上卫生间漏水', '', (SELECT ids FROM grids)[grid_index],
       (SELECT paths FROM grids)[grid_index], 'door_knocking',
       (ARRAY['green', 'green', 'green', 'yellow', 'red'])[1 + (n * 3) % 5],
       (ARRAY['grid', 'grid', 'grid', 'community', 'town', 'county'])[1 + (n * 11) % 6],
       status, '', registered_on, registered_on + time '09:30' AT TIME ZONE 'Asia/Shanghai',
       CASE WHEN status <> 'registered' THEN registered_on + 1 END,
       CASE WHEN status IN ('mediating', 'performing') THEN registered_on + 3 END,
       CASE WHEN n % 17 = 0 THEN 15 ELSE 0 END,
       'bench-' || n, 1, now()
FROM cases
"""


class StatementCounter:
    """Counts and times the statements the app sends (wraps the engine's query runners)."""

    def __init__(self) -> None:
        self.count = 0
        # kind (the statement's first words) -> [statements, seconds]
        self.by_kind: dict[str, list] = {}

    def install(self) -> None:
        from piccolo.engine.postgres import PostgresEngine

        counter = self
        for name in ("run_querystring", "run_ddl"):
            original = getattr(PostgresEngine, name)

            async def wrapped(self, query, *args, _original=original, **kwargs):
                counter.count += 1
                started = time.perf_counter()
                try:
                    return await _original(self, query, *args, **kwargs)
                finally:
                    # The SQL as sent, without its arguments: ``str(query)`` would write
                    # every array of a batch into the text, on this process's CPU time.
                    sql = (
                        query.compile_string(engine_type="postgres")[0]
                        if hasattr(query, "compile_string")
                        else str(query)
                    )
                    kind = statement_kind(sql)
                    entry = counter.by_kind.setdefault(kind, [0, 0.0])
                    entry[0] += 1
                    entry[1] += time.perf_counter() - started

            setattr(PostgresEngine, name, wrapped)

    def reset(self) -> None:
        self.count = 0
        self.by_kind.clear()

    def slowest(self, top: int) -> list[tuple[str, int, float]]:
        rows = [(kind, n, seconds) for kind, (n, seconds) in self.by_kind.items()]
        return sorted(rows, key=lambda r: -r[2])[:top]


def statement_kind(sql: str) -> str:
    """What a statement does, to group its runs: its verb and table (SELECT: the table it reads
    first; anything else: its first words)."""
    words = " ".join(sql.split())
    upper = words.upper()
    if upper.startswith("SELECT") and " FROM " in upper:
        table = words[upper.index(" FROM ") + 6 :].split(" ", 1)[0]
        return f"SELECT … FROM {table}"
    for verb in ("INSERT INTO ", "UPDATE ", "DELETE FROM "):
        if upper.startswith(verb):
            return verb + words[len(verb) :].split(" ", 1)[0]
    return words[:60]


async def case_tuple_counts() -> tuple[int, int]:
    """Row versions the ``case`` table's updates wrote so far: all, and in place (HOT)."""
    from mediation import db

    await asyncio.sleep(1.5)  # other connections report their counts within a second of idling
    await db.engine().run_ddl("SELECT pg_stat_clear_snapshot()")
    row = (
        await db.engine().run_ddl(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'case'"
        )
    )[0]
    return row["n_tup_upd"], row["n_tup_hot_upd"]


# The parts of ``tasks.sweep_all``, as (label, module, function): each is timed inside the run.
PARTS = (
    ("statistics check", "mediation.reports.rollups", "ensure_rollups"),
    ("deadlines", "mediation.cases.services", "sweep_deadlines"),
    ("agreements", "mediation.cases.agreements", "sweep_agreements"),
    ("suggestions", "mediation.suggestions.services", "sweep_suggestions"),
    ("early-warning rules", "mediation.reports.warnings", "run_warning_rules"),
)


def time_parts(counter: StatementCounter, into: dict[str, tuple[float, int]]) -> None:
    """Wrap each part of the sweep (where ``sweep_all`` imports it from) to record its time and
    statements into ``into`` on every run."""
    import importlib

    for label, module_name, name in PARTS:
        module = importlib.import_module(module_name)
        original = getattr(module, name)

        async def timed(*args, _original=original, _label=label, **kwargs):
            statements = counter.count
            started = time.perf_counter()
            try:
                return await _original(*args, **kwargs)
            finally:
                into[_label] = (time.perf_counter() - started, counter.count - statements)

        setattr(module, name, timed)


async def run(args: argparse.Namespace) -> None:
    from mediation import db
    from mediation.cases.tables import Case, Notification
    from mediation.demo import load_demo
    from mediation.reports.rollups import rebuild_rollups
    from mediation.reports.tables import EarlyWarning
    from mediation.tasks import run_sweep

    if not args.reuse:
        await recreate_postgres(args.pg_url)
    await db.start()
    try:
        await db.migrate()
        if not args.reuse:
            started = time.perf_counter()
            await load_demo()
            print(f"demo county loaded in {time.perf_counter() - started:.1f} s", flush=True)
            started = time.perf_counter()
            await db.engine().run_ddl(INSERT_CASES.replace("$1::int", str(int(args.cases))))
            await rebuild_rollups()
            # The loading leaves dead row versions behind (the figures and on-time facts are
            # worked out after the insert); autovacuum would reclaim them at a time of its own
            # choosing, which would decide how many of the sweep's updates find room in place.
            await db.engine().run_ddl("VACUUM ANALYZE")
            print(
                f"{args.cases} cases inserted (set-based) in {time.perf_counter() - started:.1f} s"
            )
        open_cases = await Case.count().where(
            Case.status.is_in(["registered", "accepted", "mediating", "performing"])
        )
        print(f"{open_cases} open cases in the database", flush=True)
        if args.prepare_only:
            return
        counter = StatementCounter()
        counter.install()
        parts: dict[str, tuple[float, int]] = {}
        time_parts(counter, parts)
        rows = []
        for label in ("first run", "nothing to change"):
            parts.clear()
            updated, hot = await case_tuple_counts()
            counter.reset()
            started = time.perf_counter()
            cpu_started = time.process_time()
            result = await run_sweep()
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            statements = counter.count
            slowest = counter.slowest(args.top)
            updated_after, hot_after = await case_tuple_counts()
            rows.append((f"run_sweep, {label}", seconds, statements, result))
            for part, *_module in PARTS:
                part_seconds, part_statements = parts[part]
                rows.append((f"— {part}", part_seconds, part_statements, ""))
            print(
                f"run_sweep, {label}: {seconds:.2f} s, {statements} statements; "
                f"this process's CPU time {cpu:.2f} s",
                flush=True,
            )
            print(
                f"  case rows updated: {updated_after - updated}, "
                f"of them in place (HOT): {hot_after - hot}"
            )
            print("  statements taking longest (kind: count, seconds):")
            for kind, n, kind_seconds in slowest:
                print(f"    {kind}: {n}, {kind_seconds:.2f}")
        warnings = await EarlyWarning.count()
        notifications = await Notification.count()
        warned = await Notification.count().where(Notification.kind == "warning")
        print(
            f"{warnings} early warnings and {notifications} notifications in the database "
            f"({warned} of them about warnings)"
        )
        print()
        print("| run | seconds | SQL statements | result |")
        print("| --- | ---: | ---: | --- |")
        for label, seconds, statements, result in rows:
            print(f"| {label} | {seconds:.2f} | {statements} | {result or ''} |")
    finally:
        await db.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_env(args)
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
