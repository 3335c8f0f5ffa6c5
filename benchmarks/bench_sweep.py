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
   each of its parts (the deadline part is ``sweep_deadlines``).
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
    """Counts the statements the app sends (wraps the engine's query runners)."""

    def __init__(self) -> None:
        self.count = 0

    def install(self) -> None:
        from piccolo.engine.postgres import PostgresEngine

        counter = self
        for name in ("run_querystring", "run_ddl"):
            original = getattr(PostgresEngine, name)

            def wrapped(self, *args, _original=original, **kwargs):
                counter.count += 1
                return _original(self, *args, **kwargs)

            setattr(PostgresEngine, name, wrapped)


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

    await recreate_postgres(args.pg_url)
    await db.start()
    try:
        await db.migrate()
        started = time.perf_counter()
        await load_demo()
        print(f"demo county loaded in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        await db.engine().run_ddl(INSERT_CASES.replace("$1::int", str(int(args.cases))))
        await rebuild_rollups()
        await db.engine().run_ddl("ANALYZE")
        open_cases = await Case.count().where(
            Case.status.is_in(["registered", "accepted", "mediating", "performing"])
        )
        print(
            f"{args.cases} cases inserted (set-based) in {time.perf_counter() - started:.1f} s; "
            f"{open_cases} open cases in the database",
            flush=True,
        )
        counter = StatementCounter()
        counter.install()
        parts: dict[str, tuple[float, int]] = {}
        time_parts(counter, parts)
        rows = []
        for label in ("first run", "nothing to change"):
            parts.clear()
            counter.count = 0
            started = time.perf_counter()
            result = await run_sweep()
            seconds = time.perf_counter() - started
            statements = counter.count
            rows.append((f"run_sweep, {label}", seconds, statements, result))
            for part, *_module in PARTS:
                part_seconds, part_statements = parts[part]
                rows.append((f"— {part}", part_seconds, part_statements, ""))
            print(f"run_sweep, {label}: {seconds:.2f} s, {statements} statements", flush=True)
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
