#!/usr/bin/env python
"""Case list and intake under load, against a bare Litestar + Jinja handler as the baseline.

Run on demand (not a test):

    .venv/bin/python benchmarks/bench_cases.py --engine sqlite --cases 100000
    .venv/bin/python benchmarks/bench_cases.py --engine postgres --cases 100000

What it does:
1. creates its own database (an SQLite file under /tmp, or the PostgreSQL database
   ``bench``, dropped and created again), migrates it and loads the demo county;
2. bulk-inserts N cases (``Case.insert(*rows)`` in batches) with two parties each, the
   registration event and ``search_text``; numbers stay unique and per-year gap-free;
3. starts the real app (``uvicorn mediation.asgi:app``) and a bare Litestar + Jinja app
   defined here, each on a free 127.0.0.1 port, and measures a fixed number of requests
   at a fixed concurrency with ``wrk`` (or httpx if wrk is missing):
   - the filtered case list ``/cases?status=mediating&colour=red&category=neighbour`` and a
     text search ``/cases?q=...``, signed in as centre1 (town scope) and county scope;
   - the intake ``POST /cases/new`` (multipart, two parties, a fresh idempotency key and
     the CSRF token per request) signed in as grid1;
   - the baseline: the same query (same filters, columns, LIMIT 26, ORDER BY id DESC,
     through Piccolo on the same database) rendered as a minimal Jinja table, with no
     auth, sessions, CSRF or i18n.
4. prints a markdown table (req/s, p50, p95, ratio of list page p50 to baseline p50) and
   writes it to ``benchmarks/results/cases-<engine>.md``.

``--reuse`` keeps a database that already holds the cases (skips steps 1-2).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
PASSWORD = "mediation-demo"
TOWN_PATH = "/330482/330482001/"  # 当湖街道: centre1's scope
COUNTY_PATH = "/330482/"
LIST_QUERY = "status=mediating&colour=red&category=neighbour"
SEARCH_TERM = "漏水"
SEARCH_QUERY = "q=" + quote(SEARCH_TERM)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--engine", choices=("sqlite", "postgres"), required=True)
    p.add_argument("--cases", type=int, default=100_000, help="cases to bulk-generate")
    p.add_argument("--requests", type=int, default=2000, help="requests per measurement")
    p.add_argument("--concurrency", type=int, default=10)
    p.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="rounds; each round runs every measurement once, in turn, and the report\n"
        "shows each row's median round (a busy machine skews single runs)",
    )
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--client", choices=("wrk", "httpx"), default="")
    p.add_argument(
        "--pg-url",
        default="postgresql://postgres@127.0.0.1:5432/bench",
        help="PostgreSQL database to (re)create; never point this at a database you need",
    )
    p.add_argument("--data-dir", default="", help="default: /tmp/mediation-bench-<engine>")
    p.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    p.add_argument(
        "--analyze",
        choices=("auto", "yes", "no"),
        default="auto",
        help="run ANALYZE after loading (auto: PostgreSQL only, as autovacuum would)",
    )
    p.add_argument("--only", default="", help="comma-separated measurement names to run")
    p.add_argument(
        "--breakdown",
        action="store_true",
        help="also serve the app with parts swapped out (session store, user lookup, grid\n"
        "choices, page layout) to show where the list page's time goes",
    )
    p.add_argument("--serve-baseline", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--serve-app", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--ablate", default="", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def configure_env(args: argparse.Namespace) -> dict[str, str]:
    """Environment shared by this process and both servers; set before importing mediation."""
    data_dir = Path(args.data_dir or f"/tmp/mediation-bench-{args.engine}")
    if args.engine == "postgres":
        url = args.pg_url
    else:
        url = f"sqlite:///{data_dir / 'bench.sqlite3'}"
    env = {
        "DATABASE_URL": url,
        "MEDIATION_DATA_DIR": str(data_dir),
        "RUN_BACKGROUND_TASKS": "0",
        "LOGIN_RATE_LIMIT": "1000000",
        "PUBLIC_RATE_LIMIT": "1000000",
        "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
        "FIELD_KEY": "bench-field-key-not-for-production-0123456789abcdef",
    }
    os.environ.update(env)
    return env


# ---------------------------------------------------------------- database


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


CATEGORY_WEIGHTS = {
    "neighbour": 18,
    "housing_land": 11,
    "marriage_family": 10,
    "property_mgmt": 9,
    "labour": 8,
    "contract": 7,
    "damages": 7,
    "traffic": 6,
    "business": 5,
    "consumer": 5,
    "pollution": 4,
    "land_requisition": 3,
    "forest_land": 3,
    "medical": 2,
    "other": 2,
}
SUMMARIES = {
    "neighbour": ["楼上卫生间漏水致楼下天花板受损", "楼上夜间噪音扰民", "楼道堆放杂物引发邻里矛盾"],
    "housing_land": ["宅基地界址争议", "租客退租押金纠纷", "屋檐滴水排水纠纷"],
    "marriage_family": ["子女赡养费分摊纠纷", "离婚后子女探望纠纷", "婆媳矛盾"],
    "property_mgmt": ["拖欠物业费纠纷", "地下车库渗水泡车", "电梯频繁故障"],
    "labour": ["工人工资拖欠", "辞退经济补偿纠纷", "工伤待遇纠纷"],
    "contract": ["装修尾款纠纷", "民间借贷纠纷", "二手车买卖纠纷"],
    "damages": ["犬只伤人赔偿纠纷", "高空坠物砸车", "肢体冲突致伤"],
    "traffic": ["电动车与轿车碰撞赔偿", "电动车撞伤行人"],
    "business": ["合伙散伙分账纠纷", "沿街店铺占道经营扰民"],
    "consumer": ["预付卡退费纠纷", "家电质量纠纷"],
    "pollution": ["餐饮油烟扰民", "作坊噪音扰民"],
    "land_requisition": ["征迁补偿款分配纠纷", "青苗补偿归属纠纷"],
    "forest_land": ["承包地田埂纠纷", "土地流转租金拖欠"],
    "medical": ["诊所输液不良反应赔偿", "种植牙退费纠纷"],
    "other": ["广场舞噪音扰民", "微信群言语冲突"],
}
SURNAMES = "沈陆顾朱徐张王钱金屠褚俞陈李刘杨黄吴周孙马胡郭何林罗郑高"
GIVEN = "建华 国强 卫东 志明 美娟 秀英 雪芬 丽萍 堃 玥 昇 喆 海燕 伟 静 敏 磊 芳 杰 婕".split()


def _status_for(age_days: int, rng: random.Random) -> str:
    """Young cases are open, old ones closed: as a real register looks."""
    if age_days < 3:
        return rng.choice(["registered", "registered", "accepted"])
    if age_days < 30:
        return rng.choices(
            ["accepted", "mediating", "settled", "performing", "terminated", "declined"],
            weights=[10, 45, 10, 15, 8, 12],
        )[0]
    if age_days < 120:
        return rng.choices(
            [
                "mediating",
                "performing",
                "performed",
                "breached",
                "terminated",
                "closed",
                "declined",
            ],
            weights=[4, 12, 10, 3, 6, 58, 7],
        )[0]
    return rng.choices(
        ["closed", "declined", "terminated", "breached", "mediating"], weights=[88, 8, 2, 1, 1]
    )[0]


async def bulk_load(n: int, seed: int = 7) -> float:
    """N cases in batches through ``Case.insert``; returns the seconds it took."""
    from mediation import crypto
    from mediation.cases import services
    from mediation.cases.tables import Case, CaseCounter, CaseEvent, Party
    from mediation.db import write_transaction
    from mediation.grid.tables import Grid, TeamMember
    from mediation.masking import mask_id_number
    from mediation.settings import get_settings
    from mediation.validators import id_check_char

    started = time.perf_counter()
    rng = random.Random(seed)
    county = get_settings().county_code
    tz = __import__("zoneinfo").ZoneInfo("Asia/Shanghai")
    grids = await Grid.select(Grid.id, Grid.name, Grid.region.path).order_by(Grid.id)
    workers = {
        r["grid"]: r["staff"]
        for r in await TeamMember.select(TeamMember.grid, TeamMember.staff).where(
            TeamMember.role == "grid_worker"
        )
    }
    counters = {
        r["key"]: r["last_number"]
        for r in await CaseCounter.select(CaseCounter.key, CaseCounter.last_number)
    }
    today = datetime.now(tz).date()
    first_day = today - timedelta(days=3 * 365)
    days = sorted(first_day + timedelta(days=rng.randint(0, 3 * 365)) for _ in range(n))
    categories = list(CATEGORY_WEIGHTS)
    weights = [CATEGORY_WEIGHTS[c] for c in categories]
    batch = 500
    for start in range(0, n, batch):
        cases, parties_of = [], []
        for day in days[start : start + batch]:
            year = day.year
            key = f"{county}-{year}"
            counters[key] = counters.get(key, 0) + 1
            number = f"{county}-{year}-{counters[key]:06d}"
            grid = rng.choice(grids)
            category = rng.choices(categories, weights=weights)[0]
            summary = rng.choice(SUMMARIES[category])
            age = (today - day).days
            status = _status_for(age, rng)
            names = [rng.choice(SURNAMES) + rng.choice(GIVEN) for _ in range(2)]
            at = datetime.combine(day, datetime.min.time(), tz) + timedelta(
                minutes=rng.randint(8 * 60, 18 * 60)
            )
            accepted = status not in ("registered", "declined")
            mediated = status not in ("registered", "accepted", "declined")
            cases.append(
                Case(
                    number=number,
                    category=category,
                    summary=summary,
                    facts=f"{names[0]}与{names[1]}{summary}，请求调解。",
                    grid=grid["id"],
                    region_path=grid["region.path"],
                    source=rng.choice(services.SOURCES),
                    colour=rng.choices(("red", "yellow", "green"), weights=(4, 18, 78))[0],
                    level=rng.choices(
                        ("grid", "community", "town", "county"), weights=(75, 15, 8, 2)
                    )[0],
                    status=status,
                    amount=None,
                    location=grid["name"],
                    registered_on=day,
                    registered_at=at,
                    registered_by=workers.get(grid["id"]),
                    accepted_on=day + timedelta(days=1) if accepted else None,
                    mediation_started_on=day + timedelta(days=3) if mediated else None,
                    closed_on=day + timedelta(days=40)
                    if status in ("closed", "declined")
                    else None,
                    search_text=" ".join([number, summary, *names]).lower(),
                    updated_at=at,
                )
            )
            parties_of.append((names, grid["id"], at))
        async with write_transaction():
            ids = [r["id"] for r in await Case.insert(*cases).returning(Case.id)]
            party_rows, events = [], []
            for case_id, (names, _grid, at) in zip(ids, parties_of, strict=True):
                body = f"330482{rng.randint(1950, 2004)}0{rng.randint(1, 9)}1{rng.randint(0, 9)}"
                body += f"{rng.randint(0, 999):03d}"
                id_number = body + id_check_char(body)
                for role, name in zip(("applicant", "respondent"), names, strict=True):
                    person_id = id_number if role == "applicant" else ""
                    party_rows.append(
                        Party(
                            case=case_id,
                            role=role,
                            kind="person",
                            name=name,
                            id_number_encrypted=crypto.encrypt(person_id),
                            id_number_masked=mask_id_number(person_id),
                            id_number_digest=crypto.digest(person_id),
                            phone=f"138{rng.randint(0, 99_999_999):08d}",
                        )
                    )
                events.append(
                    CaseEvent(
                        case=case_id,
                        at=at,
                        action="registered",
                        to_status="registered",
                        changes={},
                    )
                )
            await Party.insert(*party_rows)
            await CaseEvent.insert(*events)
        if (start // batch) % 20 == 0:
            print(f"  {start + len(cases):>7} cases", flush=True)
    for key, last in counters.items():
        exists = await CaseCounter.exists().where(CaseCounter.key == key)
        if exists:
            await CaseCounter.update({CaseCounter.last_number: last}).where(CaseCounter.key == key)
        else:
            await CaseCounter.insert(CaseCounter(key=key, last_number=last))
    return time.perf_counter() - started


async def prepare_database(args: argparse.Namespace) -> dict:
    from mediation import db
    from mediation.cases.tables import Case
    from mediation.demo import load_demo

    info: dict = {}
    if args.reuse:
        await db.start()
        try:
            count = await Case.count()
            if count >= args.cases:
                await db.migrate()  # a database loaded by older code gets the current schema
        except Exception:
            count = 0
        await db.stop()
        if count >= args.cases:
            info["cases"] = count
            info["reused"] = True
            return info
        print(f"--reuse: only {count} cases there; loading afresh", flush=True)
    if args.engine == "postgres":
        await recreate_postgres(args.pg_url)
    else:
        path = Path(os.environ["DATABASE_URL"].removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    shutil.rmtree(Path(os.environ["MEDIATION_DATA_DIR"]) / "sessions", ignore_errors=True)
    await db.start()
    try:
        await db.migrate()
        t = time.perf_counter()
        print(await load_demo(), flush=True)
        info["demo_seconds"] = time.perf_counter() - t
        print(f"bulk-loading {args.cases} cases ...", flush=True)
        info["bulk_seconds"] = await bulk_load(args.cases)
        analyze = args.analyze == "yes" or (args.analyze == "auto" and args.engine == "postgres")
        if analyze:
            await db.engine().run_ddl("ANALYZE")
        info["analyzed"] = analyze
        info["cases"] = await Case.count()
    finally:
        await db.stop()
    return info


async def explain(args: argparse.Namespace) -> dict[str, str]:
    """The list query the app runs, as SQL, and each engine's plan for it."""
    from mediation import db
    from mediation.accounts.services import CurrentUser
    from mediation.cases import queries, services
    from mediation.cases.tables import Case

    plans = {}
    await db.start()
    try:
        for label, path, filters in (
            (
                "town, filtered",
                TOWN_PATH,
                services.CaseFilters(status="mediating", colour="red", category="neighbour"),
            ),
            ("town, search", TOWN_PATH, services.CaseFilters(q=SEARCH_TERM)),
            # Worst case of the substring search: one match, so the whole town is read.
            ("town, search for one case number", TOWN_PATH, services.CaseFilters(q="2024-000123")),
            (
                "county, filtered",
                COUNTY_PATH,
                services.CaseFilters(status="mediating", colour="red", category="neighbour"),
            ),
        ):
            user = CurrentUser(
                id=0, username="x", display_name="x", roles=frozenset(), region_path=path
            )
            query = await queries._filtered(Case.select(*services.LIST_COLUMNS), user, filters)
            query = query.order_by(Case.id, ascending=False).limit(26).offset(0)
            base = await baseline_query(
                path, filters.status, filters.colour, filters.category, filters.q
            )
            same = str(query) == str(base)
            sql = str(query)
            prefix = "EXPLAIN ANALYZE " if args.engine == "postgres" else "EXPLAIN QUERY PLAN "
            rows = await Case.raw(prefix + sql)
            if args.engine == "postgres":
                plan = "\n".join(r["QUERY PLAN"] for r in rows)
            else:
                plan = "\n".join(f"{r['id']}|{r['parent']}| {r['detail']}" for r in rows)
            t = time.perf_counter()
            for _ in range(20):
                await query
            took = (time.perf_counter() - t) / 20 * 1000
            plans[label] = (
                f"baseline SQL identical: {same}; {took:.2f} ms per run in-process\n{sql}\n{plan}"
            )
    finally:
        await db.stop()
    return plans


