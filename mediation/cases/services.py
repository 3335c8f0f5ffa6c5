"""Rules of the dispute workflow with the database: register, move, escalate, assign, sweep."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from piccolo.columns.combination import WhereRaw

from mediation import crypto, inputs
from mediation.accounts.services import CurrentUser
from mediation.cases import access, assignment, deadlines, workdays, workflow
from mediation.cases import parties as party_info
from mediation.cases.holidays import refresh_calendar
from mediation.cases.tables import (
    Case,
    CaseCounter,
    CaseEvent,
    CaseMediator,
    DeadlinePolicy,
    Notification,
    Party,
)
from mediation.cases.workdays import HolidayCalendar
from mediation.clock import county_zone, local_date, local_today, utc_now
from mediation.db import is_postgres, write_transaction
from mediation.grid.tables import Grid, Mediator, Region, Staff, TeamMember
from mediation.i18n import gettext as _
from mediation.intake.tables import IntakeSubmission
from mediation.masking import mask_id_number
from mediation.reports import rollups
from mediation.settings import get_settings

OPEN_STATUSES = [s.value for s in workflow.CaseStatus if workflow.is_open(s)]
PAGE_SIZE = 25

SOURCES = (
    "door_knocking",
    "walk_in",
    "phone",
    "police_referral",
    "hotline_12345",
    "direct_report_point",
    "suggestion",
    "referral",
)
COLOURS = ("red", "yellow", "green")
PARTY_ROLES = ("applicant", "respondent", "third_party")
PARTY_KINDS = ("person", "organisation")


class CaseError(Exception):
    """A rule was broken; ``message`` is shown to the user, beside ``field`` if there is one."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class EditConflict(CaseError):
    """Someone else changed the case since this user loaded it."""


def today() -> date:
    """Today in the county (the server's clock is UTC)."""
    return local_today()


@dataclass
class PartyInput:
    role: str
    name: str
    kind: str = "person"
    id_number: str = ""
    phone: str = ""
    address: str = ""
    representative: str = ""
    refuses_mediation: bool = False
    gender: str = ""
    ethnicity: str = ""
    birth_date: date | None = None
    occupation: str = ""
    credit_code: str = ""
    legal_rep: str = ""
    legal_rep_title: str = ""
    agent_name: str = ""
    agent_relation: str = ""


def basic_information(p: PartyInput) -> dict[str, Any]:
    """The columns of a party's basic information; a person's birth date and gender come from
    the ID number unless typed, an organisation keeps only what describes an organisation."""
    if p.kind == "organisation":
        credit_code = p.credit_code.strip().upper()
        if not credit_code and party_info.looks_like_credit_code(p.id_number):
            credit_code = p.id_number.strip().upper()
        return {
            Party.credit_code: credit_code[:18],
            Party.legal_rep: (p.legal_rep or p.representative).strip()[:50],
            Party.legal_rep_title: p.legal_rep_title.strip()[:50],
            Party.agent_name: p.agent_name.strip()[:50],
            Party.agent_relation: p.agent_relation.strip()[:100],
        }
    return {
        Party.gender: p.gender or party_info.gender_from_id(p.id_number),
        Party.ethnicity: p.ethnicity.strip()[:20],
        Party.birth_date: p.birth_date or party_info.birth_date_from_id(p.id_number),
        Party.occupation: p.occupation.strip()[:100],
        Party.agent_name: (p.agent_name or p.representative).strip()[:50],
        Party.agent_relation: p.agent_relation.strip()[:100],
    }


@dataclass
class CaseInput:
    category: str
    summary: str
    grid_id: int
    source: str
    colour: str
    facts: str = ""
    public_security_risk: bool = False
    amount: Decimal | None = None
    location: str = ""
    parties: list[PartyInput] = field(default_factory=list)
    linked_case_id: int | None = None


# ---------------------------------------------------------------- events and notifications


async def record_event(
    case_id: int,
    actor: CurrentUser | None,
    action: str,
    from_status: str = "",
    to_status: str = "",
    changes: dict | None = None,
    note: str = "",
) -> None:
    await CaseEvent.insert(
        CaseEvent(
            case=case_id,
            actor=actor.id if actor else None,
            action=action,
            from_status=from_status,
            to_status=to_status,
            changes=_jsonable(changes or {}),
            note=note,
        )
    )
    # The parties hear of the events that concern them (accepted, sessions, agreement, closed).
    from mediation.portal.services import on_case_event

    await on_case_event(case_id, action, to_status)


