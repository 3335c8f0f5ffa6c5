#!/usr/bin/env python
"""Load a province-sized data set into a fresh PostgreSQL database, set-based.

Run on demand (not a test):

    .venv/bin/python benchmarks/gen_million.py --pg-url postgresql://postgres@127.0.0.1:5432/bench_million

What it does, in one process:
1. drops and creates the database (only names starting with ``bench``), runs the app's
   migrations (``mediation.db.migrate``) and loads the demo county (regions, grids, staff,
   mediators, departments, a few hundred hand-made cases and suggestions);
2. widens the county: ``--towns`` more towns with ``--communities`` communities each and two
   grids per community (so a town is a small share of the county, as in a prefecture);
3. with the secondary indexes dropped and foreign-key triggers off (``session_replication_role
   = replica``), ``INSERT … SELECT generate_series`` loads, by default:
   - 1,000,000 cases over the last three years (registration times in Beijing office hours),
     numbered per year after the demo's numbers, categories weighted as a county reports them,
     about 5 % open (young cases mostly open, old ones closed), outcomes, agreement forms,
     conclusion and closing dates, ``search_text`` as the app writes it;
   - 2,000,000 parties (an applicant and a respondent per case; one respondent in ten an
     organisation), names drawn from common surnames by their frequency and common given
     names, so a whole name such as 王芳 has a few hundred hits; mobile numbers; the encrypted
     ID fields empty (as for a party whose ID was not taken);
   - about 3.8 M case events (registered, mediation started, settled/terminated, closed,
     declined), a mediator assignment per mediated case (active while the case is open),
   - 200,000 suggestions over three years with their received events, texts drawn from the
     demo's suggestions, spread over every community and department;
4. recreates the indexes on two connections while two more build the report rollups, each
   straight from the cases by one statement of its own (``build_case_stat``, the daily
   rows; ``build_case_rollup``, the monthly rows), then runs VACUUM ANALYZE; prints the time
   of each step and the row counts. The two statements are equivalent to
   ``mediation.reports.rollups.rebuild_rollups`` (checked equal to it on the demo county
   first, before the bulk load); ``--python-rollups`` calls the app's function instead
   (about half an hour at a million cases).

Random draws are seeded (``--seed``), so two runs load the same data.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Weighted as a county's statistics show them (per 100 cases).
CATEGORY_WEIGHTS = {
    "neighbour": 18,
    "housing_land": 10,
    "marriage_family": 10,
    "property_mgmt": 9,
    "labour": 8,
    "contract": 7,
    "damages": 7,
    "traffic": 6,
    "business": 5,
    "consumer": 5,
    "pollution": 4,
    "village_affairs": 3,
    "land_requisition": 3,
    "forest_land": 2,
    "medical": 2,
    "other": 1,
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
    "village_affairs": ["村集体分红分配纠纷", "村道占用纠纷"],
    "land_requisition": ["征迁补偿款分配纠纷", "青苗补偿归属纠纷"],
    "forest_land": ["承包地田埂纠纷", "土地流转租金拖欠"],
    "medical": ["诊所输液不良反应赔偿", "种植牙退费纠纷"],
    "other": ["广场舞噪音扰民", "微信群言语冲突"],
}
# Surnames by their share of the population (per mille, rounded; the tail lumped in).
SURNAMES = {
    "王": 72,
    "李": 72,
    "张": 68,
    "刘": 54,
    "陈": 50,
    "杨": 33,
    "黄": 24,
    "赵": 23,
    "吴": 21,
    "周": 21,
    "徐": 18,
    "孙": 15,
    "马": 15,
    "朱": 14,
    "胡": 13,
    "郭": 12,
    "何": 12,
    "高": 11,
    "林": 11,
    "罗": 11,
    "郑": 10,
    "梁": 10,
    "谢": 8,
    "宋": 8,
    "唐": 8,
    "许": 7,
    "韩": 7,
    "冯": 7,
    "邓": 7,
    "曹": 7,
    "彭": 6,
    "曾": 6,
    "肖": 6,
    "田": 6,
    "董": 6,
    "袁": 5,
    "潘": 5,
    "于": 5,
    "蒋": 5,
    "蔡": 5,
    "余": 5,
    "杜": 5,
    "叶": 5,
    "程": 5,
    "苏": 4,
    "魏": 4,
    "吕": 4,
    "丁": 4,
    "任": 4,
    "沈": 6,
    "陆": 5,
    "顾": 5,
    "钱": 3,
    "姚": 3,
    "卢": 3,
    "姜": 3,
    "崔": 3,
    "钟": 3,
    "谭": 3,
    "金": 3,
    "屠": 2,
    "褚": 2,
    "俞": 3,
    "戴": 3,
    "范": 3,
    "方": 3,
    "石": 3,
    "贾": 2,
    "夏": 2,
    "韦": 2,
    "付": 2,
    "邹": 2,
}
# Common one-character given names (a two-character whole name such as 王芳) ...
GIVEN_ONE = (
    "芳 伟 静 敏 磊 军 勇 艳 杰 娟 涛 明 超 霞 平 刚 桂 英 华 玲 燕 辉 鹏 萍 红 斌 丹 浩 宇 强 "
    "波 俊 峰 亮 健 婷 琳 雪 梅 鑫 斌 凯 丽 霞 欣 洁 颖 晨 琴 云 龙 飞 彬 帆 莉 蓉 倩 玉 兰 荣"
).split()
# ... and the two characters of the more common three-character names (王秀英).
GIVEN_FIRST = list("秀建国志美丽海小文晓春金玉红永雪德家佳思子雨梓欣嘉俊新立卫根")
GIVEN_SECOND = list("英华强明娟芬萍燕平军东林宝兰杰琴霞峰辉豪轩涵怡宇萱涛敏伟勇生")
ORGANISATIONS = [
    "物业服务有限公司",
    "建筑工程有限公司",
    "服装有限公司",
    "餐饮管理有限公司",
    "汽车销售服务有限公司",
    "装饰工程有限公司",
    "电子科技有限公司",
    "农业专业合作社",
]
SOURCES = (
    ("door_knocking", 20),
    ("walk_in", 25),
    ("phone", 15),
    ("police_referral", 12),
    ("hotline_12345", 15),
    ("direct_report_point", 5),
    ("suggestion", 2),
    ("referral", 6),
)
SUGGESTION_CHANNELS = (
    ("web", 35),
    ("direct_report_point", 20),
    ("phone", 15),
    ("hotline_12345", 15),
    ("open311", 10),
    ("letter", 5),
)
TOWN_NAMES = (
    "乍浦镇 独山港镇 曹桥街道 广陈镇 林埭镇 黄姑镇 全塘镇 新仓镇 虹霓镇 徐埭镇 "
    "白马堰镇 三叉河镇 城北街道 城南街道 港区街道 东湖街道 西湖镇 南桥镇 北港镇 中心镇"
).split()
COMMUNITY_SUFFIXES = "新村 社区 村 港村 桥村 浜村 塘村 埭村 家村 圩村 庙村 湾社区".split()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--pg-url",
        default="postgresql://postgres@127.0.0.1:5432/bench_million",
        help="database to drop and create (its name must start with 'bench')",
    )
    p.add_argument("--cases", type=int, default=1_000_000)
    p.add_argument("--suggestions", type=int, default=200_000)
    p.add_argument("--towns", type=int, default=17, help="towns added to the demo's three")
    p.add_argument("--communities", type=int, default=8, help="communities per added town")
    p.add_argument("--seed", type=float, default=0.42, help="PostgreSQL setseed() value")
    p.add_argument(
        "--python-rollups",
        action="store_true",
        help="rebuild the rollups with mediation.reports.rollups.rebuild_rollups (slow)\n"
        "instead of the equivalent set-based statement",
    )
    p.add_argument(
        "--monthly-only",
        action="store_true",
        help="on an existing database: run the migrations and rebuild only the monthly\n"
        "rollup from the cases (set-based), nothing dropped or generated",
    )
    p.add_argument("--data-dir", default="/tmp/mediation-bench-million")
    return p.parse_args(argv)


def configure_env(args: argparse.Namespace) -> None:
    os.environ.update(
        {
            "DATABASE_URL": args.pg_url,
            "MEDIATION_DATA_DIR": args.data_dir,
            "RUN_BACKGROUND_TASKS": "0",
            "SECRET_KEY": os.environ.get(
                "SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef"
            ),
            "FIELD_KEY": os.environ.get(
                "FIELD_KEY", "bench-field-key-not-for-production-0123456789abcdef"
            ),
        }
    )


def _weighted(pairs) -> list[str]:
    """A list in which each value appears as often as its weight: pick one by uniform index."""
    out: list[str] = []
    for value, weight in pairs:
        out.extend([value] * weight)
    return out


def _array(values: list[str]) -> str:
    """A PostgreSQL text[] literal of plain values (no quotes or commas in them)."""
    for v in values:
        assert not any(c in v for c in "'\",{}\\"), v
    return "'{" + ",".join(f'"{v}"' for v in values) + "}'::text[]"


def _pick(array: str, r: str) -> str:
    """SQL: the element of ``array`` at a uniform index drawn from ``r`` in [0, 1)."""
    return f"({array})[1 + floor({r} * cardinality({array}))::int]"


async def recreate(url: str) -> None:
    import asyncpg

    base, _, name = url.rpartition("/")
    if not name.startswith("bench"):
        raise SystemExit(f"refusing to drop the database {name!r} (name must start with bench)")
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


class Steps:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.times: list[tuple[str, float]] = []

    async def run(self, label: str, coro):
        t = time.perf_counter()
        result = await coro
        took = time.perf_counter() - t
        self.times.append((label, took))
        print(f"  {label:<44} {took:7.1f} s", flush=True)
        return result


LOADED_TABLES = ("case", "party", "case_event", "case_mediator", "suggestion", "suggestion_event")


async def drop_indexes(conn, tables: tuple[str, ...] = LOADED_TABLES) -> list[str]:
    """Drop the secondary indexes of ``tables``; returns their definitions."""
    rows = await conn.fetch(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        list(tables),
    )
    for r in rows:
        await conn.execute(f'DROP INDEX "{r["indexname"]}"')
    return [r["indexdef"] for r in rows]


async def widen_county(conn, towns: int, communities: int) -> None:
    county = await conn.fetchrow("SELECT id, code, path FROM region WHERE level = 'county'")
    for t in range(towns):
        code = f"{county['code']}{150 + t:03d}"
        name = TOWN_NAMES[t % len(TOWN_NAMES)] + ("" if t < len(TOWN_NAMES) else str(t))
        town_path = f"{county['path']}{code}/"
        town_id = await conn.fetchval(
            "INSERT INTO region (code, name, level, parent, path) "
            "VALUES ($1, $2, 'town', $3, $4) RETURNING id",
            code,
            name,
            county["id"],
            town_path,
        )
        for c in range(communities):
            ccode = f"{code}{c + 1:03d}"
            cname = name[:-1] + COMMUNITY_SUFFIXES[c % len(COMMUNITY_SUFFIXES)]
            cid = await conn.fetchval(
                "INSERT INTO region (code, name, level, parent, path) "
                "VALUES ($1, $2, 'community', $3, $4) RETURNING id",
                ccode,
                cname + (str(c + 1) if c >= len(COMMUNITY_SUFFIXES) else ""),
                town_id,
                f"{town_path}{ccode}/",
            )
            for g in range(2):
                await conn.execute(
                    "INSERT INTO grid (code, name, region, boundary, police_beat) "
                    "VALUES ($1, $2, $3, '', '')",
                    f"{ccode}G{g + 1}",
                    f"{cname}第{g + 1}网格",
                    cid,
                )


async def load_cases(conn, n: int, county_code: str) -> None:
    categories = _weighted(CATEGORY_WEIGHTS.items())
    cat_arr = _array(categories)
    # Summary per category: a CASE over the category code.
    summary_case = "CASE c.category " + " ".join(
        f"WHEN '{code}' THEN {_pick(_array(SUMMARIES[code]), 'c.r_sum')}" for code in SUMMARIES
    )
    summary_case += " ELSE '其他纠纷' END"
    surnames = _array(_weighted(SURNAMES.items()))
    one, first, second = _array(GIVEN_ONE), _array(GIVEN_FIRST), _array(GIVEN_SECOND)

    def name(r1: str, r2: str, r3: str, r4: str) -> str:
        return (
            f"{_pick(surnames, r1)} || CASE WHEN {r2} < 0.45 THEN {_pick(one, r3)} "
            f"ELSE {_pick(first, r3)} || {_pick(second, r4)} END"
        )

    sources = _array(_weighted(SOURCES))
    orgs = _array(ORGANISATIONS)
    await conn.execute("DROP TABLE IF EXISTS gen_grid; DROP TABLE IF EXISTS gen_case")
    await conn.execute(
        """
        CREATE UNLOGGED TABLE gen_grid AS
        SELECT row_number() OVER (ORDER BY g.id) AS idx, g.id, g.name, r.path, r.name AS place,
               (SELECT t.staff FROM team_member t WHERE t.grid = g.id AND t.role = 'grid_worker'
                ORDER BY t.id LIMIT 1) AS worker
        FROM grid g JOIN region r ON r.id = g.region
        """
    )
    grids = await conn.fetchval("SELECT count(*) FROM gen_grid")
    # Draws, then the statuses and dates that follow from them.
    await conn.execute(
        f"""
        CREATE UNLOGGED TABLE gen_case AS
        WITH d AS (
            SELECT i,
                   (current_date - 1 - floor(random() * 1095)::int) AS day,
                   8 * 60 + floor(random() * 600)::int AS minute,
                   1 + floor(random() * {grids})::int AS grid_idx,
                   random() AS r_cat, random() AS r_sum, random() AS r_open, random() AS r_st,
                   random() AS r_col, random() AS r_lvl, random() AS r_src, random() AS r_out,
                   random() AS r_form, random() AS r_amt, random() AS r_d1, random() AS r_d2,
                   random() AS r_d3, random() AS r_d4,
                   random() AS a1, random() AS a2, random() AS a3, random() AS a4,
                   random() AS b1, random() AS b2, random() AS b3, random() AS b4, random() AS b5,
                   random() AS p1, random() AS p2, random() AS r_med
            FROM generate_series(1, {n}) AS i
        ), s AS (
            SELECT d.*, current_date - d.day AS age,
                   {_pick(cat_arr, "d.r_cat")} AS category,
                   CASE
                     WHEN current_date - d.day < 3 THEN
                       CASE WHEN d.r_st < 0.6 THEN 'registered' ELSE 'accepted' END
                     WHEN d.r_open < CASE WHEN current_date - d.day < 30 THEN 0.85
                                          WHEN current_date - d.day < 120 THEN 0.2
                                          ELSE 0.01 END THEN
                       CASE WHEN d.r_st < 0.05 THEN 'registered'
                            WHEN d.r_st < 0.17 THEN 'accepted'
                            WHEN d.r_st < 0.62 THEN 'mediating'
                            WHEN d.r_st < 0.67 THEN 'settled'
                            WHEN d.r_st < 0.90 THEN 'performing'
                            WHEN d.r_st < 0.93 THEN 'performed'
                            WHEN d.r_st < 0.97 THEN 'breached'
                            ELSE 'terminated' END
                     WHEN d.r_st < 0.09 THEN 'declined'
                     ELSE 'closed'
                   END AS status
            FROM d
        ), t AS (
            SELECT s.*,
                   CASE WHEN s.status IN ('registered', 'declined') THEN NULL
                        ELSE least(s.day + floor(s.r_d1 * 3)::int, current_date) END AS accepted_on,
                   CASE WHEN s.status IN ('registered', 'declined', 'accepted') THEN NULL
                        ELSE least(s.day + 1 + floor(s.r_d1 * 3)::int + floor(s.r_d2 * 4)::int,
                                   current_date) END AS started_on,
                   CASE WHEN s.status IN ('terminated') THEN 'terminated'
                        WHEN s.status IN ('settled', 'performing', 'performed', 'breached')
                          THEN 'settled'
                        WHEN s.status = 'closed' THEN
                          CASE WHEN s.r_out < 0.86 THEN 'settled' ELSE 'terminated' END
                        ELSE '' END AS outcome
            FROM s
        ), u AS (
            SELECT t.*,
                   CASE WHEN t.outcome = '' THEN NULL
                        ELSE least(t.started_on + 1 + floor(t.r_d3 * 25)::int, current_date)
                   END AS concluded_on
            FROM t
        )
        SELECT u.*,
               CASE WHEN u.status = 'declined'
                      THEN least(u.day + 1 + floor(u.r_d1 * 3)::int, current_date)
                    WHEN u.status = 'closed'
                      THEN least(u.concluded_on + floor(u.r_d4 * 45)::int, current_date)
               END AS closed_on,
               {name("u.a1", "u.a2", "u.a3", "u.a4")} AS applicant,
               CASE WHEN u.b5 < 0.1
                    THEN {_pick("ARRAY['平湖市','嘉兴','浙江','平湖']", "u.b1")}
                         || {_pick(_array(list("恒泰嘉信众诚华远金盛宏达瑞丰")), "u.b2")}
                         || {_pick(orgs, "u.b3")}
                    ELSE {name("u.b1", "u.b2", "u.b3", "u.b4")} END AS respondent,
               u.b5 < 0.1 AS respondent_org
        FROM u
        """
    )
    base = await conn.fetchval('SELECT coalesce(max(id), 0) FROM "case"')
    await conn.execute(
        f"""
        CREATE UNLOGGED TABLE gen_case2 AS
        SELECT c.*, {base} + row_number() OVER (ORDER BY c.day, c.minute, c.i) AS id,
               ((c.day + c.minute * interval '1 minute')::timestamp
                 AT TIME ZONE 'Asia/Shanghai') AS registered_at,
               {_pick(sources, "c.r_src")} AS source,
               {summary_case} AS summary,
               g.id AS grid_id, g.path AS region_path, g.place AS location, g.worker
        FROM gen_case c JOIN gen_grid g ON g.idx = c.grid_idx
        """
    )
    await conn.execute("DROP TABLE gen_case; ALTER TABLE gen_case2 RENAME TO gen_case")
    await conn.execute(
        f"""
        ALTER TABLE gen_case ADD COLUMN number text;
        UPDATE gen_case c SET number = n.number FROM (
            SELECT g.id, '{county_code}-' || extract(year FROM g.day)::int || '-' ||
                   lpad((coalesce(cc.last_number, 0) + row_number() OVER (
                       PARTITION BY extract(year FROM g.day) ORDER BY g.id))::text, 6, '0')
                   AS number
            FROM gen_case g
            LEFT JOIN case_counter cc
              ON cc.key = '{county_code}-' || extract(year FROM g.day)::int
        ) n WHERE n.id = c.id
        """
    )
    await conn.execute(
        """
        INSERT INTO "case" (id, number, category, summary, facts, grid, region_path, source,
            colour, level, status, parties_consent, public_security_risk, amount, location,
            registered_on, registered_at, registered_by, accepted_on, mediation_started_on,
            closed_on, concluded_on, outcome, agreement_form, prevented_suicide,
            prevented_criminal_persons, prevented_petition_persons, prevented_fight_persons,
            found_by_screening, prevented, judicially_confirmed, extension_days, extensions,
            overdue, search_text, version, updated_at)
        SELECT c.id, c.number, c.category, c.summary,
               c.applicant || '与' || c.respondent || c.summary || '，请求调解。',
               c.grid_id, c.region_path, c.source,
               CASE WHEN c.r_col < 0.04 THEN 'red' WHEN c.r_col < 0.22 THEN 'yellow'
                    ELSE 'green' END,
               CASE WHEN c.r_lvl < 0.75 THEN 'grid' WHEN c.r_lvl < 0.90 THEN 'community'
                    WHEN c.r_lvl < 0.98 THEN 'town' ELSE 'county' END,
               c.status, true, c.r_lvl > 0.995,
               CASE WHEN c.r_amt < 0.45 THEN round((100 + c.r_amt * 200000)::numeric, -2) END,
               c.location, c.day, c.registered_at, c.worker, c.accepted_on, c.started_on,
               c.closed_on, c.concluded_on, c.outcome,
               CASE WHEN c.outcome = 'settled' THEN
                 CASE WHEN c.r_form < 0.75 THEN 'written' ELSE 'oral' END ELSE '' END,
               c.outcome <> '' AND c.r_form > 0.9995,
               CASE WHEN c.outcome <> '' AND c.r_med > 0.995 THEN 2 ELSE 0 END,
               CASE WHEN c.outcome <> '' AND c.r_med < 0.002 THEN 5 ELSE 0 END,
               CASE WHEN c.outcome <> '' AND c.r_med BETWEEN 0.5 AND 0.501 THEN 8 ELSE 0 END,
               c.source = 'door_knocking',
               c.outcome = 'settled' AND c.r_out < 0.1,
               c.outcome = 'settled' AND c.r_form BETWEEN 0.3 AND 0.36,
               0, 0, false,
               lower(c.number || ' ' || c.summary || ' ' || c.applicant || ' ' || c.respondent),
               1,
               coalesce((coalesce(c.closed_on, c.concluded_on, c.started_on, c.accepted_on,
                                  c.day)::timestamp + interval '10 hours')
                        AT TIME ZONE 'Asia/Shanghai', c.registered_at)
        FROM gen_case c
        """
    )
    await conn.execute(
        f"""
        INSERT INTO case_counter (key, last_number)
        SELECT '{county_code}-' || y, max(n) FROM (
            SELECT extract(year FROM registered_on)::int AS y,
                   split_part(number, '-', 3)::int AS n
            FROM "case" WHERE number LIKE '{county_code}-%'
        ) x GROUP BY y
        ON CONFLICT (key) DO UPDATE SET last_number = excluded.last_number
        """
    )


async def load_parties(conn) -> None:
    await conn.execute(
        """
        INSERT INTO party (id, "case", role, kind, name, id_number_encrypted, id_number_masked,
            id_number_digest, phone, address, representative, gender, ethnicity, birth_date,
            occupation, credit_code, legal_rep, legal_rep_title, agent_name, agent_relation,
            refuses_mediation, staff)
        SELECT nextval('party_id_seq'), x.id, x.role, x.kind, x.name, '', '', '', x.phone,
               x.address, '', x.gender, '', NULL, '', '', '', '', '', '', false, NULL
        FROM (
            SELECT c.id, 1 AS seq, 'applicant' AS role, 'person' AS kind, c.applicant AS name,
                   '13' || lpad(floor(c.p1 * 1e9)::bigint::text, 9, '0') AS phone,
                   c.location || (1 + floor(c.p2 * 40)::int) || '号' AS address,
                   CASE WHEN c.a2 < 0.5 THEN 'male' ELSE 'female' END AS gender
            FROM gen_case c
            UNION ALL
            SELECT c.id, 2, 'respondent',
                   CASE WHEN c.respondent_org THEN 'organisation' ELSE 'person' END,
                   c.respondent,
                   '15' || lpad(floor(c.p2 * 1e9)::bigint::text, 9, '0'),
                   c.location || (1 + floor(c.p1 * 40)::int) || '号',
                   CASE WHEN c.respondent_org THEN ''
                        WHEN c.b4 < 0.5 THEN 'male' ELSE 'female' END
            FROM gen_case c
            ORDER BY 1, 2
        ) x
        """
    )


async def load_events(conn) -> None:
    """Registered, mediation started, concluded, closed or declined: ~3.8 per case."""
    at = (
        "((({d})::timestamp + interval '9 hours' + {m} * interval '1 minute') "
        "AT TIME ZONE 'Asia/Shanghai')"
    )
    await conn.execute(
        f"""
        INSERT INTO case_event ("case", at, actor, action, from_status, to_status, changes, note)
        SELECT x.id, x.at, x.actor, x.action, x.from_status, x.to_status, '{{}}'::json, ''
        FROM (
            SELECT c.id, c.registered_at AS at, c.worker AS actor, 'registered' AS action,
                   '' AS from_status, 'registered' AS to_status
            FROM gen_case c
            UNION ALL
            SELECT c.id, {at.format(d="c.started_on", m="c.minute % 60")}, NULL,
                   'start_mediation', 'accepted', 'mediating'
            FROM gen_case c WHERE c.started_on IS NOT NULL
            UNION ALL
            SELECT c.id, {at.format(d="c.concluded_on", m="c.minute % 90")}, NULL,
                   CASE c.outcome WHEN 'settled' THEN 'settle' ELSE 'terminate' END,
                   'mediating', c.outcome
            FROM gen_case c WHERE c.concluded_on IS NOT NULL
            UNION ALL
            SELECT c.id, {at.format(d="c.closed_on", m="c.minute % 120")}, NULL,
                   CASE c.status WHEN 'closed' THEN 'close' ELSE 'decline' END,
                   CASE c.status WHEN 'closed' THEN
                     CASE c.outcome WHEN 'settled' THEN 'performed' ELSE 'terminated' END
                     ELSE 'registered' END,
                   c.status
            FROM gen_case c WHERE c.closed_on IS NOT NULL
            ORDER BY 1, 2
        ) x
        """
    )


async def load_assignments(conn) -> None:
    """One mediator per mediated case, active while the case is open."""
    await conn.execute(
        """
        INSERT INTO case_mediator ("case", mediator, assigned_at, assigned_by, active,
                                   ended_reason)
        SELECT c.id, m.id,
               ((c.started_on::timestamp + interval '9 hours') AT TIME ZONE 'Asia/Shanghai'),
               NULL, c.status NOT IN ('closed', 'declined'), ''
        FROM gen_case c
        JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k,
                     count(*) OVER () AS total FROM mediator) m
          ON m.k = floor(c.r_med * m.total)::int
        WHERE c.started_on IS NOT NULL
        ORDER BY c.id
        """
    )


async def load_suggestions(conn, n: int) -> None:
    channels = _array(_weighted(SUGGESTION_CHANNELS))
    await conn.execute("DROP TABLE IF EXISTS gen_sugg_text; DROP TABLE IF EXISTS gen_place")
    await conn.execute(
        """
        CREATE UNLOGGED TABLE gen_sugg_text AS
        SELECT row_number() OVER (ORDER BY id) AS idx, title, reason, measures, category
        FROM suggestion;
        CREATE UNLOGGED TABLE gen_place AS
        SELECT row_number() OVER (ORDER BY id) AS idx, id, path, name FROM region
        WHERE level = 'community';
        """
    )
    texts = await conn.fetchval("SELECT count(*) FROM gen_sugg_text")
    places = await conn.fetchval("SELECT count(*) FROM gen_place")
    departments = await conn.fetchval("SELECT array_agg(id ORDER BY id) FROM department")
    statuses = _array(
        _weighted(
            [
                ("concluded", 60),
                ("closed", 20),
                ("replied", 8),
                ("handling", 5),
                ("transferred", 3),
                ("registered", 2),
                ("received", 2),
            ]
        )
    )
    await conn.execute(
        f"""
        INSERT INTO suggestion (tracking_code, secret_digest, channel, point, call, title, reason,
            measures, proposer_name, proposer_phone, reply_by_phone, confidential,
            consent_to_publish, category, region, region_path, status, department, outcome,
            reply_text, replied_at, rating, times_reopened, reward_tier, group_leader, "case",
            received_on, route_due, conclude_due, extension_days, extensions, overdue,
            created_at, version, account_id, address, address_id, lat, long, media_url,
            proposer_email)
        SELECT 'JY-' || extract(year FROM x.day)::int || '-Z' || upper(lpad(to_hex(x.i), 5, '0')),
               repeat('0', 64), x.channel, NULL, NULL,
               t.title, t.reason, t.measures, '', '', false, x.r1 < 0.1, x.r1 > 0.5,
               t.category, p.id, p.path, x.status,
               CASE WHEN x.status IN ('received', 'registered') THEN NULL
                    ELSE ($1::int[])[1 + floor(x.r2 * cardinality($1::int[]))::int] END,
               CASE WHEN x.status IN ('concluded', 'closed', 'replied') THEN
                 CASE WHEN x.r3 < 0.2 THEN 'adopted' WHEN x.r3 < 0.5 THEN 'partly_adopted'
                      ELSE 'for_reference' END ELSE '' END,
               CASE WHEN x.status IN ('concluded', 'closed', 'replied') THEN '感谢您的建议。'
                    ELSE '' END,
               CASE WHEN x.status IN ('concluded', 'closed', 'replied') THEN
                 ((least(x.day + 3 + floor(x.r4 * 20)::int, current_date))::timestamp
                   + interval '10 hours') AT TIME ZONE 'Asia/Shanghai' END,
               CASE WHEN x.status = 'concluded' THEN
                 CASE WHEN x.r4 < 0.7 THEN 'satisfied' WHEN x.r4 < 0.92 THEN 'basically_satisfied'
                      ELSE 'dissatisfied' END ELSE '' END,
               CASE WHEN x.r4 > 0.97 THEN 1 ELSE 0 END,
               CASE WHEN x.r3 < 0.02 THEN 'gold' WHEN x.r3 < 0.06 THEN 'silver'
                    WHEN x.r3 < 0.12 THEN 'bronze' ELSE '' END,
               NULL, NULL,
               x.day, x.day + 7, x.day + 30, 0, 0, false,
               ((x.day + x.minute * interval '1 minute')::timestamp AT TIME ZONE 'Asia/Shanghai'),
               1, '', p.name, '', NULL, NULL, '', ''
        FROM (
            SELECT i, current_date - 1 - floor(random() * 1095)::int AS day,
                   floor(random() * 1440)::int AS minute,
                   {_pick(channels, "random()")} AS channel,
                   {_pick(statuses, "random()")} AS status,
                   1 + floor(random() * {texts})::int AS text_idx,
                   1 + floor(random() * {places})::int AS place_idx,
                   random() AS r1, random() AS r2, random() AS r3, random() AS r4
            FROM generate_series(1, {n}) AS i
        ) x
        JOIN gen_sugg_text t ON t.idx = x.text_idx
        JOIN gen_place p ON p.idx = x.place_idx
        ORDER BY x.day, x.minute
        """,
        departments,
    )
    await conn.execute(
        """
        INSERT INTO suggestion_event (suggestion, at, actor, action, from_status, to_status,
                                      note, public)
        SELECT s.id, s.created_at, NULL, 'received', '', 'received', '', true
        FROM suggestion s WHERE s.tracking_code LIKE 'JY-%-Z%'
        ORDER BY s.id
        """
    )


# The report rollups, each built straight from the cases by one statement of its own (so the
# two run side by side on two connections): what ``mediation.reports.rollups.rebuild_rollups``
# computes case by case in Python (minutes at a million cases). The generator checks both
# agree with the app's on the demo county before it loads (``check_rollups``).
#
# CONTRIBUTIONS: per case, one row per measure it has a day for — the rows of
# ``mediation.reports.rollups.contributions`` (each counts one case).
CONTRIBUTIONS = """
SELECT c.grid, c.region_path, c.category, c.colour, c.source, c.level, c.amount,
       v.day, v.measure, v.days, v.detail, v.persons
