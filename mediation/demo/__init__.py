"""Demo county modelled on Pinghu (平湖市): regions, grids and teams, staff, mediators."""

from __future__ import annotations

from mediation.accounts.services import hash_password
from mediation.db import bulk_write_transaction, write_transaction
from mediation.grid.services import child_path
from mediation.grid.tables import (
    AuditEvent,
    Department,
    DisputeCategory,
    Grid,
    Mediator,
    Region,
    Staff,
    TeamMember,
)

DEMO_PASSWORD = "mediation-demo"

COUNTY = ("330482", "平湖市")
# town code, town name, [(community code, community name, is village)]
TOWNS = [
    (
        "330482001",
        "当湖街道",
        [("330482001001", "东湖社区"), ("330482001002", "西门社区"), ("330482001003", "南市社区")],
    ),
    ("330482002", "钟埭街道", [("330482002001", "钟埭社区"), ("330482002201", "沈家弄村")]),
    (
        "330482101",
        "新埭镇",
        [("330482101001", "新埭社区"), ("330482101201", "鱼圻塘村"), ("330482101202", "旧埭村")],
    ),
]
GRIDS_PER_COMMUNITY = 3

DEPARTMENTS = [
    ("zjj", "平湖市住房和城乡建设局"),
    ("rsj", "平湖市人力资源和社会保障局"),
    ("scjgj", "平湖市市场监督管理局"),
    ("zfj", "平湖市综合行政执法局"),
    ("sthj", "嘉兴市生态环境局平湖分局"),
    ("jtj", "平湖市交通运输局"),
]

# username, name, roles, region code, mediator profile (skills, dialects, max, organisation)
MEDIATORS = [
    (
        "mediator1",
        "沈建华",
        ["mediator", "volunteer"],
        "330482001",
        (
            ["neighbour", "housing_land", "contract", "property_mgmt"],
            ["平湖话", "普通话"],
            6,
            "当湖街道人民调解委员会",
        ),
    ),
    (
        "mediator2",
        "陆美芳",
        ["mediator", "volunteer"],
        "330482001001",
        (["marriage_family", "neighbour"], ["平湖话"], 4, "东湖社区“老娘舅”工作室"),
    ),
    (
        "mediator3",
        "钱国强",
        ["mediator"],
        "330482001",
        (["labour", "contract", "business"], ["普通话"], 8, "平湖市劳动争议调解中心"),
    ),
    (
        "mediator4",
        "顾雪琴",
        ["mediator", "volunteer"],
        "330482002",
        (
            ["neighbour", "property_mgmt", "consumer"],
            ["平湖话", "普通话"],
            5,
            "钟埭街道人民调解委员会",
        ),
    ),
    (
        "mediator5",
        "朱卫东",
        ["mediator"],
        "330482",
        (["traffic", "damages", "medical"], ["普通话"], 6, "平湖市医疗纠纷人民调解委员会"),
    ),
    (
        "mediator6",
        "徐阿根",
        ["volunteer"],
        "330482101",
        (["forest_land", "land_requisition", "housing_land"], ["平湖话"], 3, "新埭镇乡贤调解团"),
    ),
    (
        "mediator7",
        "张丽萍",
        ["mediator", "volunteer"],
        "330482101",
        (
            ["marriage_family", "pollution", "neighbour"],
            ["平湖话", "普通话"],
            5,
            "新埭镇人民调解委员会",
        ),
    ),
    (
        "mediator8",
        "王律",
        ["mediator"],
        "330482",
        (
            ["contract", "business", "consumer", "labour"],
            ["普通话", "English"],
            4,
            "平湖市律师协会调解工作室",
        ),
    ),
]

SURNAMES = "陈王李张刘杨黄吴周徐孙马朱胡郭何林罗高郑"
GIVEN = [
    "建国",
    "秀英",
    "志强",
    "丽华",
    "海燕",
    "伟",
    "静",
    "军",
    "敏",
    "磊",
    "芳",
    "杰",
    "娟",
    "涛",
    "明",
    "霞",
    "斌",
    "红",
    "勇",
    "燕",
    "平",
    "辉",
    "雪",
    "峰",
]


def _name(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)]


async def create_admin(username: str, password: str) -> None:
    county = await Region.select(Region.id).where(Region.level == "county").first()
    existing = await Staff.select(Staff.id).where(Staff.username == username).first()
    if existing:
        await Staff.update(
            {
                Staff.password_hash: hash_password(password),
                Staff.active: True,
                Staff.roles: ["admin"],
            }
        ).where(Staff.id == existing["id"])
        return
    await Staff(
        username=username,
        display_name=username,
        roles=["admin"],
        region=county["id"] if county else None,
        password_hash=hash_password(password),
    ).save()


async def reset_all() -> None:
    from mediation.cases.submissions import IntakeSubmission
    from mediation.cases.tables import (
        Agreement,
        AgreementClause,
        AgreementCounter,
        Attachment,
        Case,
        CaseCounter,
        CaseEvent,
        CaseMediator,
        DeadlinePolicy,
        FollowUp,
        MediationSession,
        MinuteEntry,
        Notification,
        Party,
        SessionParticipant,
        Signature,
    )
    from mediation.suggestions.tables import (
        ApiKey,
        DirectReportPoint,
        Suggestion,
        SuggestionEvent,
        SuggestionTopic,
    )

    # Children first.
    for table in (
        SuggestionEvent,
        ApiKey,
        Signature,
        AgreementClause,
        FollowUp,
        MinuteEntry,
        SessionParticipant,
        MediationSession,
        Agreement,
        AgreementCounter,
        Notification,
        CaseEvent,
        CaseMediator,
        Party,
        Attachment,
        IntakeSubmission,
        Suggestion,
        SuggestionTopic,
        DirectReportPoint,
        Case,
        CaseCounter,
        DeadlinePolicy,
        AuditEvent,
        TeamMember,
        Mediator,
        Grid,
        Staff,
        Department,
        DisputeCategory,
    ):
        await table.delete(force=True)
    # Regions reference each other: remove communities, then towns, then counties.
    for level in ("community", "town", "county"):
        await Region.delete().where(Region.level == level)


