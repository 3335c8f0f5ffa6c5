#!/usr/bin/env python
"""Every hot page at a million cases, beside a bare Litestar handler running the same queries.

Run on demand (not a test), after ``benchmarks/gen_million.py`` loaded the database:

    .venv/bin/python benchmarks/run_million.py --pg-url postgresql://postgres@127.0.0.1:5432/bench_million

What it does:
1. picks its targets from the database (cases in the signed-in users' areas, a suggestion
   waiting to be routed, a case number, names, a phone tail) and prints how many cases each
   search and filter matches;
2. starts the app (``uvicorn mediation.asgi:app``, one worker) and a bare Litestar app (this
   script with ``--serve-bare``: one route per page that calls the same service functions
   with the same user and arguments, returns a few bytes of JSON, and has no sessions, auth,
   CSRF, i18n or templates), each on a free port of 127.0.0.1, and signs in the app's users;
3. per row, for the app and then for the bare handler: a few warm-up requests, then a fixed
   number of requests at a fixed concurrency (default 10) through keep-alive connections;
   a row starts only when every request of the previous one has been answered, so one slow
   row cannot slow the next; any status other than 200 counts as an error;
4. prints a markdown table (p50/p95/p99 in ms, requests per second, bare p95, ratio of the
   app's p95 to the bare handler's) and, per row, the slowest SQL statements the page runs,
   each with ``EXPLAIN (ANALYZE, BUFFERS)``; writes both to
   ``benchmarks/results/million.md``;
5. stops both servers (also on Ctrl-C). It only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "million.md"
PASSWORD = "mediation-demo"
HOST = "127.0.0.1"

# The users the rows sign in as (demo county): a town's centre, the county's centre, the team
# of a grid. centre2's home region is the county.
USERS = ("centre1", "centre2", "grid1", "police1")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/bench_million")
    p.add_argument("--requests", type=int, default=300, help="measured requests per row")
    p.add_argument("--warmup", type=int, default=20, help="unmeasured requests per row first")
    p.add_argument("--concurrency", type=int, default=10)
    p.add_argument("--only", default="", help="comma-separated row keys (see --list)")
    p.add_argument("--list", action="store_true", help="list the row keys and stop")
    p.add_argument("--no-explain", action="store_true", help="skip the EXPLAIN section")
    p.add_argument("--data-dir", default="/tmp/mediation-bench-million")
    p.add_argument("--serve-bare", type=int, default=0, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def configure_env(args: argparse.Namespace) -> dict[str, str]:
    host = args.pg_url.split("@")[-1].split("/")[0].split(":")[0]
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit("only a database on 127.0.0.1 is measured")
    env = {
        "DATABASE_URL": args.pg_url,
        "MEDIATION_DATA_DIR": args.data_dir,
        "RUN_BACKGROUND_TASKS": "0",
        "LOGIN_RATE_LIMIT": "1000000",
        "PUBLIC_RATE_LIMIT": "1000000",
        "SECRET_KEY": os.environ.get(
            "SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef"
        ),
        "FIELD_KEY": os.environ.get(
            "FIELD_KEY", "bench-field-key-not-for-production-0123456789abcdef"
        ),
    }
    os.environ.update(env)
    return env


# ---------------------------------------------------------------- targets and rows


async def pick_targets() -> dict[str, Any]:
    """Ids, numbers and terms the rows use, chosen from the loaded data (deterministically)."""
    from mediation.cases.tables import Case, Party
    from mediation.grid.tables import Staff, TeamMember
    from mediation.suggestions.tables import Suggestion

    staff = {
        r["username"]: r
        for r in await Staff.select(Staff.id, Staff.username, Staff.region.path).where(
            Staff.username.is_in(list(USERS))
        )
    }
    grid1 = [
        r["grid"]
        for r in await TeamMember.select(TeamMember.grid).where(
            TeamMember.staff == staff["grid1"]["id"]
        )
    ]
    town = staff["centre1"]["region.path"]
    open_statuses = ["accepted", "mediating"]

    async def case_where(*conditions) -> int:
        row = (
            await Case.select(Case.id)
            .where(*conditions)
            .order_by(Case.id, ascending=False)
            .limit(1)
            .offset(50)
            .first()
        )
        assert row, conditions
        return row["id"]

    number_row = (
        await Case.select(Case.number)
        .where(Case.registered_on < date(date.today().year, 1, 1))
        .order_by(Case.id)
        .offset(123_456 % max(await Case.count(), 1))
        .first()
    )
    phone_row = await Party.select(Party.phone).where(Party.id == 777_777).first() or (
        await Party.select(Party.phone).order_by(Party.id, ascending=False).first()
    )
    suggestion = (
        await Suggestion.select(Suggestion.id)
        .where(
            Suggestion.status.is_in(["received", "registered"]),
            Suggestion.region_path.like(town + "%"),
        )
        .order_by(Suggestion.id, ascending=False)
        .first()
    )
    deep = await Case.select(Case.id).order_by(Case.id, ascending=False).offset(10_000 - 1).first()
    return {
        "deep_after": deep["id"] if deep else 1,
        "staff": {k: v["id"] for k, v in staff.items()},
        "town_case": await case_where(
            Case.region_path.like(town + "%"), Case.status.is_in(open_statuses)
        ),
        "grid_case": await case_where(Case.grid.is_in(grid1), Case.status.is_in(open_statuses)),
        "number": number_row["number"] if number_row else "",
        "phone_tail": (phone_row or {"phone": "13800001234"})["phone"][-4:],
        "suggestion": suggestion["id"] if suggestion else 0,
    }


NAME_TWO = "王芳"
NAME_THREE = "王秀英"
FREE_TEXT = "卫生间漏水"
FILTER = {"status": "mediating", "category": "neighbour"}


@dataclass
class Row:
    key: str
    label: str
    user: str  # "" = no sign-in (public)
    path: str
    bare: Callable[[Any, dict], Awaitable[Any]]  # (CurrentUser | None, targets) -> result
    requests_factor: float = 1.0
    matched: str = ""
    extra: dict = field(default_factory=dict)


def _filters(**kw):
    from mediation.cases.services import CaseFilters

    return CaseFilters(**kw)


async def _list(user, **kw):
    from mediation.cases import services

    rows, more = await services.list_cases(user, _filters(**kw))
    return [r.id for r in rows]


async def _case_detail(user, case_id):
    """What the case page reads (``controllers.render_detail``): the case, the mediator
    ranking where the page shows it (an open case with no active mediator, for staff who
    assign), sessions, agreements, follow-ups and materials."""
    from mediation.cases import services, workflow
    from mediation.cases.agreements import agreements_of_case
    from mediation.cases.followups import follow_up_due_from, follow_ups_of_case
    from mediation.cases.materials import materials_of_case
    from mediation.cases.sessions import sessions_of_case
    from mediation.roles import MANAGE_ROLES

    case = await services.case_detail(user, case_id)
    assert case is not None
    ranking = []
    if (
        user.has_role(*MANAGE_ROLES)
        and workflow.is_open(case.status)
        and not any(m.active for m in case.mediators)
    ):
        ranking = [s.mediator.id for s in (await services.suggest_mediators(user, case_id))[:5]]
    agreements = await agreements_of_case(case_id)
    return [
        case.id,
        ranking,
        len(await sessions_of_case(case_id)),
        len(agreements),
        len(await follow_ups_of_case(case_id)),
        len(await materials_of_case(case_id)),
        follow_up_due_from(case.status, agreements),
    ]


async def _suggestion_detail(user, suggestion_id):
    from mediation.suggestions import services

    row = await services.suggestion_for_staff(user, suggestion_id)
    assert row is not None
    similar = await services.similar_to(user, suggestion_id)
    return [row.id, [s.id for s in similar]]


async def _my_work(user):
    from mediation.cases import services

    return [r.id for r in await services.my_work(user)]


async def _suggestion_list(user):
    from mediation.suggestions import services

    rows, _more = await services.staff_list(user)
    return [r["id"] for r in rows]


async def _open311(_user):
    from mediation.suggestions import open311
    from mediation.suggestions.open311_reading import find_requests, service_requests

    params, _errors = open311.parse_list_params({})
    found = await service_requests("http://127.0.0.1/", await find_requests(params))
    return len(found)


async def _dashboard(user, period: str = "month"):
    from mediation.reports import periods, services
    from mediation.reports.controllers import parse_period

    chosen, _errors = parse_period(period, "", "")
    before = periods.previous(chosen)
    scope = await services.scope_for(user, "")
    now = await services.case_figures(scope, chosen)
    await services.case_figures(scope, before, with_breakdowns=False)
    await services.suggestion_figures(scope, chosen)
    await services.suggestion_figures(scope, before)
    await services.party_ratings(scope, chosen)
    await services.child_names(scope, list(now.regions))
    return now.totals["received"]["n"]


async def _statutory(user, year):
    from mediation.reports import services, statutory
    from mediation.reports.controllers import parse_statutory

    period, _errors, _args = parse_statutory("year", str(year), "")
    scope = await services.scope_for(user, "")
    report = await statutory.build_report(scope, period, await services.county_name())
    return len(report.prevention)


def rows_for(t: dict[str, Any]) -> list[Row]:
    q = lambda term: "/cases?" + urlencode({"q": term})  # noqa: E731
    last_year = date.today().year - 1
    return [
        Row("list_town", "case list, town (default)", "centre1", "/cases", lambda u, t: _list(u)),
        Row(
            "list_county", "case list, county (default)", "centre2", "/cases", lambda u, t: _list(u)
        ),
        Row(
            "list_town_filtered",
            "case list, town, mediating neighbour disputes",
            "centre1",
            "/cases?" + urlencode(FILTER),
            lambda u, t: _list(u, **FILTER),
        ),
        Row(
            "list_county_filtered",
            "case list, county, mediating neighbour disputes",
            "centre2",
            "/cases?" + urlencode(FILTER),
            lambda u, t: _list(u, **FILTER),
        ),
        Row(
            "list_county_deep",
            "case list, county, page 401 (the next-page link: after a case id)",
            "centre2",
            f"/cases?page=401&after={t['deep_after']}",
            lambda u, t: _list(u, page=401, after=t["deep_after"]),
        ),
        Row(
            "list_county_offset",
            "case list, county, page 401 by offset (an old link)",
            "centre2",
            "/cases?page=401",
            lambda u, t: _list(u, page=401),
        ),
        Row(
            "search_number",
            "search by case number",
            "centre2",
            q(t["number"]),
            lambda u, t: _list(u, q=t["number"]),
        ),
        Row(
            "search_name2",
            f"search by a two-character name ({NAME_TWO})",
            "centre2",
            q(NAME_TWO),
            lambda u, t: _list(u, q=NAME_TWO),
        ),
        Row(
            "search_name3",
            f"search by a three-character name ({NAME_THREE})",
            "centre2",
            q(NAME_THREE),
            lambda u, t: _list(u, q=NAME_THREE),
        ),
        Row(
            "search_name2_town",
            f"search by a two-character name, town ({NAME_TWO})",
            "centre1",
            q(NAME_TWO),
            lambda u, t: _list(u, q=NAME_TWO),
        ),
        Row(
            "search_phone",
            "search by phone tail (4 digits)",
            "centre2",
            q(t["phone_tail"]),
            lambda u, t: _list(u, q=t["phone_tail"]),
        ),
        Row(
            "search_text",
            f"search by free text ({FREE_TEXT})",
            "centre2",
            q(FREE_TEXT),
            lambda u, t: _list(u, q=FREE_TEXT),
        ),
        Row(
            "detail_centre",
            "case detail, town centre staff (open case)",
            "centre1",
            f"/cases/{t['town_case']}",
            lambda u, t: _case_detail(u, t["town_case"]),
        ),
        Row(
            "detail_grid",
            "case detail, grid worker",
            "grid1",
            f"/cases/{t['grid_case']}",
            lambda u, t: _case_detail(u, t["grid_case"]),
        ),
        Row(
            "detail_police",
            "case detail, police officer",
            "police1",
            f"/cases/{t['grid_case']}",
            lambda u, t: _case_detail(u, t["grid_case"]),
        ),
        Row(
            "suggestion_detail",
            "suggestion detail, centre staff (with similar suggestions)",
            "centre1",
            f"/suggestions/{t['suggestion']}",
            lambda u, t: _suggestion_detail(u, t["suggestion"]),
        ),
        Row(
            "my_work_grid",
            '"my work", grid worker',
            "grid1",
            "/cases/mine",
            lambda u, t: _my_work(u),
        ),
        Row(
            "my_work_centre",
            '"my work", town centre staff',
            "centre1",
            "/cases/mine",
            lambda u, t: _my_work(u),
        ),
        Row(
            "suggestion_list",
            "suggestion list, town centre staff",
            "centre1",
            "/suggestions",
            lambda u, t: _suggestion_list(u),
        ),
        Row(
            "open311",
            "Open311 requests.json (no parameters)",
            "",
            "/open311/v2/requests.json",
            lambda u, t: _open311(u),
        ),
        Row(
            "dashboard",
            "/reports dashboard, county (this month)",
            "centre2",
            "/reports",
            lambda u, t: _dashboard(u),
            requests_factor=0.5,
        ),
        # "This month" is nearly empty in its first days (in Beijing time); last month is a full
        # month of figures and breakdowns.
        Row(
            "dashboard_last_month",
            "/reports dashboard, county (last month)",
            "centre2",
            "/reports?period=last_month",
            lambda u, t: _dashboard(u, "last_month"),
            requests_factor=0.5,
        ),
        Row(
            "statutory_year",
            f"annual statutory report, county ({last_year})",
            "centre2",
            f"/reports/statutory?kind=year&year={last_year}",
            lambda u, t: _statutory(u, last_year),
            requests_factor=0.2,
        ),
    ]


async def load_users(staff: dict[str, int]) -> dict[str, Any]:
    from mediation.accounts.services import load_user

    return {name: await load_user(staff_id) for name, staff_id in staff.items()}


# ---------------------------------------------------------------- the bare app


def bare_app(args: argparse.Namespace):
    from litestar import Litestar, get

    from mediation import db

    state: dict[str, Any] = {}

    async def setup() -> None:
        targets = await pick_targets()
        state["targets"] = targets
        state["users"] = await load_users(targets["staff"])
        state["rows"] = {r.key: r for r in rows_for(targets)}

    @get("/bare/{key:str}")
    async def bare(key: str) -> dict:
        row = state["rows"][key]
        result = await row.bare(state["users"].get(row.user), state["targets"])
        return {"ok": True, "n": len(json.dumps(result, default=str))}

    @get("/health")
    async def health() -> str:
        return "ok"

    return Litestar(route_handlers=[bare, health], lifespan=[db.lifespan], on_startup=[setup])


# ---------------------------------------------------------------- servers and the client


def process_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) a process has used, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name: str, argv: list[str], port: int) -> None:
        self.name, self.port = name, port
        self.log = tempfile.NamedTemporaryFile(
            prefix=f"million-{name}-", suffix=".log", delete=False
        )
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=dict(os.environ), stdout=self.log, stderr=subprocess.STDOUT
        )

    async def wait_ready(self, path: str, timeout: float = 120) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited; see {self.log.name}")
            try:
                status, _headers, _body = await fetch_once(self.port, path)
                if status < 500:
                    return
            except OSError:
                pass
            await asyncio.sleep(0.3)
        raise SystemExit(f"{self.name} did not start; see {self.log.name}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Connection:
    """A keep-alive HTTP/1.1 connection to 127.0.0.1 with just enough parsing for our pages."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        out: dict[str, str] = {}
        cookies = []
        for line in header_lines:
            if ":" in line:
                k, v = line.split(":", 1)
                k = k.strip().lower()
                if k == "set-cookie":
                    cookies.append(v.strip())
                out[k] = v.strip()
        out["set-cookie"] = "\n".join(cookies)
        if "content-length" in out:
            data = await self.reader.readexactly(int(out["content-length"]))
        elif out.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readline()).strip() or b"0", 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            data = b"".join(parts)
        else:
            data = b""
        if out.get("connection", "").lower() == "close":
            await self.close()
        return status, out, data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None