FROM (
    -- Byte order ("C") for every text the rows are grouped and sorted by: the same groups,
    -- without the database collation's cost.
    SELECT id, grid, coalesce(region_path, '') COLLATE "C" AS region_path,
           coalesce(category, '') COLLATE "C" AS category,
           coalesce(colour, '') COLLATE "C" AS colour,
           coalesce(source, '') COLLATE "C" AS source, coalesce(level, '') COLLATE "C" AS level,
           coalesce(amount, 0) AS amount, registered_on, accepted_on, mediation_started_on,
           closed_on, status, prevented_suicide, prevented_criminal_persons,
           prevented_petition_persons, prevented_fight_persons, found_by_screening, prevented,
           judicially_confirmed, coalesce(agreement_form, '') COLLATE "C" AS agreement_form,
           CASE WHEN outcome IN ('settled', 'terminated') THEN concluded_on END AS concluded_on,
           outcome COLLATE "C" AS outcome
    FROM "case"
) c
CROSS JOIN LATERAL (VALUES
    (c.registered_on, 'received', -1, '', 0),
    (c.accepted_on, 'accepted', -1, '', 0),
    (CASE WHEN c.status = 'declined' THEN c.closed_on END, 'declined', -1, '', 0),
    (c.mediation_started_on, 'mediating', -1, '', 0),
    (c.concluded_on, c.outcome, greatest(c.concluded_on - c.registered_on, 0),
     CASE WHEN c.outcome = 'settled' THEN c.agreement_form ELSE '' END, 0),
    (CASE WHEN c.prevented_suicide THEN c.concluded_on END, 'prevent_suicide', -1, '', 0),
    (CASE WHEN c.prevented_criminal_persons <> 0 THEN c.concluded_on END, 'prevent_criminal',
     -1, '', c.prevented_criminal_persons),
    (CASE WHEN c.prevented_petition_persons <> 0 THEN c.concluded_on END, 'prevent_petition',
     -1, '', c.prevented_petition_persons),
    (CASE WHEN c.prevented_fight_persons <> 0 THEN c.concluded_on END, 'prevent_fight',
     -1, '', c.prevented_fight_persons),
    (CASE WHEN c.found_by_screening THEN c.concluded_on END, 'screened', -1, '', 0),
    (CASE WHEN c.prevented THEN c.concluded_on END, 'prevented', -1, '', 0),
    (CASE WHEN c.judicially_confirmed AND c.outcome = 'settled' THEN c.concluded_on END,
     'confirmed', -1, '', 0),
    (CASE WHEN c.status = 'closed' THEN c.closed_on END, 'closed', -1, '', 0)
) AS v(day, measure, days, detail, persons)
WHERE v.day IS NOT NULL
"""

# The daily rollup (``CaseStat``): the contributions summed per day and every dimension, in
# day order (as the app appends them day by day, so a period's rows lie together).
CASE_STAT_SQL = f"""
INSERT INTO case_stat (key, day, measure, grid, region_path, category, colour, source, level,
                       days, detail, n, persons, amount)