# ---------------------------------------------------------------- the baseline app


async def baseline_query(scope: str, status: str, colour: str, category: str, q: str):
    from mediation.cases.services import LIST_COLUMNS, text_search_condition
    from mediation.cases.tables import Case

    query = Case.select(*LIST_COLUMNS)
    if scope:
        query = query.where(Case.region_path.like(scope + "%"))
    if status:
        query = query.where(Case.status == status)
    if colour:
        query = query.where(Case.colour == colour)
    if category:
        query = query.where(Case.category == category)
    if q:
        query = query.where(await text_search_condition(q))
    return query.order_by(Case.id, ascending=False).limit(26).offset(0)


BASELINE_TEMPLATE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>cases</title></head><body><table>
<tr><th>number</th><th>summary</th><th>category</th><th>status</th><th>colour</th>
<th>level</th><th>grid</th><th>registered</th></tr>
{% for r in rows[:25] %}<tr><td><a href="/cases/{{ r.id }}">{{ r.number }}</a></td>
<td>{{ r.summary }}</td><td>{{ r.category }}</td><td>{{ r.status }}</td><td>{{ r.colour }}</td>
<td>{{ r.level }}</td><td>{{ r["grid.name"] }}</td><td>{{ r.registered_on }}</td></tr>
{% endfor %}</table>{% if rows|length > 25 %}<a href="?page=2">next</a>{% endif %}</body></html>
"""


def baseline_app():
    from jinja2 import DictLoader, Environment
    from litestar import Litestar, get
    from litestar.params import FromQuery
    from litestar.plugins.jinja import JinjaTemplateEngine as Engine
    from litestar.response import Template
    from litestar.template.config import TemplateConfig

    from mediation import db

    @get("/cases")
    async def cases(
        status: FromQuery[str] = "",
        colour: FromQuery[str] = "",
        category: FromQuery[str] = "",
        q: FromQuery[str] = "",
        area: FromQuery[str] = "",  # "scope" is reserved by Litestar (the ASGI scope)
    ) -> Template:
        rows = await (await baseline_query(area, status, colour, category, q))
        return Template("list.html", context={"rows": rows})

    @get("/health")
    async def health() -> str:
        return "ok"

    env = Environment(loader=DictLoader({"list.html": BASELINE_TEMPLATE}), autoescape=True)
    return Litestar(
        route_handlers=[cases, health],
        signature_namespace={"Template": Template, "FromQuery": FromQuery},
        lifespan=[db.lifespan],
        template_config=TemplateConfig(instance=Engine.from_environment(env)),
    )


def serve_baseline(port: int) -> None:
    import uvicorn

    uvicorn.run(baseline_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def serve_app(port: int, ablate: set[str]) -> None:
    """The real app with parts swapped for near-free stand-ins, to measure what each costs.

    sessions: the server-side session store in memory instead of files on disk;
    user: the signed-in user loaded once per person instead of once per request;
    grids: the grid choices of the filter form loaded once per person;
    middleware: no CSRF, rate-limit or locale middleware (session auth stays).
    """
    import uvicorn
    from litestar.stores.memory import MemoryStore

    import mediation.app as app_module
    import mediation.cases.controllers as case_controllers

    if "sessions" in ablate:
        app_module._stores = lambda settings: {
            "sessions": MemoryStore(),
            "rate_limit": MemoryStore(),
        }
    if "user" in ablate:
        load = app_module.retrieve_user
        users: dict = {}

        async def cached_user(session, connection):
            key = session.get("staff_id")
            if key not in users:
                users[key] = await load(session, connection)
            return users[key]

        app_module.retrieve_user = cached_user
    if "grids" in ablate:
        # The list page's grid menu: grid_choices_for (cached by the app itself) or, in
        # older versions, grids_for.
        name = next(n for n in ("grid_choices_for", "grids_for") if hasattr(case_controllers, n))
        original = getattr(case_controllers, name)
        grids: dict = {}

        async def cached_grids(user, *args, **kwargs):
            if user.id not in grids:
                grids[user.id] = await original(user, *args, **kwargs)
            return list(grids[user.id])

        setattr(case_controllers, name, cached_grids)
    if "middleware" in ablate:
        litestar = app_module.Litestar

        def bare(**kwargs):
            return litestar(**{**kwargs, "csrf_config": None, "middleware": []})

        app_module.Litestar = bare  # type: ignore[misc,assignment]  # the ablation's stand-in
    app = app_module.create_app()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# ---------------------------------------------------------------- servers and clients


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name: str, argv: list[str], port: int, env: dict[str, str]) -> None:
        self.name, self.port = name, port
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT
        )
        self.url = f"http://127.0.0.1:{port}"

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        import httpx

        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited; see {self.log.name}")
            try:
                if httpx.get(self.url + path, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"{self.name} did not start; see {self.log.name}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def sign_in(base: str, username: str) -> dict[str, str]:
    """The cookies of a signed-in browser (session + CSRF), or raise."""
    import httpx

    with httpx.Client(base_url=base, follow_redirects=False) as client:
        client.get("/login")
        token = client.cookies.get("csrftoken") or ""
        r = client.post(
            "/login",
            data={"username": username, "password": PASSWORD},
            headers={"x-csrftoken": token},
        )
        if r.status_code not in (302, 303):
            raise SystemExit(f"sign-in as {username} failed: {r.status_code}")
        return dict(client.cookies.items())


def intake_fields(grid_id: int) -> list[tuple[str, str]]:
    from mediation.validators import id_check_char

    body = "33048219900307001"
    return [
        ("category", "neighbour"),
        ("summary", "楼上卫生间漏水致楼下天花板受损（压测）"),
        ("facts", "楼上住户卫生间防水层老化，渗水导致楼下天花板发霉，双方协商未果。"),
        ("grid", str(grid_id)),
        ("source", "door_knocking"),
        ("colour", "green"),
        ("amount", "3500"),
        ("location", "当湖街道梅园小区2幢1单元302室"),
        ("parties_consent", "yes"),
        ("parties-0-role", "applicant"),
        ("parties-0-kind", "person"),
        ("parties-0-name", "林堃"),
        ("parties-0-id_number", body + id_check_char(body)),
        ("parties-0-phone", "13805731234"),
        ("parties-0-address", "当湖街道梅园小区2幢1单元302室"),
        ("parties-1-role", "respondent"),
        ("parties-1-kind", "person"),
        ("parties-1-name", "沈玥"),
        ("parties-1-id_number", ""),
        ("parties-1-phone", "13905739876"),
        ("parties-1-address", "当湖街道梅园小区2幢1单元402室"),
    ]


WRK_SCRIPT = r"""
counter = 0
bad = 0
limit = 0
mode = "get"
local threads = {}
local seq = 0
local boundary = "----mediationbench7MA4YWxkTrZu0gW"
local fields = {}