async def fetch_once(port: int, path: str, headers: dict[str, str] | None = None):
    conn = Connection(port)
    try:
        return await conn.request("GET", path, headers)
    finally:
        await conn.close()


def _cookies_from(set_cookie: str, jar: dict[str, str]) -> None:
    for line in set_cookie.splitlines():
        pair = line.split(";", 1)[0]
        if "=" in pair:
            k, v = pair.split("=", 1)
            jar[k.strip()] = v.strip()


async def sign_in(port: int, username: str) -> dict[str, str]:
    """Cookie and CSRF headers of a signed-in browser."""
    jar: dict[str, str] = {}
    conn = Connection(port)
    try:
        _s, headers, _b = await conn.request("GET", "/login")
        _cookies_from(headers["set-cookie"], jar)
        token = jar.get("csrftoken", "")
        body = urlencode({"username": username, "password": PASSWORD}).encode()
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
        status, headers, _b = await conn.request(
            "POST",
            "/login",
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "x-csrftoken": token,
                "Cookie": cookie,
            },
            body,
        )
        if status not in (302, 303):
            raise SystemExit(f"sign-in as {username} failed: {status}")
        _cookies_from(headers["set-cookie"], jar)
    finally:
        await conn.close()
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}


async def load(port: int, path: str, headers: dict[str, str], total: int, concurrency: int):
    """``total`` GETs over ``concurrency`` connections; returns when every one is answered."""
    latencies: list[float] = []
    errors: list[int] = []
    issued = 0

    async def worker() -> None:
        nonlocal issued
        conn = Connection(port)
        try:
            while issued < total:
                issued += 1
                t = time.perf_counter()
                try:
                    status, _h, _b = await conn.request("GET", path, headers)
                except (OSError, asyncio.IncompleteReadError):
                    await conn.close()
                    status = 599
                latencies.append((time.perf_counter() - t) * 1000)
                if status != 200:
                    errors.append(status)
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(round(p / 100 * len(latencies) + 0.5)) - 1)]

    return {
        "n": len(latencies),
        "p50": statistics.median(latencies),
        "p95": pct(95),
        "p99": pct(99),
        "rps": len(latencies) / seconds,
        "errors": len(errors),
        "statuses": sorted(set(errors)),
    }