SELECT to_char(x.day, 'YYYY-MM-DD') || '|' || x.measure || '|' || x.grid || '|' ||
       x.category || '|' || x.colour || '|' || x.source || '|' || x.level || '|' ||
       x.days || '|' || x.detail,
       x.day, x.measure, x.grid, x.region_path, x.category, x.colour, x.source, x.level,
       x.days, x.detail, count(*), sum(x.persons), sum(x.amount)
FROM ({CONTRIBUTIONS}) x
GROUP BY x.day, x.measure, x.grid, x.region_path, x.category, x.colour, x.source, x.level,
         x.days, x.detail
ORDER BY x.day, x.measure
"""

# The monthly rollup (``CaseRollup``), as ``mediation.reports.rollups.expand`` coarsens each
# contribution: the total and the single dimensions ``rollups.DIMS`` gives each measure, summed
# per community first, then at every region containing the community (the root "", then each
# path prefix), looked up in a small table of the communities' ancestors.
_SUMS = "count(*)::int AS n, sum(s.persons)::int AS persons, sum(s.amount) AS amount"
CASE_ROLLUP_SQL = f"""
WITH contributions AS MATERIALIZED ({CONTRIBUTIONS}),
community AS MATERIALIZED (
    -- Step 1: the sums of each community (the grid as child), each split by its dimensions
    -- in one pass over the contributions it applies to (GROUPING SETS, one hash table per
    -- set), rather than one row per contribution and dimension.
    SELECT date_trunc('month', s.day)::date AS month, s.region_path, s.measure,
           CASE WHEN GROUPING(s.category) = 1 THEN '' ELSE 'category' END AS dim,
           CASE WHEN GROUPING(s.category) = 1 THEN '' ELSE s.category END AS value, {_SUMS}
    FROM contributions s
    GROUP BY 1, s.region_path, s.measure, GROUPING SETS ((), (s.category))
    UNION ALL
    SELECT date_trunc('month', s.day)::date, s.region_path, s.measure,
           CASE GROUPING(s.colour, s.source, s.level, s.grid) WHEN 7 THEN 'colour'
                WHEN 11 THEN 'source' WHEN 13 THEN 'level' ELSE 'child' END,
           CASE GROUPING(s.colour, s.source, s.level, s.grid) WHEN 7 THEN s.colour
                WHEN 11 THEN s.source WHEN 13 THEN s.level ELSE 'grid:' || s.grid END, {_SUMS}
    FROM contributions s
    WHERE s.measure IN ('received', 'settled', 'terminated')
    GROUP BY 1, s.region_path, s.measure,
             GROUPING SETS ((s.colour), (s.source), (s.level), (s.grid))
    UNION ALL
    SELECT date_trunc('month', s.day)::date, s.region_path, s.measure,
           CASE WHEN GROUPING(s.category) = 1 THEN 'form' ELSE 'category_form' END,
           CASE WHEN GROUPING(s.category) = 1 THEN s.detail
                ELSE s.category || '|' || s.detail END, {_SUMS}
    FROM contributions s
    WHERE s.measure = 'settled'
    GROUP BY 1, s.region_path, s.measure, s.detail, GROUPING SETS ((), (s.category))
    UNION ALL
    SELECT date_trunc('month', s.day)::date, s.region_path, s.measure, 'days', s.days::text,
           {_SUMS}
    FROM contributions s
    WHERE s.measure IN ('settled', 'terminated')
    GROUP BY 1, s.region_path, s.measure, s.days
),
ancestors AS (
    -- Each community's regions: the root "", then each path prefix, with the code of the
    -- next region down (NULL at the community itself: there the next level is the grid).
    SELECT p.region_path,
           CASE WHEN i = 0 THEN ''
                ELSE '/' || array_to_string(p.parts[1:i], '/') || '/' END AS at,
           p.parts[i + 1] AS child
    FROM (
        SELECT region_path, string_to_array(trim(BOTH '/' FROM region_path), '/') AS parts
        FROM (SELECT DISTINCT region_path FROM community) d
    ) p
    -- A constant range (which the planner counts right) cut at each path's depth.
    JOIN generate_series(0, 32) AS i ON i <= coalesce(cardinality(p.parts), 0)
),
levels AS (
    -- Step 2: each community's sums again at every region containing it; there the child
    -- is the next region down the community's path (from its total), not the grid.
    SELECT c.month, a.at AS region_path, c.measure, c.dim, c.value, c.n, c.persons, c.amount
    FROM community c JOIN ancestors a ON a.region_path = c.region_path
    WHERE c.dim <> 'child' OR a.child IS NULL
    UNION ALL
    SELECT c.month, a.at, c.measure, 'child', a.child, c.n, c.persons, c.amount
    FROM community c JOIN ancestors a ON a.region_path = c.region_path
    WHERE c.dim = '' AND a.child IS NOT NULL
      AND c.measure IN ('received', 'settled', 'terminated')
)
INSERT INTO case_rollup (key, month, region_path, measure, dim, value, n, persons, amount)
SELECT to_char(month, 'YYYY-MM-DD') || '|' || region_path || '|' || measure || '|' || dim ||
       '|' || value,
       month, region_path, measure, dim, value, sum(n), sum(persons), sum(amount)
