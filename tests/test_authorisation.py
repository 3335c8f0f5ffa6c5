"""Every route × every role, generated from the app's own route list.

Each route of ``create_app().routes`` (every method but OPTIONS/HEAD) needs an entry in ROUTES
saying what each of the twelve personas gets; a route without one fails
``test_every_route_has_an_entry``, so nobody adds a page without deciding who may open it.

Personas, all on one case of 东湖社区第1网格 (当湖街道) and one suggestion of that community
routed to the housing bureau (住建局):
- anonymous: no session;
- grid_own / police: the case grid's team (grid1, police1); grid_other: grid4 of 西门社区;
- med_assigned: mediator1, assigned to the case; med_unassigned: mediator2, a volunteer of the
  case's own community who is not on it;
- centre_town: centre1 (当湖街道); centre_other: centre staff of 新埭镇; centre_county: centre2;
- handler_right: handler1 (住建局, the suggestion's department); handler_wrong: handler2 (人社局);
- admin: the county's administrator.

Outcomes: OK — past authorisation (2xx, a redirect elsewhere than sign-in, or a 4xx judging
the input); LOGIN — sent to sign in; DENY — 403 for the role; HIDDEN — 404, as if the record
did not exist (a record outside one's entitlement answers like a missing one). A 5xx always fails.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import AsyncTestClient

from mediation.accounts.services import hash_password
from mediation.app import create_app
from mediation.clock import local_today
from mediation.demo import DEMO_PASSWORD
from tests.helpers import login

# The records the probes use are made once and personas sign in once: the module's tests share
# one fresh database.
pytestmark = [pytest.mark.anyio, pytest.mark.module_database]

OK, LOGIN, DENY, HIDDEN = "ok", "login", "deny", "hidden"

ROLES = {
    "anonymous": None,
    "grid_own": "grid1",
    "grid_other": "grid4",
    "police": "police1",
    "med_assigned": "mediator1",
    "med_unassigned": "mediator2",
    "centre_town": "centre1",
    "centre_other": "centre_xindai",
    "centre_county": "centre2",
    "handler_right": "handler1",
    "handler_wrong": "handler2",
    "admin": "admin",
}
STAFF = [r for r in ROLES if r != "anonymous"]


def outcome(**given: str) -> dict[str, str]:
    """An entry: ``default`` for everyone not named, anonymous sent to sign in unless named."""
    default = given.pop("default")
    result = {role: default for role in ROLES}
    result["anonymous"] = given.pop("anonymous", LOGIN)
    unknown = set(given) - set(ROLES)
    assert not unknown, unknown
    result.update(given)
    return result


def public() -> dict[str, str]:
    return outcome(default=OK, anonymous=OK)


def staff(*roles: str, others: str = DENY) -> dict[str, str]:
    return outcome(default=others, **{r: OK for r in roles})


# Who the case is open to (mediation.cases.access) and who else holds a case role (404).
CASE_TEAM = ("grid_own", "police", "med_assigned", "centre_town", "centre_county")
CASE_ROLE_OUTSIDERS = ("grid_other", "med_unassigned", "centre_other")
CASE_ROLES_DENIED = ("handler_right", "handler_wrong", "admin")


def case(*, only: tuple[str, ...] = CASE_TEAM, hidden_from: tuple[str, ...] = ()) -> dict:
    """A page of one case: entitled roles pass, other case roles get 404, the rest 403."""
    hidden = set(CASE_TEAM + CASE_ROLE_OUTSIDERS) - set(only)
    return outcome(
        default=DENY,
        **{r: OK for r in only},
        **{r: HIDDEN for r in hidden | set(hidden_from)},
    )


def case_manage() -> dict:
    """Managing a case (colour, mediators): the team and centre staff, not mediators."""
    return case(only=("grid_own", "police", "centre_town", "centre_county")) | {
        "med_assigned": DENY,
        "med_unassigned": DENY,
    }


PARTY_INFO = outcome(
    default=DENY,
    med_assigned=OK,
    centre_town=OK,
    centre_county=OK,
    med_unassigned=HIDDEN,
    centre_other=HIDDEN,
)
CASE_READERS = ("grid_own", "grid_other", "police", "med_assigned", "med_unassigned")
CASE_READERS += ("centre_town", "centre_other", "centre_county")
INTAKE = ("grid_own", "grid_other", "police", "centre_town", "centre_other", "centre_county")
ALL_STAFF = tuple(STAFF)
REPORTS = ("centre_town", "centre_other", "centre_county", "admin")
ADMIN_ONLY = staff("admin")
# The suggestion office (centre staff, administrator) and the departments' handlers.
OFFICE = ("centre_town", "centre_other", "centre_county", "admin")
INBOX = (*OFFICE, "handler_right", "handler_wrong")


def suggestion(*, office_only: bool = False) -> dict:
    """One suggestion of 东湖社区 routed to 住建局: the office of its area and that department."""
    return outcome(
        default=DENY,
        centre_town=OK,
        centre_county=OK,
        admin=OK,
        centre_other=HIDDEN,
        **({} if office_only else {"handler_right": OK, "handler_wrong": HIDDEN}),
    )


def nobody(status: str) -> dict:
    """The same answer for everyone, signed in or not."""
    return outcome(default=status, anonymous=status)


ROUTES: dict[str, dict[str, str]] = {
    # ------------------------------------------------------------ public pages
    "GET /login": public(),
    "POST /login": public(),
    "POST /locale": public(),
    "GET /health": public(),
    "GET /static/{name:path}": public(),
    "GET /verify/{code:str}": public(),
    "GET /board": public(),
    "GET /suggest": public(),
    "POST /suggest": public(),
    "GET /suggest/receipt/{name:str}": public(),
    "GET /track": public(),
    "POST /track": public(),
    "POST /track/rate": public(),
    "GET /kiosk/new": public(),
    # A party's own page: code and secret, no account (none sent here: refused).
    "GET /my-case": public(),
    "POST /my-case": nobody(DENY),
    "POST /my-case/act": nobody(DENY),
    "POST /my-case/agreement": nobody(DENY),
    # A tablet without a device token is no kiosk, whoever holds it; a made-up link binds none.
    "GET /kiosk": nobody(DENY),
    "POST /kiosk": nobody(DENY),
    "GET /kiosk/bind/{token:str}": nobody(DENY),
    "POST /kiosk/bind/{token:str}": nobody(DENY),
    "GET /kiosk/receipt/{name:str}": nobody(DENY),
    # Open311: reading is public, filing needs an API key (none sent here).
    "GET /open311/v2/discovery.json": public(),
    "GET /open311/v2/services.json": public(),
    "GET /open311/v2/services/{service_file:str}": public(),
    "GET /open311/v2/requests.json": public(),
    "GET /open311/v2/requests/{request_file:str}": public(),
    "POST /open311/v2/requests.json": nobody(DENY),
    "GET /open311/v2/discovery.xml": public(),
    "GET /open311/v2/services.xml": public(),
    "GET /open311/v2/requests.xml": public(),
    "POST /open311/v2/requests.xml": nobody(DENY),
    # The suggestion has no photo: 404 for everyone.
    "GET /open311/v2/media/{request_id:str}/{photo_file:str}": nobody(HIDDEN),
    # The API description.
    "GET /schema": public(),
    "GET /schema/elements": public(),
    "GET /schema/oauth2-redirect.html": public(),
    "GET /schema/openapi.json": public(),
    "GET /schema/openapi.yaml": public(),
    "GET /schema/openapi.yml": public(),
    "GET /schema/rapidoc": public(),
    "GET /schema/redoc": public(),
    "GET /schema/swagger": public(),
    "GET /schema/{path:str}": nobody(HIDDEN),
    # ------------------------------------------------------------ everyone signed in
    "GET /": staff(*ALL_STAFF),
    # Signing out lands on the sign-in page, as does any anonymous POST.
    "POST /logout": nobody(LOGIN),
    "GET /notifications": staff(*ALL_STAFF),
    "GET /notifications/count": staff(*ALL_STAFF),
    "POST /session/ping": staff(*ALL_STAFF),
    "POST /notifications/read": staff(*ALL_STAFF),
    "GET /grids": staff(*ALL_STAFF),
    # A grid is seen by those whose region holds it.
    "GET /grids/{grid_id:int}": staff(*ALL_STAFF) | {"grid_other": HIDDEN, "centre_other": HIDDEN},
    # ------------------------------------------------------------ administration
    "GET /admin": ADMIN_ONLY,
    "GET /admin/deadlines": ADMIN_ONLY,
    "GET /admin/holidays": ADMIN_ONLY,
    "POST /admin/holidays": ADMIN_ONLY,
    "POST /admin/deadlines": ADMIN_ONLY,
    "GET /admin/import": ADMIN_ONLY,
    "POST /admin/import": ADMIN_ONLY,
    "POST /admin/teams/{pk:int}": ADMIN_ONLY,
    "POST /admin/teams/{pk:int}/{member_id:int}/remove": ADMIN_ONLY,
    "GET /admin/{slug:str}": ADMIN_ONLY,
    "GET /admin/{slug:str}/new": ADMIN_ONLY,
    "POST /admin/{slug:str}/new": ADMIN_ONLY,
    "GET /admin/{slug:str}/{pk:int}": ADMIN_ONLY,
    "POST /admin/{slug:str}/{pk:int}": ADMIN_ONLY,
    "POST /admin/{slug:str}/{pk:int}/delete": ADMIN_ONLY,
    # ------------------------------------------------------------ cases: lists and intake
    # Lists hold only what each may open (tests/cases/test_case_access.py checks the rows).
    "GET /cases": staff(*CASE_READERS),
    "GET /cases/mine": staff(*CASE_READERS),
    "GET /cases/export.xlsx": staff("centre_town", "centre_county", "centre_other"),
    "GET /api/cases": staff(*CASE_READERS),
    "GET /cases/new": staff(*INTAKE),
    "POST /cases/new": staff(*INTAKE),
    "POST /cases/new/duplicates": staff(*INTAKE),
    "GET /cases/new/party-row": staff(*INTAKE),
    "POST /api/cases": staff(*INTAKE),
    # ------------------------------------------------------------ one case
    "GET /cases/{case_id:int}": case(),
    "GET /api/cases/{case_id:int}": case(),
    "POST /cases/{case_id:int}/move": case(),
    "POST /cases/{case_id:int}/extension": case(),
    "POST /cases/{case_id:int}/colour": case_manage(),
    "POST /cases/{case_id:int}/mediators": case_manage(),
    "POST /cases/{case_id:int}/mediators/{assignment_id:int}/objection": case(),
    "POST /cases/{case_id:int}/parties/{party_id:int}/reveal/{field:str}": case(),
    "POST /cases/{case_id:int}/materials": case(),
    "GET /cases/{case_id:int}/materials/{material_id:int}": case(),
    "GET /cases/{case_id:int}/materials/{material_id:int}/download": case(),
    "GET /cases/{case_id:int}/materials/{material_id:int}/thumbnail": case(),
    "POST /cases/{case_id:int}/materials/{material_id:int}/withdraw": case(),
    "GET /cases/{case_id:int}/sessions/new": case(),
    "POST /cases/{case_id:int}/sessions/new": case(),
    "GET /cases/{case_id:int}/sessions/{session_id:int}": case(),
    "POST /cases/{case_id:int}/sessions/{session_id:int}/participants": case(),
    "POST /cases/{case_id:int}/sessions/{session_id:int}/minutes": case(),
    "POST /cases/{case_id:int}/sessions/{session_id:int}/close": case(),
    "POST /cases/{case_id:int}/sessions/{session_id:int}/cancel": case(),
    "POST /cases/{case_id:int}/sessions/{session_id:int}/reschedule": case(),
    "GET /cases/{case_id:int}/sessions/{session_id:int}/record.pdf": case(),
    # Agreements are drafted by the case's mediators and centre staff, not the grid team.
    "POST /cases/{case_id:int}/agreements/new": case() | {"grid_own": DENY, "police": DENY},
    "GET /cases/{case_id:int}/agreements/{agreement_id:int}": case(),
    "POST /cases/{case_id:int}/agreements/{agreement_id:int}": case(),
    "POST /cases/{case_id:int}/agreements/{agreement_id:int}/signatures": case(),
    "POST /cases/{case_id:int}/agreements/{agreement_id:int}/clauses/{clause_id:int}/done": (
        case()
    ),
    "GET /cases/{case_id:int}/agreements/{agreement_id:int}/agreement.pdf": case(),
    "POST /cases/{case_id:int}/agreements/{agreement_id:int}/preview.pdf": case(),
    "GET /cases/{case_id:int}/agreements/{agreement_id:int}/clause-row": case(),
    "POST /cases/{case_id:int}/agreements/{agreement_id:int}/clause-preview": case(),
    # A party's basic information: mediators and centre staff (not the grid team).
    "GET /cases/{case_id:int}/parties/{party_id:int}": PARTY_INFO,
    "POST /cases/{case_id:int}/parties/{party_id:int}": PARTY_INFO,
    "POST /cases/{case_id:int}/follow-ups": case(),
    "GET /cases/{case_id:int}/follow-ups/{follow_up_id:int}/record.pdf": case(),
    "GET /cases/{case_id:int}/file.pdf": case(),
    "GET /cases/{case_id:int}/termination.pdf": case(),
    # Parties' codes and slips: the case's people, and the administrator (entitled to the area).
    "GET /cases/{case_id:int}/parties": case() | {"admin": OK},
    "POST /cases/{case_id:int}/parties/{party_id:int}/reissue": case() | {"admin": OK},
    "GET /cases/{case_id:int}/parties/{party_id:int}/slip.pdf": case() | {"admin": OK},
    # ------------------------------------------------------------ figures and warnings
    # Figures of each one's own area (the scope is tested with the reports).
    "GET /reports": staff(*REPORTS),
    "GET /reports/charts/{chart:str}": staff(*REPORTS),
    "GET /reports/statutory": staff(*REPORTS),
    "GET /reports/statutory.pdf": staff(*REPORTS),
    "GET /reports/statutory.xlsx": staff(*REPORTS),
    "GET /reports/warnings": staff(*REPORTS, "police"),
    # No such warning: the list comes back with the message (handling is judged, not refused).
    "POST /reports/warnings/{warning_id:int}": staff(*REPORTS, "police"),
    "GET /reports/warnings/rules": ADMIN_ONLY,
    "POST /reports/warnings/rules": ADMIN_ONLY,
    "POST /reports/cases/{case_id:int}/figures": case(),
    # ------------------------------------------------------------ suggestions (staff)
    "GET /suggestions": staff(*INBOX),
    "GET /suggestions/export.xlsx": staff(*INBOX),
    "GET /suggestions/new": staff(*OFFICE),
    "POST /suggestions/new": staff(*OFFICE),
    "GET /suggestions/new/receipt": staff(*OFFICE),
    "GET /suggestions/topics": staff(*OFFICE),
    "POST /suggestions/topics": staff(*OFFICE),
    "GET /suggestions/points": staff(*OFFICE),
    "POST /suggestions/points": staff(*OFFICE),
    # The point stands in 东湖社区: 新埭镇's centre does not see it.
    "GET /suggestions/points/{point_id:int}": staff(*OFFICE) | {"centre_other": HIDDEN},
    "POST /suggestions/points/{point_id:int}": staff(*OFFICE) | {"centre_other": HIDDEN},
    "POST /suggestions/points/{point_id:int}/bind": staff(*OFFICE) | {"centre_other": HIDDEN},
    "POST /suggestions/points/{point_id:int}/revoke": staff(*OFFICE) | {"centre_other": HIDDEN},
    "GET /suggestions/{suggestion_id:int}": suggestion(),
    "POST /suggestions/{suggestion_id:int}/move": suggestion(),
    "POST /suggestions/{suggestion_id:int}/phone": suggestion(),
    "POST /suggestions/{suggestion_id:int}/group": suggestion(office_only=True),
    "POST /suggestions/{suggestion_id:int}/ungroup": suggestion(office_only=True),
    "POST /suggestions/{suggestion_id:int}/reward": suggestion(office_only=True),
    # No such photo: those who may see the suggestion learn only that (404).
    "GET /suggestions/{suggestion_id:int}/photos/{photo_id:int}": suggestion()
    | {"centre_town": HIDDEN, "centre_county": HIDDEN, "admin": HIDDEN, "handler_right": HIDDEN},
}


# ---------------------------------------------------------------- the records the routes name


async def _ensure_other_town_centre() -> None:
    from mediation.grid.tables import Region, Staff

    if await Staff.exists().where(Staff.username == ROLES["centre_other"]):
        return
    town = await Region.select(Region.id).where(Region.code == "330482101").first()
    await Staff.insert(
        Staff(
            username=ROLES["centre_other"],
            display_name="新埭镇中心",
            password_hash=hash_password(DEMO_PASSWORD),
            roles=["centre_staff"],
            region=town["id"],
        )
    )


async def _material(user, case_id: int) -> int:
    """A photo on the case (it has a thumbnail too)."""
    import io

    from PIL import Image

    from mediation.cases import materials
    from mediation.settings import get_settings

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, "JPEG")
    item = materials.prepare_upload("现场照片.jpg", out.getvalue())
    return await materials.save_material(user, case_id, item, get_settings().data_dir)


async def _terminated_case(mediator1) -> int:
    """A second case of the same grid and team, terminated: its notice can be printed."""
    from mediation.cases import services
    from mediation.cases.tables import CaseMediator
    from mediation.grid.tables import Mediator
    from tests.cases.conftest import deposit_case, grid_id, user

    grid1 = await user("grid1")
    case_id = await services.register_case(deposit_case(await grid_id()), grid1, uuid.uuid4().hex)
    await services.transition_case(grid1, case_id, "accept", {})
    profile = await Mediator.select(Mediator.id).where(Mediator.staff == mediator1.id).first()
    await CaseMediator(case=case_id, mediator=profile["id"]).save()
    await services.transition_case(grid1, case_id, "start_mediation", {})
    await services.transition_case(
        mediator1,
        case_id,
        "terminate",
        {"termination_reason": "party_refuses", "referral_advice": "litigation"},
    )
    return case_id


async def _records() -> dict[str, str]:
    """One of everything a route can name, on grid1's grid (see the module docstring)."""
    from mediation.cases import followups, sessions
    from mediation.cases.tables import Agreement, AgreementClause, CaseMediator, Party
    from mediation.grid.tables import Department, Grid, Mediator, Region, Staff, TeamMember
    from mediation.suggestions import services as suggestion_services
    from mediation.suggestions.tables import DirectReportPoint, Suggestion
    from tests.cases.conftest import user
    from tests.cases.test_sessions_and_agreements import _issued_agreement

    await _ensure_other_town_centre()
    case_id, agreement_id = await _issued_agreement(lambda: uuid.uuid4().hex)
    mediator1 = await user("mediator1")
    session_id, _ = await sessions.schedule_session(
        mediator1,
        case_id,
        datetime(2031, 6, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai")),
        60,
        "东湖社区调解室",
        "in_person",
        None,
    )
    # A second assignment (mediator3) for the objection route, so mediator1 stays on the case.
    mediator3 = await Staff.select(Staff.id).where(Staff.username == "mediator3").first()
    profile = await Mediator.select(Mediator.id).where(Mediator.staff == mediator3["id"]).first()
    extra = CaseMediator(case=case_id, mediator=profile["id"])
    await extra.save()
    material_id = await _material(mediator1, case_id)
    terminated_id = await _terminated_case(mediator1)
    # A follow-up visit comes after an agreement or a termination: on the terminated case.
    follow_up_id = await followups.record_follow_up(
        mediator1, terminated_id, local_today(), "", "satisfied", ""
    )
    party = await Party.select(Party.id).where(Party.case == case_id).first()
    clause = (
        await AgreementClause.select(AgreementClause.id)
        .where(AgreementClause.agreement == agreement_id)
        .first()
    )
    code = (
        await Agreement.select(Agreement.verification_code)
        .where(Agreement.id == agreement_id)
        .first()
    )["verification_code"]

    community = await Region.select(Region.id).where(Region.code == "330482001001").first()
    _cleaned, errors, receipt = await suggestion_services.submit_suggestion(
        {
            "topic": f"东湖路增设公交站台 {uuid.uuid4().hex[:6]}",
            "reason": "东湖路沿线小区多，最近的公交站要走一公里。",
            "measures": "在东湖路与梅园路口增设公交站台。",
            "name": "周玥",
            "phone": "13812340000",
            "region": str(community["id"]),
        },
        "web",
    )
    assert errors == {}, errors
    suggestion = (
        await Suggestion.select(Suggestion.id).where(Suggestion.tracking_code == receipt[0]).first()
    )
    admin = await user("admin")
    zjj = await Department.select(Department.id).where(Department.code == "zjj").first()
    await suggestion_services.move(admin, suggestion["id"], "register", {})
    await suggestion_services.move(
        admin, suggestion["id"], "transfer", {"department": str(zjj["id"])}
    )
    point = DirectReportPoint(
        code=f"AUTH-{uuid.uuid4().hex[:6]}", name="授权测试直报点", region=community["id"]
    )
    await point.save()

    grid = await Grid.select(Grid.id).where(Grid.code == "330482001001-01").first()
    # A throwaway team member for the "remove from team" route.
    grid9 = await Staff.select(Staff.id).where(Staff.username == "grid9").first()
    member = TeamMember(grid=grid["id"], staff=grid9["id"], role="grid_worker")
    await member.save()
    return {
        "case_id": str(case_id),
        "agreement_id": str(agreement_id),
        "session_id": str(session_id),
        "follow_up_id": str(follow_up_id),
        "assignment_id": str(extra.id),
        "party_id": str(party["id"]),
        "clause_id": str(clause["id"]),
        "field": "phone",
        "code": code,
        "token": "not-a-binding-link",
        "receipt": receipt[0],
        "suggestion_id": str(suggestion["id"]),
        "photo_id": "999999",
        "material_id": str(material_id),
        "terminated_case_id": str(terminated_id),
        "point_id": str(point.id),
        "grid_id": str(grid["id"]),
        "pk": str(grid["id"]),
        "member_id": str(member.id),
        "slug": "grids",
        "request_file": f"{receipt[0]}.json",
        "request_id": receipt[0],
        "photo_file": "1.jpg",
        "warning_id": "999999",
        "service_file": "transport.json",
        "path": "nothing",
        "name": "app.css",
        "chart": "trend",
    }


def _url(template: str, records: dict[str, str]) -> str:
    import re

    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: records[m.group(1)], template)