# ---------------------------------------------------------------- EXPLAIN


async def explain_rows(rows: list[Row], users: dict[str, Any], targets: dict) -> list[str]:
    """Per row: run the bare handler's work once with every SQL statement recorded, then
    EXPLAIN (ANALYZE, BUFFERS) the slowest ones (those over 1 ms, at most three)."""
    from piccolo.engine.postgres import PostgresEngine

    from mediation import db

    recorded: list[tuple[float, str, list]] = []
    original = PostgresEngine.run_querystring

    async def recording(self, querystring, in_pool: bool = True):
        sql, sql_args = querystring.compile_string(engine_type=self.engine_type)
        t = time.perf_counter()
        result = await original(self, querystring, in_pool)
        recorded.append(((time.perf_counter() - t) * 1000, sql, list(sql_args)))
        return result

    out: list[str] = []
    PostgresEngine.run_querystring = recording  # type: ignore[method-assign]
    try:
        for row in rows:
            await row.bare(users.get(row.user), targets)  # warm
            recorded.clear()
            t = time.perf_counter()
            await row.bare(users.get(row.user), targets)
            total = (time.perf_counter() - t) * 1000
            queries = list(recorded)
            slow = sorted(queries, key=lambda q: -q[0])
            slow = [q for q in slow if q[0] >= 1.0][:3] or slow[:1]
            out.append(
                f"### {row.label}\n\n{len(queries)} statements, "
                f"{sum(q[0] for q in queries):.1f} ms in SQL of {total:.1f} ms in-process\n"
            )
            for took, sql, sql_args in slow:
                engine = db.engine()
                plan_rows = await engine._run_in_pool("EXPLAIN (ANALYZE, BUFFERS) " + sql, sql_args)
                plan = "\n".join(r["QUERY PLAN"] for r in plan_rows)
                shown_args = json.dumps(sql_args, default=str, ensure_ascii=False)
                if len(shown_args) > 300:
                    shown_args = shown_args[:300] + "…"
                out.append(
                    f"{took:.1f} ms:\n```sql\n{sql}\n-- args: {shown_args}\n```\n```\n{plan}\n```\n"
                )
    finally:
        PostgresEngine.run_querystring = original  # type: ignore[method-assign]
    return out