FROM levels
GROUP BY month, region_path, measure, dim, value
HAVING sum(n) <> 0 OR sum(persons) <> 0 OR sum(amount) <> 0
ORDER BY month, region_path
"""

MONTHLY_COLUMNS = "key, month, region_path, measure, dim, value, n, persons, amount"

ROLLUP_COLUMNS = (
    "key, day, measure, grid, region_path, category, colour, source, level, days, detail, "
    "n, persons, amount"
)


async def _fill(conn, table: str, statement: str, bulk: bool) -> int:
    """Empty ``table`` and fill it with ``statement``; returns the rows written. ``bulk``:
    without its secondary indexes and unique constraints while it fills (put back after, as
    for the other tables)."""
    await conn.execute(f"TRUNCATE {table}")
    restore: list[str] = []
    if bulk:
        for r in await conn.fetch(
            "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
            "WHERE conrelid = $1::regclass AND contype = 'u'",
            table,
        ):
            await conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{r["conname"]}"')
            restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{r["conname"]}" {r["definition"]}')
        restore[:0] = await drop_indexes(conn, (table,))
    status = await conn.execute(statement)
    for statement in restore:
        await conn.execute(statement)
    return int(status.split()[-1])


async def build_case_stat(conn, bulk: bool = False) -> int:
    """``case_stat`` (daily rollup) from the cases, by one statement."""
    return await _fill(conn, "case_stat", CASE_STAT_SQL, bulk)


async def build_case_rollup(conn, bulk: bool = False) -> int:
    """``case_rollup`` (monthly rollup) from the cases, by one statement."""
    rows = await _fill(conn, "case_rollup", CASE_ROLLUP_SQL, bulk)
    # Also after an interrupted bulk fill, which left them dropped.
    if not await conn.fetchval(
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'case_rollup'::regclass "
        "AND contype = 'u'"
    ):
        await conn.execute(
            "ALTER TABLE case_rollup ADD CONSTRAINT case_rollup_key_key UNIQUE (key)"
        )
    await conn.execute(
        "CREATE INDEX IF NOT EXISTS case_rollup_scope ON case_rollup (region_path, month, dim)"
    )
    return rows


async def check_rollups(conn) -> None:
    """The statements above give exactly what the app's rebuild gave (on the demo county)."""
    await conn.execute(f"CREATE TEMP TABLE app_stat AS SELECT {ROLLUP_COLUMNS} FROM case_stat")
    await conn.execute(
        f"CREATE TEMP TABLE app_rollup AS SELECT {MONTHLY_COLUMNS} FROM case_rollup "
        "WHERE n <> 0 OR persons <> 0 OR amount <> 0"
    )
    await build_case_stat(conn)
    await build_case_rollup(conn)
    for table, mine, columns in (
        ("case_stat", "app_stat", ROLLUP_COLUMNS),
        ("case_rollup", "app_rollup", MONTHLY_COLUMNS),
    ):
        differ = await conn.fetchval(
            f"SELECT count(*) FROM ((SELECT {columns} FROM {mine} EXCEPT "
            f"SELECT {columns} FROM {table}) UNION ALL (SELECT {columns} "
            f"FROM {table} EXCEPT SELECT {columns} FROM {mine})) d"
        )
        rows = await conn.fetchval(f"SELECT count(*) FROM {mine}")
        await conn.execute(f"DROP TABLE {mine}")
        if differ or not rows:
            raise SystemExit(
                f"the set-based {table} differs from mediation.reports.rollups in {differ} "
                f"rows (of {rows}); use --python-rollups"
            )
        print(f"  set-based {table} equals the app's on the demo ({rows} rows)", flush=True)