def app_routes() -> dict[str, str]:
    """ "METHOD /path" for every route and method of the app, as Litestar lists them, with the
    encoding its handler reads a body in (so a probe reaches the handler, not a 400)."""
    app = create_app()
    found = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            data = handler.parsed_fn_signature.parameters.get("data")
            encoding = getattr(getattr(data, "kwarg_definition", None), "media_type", None)
            for method in getattr(handler, "http_methods", ()) or ():
                if method not in ("OPTIONS", "HEAD"):
                    found[f"{method} {route.path}"] = str(getattr(encoding, "value", "") or "")
    return dict(sorted(found.items(), key=lambda item: (item[0].split(" ", 1)[1], item[0])))


def classify(response) -> str:
    status = response.status_code
    assert status < 500, f"{status}"
    location = response.headers.get("location", "")
    if status == 401 or (300 <= status < 400 and location.startswith("/login")):
        return LOGIN
    if status == 403:
        return DENY
    if status == 404:
        return HIDDEN
    return OK


async def _request(client, method: str, url: str, encoding: str):
    token = client.cookies.get("csrftoken", domain="testserver.local") or ""
    headers = {"x-csrftoken": token}
    if method == "GET":
        return await client.get(url, follow_redirects=False)
    if encoding == "application/json":
        return await client.request(method, url, json={}, headers=headers, follow_redirects=False)
    if encoding == "multipart/form-data":
        return await client.request(
            method,
            url,
            data={"_probe": "1"},
            files={"_probe_file": ("probe.txt", b"probe", "text/plain")},
            headers=headers,
            follow_redirects=False,
        )
    return await client.request(
        method, url, data={"_probe": "1"}, headers=headers, follow_redirects=False
    )