# ---------------------------------------------------------------- main


async def describe(targets: dict, rows: list[Row]) -> list[str]:
    """How many cases each search and filter matches in the whole county."""
    from mediation.cases.tables import Case, Party

    lines = []
    lines.append(f"- cases: {await Case.count():,}; parties: {await Party.count():,}")
    n = await Case.count().where(
        Case.status == FILTER["status"], Case.category == FILTER["category"]
    )
    lines.append(f"- cases the filter {FILTER} matches in the county: {n:,}")
    for name in (NAME_TWO, NAME_THREE):
        n = await Party.count().where(Party.name == name)
        lines.append(f"- parties named {name}: {n:,}")
    n = await Party.count().where(Party.phone.like("%" + targets["phone_tail"]))
    lines.append(f"- parties whose phone ends in {targets['phone_tail']}: {n:,}")
    lines.append(f"- case number searched: {targets['number']}")
    lines.append(
        f"- case detail ids: town {targets['town_case']}, grid {targets['grid_case']}; "
        f"suggestion {targets['suggestion']}"
    )
    return lines


async def main_async(args: argparse.Namespace) -> None:
    from mediation import db

    await db.start()
    try:
        targets = await pick_targets()
        rows = rows_for(targets)
        if args.list:
            for r in rows:
                print(f"{r.key:<22} {r.label}")
            return
        if args.only:
            keys = set(args.only.split(","))
            rows = [r for r in rows if r.key in keys]
        users = await load_users(targets["staff"])
        facts = await describe(targets, rows)
        for line in facts:
            print(line, flush=True)
    finally:
        await db.stop()

    app_port, bare_port = free_port(), free_port()
    app = Server(
        "app",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "mediation.asgi:app",
            "--host",
            HOST,
            "--port",
            str(app_port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        app_port,
    )
    bare = Server(
        "bare",
        [sys.executable, str(Path(__file__).resolve()), "--serve-bare", str(bare_port)]
        + ["--pg-url", args.pg_url, "--data-dir", args.data_dir],
        bare_port,
    )
    results: list[tuple[Row, dict, dict]] = []
    try:
        await app.wait_ready("/health")
        await bare.wait_ready("/health")
        sessions = {name: await sign_in(app_port, name) for name in USERS}
        print(
            f"\n{'row':<58} {'p50':>7} {'p95':>7} {'p99':>7} {'req/s':>7} | "
            f"{'bare p50':>8} {'bare p95':>8} {'ratio':>5} {'CPU ms':>6}",
            flush=True,
        )
        for row in rows:
            n = max(20, int(args.requests * row.requests_factor))
            headers = sessions.get(row.user, {})
            for _ in range(max(1, int(args.warmup * row.requests_factor))):
                status, _h, _b = await fetch_once(app_port, row.path, headers)
                if status != 200:
                    raise SystemExit(f"{row.key}: {row.path} answered {status}")
                await fetch_once(bare_port, f"/bare/{row.key}")
            cpu_before = process_cpu(app.proc.pid)
            measured = await load(app_port, row.path, headers, n, args.concurrency)
            measured["cpu_ms"] = 1000 * (process_cpu(app.proc.pid) - cpu_before) / n
            baseline = await load(bare_port, f"/bare/{row.key}", {}, n, args.concurrency)
            results.append((row, measured, baseline))
            ratio = measured["p95"] / baseline["p95"] if baseline["p95"] else 0
            print(
                f"{row.label[:58]:<58} {measured['p50']:7.1f} {measured['p95']:7.1f} "
                f"{measured['p99']:7.1f} {measured['rps']:7.1f} | {baseline['p50']:8.1f} "
                f"{baseline['p95']:8.1f} {ratio:5.2f} {measured['cpu_ms']:6.1f}"
                + (
                    f"  ERRORS {measured['errors']} {measured['statuses']}"
                    if measured["errors"]
                    else ""
                )
                + (f"  BARE ERRORS {baseline['errors']}" if baseline["errors"] else ""),
                flush=True,
            )
    finally:
        app.stop()
        bare.stop()

    explained: list[str] = []
    if not args.no_explain:
        await db.start()
        try:
            explained = await explain_rows(rows, users, targets)
        finally:
            await db.stop()
    write_report(args, facts, results, explained)


def write_report(args, facts, results, explained) -> None:
    today = date.today().isoformat()
    lines = [
        f"# Pages at a million cases ({today})",
        "",
        f"Command: `.venv/bin/python benchmarks/run_million.py --pg-url {args.pg_url} "
        f"--requests {args.requests} --concurrency {args.concurrency}`"
        + (f" `--only {args.only}`" if args.only else ""),
        "",
        "Data (from `benchmarks/gen_million.py`):",
        "",
        *facts,
        "",
        "Latency in ms over the measured requests of each row (one uvicorn worker, "
        f"concurrency {args.concurrency}, each row after the previous one finished); "
        "bare: a Litestar handler calling the same service functions, without sessions, auth, "
        "CSRF, i18n or templates; ratio: app p95 ÷ bare p95; CPU: the app process's CPU time "
        "per measured request (user + system, from /proc), what its throughput on one worker "
        "is bound by.",
        "",
        "| page | p50 | p95 | p99 | req/s | bare p50 | bare p95 | ratio | CPU ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row, m, b in results:
        ratio = m["p95"] / b["p95"] if b["p95"] else 0
        lines.append(
            f"| {row.label} | {m['p50']:.1f} | {m['p95']:.1f} | {m['p99']:.1f} | "
            f"{m['rps']:.0f} | {b['p50']:.1f} | {b['p95']:.1f} | {ratio:.2f} | "
            f"{m.get('cpu_ms', 0):.1f} | {m['errors'] + b['errors']} |"
        )
    table = "\n".join(lines)
    print("\n" + table + "\n", flush=True)
    if explained:
        print("\n".join(explained), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(table + "\n\n## Hot queries\n\n" + "\n".join(explained) + "\n")
    print(f"written to {RESULTS}", flush=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    configure_env(args)
    if args.serve_bare:
        import uvicorn

        uvicorn.run(
            bare_app(args), host=HOST, port=args.serve_bare, log_level="warning", access_log=False
        )
        return
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