function setup(thread)
  seq = seq + 1
  thread:set("tid", seq)
  table.insert(threads, thread)
end

function init(args)
  limit = tonumber(args[1])
  mode = args[2] or "get"
  if mode == "post" then
    local f = io.open(args[3], "r")
    for line in f:lines() do
      local k, v = line:match("^([^\t]*)\t(.*)$")
      if k then table.insert(fields, {k, v}) end
    end
    f:close()
  end
  math.randomseed(os.time() + tid * 7919)
end

local n = 0
function request()
  if mode ~= "post" then return wrk.request() end
  n = n + 1
  local parts = {}
  local key = string.format("bench-%d-%d-%d-%d", tid, n, os.time(), math.random(1, 1000000000))
  local head = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\""
  table.insert(parts, head .. "idempotency_key\"\r\n\r\n" .. key .. "\r\n")
  for _, kv in ipairs(fields) do
    table.insert(parts, head .. kv[1] .. "\"\r\n\r\n" .. kv[2] .. "\r\n")
  end
  table.insert(parts, "--" .. boundary .. "--\r\n")
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
  return wrk.format("POST", nil, headers, table.concat(parts))
end

function response(status, headers, body)
  counter = counter + 1
  local ok = (mode == "post" and status == 303) or (mode ~= "post" and status == 200)
  if not ok then
    bad = bad + 1
    if bad <= 3 then io.stderr:write("unexpected status " .. status .. "\n") end
  end
  if counter == limit then
    io.stdout:write("THREAD-DONE\n")
    io.stdout:flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local nbad, count = 0, 0
  for _, t in ipairs(threads) do
    nbad = nbad + t:get("bad")
    count = count + t:get("counter")
  end
  local e = summary.errors
  io.stdout:write(string.format(
    '{"requests": %d, "counted": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "mean_us": %.1f, "max_us": %d, "bad_status": %d, "socket_errors": %d}\n',
    summary.requests, count, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.mean, latency.max, nbad,
    e.connect + e.read + e.write + e.timeout))