_sessions: dict[str, dict[str, str]] = {}
# One client for the whole module, its cookies set anew for each probe: a client is a thread
# with an event loop of its own and the app's startup and shutdown (and, on PostgreSQL, a
# connection per event loop), which per probe was about half of the module's time. One, not
# one per persona: the app's lifespan is not made to run several times at once.
_clients: dict[int, AsyncTestClient] = {}


@pytest.fixture(scope="module", autouse=True)
def _close_client():
    yield
    for client in _clients.values():
        asyncio.run(client.__aexit__(None, None, None))
    _clients.clear()


async def _client_for(app, role: str) -> AsyncTestClient:
    """The client holding what a new client signed in as ``role`` would hold: only the
    persona's session cookies (sessions live in the data directory's store, so one sign-in per
    persona serves every route); anonymous visits the sign-in page afresh each time."""
    client = _clients.get(id(app))
    if client is None:
        for old in _clients.values():
            await old.__aexit__(None, None, None)
        _clients.clear()
        client = _clients[id(app)] = AsyncTestClient(app)
        await client.__aenter__()
    client.cookies.clear()
    if ROLES[role] is None:
        await client.get("/login")
        return client
    if role not in _sessions:
        await login(client, ROLES[role])
        _sessions[role] = dict(client.cookies.items())
    for name, value in _sessions[role].items():
        client.cookies.set(name, value, domain="testserver.local")
    return client


