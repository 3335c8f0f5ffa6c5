"""In-process cost of each figure function behind the dashboard and the statutory report.

Run on demand (not a test) against a database loaded by ``benchmarks/gen_million.py``:

    .venv/bin/python benchmarks/bench_reports.py --pg-url postgresql://postgres@127.0.0.1:5432/bench_million

For the county (centre2's home region) and this month against the previous one, it calls each
service function the dashboard calls (and the annual statutory report of last year) a few
times on one connection pool, and prints the median wall time, the number of SQL statements
and the rows they returned.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COUNTER = {"statements": 0}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/bench_million")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--user", default="centre2", help="staff username whose region is the scope")
    return p.parse_args()


def count_statements() -> None:
    from piccolo.engine.postgres import PostgresEngine

    original = PostgresEngine._run_in_pool

    async def counted(self, query, args=None):
        COUNTER["statements"] += 1
        return await original(self, query, args)

    PostgresEngine._run_in_pool = counted  # type: ignore[method-assign]


async def main(args: argparse.Namespace) -> None:
    from mediation import db
    from mediation.accounts.services import load_user
    from mediation.grid.tables import Staff
    from mediation.reports import periods, services, statutory
    from mediation.reports.controllers import _read_figures, parse_period
    from tests.reports.suggestion_count import counted_suggestion_figures

    await db.start()
    try:
        staff = await Staff.select(Staff.id).where(Staff.username == args.user).first()
        assert staff is not None, f"no staff member {args.user}"
        user = await load_user(staff["id"])
        assert user is not None
        scope = await services.scope_for(user, "")
        chosen, _errors = parse_period("month", "", "")
        before = periods.previous(chosen)
        year = periods.statutory_period("year", date.today().year - 1)
        county = await services.county_name()
        custom = periods.Period(
            "custom", before.start + timedelta(days=10), before.end + timedelta(days=24)
        )

        calls = {
            "case_figures (this month, breakdowns)": lambda: services.case_figures(scope, chosen),
            "case_figures (previous month)": lambda: services.case_figures(scope, before, False),
            "suggestion_figures (this month)": lambda: services.suggestion_figures(scope, chosen),
            "suggestion_figures (previous month)": lambda: services.suggestion_figures(
                scope, before
            ),
            "suggestion_figures (last year)": lambda: services.suggestion_figures(scope, year),
            "suggestion_figures (custom, 45 days across a month)": lambda: (
                services.suggestion_figures(scope, custom)
            ),
            "counted_suggestion_figures (this month, the direct count)": lambda: (
                counted_suggestion_figures(scope, chosen)
            ),
            "counted_suggestion_figures (previous month)": lambda: counted_suggestion_figures(
                scope, before
            ),
            "party_ratings": lambda: services.party_ratings(scope, chosen),
            "mediator_figures": lambda: services.mediator_figures(scope, chosen),
            "ontime_figures (this month)": lambda: services.ontime_figures(scope, chosen),
            "performance_figures": lambda: services.performance_figures(scope, chosen),
            "monthly_trend (12 months)": lambda: services.monthly_trend(scope, chosen.end),
            "every figure of the page": lambda: _read_figures(scope, chosen, before),
            "statutory report, county, last year": lambda: statutory.build_report(
                scope, year, county
            ),
        }
        print(f"scope {scope.path or '(all)'}  period {chosen.start}–{chosen.end}")
        print("| call | median ms | min ms | statements |\n| --- | ---: | ---: | ---: |")
        for label, call in calls.items():
            times = []
            statements = 0
            for _ in range(args.repeat):
                COUNTER["statements"] = 0
                started = time.perf_counter()
                await call()
                times.append((time.perf_counter() - started) * 1000)
                statements = COUNTER["statements"]
            print(
                f"| {label} | {statistics.median(times):.1f} | {min(times):.1f} | {statements} |",
                flush=True,
            )
    finally:
        await db.stop()


if __name__ == "__main__":
    arguments = parse_args()
    os.environ.update(
        {
            "DATABASE_URL": arguments.pg_url,
            "RUN_BACKGROUND_TASKS": "0",
            "MEDIATION_DATA_DIR": os.environ.get("MEDIATION_DATA_DIR", "/tmp/mediation-bench"),
            "SECRET_KEY": os.environ.get(
                "SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef"
            ),
            "FIELD_KEY": os.environ.get(
                "FIELD_KEY", "bench-field-key-not-for-production-0123456789abcdef"
            ),
        }
    )
    count_statements()
    asyncio.run(main(arguments))