async def monthly_only(args: argparse.Namespace, steps: Steps) -> None:
    """Bring an existing benchmark database up to the app's schema and fill the monthly
    rollup from its cases."""
    import asyncpg
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from mediation import db

    async def migrate():
        # The migrations alone: ``db.migrate`` would also fill the monthly rollup, in Python.
        await db.start()
        try:
            response = await run_forwards(app_name="all", migration_id="all", fake=False)
            if not response.success:
                raise SystemExit(response.message)
        finally:
            await db.stop()

    await steps.run("migrations", migrate())
    conn = await asyncpg.connect(args.pg_url)
    try:
        await conn.execute("SET maintenance_work_mem = '512MB'; SET work_mem = '256MB'")
        rows = await steps.run("monthly rollup (set-based)", build_case_rollup(conn, True))
        await steps.run("ANALYZE case_rollup", conn.execute("ANALYZE case_rollup"))
    finally:
        await conn.close()
    print(f"monthly rollup rows written: {rows:,}", flush=True)


async def recount_loads(conn) -> None:
    from mediation.cases.common import OPEN_STATUSES

    await conn.execute("DELETE FROM mediator_load")
    await conn.execute(
        "INSERT INTO mediator_load (mediator, open_cases) "
        'SELECT cm.mediator, count(*) FROM case_mediator cm JOIN "case" c ON c.id = cm."case" '
        "WHERE cm.active AND c.status = ANY($1::text[]) GROUP BY cm.mediator",
        list(OPEN_STATUSES),
    )