# ---------------------------------------------------------------- the checks

# Routes that need another record than the shared one.
ROUTE_RECORDS = {
    "GET /cases/{case_id:int}/termination.pdf": {"case_id": "{terminated_case_id}"},
    "GET /cases/{case_id:int}/follow-ups/{follow_up_id:int}/record.pdf": {
        "case_id": "{terminated_case_id}"
    },
    "GET /suggest/receipt/{name:str}": {"name": "{receipt}"},
    "GET /kiosk/receipt/{name:str}": {"name": "{receipt}"},
}

_records_cache: dict[str, str] = {}
ALL_ROUTES = app_routes()


def test_every_route_has_an_entry_and_every_entry_a_route():
    missing = [r for r in ALL_ROUTES if r not in ROUTES]
    stale = [r for r in ROUTES if r not in ALL_ROUTES]
    assert missing == [], "routes without an entry in ROUTES (decide who may use them)"
    assert stale == [], "entries in ROUTES for routes that no longer exist"


@pytest.mark.parametrize("route", ALL_ROUTES)
async def test_route_access(app, route):
    import json
    import os

    if not _records_cache:
        _records_cache.update(await _records())
    method, template = route.split(" ", 1)
    records = dict(_records_cache)
    for name, value in ROUTE_RECORDS.get(route, {}).items():
        records[name] = _url(value, _records_cache)
    url = _url(template, records)
    actual = {}
    for role in ROLES:
        if route == "POST /logout":
            _sessions.pop(role, None)  # signing out ends the shared session: sign in afresh
        client = await _client_for(app, role)
        response = await _request(client, method, url, ALL_ROUTES[route])
        actual[role] = classify(response)
        if route == "POST /logout":
            _sessions.pop(role, None)
    dump = os.environ.get("AUTH_DUMP")
    if dump:
        with open(dump, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"route": route, "actual": actual}, ensure_ascii=False) + "\n")
        return
    expected = ROUTES.get(route)
    assert expected is not None, f"{route} has no entry in ROUTES"
    wrong = {
        role: f"expected {expected[role]}, got {actual[role]}"
        for role in ROLES
        if actual[role] != expected[role]
    }
    assert wrong == {}, f"{route} → {url}"