async def rebuild_demo_figures() -> None:
    """The demo dates its cases back after moving them: conclusions and figures follow."""
    from mediation.reports.rollups import backfill_conclusions, rebuild_rollups
    from mediation.reports.warnings import run_warning_rules

    async with bulk_write_transaction():  # one connection for all of it (see load_demo)
        await backfill_conclusions(redo=True)
        await rebuild_rollups()
        await run_warning_rules()


async def load_demo(reset: bool = False) -> str:
    """Create the demo county once; running it again changes nothing unless ``reset``."""
    from mediation.cases.category_store import seed_categories
    from mediation.demo.cases import load_demo_cases
    from mediation.demo.documents import load_demo_documents
    from mediation.demo.suggestions import load_demo_suggestions

    if reset:
        await reset_all()
    if await Region.exists().where(Region.code == COUNTY[0]):
        return "Demo data already present."
    password_hash = hash_password(DEMO_PASSWORD)
    await seed_categories()
    async with write_transaction():
        county = Region(
            code=COUNTY[0], name=COUNTY[1], level="county", path=child_path(None, COUNTY[0])
        )
        await county.save()
        regions = {COUNTY[0]: county}
        grids: list[tuple[Grid, Region, Region]] = []
        for town_code, town_name, communities in TOWNS:
            town = Region(
                code=town_code,
                name=town_name,
                level="town",
                parent=county.id,
                path=child_path(county.path, town_code),
            )
            await town.save()
            regions[town_code] = town
            for community_code, community_name in communities:
                community = Region(
                    code=community_code,
                    name=community_name,
                    level="community",
                    parent=town.id,
                    path=child_path(town.path, community_code),
                )
                await community.save()
                regions[community_code] = community
                for n in range(1, GRIDS_PER_COMMUNITY + 1):
                    grid = Grid(
                        code=f"{community_code}-{n:02d}",
                        name=f"{community_name}第{n}网格",
                        region=community.id,
                        police_beat=f"{town_name[:2]}派出所{community_name}警格{(n + 1) // 2}",
                        boundary=f"{community_name}{n}号片区（{n * 3 - 2}—{n * 3}幢及沿街商铺）",
                    )
                    await grid.save()
                    grids.append((grid, community, town))
        departments: dict[str, Department] = {}
        for code, name in DEPARTMENTS:
            dept = Department(
                code=code,
                name=name,
                region=county.id,
                contact="0573-8501" + str(1000 + len(departments)),
            )
            await dept.save()
            departments[code] = dept

        def staff(username, name, roles, region, phone="", department=None) -> Staff:
            return Staff(
                username=username,
                display_name=name,
                roles=roles,
                region=region.id,
                password_hash=password_hash,
                phone=phone,
                department=department,
            )

        people = [
            staff("admin", "系统管理员", ["admin"], county),
            staff("centre1", "金晓燕", ["centre_staff"], regions["330482001"], "13905731001"),
            staff("centre2", "屠志明", ["centre_staff"], regions["330482"], "13905731002"),
            staff("handler1", "冯国平", ["handler"], county, "13905731003", departments["zjj"].id),
            staff("handler2", "严丽君", ["handler"], county, "13905731004", departments["rsj"].id),
        ]
        for p in people:
            await p.save()
        # One grid worker per grid; one community police officer per community, on all its grids.
        police_by_community: dict[str, Staff] = {}
        for i, (grid, community, _town) in enumerate(grids):
            worker = staff(
                f"grid{i + 1}", _name(i), ["grid_worker"], community, f"1380573{2000 + i:04d}"
            )
            await worker.save()
            await TeamMember(grid=grid.id, staff=worker.id, role="grid_worker").save()
            officer = police_by_community.get(community.code)
            if officer is None:
                n = len(police_by_community) + 1
                officer = staff(
                    f"police{n}",
                    _name(i + 11) + "（民警）",
                    ["police"],
                    community,
                    f"1390573{3000 + n:04d}",
                )
                await officer.save()
                police_by_community[community.code] = officer
            await TeamMember(grid=grid.id, staff=officer.id, role="police").save()
        for username, name, roles, region_code, (skills, dialects, max_cases, org) in MEDIATORS:
            person = staff(
                username,
                name,
                roles,
                regions[region_code],
                "1370573" + str(4000 + len(username) * 7 + ord(username[-1])),
            )
            await person.save()
            await Mediator(
                staff=person.id,
                skills=skills,
                dialects=dialects,
                max_cases=max_cases,
                organisation=org,
                available=username != "mediator6",
                related_persons=[],
            ).save()
    cases = await load_demo_cases()
    documents = await load_demo_documents()
    suggestions = await load_demo_suggestions()
    await rebuild_demo_figures()
    return (
        f"Demo county loaded: {len(regions)} regions, {len(grids)} grids, "
        f"{await Staff.count()} staff, {cases} cases ({documents} with sessions and "
        f"agreements), {suggestions} suggestions. "
        f"Password for every demo login: {DEMO_PASSWORD}"
    )