# Settings of every loading connection: foreign-key triggers off, room to sort and index.
LOAD_SETTINGS = (
    "SET session_replication_role = replica; SET maintenance_work_mem = '512MB'; "
    "SET max_parallel_maintenance_workers = 2; SET work_mem = '256MB'; "
)


# The rollup builders: their hash tables in memory (about 1 GB at a million cases, spilled to
# disk at 256 MB), no parallel workers (every core is busy with another step), and no JIT
# (seconds of compiling for these long statements, for nothing).
ROLLUP_SETTINGS = (
    "SET session_replication_role = origin; SET work_mem = '1GB'; "
    "SET max_parallel_workers_per_gather = 0; SET jit = off; SET enable_mergejoin = off"
)


async def _loader(url: str, seed: float | None = None):
    """A loading connection; ``seed``: its own random stream, so the data stay reproducible
    while steps run side by side."""
    import asyncpg

    conn = await asyncpg.connect(url)
    await conn.execute(LOAD_SETTINGS + (f"SELECT setseed({seed})" if seed is not None else ""))
    return conn


async def _side_by_side(url: str, steps: Steps, label: str, jobs: list) -> list:
    """Run ``jobs`` — (label, seed, function of a connection) — each on a connection of its
    own, and print the wall time of the whole phase."""
    conns = [await _loader(url, seed) for _label, seed, _job in jobs]
    try:
        return await steps.run(
            label,
            asyncio.gather(
                *(
                    steps.run(f"  {job_label}", job(conn))
                    for conn, (job_label, _seed, job) in zip(conns, jobs, strict=True)
                )
            ),
        )
    finally:
        for conn in conns:
            await conn.close()