def _jsonable(data: Any) -> Any:
    if isinstance(data, dict):
        return {str(k): _jsonable(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_jsonable(v) for v in data]
    if isinstance(data, (str, int, float, bool)) or data is None:
        return data
    return str(data)


async def notify(staff_ids: list[int], case_id: int | None, kind: str, message: str) -> None:
    if not staff_ids:
        return
    await Notification.insert(
        *[
            Notification(recipient=sid, case=case_id, kind=kind, message=message[:300])
            for sid in dict.fromkeys(staff_ids)
        ]
    )


async def unread_count(user: CurrentUser) -> int:
    """Unread notifications the inbox shows (those about a case the user may no longer open
    are left out there, so they are not counted here either)."""
    rows = await Notification.select(Notification.case).where(
        Notification.recipient == user.id, Notification.read.eq(False)
    )
    cases = {r["case"] for r in rows if r["case"] is not None}
    allowed = await access.entitled_case_ids(user, cases) if cases else set()
    return sum(1 for r in rows if r["case"] is None or r["case"] in allowed)


async def notifications_for(user: CurrentUser, limit: int = 50) -> list[dict]:
    """The user's latest notifications; one about a case they may no longer open (a mediator
    taken off it) is left out, so nothing points to a page that would refuse them."""
    rows = (
        await Notification.select(Notification.all_columns(), Notification.case.number)
        .where(Notification.recipient == user.id)
        .order_by(Notification.id, ascending=False)
        .limit(limit)
    )
    allowed = await access.entitled_case_ids(user, [r["case"] for r in rows])
    return [r for r in rows if r["case"] is None or r["case"] in allowed]


async def mark_notifications_read(user: CurrentUser) -> None:
    await Notification.update({Notification.read: True}).where(
        Notification.recipient == user.id, Notification.read.eq(False)
    )


async def _team(grid_id: int) -> list[dict]:
    return await TeamMember.select(TeamMember.staff, TeamMember.role).where(
        TeamMember.grid == grid_id
    )


async def _centre_staff(region_path: str, level: str) -> list[int]:
    """Centre staff responsible at ``level`` for a community path (town or county centre)."""
    parts = [p for p in region_path.split("/") if p]
    depth = {"community": 3, "town": 2, "county": 1}.get(level, 2)
    if level == "grid":
        depth = 3
    target = "/" + "/".join(parts[:depth]) + "/"
    rows = await Staff.select(Staff.id, Staff.roles).where(
        Staff.region.path == target, Staff.active.eq(True)
    )
    return [r["id"] for r in rows if "centre_staff" in (r["roles"] or [])]


# ---------------------------------------------------------------- registration


async def _next_number(county: str, year: int) -> str:
    """Gap-free per county and year: the counter moves inside the registering transaction."""
    key = f"{county}-{year}"
    rows = await CaseCounter.raw(
        "INSERT INTO case_counter (key, last_number) VALUES ({}, 1) "
        "ON CONFLICT (key) DO UPDATE SET last_number = case_counter.last_number + 1 "
        "RETURNING last_number",
        key,
    )
    return f"{county}-{year}-{rows[0]['last_number']:06d}"


def _search_text(number: str, summary: str, parties: list[PartyInput]) -> str:
    return " ".join([number, summary, *(p.name for p in parties)]).lower()


async def grid_for(user: CurrentUser, grid_id: int) -> dict | None:
    grid = (
        await Grid.select(Grid.id, Grid.name, Grid.region.path, Grid.region)
        .where(Grid.id == grid_id)
        .first()
    )
    if grid is None or not user.can_see_path(grid["region.path"]):
        return None
    return grid


async def register_case(inp: CaseInput, actor: CurrentUser, idempotency_key: str = "") -> int:
    """Register a dispute; the same idempotency key always yields the same single case."""
    if idempotency_key:
        # Keys are per person: someone else's key can never return their case.
        idempotency_key = hashlib.sha256(f"{actor.id}:{idempotency_key}".encode()).hexdigest()
        existing = await IntakeSubmission.select(IntakeSubmission.case).where(
            IntakeSubmission.key == idempotency_key
        )
        if existing:
            return existing[0]["case"]
    grid = await grid_for(actor, inp.grid_id)
    if grid is None:
        raise CaseError(_("Choose a grid in your area."), "grid")
    if inp.linked_case_id is not None and await case_for(actor, inp.linked_case_id) is None:
        raise CaseError(_("This case does not exist."), "linked_case")
    registered = today()
    policy = await current_policy()
    try:
        async with write_transaction():
            if idempotency_key and await IntakeSubmission.exists().where(
                IntakeSubmission.key == idempotency_key
            ):
                row = await IntakeSubmission.select(IntakeSubmission.case).where(
                    IntakeSubmission.key == idempotency_key
                )
                return row[0]["case"]
            number = await _next_number(get_settings().county_code, registered.year)
            case = Case(
                number=number,
                category=inp.category,
                summary=inp.summary,
                facts=inp.facts,
                grid=inp.grid_id,
                region_path=grid["region.path"],
                source=inp.source,
                colour=inp.colour,
                level="grid",
                status="registered",
                parties_consent=not any(p.refuses_mediation for p in inp.parties),
                public_security_risk=inp.public_security_risk,
                amount=inp.amount,
                location=inp.location,
                registered_on=registered,
                registered_by=actor.id,
                linked_case=inp.linked_case_id,
                search_text=_search_text(number, inp.summary, inp.parties),
            )
            await case.save()
            await rollups.apply_change(None, await rollups.stat_row(case.id))
            for p in inp.parties:
                await Party(
                    case=case.id,
                    role=p.role,
                    kind=p.kind,
                    name=p.name,
                    id_number_encrypted=crypto.encrypt(p.id_number),
                    id_number_masked=mask_id_number(p.id_number),
                    id_number_digest=crypto.digest(p.id_number),
                    phone=p.phone,
                    address=p.address,
                    representative=p.representative,
                    refuses_mediation=p.refuses_mediation,
                    **{column._meta.name: value for column, value in basic_information(p).items()},
                ).save()
            if idempotency_key:
                await IntakeSubmission(key=idempotency_key, staff=actor.id, case=case.id).save()
            # 一案一码: every party with a phone gets a code and secret for /my-case.
            from mediation.portal.services import issue_codes_for_case

            await issue_codes_for_case(case.id, actor)
            await record_event(
                case.id,
                actor,
                "registered",
                "",
                "registered",
                {
                    "number": [None, number],
                    "colour": [None, inp.colour],
                    "grid": [None, grid["name"]],
                },
            )
            if inp.linked_case_id:
                await record_event(
                    case.id, actor, "linked", changes={"linked_case": [None, inp.linked_case_id]}
                )
            await _notify_on_register(case, grid, actor, policy)
            return case.id
    except Exception as exc:
        # Two identical submissions at the same moment: the loser finds the winner's case.
        if idempotency_key and "unique" in str(exc).lower():
            row = await IntakeSubmission.select(IntakeSubmission.case).where(
                IntakeSubmission.key == idempotency_key
            )
            if row:
                return row[0]["case"]
        raise


async def _notify_on_register(case: Case, grid: dict, actor: CurrentUser, policy) -> None:
    team = await _team(grid["id"])
    message = _("New case %(number)s: %(summary)s", number=case.number, summary=case.summary)
    await notify([m["staff"] for m in team if m["staff"] != actor.id], case.id, "new_case", message)
    targets = deadlines.notifications_on_register(policy, case.category, case.colour, "grid")
    urgent = case.colour == "red" or case.public_security_risk
    if not (urgent or targets):
        return
    police = [m["staff"] for m in team if m["role"] == "police"]
    centre = await _centre_staff(case.region_path, "town")
    recipients = []
    if urgent or "police" in targets:
        recipients += police
    if urgent or "town_centre" in targets:
        recipients += centre
    if not recipients:
        return
    urgent_message = _(
        "Urgent: case %(number)s is at risk of turning into a criminal or public-security "
        "incident. %(summary)s",
        number=case.number,
        summary=case.summary,
    )
    await notify(recipients, case.id, "urgent", urgent_message)
    names = await Staff.select(Staff.display_name).where(Staff.id.is_in(recipients))
    # People's Mediation Law Art. 25: the notification itself is part of the record.
    await record_event(
        case.id,
        actor,
        "police_notified",
        note=_("Notified: %(names)s", names="、".join(n["display_name"] for n in names)),
    )


async def find_duplicates(
    user: CurrentUser,
    id_numbers: list[str],
    phones: list[str],
    address: str,
    category: str,
    days: int = 30,
) -> list[dict]:
    """Cases of the last ``days`` with the same party ID or phone, or same address + category."""
    since = today() - timedelta(days=days)
    digests = [crypto.digest(i) for i in id_numbers if i]
    phones = [p for p in phones if p]
    case_ids: set[int] = set()
    if digests or phones:
        query = Party.select(Party.case).where(Party.case.registered_on >= since)
        conditions = None
        if digests:
            conditions = Party.id_number_digest.is_in(digests)
        if phones:
            cond = Party.phone.is_in(phones)
            conditions = cond if conditions is None else (conditions | cond)
        rows = await query.where(conditions)
        case_ids |= {r["case"] for r in rows}
    if address and category:
        rows = await Case.select(Case.id).where(
            Case.registered_on >= since, Case.category == category, Case.location == address
        )
        case_ids |= {r["id"] for r in rows}
    if not case_ids:
        return []
    query = Case.select(
        Case.id, Case.number, Case.summary, Case.status, Case.registered_on, Case.region_path
    ).where(Case.id.is_in(list(case_ids)))
    rows = await query.order_by(Case.id, ascending=False).limit(10)
    allowed = await access.entitled_case_ids(user, [r["id"] for r in rows])
    return [r for r in rows if r["id"] in allowed]


# ---------------------------------------------------------------- reading


async def case_for(user: CurrentUser, case_id: int) -> dict | None:
    """The case if the user is entitled to it (see ``access``); otherwise None, as if it did not
    exist."""
    row = (
        await Case.select(
            Case.all_columns(),
            Case.grid.name,
            Case.grid.code,
            Case.grid.region.name,
            Case.registered_by.display_name,
            Case.linked_case.number,
        )
        .where(Case.id == case_id)
        .first()
    )
    if not await access.entitled_to_case(user, row):
        return None
    return row


async def case_detail(user: CurrentUser, case_id: int) -> dict | None:
    case = await case_for(user, case_id)
    if case is None:
        return None
    case["parties"] = (
        await Party.select(
            Party.id,
            Party.role,
            Party.kind,
            Party.name,
            Party.id_number_masked,
            Party.phone,
            Party.address,
            Party.representative,
            Party.refuses_mediation,
            Party.legal_rep,
            Party.agent_name,
        )
        .where(Party.case == case_id)
        .order_by(Party.id)
    )
    case["events"] = (
        await CaseEvent.select(CaseEvent.all_columns(), CaseEvent.actor.display_name)
        .where(CaseEvent.case == case_id)
        # In time order: records entered afterwards (a backdated follow-up) sit where they belong.
        .order_by(CaseEvent.at, CaseEvent.id)
        .output(load_json=True)
    )
    case["team"] = await TeamMember.select(
        TeamMember.role, TeamMember.staff.display_name, TeamMember.staff
    ).where(TeamMember.grid == case["grid"])
    case["mediators"] = (
        await CaseMediator.select(
            CaseMediator.id,
            CaseMediator.mediator,
            CaseMediator.active,
            CaseMediator.ended_reason,
            CaseMediator.mediator.staff.display_name,
            CaseMediator.mediator.organisation,
        )
        .where(CaseMediator.case == case_id)
        .order_by(CaseMediator.id)
    )
    case["clocks"] = await clocks_for(case)
    case["suggestion"] = await suggestion_of_case(user, case_id)
    case["actions"] = [
        a.value
        for a in workflow.allowed_actions(
            workflow.CaseStatus(case["status"]), workflow.CaseLevel(case["level"])
        )
    ]
    return case


async def suggestion_of_case(user: CurrentUser, case_id: int) -> dict | None:
    """The people's suggestion this case was re-routed from, if any.

    ``url`` is its page for those who may open it (the suggestion office of the area), else
    None: the code alone still tells a grid worker where the case came from.
    """
    from mediation.suggestions.tables import Suggestion

    row = (
        await Suggestion.select(Suggestion.id, Suggestion.tracking_code, Suggestion.region_path)
        .where(Suggestion.case == case_id)
        .first()
    )
    if row is None:
        return None
    may_open = user.has_role("centre_staff", "admin") and (
        not row["region_path"] or user.can_see_path(row["region_path"])
    )
    return {
        "id": row["id"],
        "tracking_code": row["tracking_code"],
        "url": f"/suggestions/{row['id']}" if may_open else None,
    }


async def clocks_for(
    case: dict,
    on: date | None = None,
    policy: deadlines.Policy | None = None,
    calendar: HolidayCalendar | None = None,
) -> list[dict]:
    """The case's clocks and where each stands; a clock crossing a year with no holiday schedule
    is flagged (and logged) as an estimate."""
    policy = policy or await current_policy()
    calendar = calendar or await refresh_calendar()
    clocks = deadlines.compute_clocks(
        policy,
        case["registered_on"],
        case["category"],
        case["colour"],
        case["level"],
        case["mediation_started_on"],
        case["extension_days"],
        accepted_on=case["accepted_on"],
        calendar=calendar,
    )
    result = []
    for clock in clocks:
        if clock.estimated_years:
            workdays.note_estimate(clock.estimated_years)
        done = _clock_done_on(clock.name, case)
        state = deadlines.clock_state(clock, on or today(), done)
        result.append({"clock": clock, "state": state})
    return result


def _clock_done_on(name: str, case: dict) -> date | None:
    status = case["status"]
    if name == "accept":
        return case["accepted_on"] or (case["closed_on"] if status == "declined" else None)
    if name == "handle":
        if status in ("registered", "accepted"):
            return None
        return case["mediation_started_on"] or case["closed_on"]
    if name == "mediation":
        # The clock stops the day agreement is reached or mediation is terminated, not the day
        # the case is closed after the follow-up visit.
        if status in ("settled", "terminated", "performing", "performed", "breached", "closed"):
            return case.get("concluded_on") or case["closed_on"] or local_date(case["updated_at"])
        return None
    return case["closed_on"]


@dataclass
class CaseFilters:
    status: str = ""
    colour: str = ""
    category: str = ""
    level: str = ""
    grid: int | None = None
    source: str = ""
    overdue: bool = False
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    page: int = 1
    # What the dates mean (a figure's measure, see mediation.reports.rollups) and an area.
    event: str = ""
    region_path: str = ""
    agreement_form: str = ""
    # A mediator's cases (reports links): ``assignment`` is "" (any assignment), "active",
    # "objected" (ended by a party's objection) or "load" (active, on an open case).
    mediator: int | None = None
    assignment: str = ""


# The day column each figure counts by, and what else a case needs to count (reports links).
_EVENT_DATES = {
    "received": (Case.registered_on, None),
    "accepted": (Case.accepted_on, None),
    "mediating": (Case.mediation_started_on, None),
    "declined": (Case.closed_on, Case.status == "declined"),
    "closed": (Case.closed_on, Case.status == "closed"),
    "settled": (Case.concluded_on, Case.outcome == "settled"),
    "terminated": (Case.concluded_on, Case.outcome == "terminated"),
    "concluded": (Case.concluded_on, Case.outcome.is_in(["settled", "terminated"])),
    "prevent_suicide": (Case.concluded_on, Case.prevented_suicide.eq(True)),
    "prevent_criminal": (Case.concluded_on, Case.prevented_criminal_persons > 0),
    "prevent_petition": (Case.concluded_on, Case.prevented_petition_persons > 0),
    "prevent_fight": (Case.concluded_on, Case.prevented_fight_persons > 0),
    "screened": (Case.concluded_on, Case.found_by_screening.eq(True)),
    "prevented": (Case.concluded_on, Case.prevented.eq(True)),
    "confirmed": (
        Case.concluded_on,
        Case.judicially_confirmed.eq(True) & (Case.outcome == "settled"),
    ),
}
# "assigned": the dates are those a mediator was assigned to the case (county days).
# "clause_due" / "clause_performed": cases with a clause of an effective agreement due in the
# dates (performed, for the second), the agreement performance figure's list.
CASE_EVENTS = (*_EVENT_DATES, "assigned", "clause_due", "clause_performed")
_OTHER_DATES = ("assigned", "clause_due", "clause_performed")
ASSIGNMENT_FILTERS = ("active", "objected", "load")


def _assignment_condition(f: CaseFilters):
    """Cases with a mediator assignment matching the filters, as a sub-select."""
    sub = CaseMediator.select(CaseMediator.case)
    if f.mediator:
        sub = sub.where(CaseMediator.mediator == f.mediator)
    if f.assignment in ("active", "load"):
        sub = sub.where(CaseMediator.active.eq(True))
    elif f.assignment == "objected":
        sub = sub.where(CaseMediator.active.eq(False))
    if f.event == "assigned":
        zone = county_zone()
        if f.date_from:
            start = datetime.combine(f.date_from, time(0), zone)
            sub = sub.where(CaseMediator.assigned_at >= start)
        if f.date_to:
            end = datetime.combine(f.date_to + timedelta(days=1), time(0), zone)
            sub = sub.where(CaseMediator.assigned_at < end)
    return Case.id.is_in(sub)


def _clause_condition(f: CaseFilters):
    from mediation.cases.tables import AgreementClause

    sub = AgreementClause.select(AgreementClause.agreement.case).where(
        AgreementClause.agreement.status == "effective"
    )
    if f.event == "clause_performed":
        sub = sub.where(AgreementClause.done_on.is_not_null())
    if f.date_from:
        sub = sub.where(AgreementClause.deadline >= f.date_from)
    if f.date_to:
        sub = sub.where(AgreementClause.deadline <= f.date_to)
    else:
        sub = sub.where(AgreementClause.deadline.is_not_null())
    return Case.id.is_in(sub)


async def _filtered(query, user: CurrentUser, f: CaseFilters):
    scope = await access.case_scope(user)
    query = query.where(Case.id < 0 if scope is None else scope)
    if f.region_path:
        query = query.where(Case.region_path.like(f.region_path + "%"))
    if f.agreement_form:
        query = query.where(Case.agreement_form == f.agreement_form)
    if f.mediator or f.assignment or f.event == "assigned":
        query = query.where(_assignment_condition(f))
        if f.assignment == "load":
            query = query.where(Case.status.is_in(OPEN_STATUSES))
    if f.event in ("clause_due", "clause_performed"):
        query = query.where(_clause_condition(f))
    day_column, condition = _EVENT_DATES.get(f.event, (Case.registered_on, None))
    if condition is not None:
        query = query.where(condition)
    if f.event in _EVENT_DATES and f.event != "received":
        query = query.where(day_column.is_not_null())
        if f.event.startswith("prevent") or f.event in ("screened", "prevented", "confirmed"):
            query = query.where(Case.outcome.is_in(["settled", "terminated"]))
    if f.status:
        query = query.where(Case.status == f.status)
    if f.colour:
        query = query.where(Case.colour == f.colour)
    if f.category:
        query = query.where(Case.category == f.category)
    if f.level:
        query = query.where(Case.level == f.level)
    if f.grid:
        query = query.where(Case.grid == f.grid)
    if f.source:
        query = query.where(Case.source == f.source)
    if f.overdue:
        query = query.where(Case.overdue.eq(True))
    if f.date_from and f.event not in _OTHER_DATES:
        query = query.where(day_column >= f.date_from)
    if f.date_to and f.event not in _OTHER_DATES:
        query = query.where(day_column <= f.date_to)
    if f.q:
        query = query.where(await text_search_condition(f.q))
    return query


_fts_ready: dict[str, bool] = {}  # per database file


async def _sqlite_fts_ready() -> bool:
    """Whether the FTS5 trigram table of the case search exists (see its migration)."""
    path = getattr(Case._meta.db, "path", "")
    if path not in _fts_ready:
        rows = await Case.raw(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'case_search'"
        )
        _fts_ready[path] = bool(rows)
    return _fts_ready[path]


async def text_search_condition(q: str):
    """``search_text`` contains the term, its ``%`` and ``_`` literal. On SQLite a term of three
    or more characters is looked up in the FTS5 trigram index, which answers the same LIKE;
    shorter terms (many Chinese names have two characters), terms with LIKE's special
    characters (the index cannot honour an ESCAPE) and PostgreSQL (its own trigram index) use
    the column."""
    term = q.strip().lower()
    plain = not any(c in term for c in "%_\\")
    if plain and len(term) >= 3 and not is_postgres() and await _sqlite_fts_ready():
        return WhereRaw(
            '"case"."id" IN (SELECT rowid FROM case_search WHERE search_text LIKE {})',
            f"%{term}%",
        )
    return inputs.contains(Case.search_text, term)


LIST_COLUMNS = (
    Case.id,
    Case.number,
    Case.summary,
    Case.category,
    Case.status,
    Case.colour,
    Case.level,
    Case.source,
    Case.overdue,
    Case.registered_on,
    Case.grid.name,
)


async def list_cases(user: CurrentUser, f: CaseFilters) -> tuple[list[dict], bool]:
    """One page of cases in the user's subtree, newest first, and whether more follow."""
    page = max(f.page, 1)
    query = Case.select(*LIST_COLUMNS)
    query = (await _filtered(query, user, f)).order_by(Case.id, ascending=False)
    rows = await query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


async def my_work(user: CurrentUser, limit: int = 50) -> list[dict]:
    """The open cases a person is expected to act on, most urgent first."""
    query = Case.select(*LIST_COLUMNS).where(Case.status.is_in(OPEN_STATUSES))
    scope = await access.case_scope(user)
    if scope is None:
        return []
    query = query.where(scope)
    conditions = []
    if user.has_role("grid_worker", "police"):
        grids = [
            r["grid"]
            for r in await TeamMember.select(TeamMember.grid).where(TeamMember.staff == user.id)
        ]
        if grids:
            conditions.append(Case.grid.is_in(grids))
    if user.has_role("mediator", "volunteer"):
        mediator = await Mediator.select(Mediator.id).where(Mediator.staff == user.id).first()
        if mediator:
            ids = [
                r["case"]
                for r in await CaseMediator.select(CaseMediator.case).where(
                    CaseMediator.mediator == mediator["id"], CaseMediator.active.eq(True)
                )
            ]
            if ids:
                conditions.append(Case.id.is_in(ids))
    if user.has_role("centre_staff"):
        depth = len([p for p in user.region_path.split("/") if p])
        level = {1: "county", 2: "town", 3: "community"}.get(depth, "town")
        conditions.append((Case.level == level) | (Case.colour == "red") | (Case.overdue.eq(True)))
    if not conditions:
        return []
    combined = conditions[0]
    for c in conditions[1:]:
        combined = combined | c
    rows = await query.where(combined).order_by(Case.id, ascending=False).limit(limit)
    rank = {"red": 0, "yellow": 1, "green": 2}
    rows.sort(key=lambda r: (not r["overdue"], rank.get(r["colour"], 3)))
    return rows


# ---------------------------------------------------------------- changes


async def _update_case(case: dict, values: dict, actor: CurrentUser | None, version: int | None):
    """Apply a change only if nobody else changed the case since ``version`` was read."""
    expected = case["version"] if version is None else version
    values = {**values, Case.version: expected + 1, Case.updated_at: utc_now()}
    rows = (
        await Case.update(values)
        .where(Case.id == case["id"], Case.version == expected)
        .returning(*rollups.STAT_COLUMNS)
    )
    if rows:
        # The update matched the version ``case`` was read at, so ``case`` is the exact
        # before-image: move the case's share of the figures in the same transaction.
        await rollups.apply_change(case, rows[0])
    if not rows:
        raise EditConflict(
            _(
                "Someone else changed this case a moment ago. Nothing was saved: "
                "reload the page to see their change, then try again."
            )
        )


async def transition_case(
    user: CurrentUser,
    case_id: int,
    action: str,
    facts: dict[str, Any],
    version: int | None = None,
    note: str = "",
) -> str:
    """Move a case through the workflow; the state machine decides what is legal."""
    case = await case_for(user, case_id)
    if case is None:
        raise CaseError(_("This case does not exist."))
    if action in ("start_mediation", "remediate"):
        facts.setdefault(
            "mediator_count",
            await CaseMediator.count().where(
                CaseMediator.case == case_id, CaseMediator.active.eq(True)
            ),
        )
        facts.setdefault(
            "any_party_refuses",
            await Party.exists().where(Party.case == case_id, Party.refuses_mediation.eq(True)),
        )
    if action == "close":
        from mediation.cases.tables import FollowUp

        recorded = await FollowUp.exists().where(FollowUp.case == case_id)
        facts["follow_up_recorded"] = bool(facts.get("follow_up_recorded")) or recorded
        if problem := await _performance_disagreement(case_id):
            raise CaseError(problem, "performance")
    try:
        move = workflow.apply(
            action, workflow.CaseStatus(case["status"]), workflow.CaseLevel(case["level"]), **facts
        )
    except workflow.WorkflowError as exc:
        raise CaseError(exc.message, getattr(exc, "field", "") or "") from exc
    if advice := (move.details or {}).get("referral_advice"):
        allowed = {c.value for c in workflow.channels_for(case["category"])}
        if wrong := [a for a in advice.split(",") if a not in allowed]:
            raise CaseError(
                _(
                    "“%(channel)s” is not open for this kind of dispute; choose among: "
                    "%(allowed)s.",
                    channel=workflow.REFERRAL_ADVICE_LABELS[workflow.ReferralAdvice(wrong[0])],
                    allowed="、".join(
                        str(workflow.REFERRAL_ADVICE_LABELS[c])
                        for c in workflow.channels_for(case["category"])
                    ),
                ),
                "referral_advice",
            )
    changes: dict[Any, Any] = {Case.status: move.to_status.value}
    the_day = today()
    if move.to_status == workflow.CaseStatus.ACCEPTED and not case["accepted_on"]:
        changes[Case.accepted_on] = the_day
    if move.to_status == workflow.CaseStatus.MEDIATING and not case["mediation_started_on"]:
        changes[Case.mediation_started_on] = the_day
    if move.to_status in (workflow.CaseStatus.CLOSED, workflow.CaseStatus.DECLINED):
        changes[Case.closed_on] = the_day
    if move.to_status in (workflow.CaseStatus.SETTLED, workflow.CaseStatus.TERMINATED):
        changes[Case.concluded_on] = the_day
        changes[Case.outcome] = move.to_status.value
        changes[Case.agreement_form] = (move.details or {}).get("agreement_form", "")
    if move.level_after != move.level_before:
        changes[Case.level] = move.level_after.value
    async with write_transaction():
        await _update_case(case, changes, user, version)
        detail = {k: v for k, v in (move.details or {}).items()}
        record = {
            "status": [case["status"], move.to_status.value],
            **{k: [None, v] for k, v in detail.items()},
        }
        if move.level_after != move.level_before:
            record["level"] = [move.level_before.value, move.level_after.value]
        await record_event(
            case_id, user, action, case["status"], move.to_status.value, record, note
        )
    if action == "escalate":
        centre = await _centre_staff(case["region_path"], move.level_after.value)
        await notify(
            centre,
            case_id,
            "escalated",
            _("Case %(number)s was escalated to you.", number=case["number"]),
        )
    return move.to_status.value


async def _performance_disagreement(case_id: int) -> str:
    """Why the clauses of the case's agreements and its last follow-up disagree, or "".

    A case closes only when every clause in effect is recorded as performed and the last
    follow-up visit found the agreement performed in full."""
    from mediation.cases.tables import AgreementClause, FollowUp

    clauses = await AgreementClause.select(
        AgreementClause.seq, AgreementClause.done_on, AgreementClause.agreement.number
    ).where(
        AgreementClause.agreement.case == case_id, AgreementClause.agreement.status == "effective"
    )
    if not clauses:
        return ""
    open_clauses = [c for c in clauses if c["done_on"] is None]
    if open_clauses:
        return _(
            "The case cannot be closed: clauses %(clauses)s are not recorded as performed. "
            "Mark them performed, or record a follow-up visit that finds the agreement "
            "performed in full.",
            clauses="、".join(f"{c['agreement.number']}#{c['seq']}" for c in open_clauses),
        )
    last = (
        await FollowUp.select(FollowUp.performance)
        .where(FollowUp.case == case_id)
        .order_by(FollowUp.visited_on, ascending=False)
        .order_by(FollowUp.id, ascending=False)
        .first()
    )
    if last is not None and last["performance"] != "performed":
        return _(
            "The case cannot be closed: the last follow-up visit found the agreement not "
            "performed in full, although every clause is marked performed. Record a new "
            "follow-up visit."
        )
    return ""


async def change_colour(
    user: CurrentUser, case_id: int, colour: str, reason: str, version: int | None = None
) -> None:
    case = await case_for(user, case_id)
    if case is None:
        raise CaseError(_("This case does not exist."))
    if colour not in COLOURS:
        raise CaseError(_("Choose from the list."), "colour")
    if not reason.strip():
        raise CaseError(_("Give a reason for the change."), "reason")
    if colour == case["colour"]:
        return
    async with write_transaction():
        await _update_case(case, {Case.colour: colour}, user, version)
        await record_event(
            case_id,
            user,
            "colour_changed",
            changes={"colour": [case["colour"], colour]},
            note=reason,
        )
    if colour == "red":
        team = await _team(case["grid"])
        recipients = [m["staff"] for m in team if m["role"] == "police"]
        recipients += await _centre_staff(case["region_path"], "town")
        await notify(
            recipients,
            case_id,
            "urgent",
            _("Case %(number)s is now red: %(reason)s", number=case["number"], reason=reason),
        )
        await record_event(case_id, user, "police_notified", note=reason)


async def reveal_party_field(
    user: CurrentUser, case_id: int, party_id: int, field_name: str
) -> str:
    """Show one party's full ID number or phone to a permitted user; every reveal is logged."""
    if not access.may_reveal(user):
        raise CaseError(_("You may not see this in full."))
    case = await case_for(user, case_id)
    if case is None or field_name not in ("id_number", "phone"):
        raise CaseError(_("This case does not exist."))
    party = (
        await Party.select(Party.id, Party.name, Party.id_number_encrypted, Party.phone)
        .where(Party.id == party_id, Party.case == case_id)
        .first()
    )
    if party is None:
        raise CaseError(_("This case does not exist."))
    value = (
        crypto.decrypt(party["id_number_encrypted"])
        if field_name == "id_number"
        else party["phone"]
    )
    await record_event(
        case_id,
        user,
        "revealed",
        changes={"field": [None, field_name], "party": [None, party["name"]]},
    )
    return value


# ---------------------------------------------------------------- mediators


async def suggest_mediators(user: CurrentUser, case_id: int) -> list[assignment.Suggestion]:
    case = await case_for(user, case_id)
    if case is None:
        raise CaseError(_("This case does not exist."))
    parties = await Party.select(
        Party.name, Party.id_number_encrypted, Party.phone, Party.staff
    ).where(Party.case == case_id)
    objected = {
        r["mediator"]
        for r in await CaseMediator.select(CaseMediator.mediator).where(
            CaseMediator.case == case_id, CaseMediator.ended_reason != ""
        )
    }
    active = {
        r["mediator"]
        for r in await CaseMediator.select(CaseMediator.mediator).where(
            CaseMediator.case == case_id, CaseMediator.active.eq(True)
        )
    }
    facts = assignment.CaseFacts(
        category_code=case["category"],
        region_path=case["region_path"],
        parties=tuple(
            assignment.Person(
                name=p["name"],
                id_number=crypto.decrypt(p["id_number_encrypted"]) or None,
                phone=p["phone"] or None,
                staff_id=p["staff"],
            )
            for p in parties
        ),
        objected_mediator_ids=frozenset(objected),
    )
    rows = await Mediator.select(
        Mediator.id,
        Mediator.staff,
        Mediator.staff.display_name,
        Mediator.staff.region.path,
        Mediator.staff.phone,
        Mediator.skills,
        Mediator.dialects,
        Mediator.available,
        Mediator.max_cases,
        Mediator.related_persons,
    ).output(load_json=True)
    loads = await _mediator_loads()
    candidates = []
    for r in rows:
        if r["id"] in active:
            continue
        related = frozenset(
            assignment.Person(
                name=p.get("name", ""), id_number=p.get("id_number"), phone=p.get("phone")
            )
            for p in (r["related_persons"] or [])
            if isinstance(p, dict)
        )
        candidates.append(
            assignment.MediatorFacts(
                id=r["id"],
                name=r["staff.display_name"],
                region_path=r["staff.region.path"] or "",
                skills=frozenset(r["skills"] or []),
                dialects=frozenset(r["dialects"] or []),
                available=r["available"],
                current_load=loads.get(r["id"], 0),
                max_load=r["max_cases"],
                phone=r["staff.phone"] or None,
                related_persons=related,
            )
        )
    # Staff ids of parties are matched against the mediator's staff id, not the profile id.
    staff_of = {r["id"]: r["staff"] for r in rows}
    party_staff = {p["staff"] for p in parties if p["staff"]}
    candidates = [c for c in candidates if staff_of[c.id] not in party_staff]
    return assignment.rank_mediators(facts, candidates)


async def _mediator_loads() -> dict[int, int]:
    rows = await CaseMediator.select(CaseMediator.mediator).where(
        CaseMediator.active.eq(True), CaseMediator.case.status.is_in(OPEN_STATUSES)
    )
    loads: dict[int, int] = {}
    for r in rows:
        loads[r["mediator"]] = loads.get(r["mediator"], 0) + 1
    return loads


async def assign_mediator(user: CurrentUser, case_id: int, mediator_id: int) -> None:
    """Staff confirm one of the suggested mediators (conflicts of interest are refused)."""
    suggestions = await suggest_mediators(user, case_id)
    chosen = next((s for s in suggestions if s.mediator.id == mediator_id), None)
    if chosen is None:
        raise CaseError(
            _("This mediator cannot take the case (conflict of interest, objection or full load)."),
            "mediator",
        )
    await CaseMediator(case=case_id, mediator=mediator_id, assigned_by=user.id).save()
    staff = (
        await Mediator.select(Mediator.staff, Mediator.staff.display_name)
        .where(Mediator.id == mediator_id)
        .first()
    )
    case = await case_for(user, case_id)
    await record_event(
        case_id,
        user,
        "mediator_assigned",
        changes={"mediator": [None, staff["staff.display_name"]]},
    )
    await notify(
        [staff["staff"]],
        case_id,
        "assigned",
        _("You were assigned to case %(number)s.", number=case["number"]),
    )


async def object_to_mediator(
    user: CurrentUser, case_id: int, assignment_id: int, reason: str
) -> None:
    """A party objects to a mediator: the assignment ends and the objection is recorded."""
    if await case_for(user, case_id) is None:
        raise CaseError(_("This case does not exist."))
    await end_assignment_on_objection(case_id, assignment_id, reason, actor=user)


async def end_assignment_on_objection(
    case_id: int,
    assignment_id: int,
    reason: str,
    actor: CurrentUser | None,
    party_name: str = "",
) -> None:
    """End a mediator's assignment because a party objects (entered by staff or by the party)."""
    if not reason.strip():
        raise CaseError(_("Give a reason for the objection."), "reason")
    row = (
        await CaseMediator.select(CaseMediator.id, CaseMediator.mediator.staff.display_name)
        .where(
            CaseMediator.id == assignment_id,
            CaseMediator.case == case_id,
            CaseMediator.active.eq(True),
        )
        .first()
    )
    if row is None:
        raise CaseError(_("This mediator is not on the case."))
    await CaseMediator.update(
        {CaseMediator.active: False, CaseMediator.ended_reason: reason.strip()[:200]}
    ).where(CaseMediator.id == assignment_id)
    changes = {"mediator": [row["mediator.staff.display_name"], None]}
    if party_name:
        changes["party"] = [None, party_name]
    await record_event(case_id, actor, "mediator_objected", changes=changes, note=reason)


async def extend_mediation(
    user: CurrentUser,
    case_id: int,
    days: int,
    applicant_consents: bool,
    respondent_consents: bool,
    version: int | None = None,
) -> None:
    case = await case_for(user, case_id)
    if case is None:
        raise CaseError(_("This case does not exist."))
    if case["status"] != "mediating":
        raise CaseError(_("Only a case in mediation can have its mediation period extended."))
    policy = await current_policy()
    try:
        added = deadlines.extend_mediation(
            policy,
            days=days,
            times_extended=case["extensions"],
            applicant_consents=applicant_consents,
            respondent_consents=respondent_consents,
        )
    except deadlines.DeadlineError as exc:
        raise CaseError(exc.message, "days") from exc
    async with write_transaction():
        await _update_case(
            case,
            {
                Case.extension_days: case["extension_days"] + added,
                Case.extensions: case["extensions"] + 1,
            },
            user,
            version,
        )
        await record_event(
            case_id,
            user,
            "extended",
            changes={"extension_days": [case["extension_days"], case["extension_days"] + added]},
            note=_("Both sides consented."),
        )


# ---------------------------------------------------------------- deadlines


async def current_policy() -> deadlines.Policy:
    row = (
        await DeadlinePolicy.select(DeadlinePolicy.body)
        .order_by(DeadlinePolicy.id, ascending=False)
        .output(load_json=True)
        .first()
    )
    if row is None:
        return deadlines.default_policy()
    return deadlines.parse_policy(row["body"], "stored deadline policy")


async def current_policy_json() -> str:
    import json

    row = (
        await DeadlinePolicy.select(DeadlinePolicy.body)
        .order_by(DeadlinePolicy.id, ascending=False)
        .output(load_json=True)
        .first()
    )
    if row is None:
        return deadlines.DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    return json.dumps(row["body"], ensure_ascii=False, indent=2)


async def save_policy_text(user: CurrentUser, text: str) -> None:
    """Store a new policy (the old ones stay as history) after checking it completely."""
    import json

    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaseError(
            _(
                "This is not valid JSON (line %(line)s, column %(col)s).",
                line=exc.lineno,
                col=exc.colno,
            ),
            "body",
        ) from exc
    try:
        deadlines.parse_policy(body, "deadline policy")
    except deadlines.PolicyError as exc:
        raise CaseError(_("The policy is not valid: %(detail)s", detail=str(exc)), "body") from exc
    await DeadlinePolicy(body=body, updated_by=user.id).save()
    from mediation.grid.services import record_audit

    await record_audit(user, "update", "deadline_policy", "", {}, {"size": len(text)})


@dataclass
class SweepReport:
    checked: int = 0
    newly_overdue: int = 0
    escalated: int = 0


async def sweep_deadlines(on: date | None = None) -> SweepReport:
    """Mark overdue work, notify and escalate where the policy says.

    Safe to run twice or on two servers at once: every change is conditional on the case's
    version, and an escalation for a clock is recorded so it never happens twice.
    """
    on = on or today()
    report = SweepReport()
    # One policy and one calendar for the whole pass, not a query per case.
    policy = await current_policy()
    calendar = await refresh_calendar(force=True)
    rows = await Case.select(Case.all_columns()).where(Case.status.is_in(OPEN_STATUSES))
    for case in rows:
        report.checked += 1
        states = await clocks_for(case, on, policy, calendar)
        late = [c for c in states if c["state"].is_overdue and not c["state"].done]
        try:
            if not late:
                if case["overdue"]:
                    # Work caught up: the next lapse is a new episode.
                    async with write_transaction():
                        await _update_case(case, {Case.overdue: False}, None, case["version"])
                        await record_event(case["id"], None, "caught_up")
                continue
            if case["overdue"]:
                continue  # this episode was handled by an earlier sweep
            async with write_transaction():
                await _update_case(case, {Case.overdue: True}, None, case["version"])
                await record_event(
                    case["id"], None, "overdue", note=", ".join(c["clock"].label for c in late)
                )
            case["version"] += 1
            report.newly_overdue += 1
            team = await _team(case["grid"])
            await notify(
                [m["staff"] for m in team],
                case["id"],
                "overdue",
                _("Case %(number)s is overdue.", number=case["number"]),
            )
            if await _escalate_overdue(case, late):
                report.escalated += 1
        except EditConflict:
            # Another sweep or a person got there first; the next run looks again.
            continue
    return report


async def _escalate_overdue(case: dict, late: list[dict]) -> bool:
    """One rung up when an overdue clock says so: once per overdue episode, never twice."""
    clock = next((c["clock"] for c in late if c["clock"].escalates_when_overdue), None)
    level = workflow.CaseLevel(case["level"])
    upper = level.next_level()
    if clock is None or upper is None:
        return False
    if workflow.CaseStatus(case["status"]) not in workflow.ESCALATABLE:
        return False
    async with write_transaction():
        await _update_case(case, {Case.level: upper.value}, None, case["version"])
        await record_event(
            case["id"],
            None,
            "escalate",
            case["status"],
            case["status"],
            {"level": [level.value, upper.value]},
            _("Escalated automatically: %(clock)s is overdue.", clock=clock.label),
        )
    case["version"] += 1
    case["level"] = upper.value
    centre = await _centre_staff(case["region_path"], upper.value)
    await notify(
        centre,
        case["id"],
        "escalated",
        _("Case %(number)s was escalated to you.", number=case["number"]),
    )
    return True


async def region_for_filter(code: str) -> dict | None:
    """A region chosen by code in a list filter (its path does the scoping; the user's own
    subtree is applied separately, so a region outside it simply narrows to nothing)."""
    if not code or len(code) > 32:
        return None
    return (
        await Region.select(Region.code, Region.name, Region.path)
        .where(Region.code == code)
        .first()
    )


async def mediator_name(mediator_id: int) -> str:
    """A mediator chosen in a list filter, by profile id (shown above the list)."""
    row = (
        await Mediator.select(Mediator.staff.display_name).where(Mediator.id == mediator_id).first()
    )
    return (row or {}).get("staff.display_name") or ""


async def region_name(path: str) -> str:
    code = [p for p in path.split("/") if p][-1]
    row = await Region.select(Region.name).where(Region.code == code).first()
    return row["name"] if row else ""


def uses_postgres() -> bool:
    return is_postgres()


# ---------------------------------------------------------------- conclusion figures

PREVENTION_FLAGS = ("prevented_suicide", "found_by_screening", "prevented", "judicially_confirmed")
PREVENTION_PERSONS = (
    "prevented_criminal_persons",
    "prevented_petition_persons",
    "prevented_fight_persons",
)
MAX_PERSONS = 100_000


async def record_conclusion_figures(
    user: CurrentUser, case_id: int, values: dict[str, Any], version: int | None = None
) -> None:
    """The statutory statistics' facts the workflow does not know (prevention, head counts,
    judicial confirmation), recorded on a concluded case; each change is a timeline event."""
    case = await case_for(user, case_id)
    if case is None:
        raise CaseError(_("This case does not exist."))
    if case["outcome"] not in ("settled", "terminated"):
        raise CaseError(_("These figures are recorded once mediation has concluded."))
    new: dict[str, Any] = {name: bool(values.get(name)) for name in PREVENTION_FLAGS}
    for name in PREVENTION_PERSONS:
        raw = str(values.get(name, "") or "0").strip()
        if not raw.isdigit() or int(raw) > MAX_PERSONS:
            raise CaseError(
                _("Enter a whole number of persons from 0 to %(max)s.", max=MAX_PERSONS), name
            )
        new[name] = int(raw)
    if new["judicially_confirmed"] and case["outcome"] != "settled":
        raise CaseError(_("Only an agreement can be judicially confirmed."), "judicially_confirmed")
    changed = {name: [case[name], value] for name, value in new.items() if case[name] != value}
    if not changed:
        return
    async with write_transaction():
        await _update_case(
            case, {getattr(Case, name): value for name, value in new.items()}, user, version
        )
        await record_event(case_id, user, "figures_recorded", changes=changed)