end
"""


def run_wrk(
    url: str, cookies: dict[str, str], total: int, args, mode="get", fields=None, headers=None
) -> dict:
    """A fixed number of requests: each wrk thread stops itself after its share."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-wrk-"))
    script = workdir / "bench.lua"
    script.write_text(WRK_SCRIPT)
    extra = []
    if fields:
        form = workdir / "form.tsv"
        form.write_text("".join(f"{k}\t{v}\n" for k, v in fields))
        extra = [str(form)]
    per_thread = -(-total // args.threads)
    argv = [
        "wrk",
        "-t",
        str(args.threads),
        "-c",
        str(args.concurrency),
        "-d",
        "600s",
        "--timeout",
        "30s",
        "-s",
        str(script),
    ]
    if cookies:
        argv += ["-H", "Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items())]
        if "csrftoken" in cookies:
            argv += ["-H", f"x-csrftoken: {cookies['csrftoken']}"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    argv += [url, "--", str(per_thread), mode, *extra]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finished = 0
    result = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("THREAD-DONE"):
            finished += 1
            if finished == args.threads:
                proc.send_signal(signal.SIGINT)  # wrk otherwise sleeps out its -d
        elif line.startswith("{"):
            result = json.loads(line)
    proc.wait()
    err = proc.stderr.read() if proc.stderr else ""
    shutil.rmtree(workdir, ignore_errors=True)
    if result is None:
        raise SystemExit(f"wrk gave no result: {err}")
    if err.strip():
        print("  wrk:", err.strip().splitlines()[:3], flush=True)
    seconds = result["duration_us"] / 1e6
    return {
        "requests": result["requests"],
        "rps": result["requests"] / seconds,
        "p50": result["p50_us"] / 1000,
        "p95": result["p95_us"] / 1000,
        "p99": result["p99_us"] / 1000,
        "errors": result["bad_status"] + result["socket_errors"],
    }


async def _httpx_load(url, cookies, total, concurrency, mode, fields, extra=None) -> dict:
    import uuid

    import httpx

    latencies: list[float] = []
    errors = 0
    issued = 0
    headers = {"x-csrftoken": cookies.get("csrftoken", "")} if cookies else {}
    headers.update(extra or {})

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal issued, errors
        while issued < total:
            issued += 1
            t = time.perf_counter()
            if mode == "post":
                data = dict(fields or [])
                data["idempotency_key"] = uuid.uuid4().hex
                files = {k: (None, v) for k, v in data.items()}
                r = await client.post(url, files=files, headers=headers)
                ok = r.status_code == 303
            else:
                r = await client.get(url, headers=headers)
                ok = r.status_code == 200
            latencies.append((time.perf_counter() - t) * 1000)
            errors += not ok

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(cookies=cookies, limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*[worker(client) for _ in range(concurrency)])
        seconds = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / seconds,
        "p50": statistics.median(latencies),
        "p95": latencies[int(len(latencies) * 0.95) - 1],
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "errors": errors,
    }


def measure(client: str, url, cookies, total, args, mode="get", fields=None, headers=None):
    if client == "wrk":
        return run_wrk(url, cookies, total, args, mode, fields, headers)
    return asyncio.run(_httpx_load(url, cookies, total, args.concurrency, mode, fields, headers))


# ---------------------------------------------------------------- main


def same_rows(plan) -> dict[str, str]:
    """Each baseline page and the app's page it stands for show the same case numbers."""
    import re

    import httpx

    pattern = re.compile(r"\d{4}-\d{6}")
    pages = {}
    for name, url, cookies, mode, _headers in plan:
        if mode == "get" and (name.startswith(("list:", "baseline:"))):
            pages[name] = set(pattern.findall(httpx.get(url, cookies=cookies, timeout=60).text))
    result = {}
    pairs = [(n, n.replace("list:", "baseline:")) for n in pages if n.startswith("list:")]
    for page, _ in pairs:
        kind = "search" if "search" in page else "filtered"
        scope = "county" if "county" in page else "town"
        base = f"baseline: {kind}, {scope} scope"
        if base in pages:
            same = "same" if pages[page] == pages[base] else "DIFFERENT"
            result[page] = f"{same} ({len(pages[page])} cases on the page)"
    return result


def county_user(base: str) -> tuple[str, dict[str, str]]:
    """admin if the case list lets admin in, else the county centre (centre2)."""
    import httpx

    for username in ("admin", "centre2"):
        cookies = sign_in(base, username)
        r = httpx.get(base + "/cases?" + LIST_QUERY, cookies=cookies)
        if r.status_code == 200:
            return username, cookies
        print(f"  /cases as {username}: HTTP {r.status_code}", flush=True)
    raise SystemExit("no county-scope user can open /cases")


def _app_server(name: str, env: dict[str, str], ablate: str = "") -> Server:
    port = free_port()
    if ablate:
        argv = [sys.executable, str(Path(__file__).resolve()), "--serve-app", str(port)]
        argv += ["--ablate", ablate, *_db_args(env)]
    else:
        argv = [sys.executable, "-m", "uvicorn", "mediation.asgi:app", "--host", "127.0.0.1"]
        argv += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    return Server(name, argv, port, env)


def _db_args(env: dict[str, str]) -> list[str]:
    engine = "postgres" if env["DATABASE_URL"].startswith("postgres") else "sqlite"
    argv = ["--engine", engine, "--data-dir", env["MEDIATION_DATA_DIR"]]
    if engine == "postgres":
        argv += ["--pg-url", env["DATABASE_URL"]]
    return argv


def main() -> int:
    args = parse_args()
    env = configure_env(args)
    if args.serve_baseline:
        serve_baseline(args.serve_baseline)
        return 0
    if args.serve_app:
        serve_app(args.serve_app, {a for a in args.ablate.split(",") if a})
        return 0
    client = args.client or ("wrk" if shutil.which("wrk") else "httpx")
    print(
        f"engine {args.engine}, {args.cases} cases, {args.requests} requests x "
        f"{args.concurrency} concurrent, {args.repeat} round(s), client {client}",
        flush=True,
    )
    info = asyncio.run(prepare_database(args))
    print(f"database ready: {info}", flush=True)
    plans = asyncio.run(explain(args))
    grid1_id = asyncio.run(_grid1_id())

    base_port = free_port()
    baseline_server = Server(
        "baseline",
        [sys.executable, str(Path(__file__).resolve()), "--serve-baseline", str(base_port)]
        + _db_args(env),
        base_port,
        env,
    )
    app_server = _app_server("app", env)
    variants = []
    if args.breakdown:
        variants = [
            (label, ablate, htmx, _app_server(f"variant-{i}", env, ablate or "none"))
            for i, (label, ablate, htmx) in enumerate(BREAKDOWN_VARIANTS)
        ]
    servers = [baseline_server, app_server, *(v[3] for v in variants)]
    results: dict[str, list[dict]] = {}
    try:
        baseline_server.wait_ready("/health")
        for server in servers[1:]:
            server.wait_ready("/login")
        app, baseline = app_server.url, baseline_server.url
        centre = sign_in(app, "centre1")
        county_name, county = county_user(app)
        grid1 = sign_in(app, "grid1")
        # (name, url, cookies, mode, extra headers)
        plan: list[tuple[str, str, dict[str, str], str, dict[str, str] | None]] = [
            (
                "baseline: filtered, town scope",
                f"{baseline}/cases?{LIST_QUERY}&area={TOWN_PATH}",
                {},
                "get",
                None,
            ),
            ("list: filtered, centre1 (town)", f"{app}/cases?{LIST_QUERY}", centre, "get", None),
            (
                "baseline: filtered, county scope",
                f"{baseline}/cases?{LIST_QUERY}&area={COUNTY_PATH}",
                {},
                "get",
                None,
            ),
            (
                f"list: filtered, {county_name} (county)",
                f"{app}/cases?{LIST_QUERY}",
                county,
                "get",
                None,
            ),
            (
                "baseline: search, town scope",
                f"{baseline}/cases?{SEARCH_QUERY}&area={TOWN_PATH}",
                {},
                "get",
                None,
            ),
            ("list: search q, centre1 (town)", f"{app}/cases?{SEARCH_QUERY}", centre, "get", None),
            ("intake: POST /cases/new, grid1", f"{app}/cases/new", grid1, "post", None),
        ]
        for label, _ablate, htmx, server in variants:
            cookies = sign_in(server.url, "centre1")
            headers = {"HX-Request": "true"} if htmx else None
            for page, path, _base in BREAKDOWN_PAGES:
                plan.append((f"{page}: {label}", server.url + path, cookies, "get", headers))
        info["same_rows"] = same_rows(plan)
        print(f"  baseline and app list the same cases: {info['same_rows']}", flush=True)
        info["load_before"] = os.getloadavg()
        only = {s.strip() for s in args.only.split(",") if s.strip()}
        plan = [p for p in plan if not only or any(o in p[0] for o in only)]
        fields = intake_fields(grid1_id)
        for round_ in range(args.repeat):
            for name, url, cookies, mode, headers in plan:
                form = fields if mode == "post" else None
                if round_ == 0:  # warm up: templates compiled, pool filled, caches primed
                    measure(
                        client, url, cookies, min(200, args.requests), args, mode, form, headers
                    )
                result = measure(client, url, cookies, args.requests, args, mode, form, headers)
                results.setdefault(name, []).append(result)
                print(
                    f"  [{round_ + 1}/{args.repeat}] {name}: {result['rps']:.0f} req/s, "
                    f"p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, "
                    f"errors {result['errors']}",
                    flush=True,
                )
    finally:
        for server in servers:
            server.stop()
    info["load_after"] = os.getloadavg()
    report = render(args, client, info, results, plans)
    print(report)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"cases-{args.engine}.md").write_text(report, encoding="utf-8")
    return 0


async def _grid1_id() -> int:
    from mediation import db
    from mediation.grid.tables import Grid

    await db.start()
    try:
        row = await Grid.select(Grid.id).where(Grid.code == "330482001001-01").first()
        assert row is not None, "the demo county has grid 330482001001-01"
        return row["id"]
    finally:
        await db.stop()


def _load(values) -> str:
    return "/".join(f"{v:.1f}" for v in values) if values else "?"


BREAKDOWN_PAGES = [
    ("search", f"/cases?{SEARCH_QUERY}", f"/cases?{SEARCH_QUERY}&area={TOWN_PATH}"),
    ("filtered", f"/cases?{LIST_QUERY}", f"/cases?{LIST_QUERY}&area={TOWN_PATH}"),
]
BREAKDOWN_VARIANTS = [
    ("app as it is", "", False),
    ("app as it is, htmx request (rows only)", "", True),
    ("sessions in memory", "sessions", False),
    ("sessions in memory, no CSRF/rate-limit/locale middleware", "sessions,middleware", False),
    ("same, htmx request (rows only)", "sessions,middleware", True),
]


def _median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["p50"])[len(runs) // 2]


def render(args, client: str, info: dict, results: dict[str, list[dict]], plans) -> str:
    best = {name: _median_run(runs) for name, runs in results.items()}

    def ratio(page: str, base: str) -> str:
        if page in best and base in best:
            return f"{best[page]['p50'] / best[base]['p50']:.2f}×"
        return "n/a"

    def row(name: str) -> str:
        r = best[name]
        rounds = " / ".join(f"{x['p50']:.0f}" for x in results[name])
        return (
            f"| {name} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} "
            f"| {sum(x['errors'] for x in results[name])} | {rounds} |"
        )

    lines = [
        f"# Case list and intake benchmark — {args.engine}",
        "",
        f"{datetime.now():%Y-%m-%d %H:%M}, {info.get('cases')} cases in the database, "
        f"{args.requests} requests per row at concurrency {args.concurrency} "
        f"(client: {client}, {args.threads} threads), after a 200-request warm-up; "
        f"{args.repeat} round(s), every row once per round in turn, the median round shown; "
        f"{os.cpu_count()} CPUs, server and client on the same machine; "
        f"ANALYZE run: {info.get('analyzed', 'n/a (reused)')}. Load average before/after: "
        f"{_load(info.get('load_before'))} / {_load(info.get('load_after'))} (other work on "
        "the machine skews absolute numbers; compare rows of the same run).",
        "",
        f"Baseline and app pages list the same cases: {info.get('same_rows')}.",
        "",
        "| measurement | req/s | p50 ms | p95 ms | p99 ms | errors | p50 of each round |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    main_rows = [n for n in results if n.startswith(("list:", "baseline:", "intake:"))]
    lines += [row(n) for n in main_rows]
    county = next((n for n in best if n.startswith("list: filtered") and "county" in n), "")
    lines += [
        "",
        "Ratio of list-page p50 to the bare handler's p50 (target ≤ 2×):",
        "",
        "- filtered, town scope: "
        + ratio("list: filtered, centre1 (town)", "baseline: filtered, town scope"),
        "- filtered, county scope: " + ratio(county, "baseline: filtered, county scope"),
        "- text search, town scope: "
        + ratio("list: search q, centre1 (town)", "baseline: search, town scope"),
        "",
    ]
    variants = [n for n in results if n not in main_rows]
    if variants:
        lines += [
            "## Where the list page's time goes",
            "",
            "centre1's list pages served by the real app with parts swapped for near-free "
            "stand-ins (`--breakdown`, see `serve_app`), measured in the same rounds as the "
            "table above; the last column divides by the matching baseline row's p50:",
            "",
            "| variant | req/s | p50 ms | p95 ms | p99 ms | errors | p50 of each round "
            "| p50 / baseline |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
        ]
        for name in variants:
            page = name.split(":")[0]
            base = f"baseline: {page}, town scope"
            lines.append(row(name) + f" {ratio(name, base)} |")
        lines.append("")
    lines += ["## Query plans", ""]
    for label, text in plans.items():
        lines += [f"### {label}", "", "```", text, "```", ""]
    if "bulk_seconds" in info:
        lines.append(
            f"Loading: demo {info['demo_seconds']:.1f} s, bulk {info['bulk_seconds']:.1f} s."
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