async def _run_queue(url: str, statements: list[str], workers: int) -> None:
    """Execute ``statements`` on ``workers`` connections, each taking the next one free."""
    queue = list(statements)

    async def worker() -> None:
        conn = await _loader(url)
        try:
            while queue:
                await conn.execute(queue.pop(0))
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(workers)))


def _index_order(definitions: list[str]) -> list[str]:
    """Indexes of the big tables first, so the two builders finish together."""
    weight = {"case_event": 0, "party": 1, '"case"': 2, "case_mediator": 3, "suggestion": 4}

    def rank(definition: str) -> int:
        table = definition.split(" ON ", 1)[1].split()[0].replace("public.", "")
        return weight.get(table, 5)

    return sorted(definitions, key=rank)


async def generate(args: argparse.Namespace) -> None:
    import asyncpg

    from mediation import db
    from mediation.demo import load_demo
    from mediation.settings import get_settings

    steps = Steps()
    url = args.pg_url
    print(f"database {url}", flush=True)
    if args.monthly_only:
        await monthly_only(args, steps)
        return
    await steps.run("drop and create the database", recreate(url))

    async def schema_and_demo():
        await db.start()
        try:
            await db.migrate()
            print(await load_demo(), flush=True)
        finally:
            await db.stop()

    await steps.run("migrations and the demo county", schema_and_demo())
    conn = await _loader(url, args.seed)
    try:
        if not args.python_rollups:
            await steps.run("check the set-based rollups on the demo", check_rollups(conn))
        await steps.run(
            f"{args.towns} more towns, grids",
            widen_county(conn, args.towns, args.communities),
        )
        indexes = await steps.run("drop secondary indexes", drop_indexes(conn))
    finally:
        await conn.close()
    county = get_settings().county_code
    # Two cores: the cases and the suggestions load side by side, then what hangs off the
    # cases (parties, events, assignments) side by side; each step has its own seed.
    seed = args.seed
    await _side_by_side(
        url,
        steps,
        "cases and suggestions, side by side",
        [
            (f"{args.cases:,} cases", seed, lambda c: load_cases(c, args.cases, county)),
            (
                f"{args.suggestions:,} suggestions",
                seed / 2,
                lambda c: load_suggestions(c, args.suggestions),
            ),
        ],
    )
    await _side_by_side(
        url,
        steps,
        "parties, events, assignments, side by side",
        [
            ("parties", None, load_parties),
            ("case events", None, load_events),
            ("mediator assignments", None, load_assignments),
        ],
    )
    conn = await _loader(url)
    try:
        await conn.execute(
            "DROP TABLE IF EXISTS gen_case, gen_grid, gen_sugg_text, gen_place; "
            "SELECT setval('case_id_seq', (SELECT max(id) FROM \"case\")); "
            "SELECT setval('party_id_seq', (SELECT max(id) FROM party))"
        )
    finally:
        await conn.close()

    async def rollups():
        from mediation.reports.rollups import rebuild_rollups

        await db.start()
        try:
            return await rebuild_rollups()
        finally:
            await db.stop()

    async def rollup_sql(build):
        conn = await _loader(url)
        try:
            await conn.execute(ROLLUP_SETTINGS)
            return await build(conn, bulk=True)
        finally:
            await conn.close()

    # The rollups read the cases by a full scan: they need none of the indexes, so each is
    # built on a connection of its own while two more recreate the indexes.
    index_job = steps.run(
        f"  recreate {len(indexes)} indexes (two builders)",
        _run_queue(url, _index_order(indexes), workers=2),
    )
    if args.python_rollups:
        await steps.run("recreate indexes", index_job)
        rows = await steps.run("rebuild report rollups (app, in Python)", rollups())
    else:
        _done, rows, monthly = await steps.run(
            "indexes and rollups, side by side",
            asyncio.gather(
                index_job,
                steps.run("  daily rollup case_stat (set-based)", rollup_sql(build_case_stat)),
                steps.run(
                    "  monthly rollup case_rollup (set-based)", rollup_sql(build_case_rollup)
                ),
            ),
        )
        print(f"  monthly rollup rows: {monthly:,}", flush=True)
    conn = await asyncpg.connect(url)
    try:
        # The triggers that keep mediator loads were off while loading: count them once.
        await steps.run("mediator loads", recount_loads(conn))
    finally:
        await conn.close()
    tables = await _table_names(url)
    await steps.run(
        "VACUUM ANALYZE (two at a time)",
        _run_queue(url, [f'VACUUM ANALYZE "{t}"' for t in tables], workers=2),
    )
    conn = await asyncpg.connect(url)
    try:
        counts = {
            t: await conn.fetchval(f'SELECT count(*) FROM "{t}"')
            for t in (*LOADED_TABLES, "case_stat", "case_rollup", "grid", "region")
        }
        open_cases = await conn.fetchval(
            "SELECT count(*) FROM \"case\" WHERE status NOT IN ('closed', 'declined')"
        )
        wang_fang = await conn.fetchval("SELECT count(*) FROM party WHERE name = '王芳'")
    finally:
        await conn.close()
    total = time.perf_counter() - steps.started
    print(f"rollup rows written: {rows:,}")
    for t, c in counts.items():
        print(f"  {t:<18} {c:>10,}")
    print(f"  open cases         {open_cases:>10,}")
    print(f"  parties named 王芳  {wang_fang:>10,}")
    print(f"total {total:.1f} s ({total / 60:.1f} min)", flush=True)


async def _table_names(url: str) -> list[str]:
    """Every table of the schema, largest first."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' "
            "ORDER BY pg_total_relation_size(c.oid) DESC"
        )
    finally:
        await conn.close()
    return [r["relname"] for r in rows]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    configure_env(args)
    asyncio.run(generate(args))


if __name__ == "__main__":
    main()
