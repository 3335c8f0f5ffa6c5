"""Reading cases: one case, its detail and clocks, the filtered lists."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache

from piccolo.columns.combination import WhereRaw
from piccolo.custom_types import Combinable
from piccolo.querystring import QueryString

from mediation import inputs
from mediation.accounts.services import CurrentUser
from mediation.cases import access, deadlines, ontime, workdays, workflow
from mediation.cases.common import OPEN_STATUSES, PAGE_SIZE, today
from mediation.cases.holidays import refresh_calendar
from mediation.cases.policy_store import shown_policy
from mediation.cases.tables import (
    Case,
    CaseEvent,
    CaseMediator,
    Party,
)
from mediation.cases.workdays import HolidayCalendar
from mediation.clock import county_zone, local_date
from mediation.db import PreparedSelect, fields_of, is_postgres
from mediation.grid.tables import Mediator, Region, TeamMember
from mediation.roles import AREA_ROLES
from mediation.settings import get_settings

# Columns reached through a foreign key are built once: Piccolo copies the referenced table's
# columns each time one is named, a measurable share of a page's time when done per request.
_CASE_COLUMNS = (
    *Case.all_columns(),
    Case.grid._.name,
    Case.grid._.code,
    Case.grid._.region._.name,
    Case.registered_by._.display_name,
    Case.linked_case._.number,
)
_EVENT_COLUMNS = (*CaseEvent.all_columns(), CaseEvent.actor._.display_name)
_TEAM_COLUMNS = (TeamMember.role, TeamMember.staff.display_name, TeamMember.staff)
_MEDIATOR_COLUMNS = (
    CaseMediator.id,
    CaseMediator.mediator,
    CaseMediator.active,
    CaseMediator.ended_reason,
    CaseMediator.mediator._.staff._.display_name,
    CaseMediator.mediator._.organisation,
)


# The case page's reads, their SQL built once (see ``db.PreparedSelect``).
_CASE_ROW = PreparedSelect(
    lambda case_id: Case.select(*_CASE_COLUMNS).where(Case.id == case_id).limit(1)
)
_PARTIES = PreparedSelect(
    lambda case_id: (
        Party.select(
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
)
_EVENTS = PreparedSelect(
    lambda case_id: (
        CaseEvent.select(*_EVENT_COLUMNS)
        .where(CaseEvent.case == case_id)
        # In time order: records entered afterwards (a backdated follow-up) sit where they belong.
        .order_by(CaseEvent.at, CaseEvent.id)
        .output(load_json=True)
    )
)
_TEAM = PreparedSelect(
    lambda grid_id: TeamMember.select(*_TEAM_COLUMNS).where(TeamMember.grid == grid_id)
)
_MEDIATORS = PreparedSelect(
    lambda case_id: (
        CaseMediator.select(*_MEDIATOR_COLUMNS)
        .where(CaseMediator.case == case_id)
        .order_by(CaseMediator.id)
    )
)


async def _entitled_row(user: CurrentUser, case_id: int) -> dict | None:
    rows = await _CASE_ROW(case_id)
    row = rows[0] if rows else None
    if not await access.entitled_to_case(user, row):
        return None
    return row


async def case_for(user: CurrentUser, case_id: int) -> CaseRecord | None:
    """The case if the user is entitled to it (see ``access``); otherwise None, as if it did not
    exist."""
    row = await _entitled_row(user, case_id)
    return None if row is None else CaseRecord.from_row(row)


@dataclass(frozen=True, slots=True)
class PartyRow:
    """A party as the case page and the API show it (the ID number masked)."""

    id: int
    role: str
    kind: str
    name: str
    id_number_masked: str
    phone: str
    address: str
    representative: str
    refuses_mediation: bool
    legal_rep: str
    agent_name: str


@dataclass(frozen=True, slots=True)
class EventRow:
    """One entry of a case's timeline."""

    id: int
    case: int
    at: datetime
    actor: int | None
    actor_name: str | None
    action: str
    from_status: str
    to_status: str
    changes: dict | None
    note: str


@dataclass(frozen=True, slots=True)
class TeamMemberRow:
    """A member of the grid's team (grid worker or community police officer)."""

    role: str
    staff: int
    name: str


@dataclass(frozen=True, slots=True)
class MediatorAssignment:
    """A mediator assigned to the case, active or ended by a party's objection."""

    id: int
    mediator: int
    active: bool
    ended_reason: str
    name: str | None
    organisation: str | None


@dataclass(frozen=True, slots=True)
class SuggestionLink:
    """The people's suggestion a case was re-routed from."""

    id: int
    tracking_code: str
    url: str | None  # its page, for those who may open it, else None


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A case's own columns and the names of what it refers to, as the services act on it."""

    # The case's own columns (see ``tables.Case``).
    id: int
    number: str
    category: str
    summary: str
    facts: str
    grid: int
    region_path: str
    source: str
    colour: str
    level: str
    status: str
    parties_consent: bool
    public_security_risk: bool
    amount: Decimal | None
    location: str
    registered_on: date
    registered_at: datetime
    registered_by: int | None
    accepted_on: date | None
    mediation_started_on: date | None
    closed_on: date | None
    concluded_on: date | None
    outcome: str
    agreement_form: str
    prevented_suicide: bool
    prevented_criminal_persons: int
    prevented_petition_persons: int
    prevented_fight_persons: int
    found_by_screening: bool
    prevented: bool
    judicially_confirmed: bool
    accept_on_time: bool | None
    handle_on_time: bool | None
    mediation_on_time: bool | None
    extension_days: int
    extensions: int
    overdue: bool
    linked_case: int | None
    termination_number: str | None
    search_text: str
    version: int
    updated_at: datetime
    # Names of what it refers to.
    grid_name: str
    grid_code: str
    community: str  # the grid's community
    registered_by_name: str | None
    linked_case_number: str | None

    @classmethod
    def from_row(cls, row: dict) -> CaseRecord:
        """From a row read with ``_CASE_COLUMNS``."""
        return cls(**fields_of(row, _JOINED_FIELDS))


@dataclass(frozen=True, slots=True)
class CaseDetail(CaseRecord):
    """A case with everything its page, its printed records and the API show."""

    # What belongs to it.
    parties: list[PartyRow]
    events: list[EventRow]
    team: list[TeamMemberRow]
    mediators: list[MediatorAssignment]
    clocks: list[ClockStanding]
    suggestion: SuggestionLink | None
    actions: list[str]  # the moves its status and level allow


# Columns of other tables read with the case, and the fields they fill.
_JOINED_FIELDS = {
    "grid.name": "grid_name",
    "grid.code": "grid_code",
    "grid.region.name": "community",
    "registered_by.display_name": "registered_by_name",
    "linked_case.number": "linked_case_number",
}


async def case_detail(user: CurrentUser, case_id: int) -> CaseDetail | None:
    case = await _entitled_row(user, case_id)
    if case is None:
        return None
    parties = await _PARTIES(case_id)
    events = await _EVENTS(case_id)
    team = await _TEAM(case["grid"])
    mediators = await _MEDIATORS(case_id)
    actions = workflow.allowed_actions(
        workflow.CaseStatus(case["status"]), workflow.CaseLevel(case["level"])
    )
    return CaseDetail(
        **{_JOINED_FIELDS.get(key, key): value for key, value in case.items()},
        parties=[PartyRow(**p) for p in parties],
        events=[
            EventRow(
                id=e["id"],
                case=e["case"],
                at=e["at"],
                actor=e["actor"],
                actor_name=e["actor.display_name"],
                action=e["action"],
                from_status=e["from_status"],
                to_status=e["to_status"],
                changes=e["changes"],
                note=e["note"],
            )
            for e in events
        ],
        team=[
            TeamMemberRow(role=m["role"], staff=m["staff"], name=m["staff.display_name"])
            for m in team
        ],
        mediators=[
            MediatorAssignment(
                id=m["id"],
                mediator=m["mediator"],
                active=m["active"],
                ended_reason=m["ended_reason"],
                name=m["mediator.staff.display_name"],
                organisation=m["mediator.organisation"],
            )
            for m in mediators
        ],
        clocks=await clocks_for(case),
        suggestion=await suggestion_of_case(user, case_id),
        actions=[a.value for a in actions],
    )


@lru_cache(maxsize=1)
def _suggestion_link() -> PreparedSelect:
    from mediation.suggestions.tables import Suggestion  # cases never import suggestions above

    return PreparedSelect(
        lambda case_id: (
            Suggestion.select(Suggestion.id, Suggestion.tracking_code, Suggestion.region_path)
            .where(Suggestion.case == case_id)
            .limit(1)
        )
    )


async def suggestion_of_case(user: CurrentUser, case_id: int) -> SuggestionLink | None:
    """The people's suggestion this case was re-routed from, if any.

    ``url`` is its page for those who may open it (the suggestion office of the area), else
    None: the code alone still tells a grid worker where the case came from.
    """
    rows = await _suggestion_link()(case_id)
    if not rows:
        return None
    row = rows[0]
    may_open = user.has_role(*AREA_ROLES) and (
        not row["region_path"] or user.can_see_path(row["region_path"])
    )
    return SuggestionLink(
        id=row["id"],
        tracking_code=row["tracking_code"],
        url=f"/suggestions/{row['id']}" if may_open else None,
    )


@dataclass(frozen=True)
class ClockStanding:
    """One clock of a case (its rule and due date) and where it stands on a given day."""

    clock: deadlines.Clock
    state: deadlines.ClockState


async def clocks_for(
    case: dict,
    on: date | None = None,
    policy: deadlines.Policy | None = None,
    calendar: HolidayCalendar | None = None,
    memo: dict | None = None,
) -> list[ClockStanding]:
    """The case's clocks and where each stands; a clock crossing a year with no holiday schedule
    is flagged (and logged) as an estimate.

    ``memo`` (a dict kept for one pass with one policy and one calendar, as the sweep does)
    shares the clocks of cases with the same dates, category, colour and level.
    """
    policy = policy or await shown_policy()
    calendar = calendar or await refresh_calendar()
    key = ontime.clock_key(case)
    clocks = memo.get(key) if memo is not None else None
    if clocks is None:
        clocks = ontime.case_clocks(case, policy, calendar)
        if memo is not None:
            memo[key] = clocks
    result = []
    for clock in clocks:
        if clock.estimated_years:
            workdays.note_estimate(clock.estimated_years)
        done = _clock_done_on(clock.name, case)
        state = deadlines.clock_state(clock, on or today(), done)
        result.append(ClockStanding(clock, state))
    return result


def overdue_clocks(
    case: dict,
    on: date,
    policy: deadlines.Policy,
    calendar: HolidayCalendar,
    memo: dict,
) -> list[ClockStanding]:
    """The case's clocks that are overdue and not done on ``on``: what ``clocks_for`` says of
    it, filtered, for a pass over many cases (the deadline sweep) with one day, one policy and
    one calendar. ``memo``, kept for that pass, shares the clocks of cases with the same clock
    inputs and the answer of those that also finished their clocks on the same days."""
    key = ontime.clock_key(case)
    clocks = memo.get(key)
    if clocks is None:
        clocks = memo[key] = ontime.case_clocks(case, policy, calendar)
        for clock in clocks:
            if clock.estimated_years:
                workdays.note_estimate(clock.estimated_years)
    done = tuple(_clock_done_on(clock.name, case) for clock in clocks)
    late_key = ("overdue", key, done)
    late = memo.get(late_key)
    if late is None:
        late = memo[late_key] = [
            ClockStanding(clock, state)
            for clock, day in zip(clocks, done, strict=True)
            if (state := deadlines.clock_state(clock, on, day)).is_overdue and not state.done
        ]
    return late


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
    # Keyset pagination (the list is newest first, by id): the page after the case ``after``
    # (older ones) or before the case ``before`` (newer ones), instead of an offset that makes
    # the database read every case of the pages skipped.
    after: int | None = None
    before: int | None = None
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
    return query


@dataclass(frozen=True)
class CaseIds:
    """The ids of the cases a search term finds through another table's index (a party's
    name, a phone's last digits, listed case numbers), as a sub-select: SQL with ``{}``
    placeholders, its arguments, and ``{order}`` where the ids are to be sorted.

    Few enough to be sorted newest first: on PostgreSQL a list walks them in that order and
    stops at its page (see ``_driven_by``), instead of reading every case they name to sort
    them afterwards."""

    sql: str
    args: tuple

    def condition(self) -> WhereRaw:
        return WhereRaw(f'"case"."id" IN ({self.sql.replace("{order}", "")})', *self.args)

    def ordered(self, ascending: bool) -> QueryString:
        order = " ORDER BY 1 ASC" if ascending else " ORDER BY 1 DESC"
        return QueryString(self.sql.replace("{order}", order), *self.args)


async def _filtered_search(query, user: CurrentUser, f: CaseFilters):
    """The query with every filter; the search term's cases as a ``CaseIds`` to drive the list
    by (PostgreSQL), or None when the term is a condition like the others."""
    query = await _filtered(query, user, f)
    if not f.q:
        return query, None
    found = await _text_search(f.q)
    if isinstance(found, CaseIds):
        if is_postgres():
            return query, found
        return query.where(found.condition()), None
    return query.where(found), None


# Where the case table is named in a list query (Piccolo's select), and its order.
_FROM_CASE = ' FROM "case" '
_ORDER = {False: ' ORDER BY "case"."id" DESC', True: ' ORDER BY "case"."id" ASC'}


async def _driven_by(query, found: CaseIds, ascending: bool) -> list[dict]:
    """Run a list query (ordered by id) from the search's case ids, sorted the same way:
    ``FROM (ids) found JOIN "case"``. PostgreSQL then reads the cases one by one in the list's
    order and stops when the page is full; with ``"case"."id" IN (ids)`` it reads every case
    the term names (a common name: over a thousand) and sorts them. The query's other
    conditions stay as they are."""
    statement = query.querystrings[0]
    template: str = statement.template
    at = template.find(_FROM_CASE)
    order = [
        i
        for i, arg in enumerate(statement.args)
        if getattr(arg, "template", "") == _ORDER[ascending]
    ]
    if at < 0 or template.count(_FROM_CASE) != 1 or len(order) != 1:
        # Not the shape this was written for (a different Piccolo): the plain condition.
        return await query.where(found.condition())
    before = template[:at].count("{}")
    args = list(statement.args)
    args[order[0]] = QueryString(' ORDER BY "found"."id"' + (" ASC" if ascending else " DESC"))
    args.insert(before, found.ordered(ascending))
    driven = QueryString(
        template[:at]
        + ' FROM ({}) "found" JOIN "case" ON "case"."id" = "found"."id" '
        + template[at + len(_FROM_CASE) :],
        *args,
    )
    return await Case._meta.db.run_querystring(driven)


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


# A case number as issued (平湖-2026-000123), or its year and sequence alone (2026-000123).
_CASE_NUMBER = re.compile(r"^(?:(?P<county>\S+)-)?(?P<year>\d{4})-(?P<seq>\d{6})$")
# The last digits of a phone number (a whole mobile number has 11).
_PHONE_TAIL = re.compile(r"^\d{4,11}$")
# Terms this short are looked up as (the start of) a party's name: names are searched whole
# far more often than by a fragment, and a B-tree answers that at any size. The trigram index
# cannot answer them (a name of two characters has no trigram).
NAME_TERM_MAX = 2
# Cases found through a phone tail, at most (a list shows 25 at a time).
PHONE_TAIL_LIMIT = 1000


def case_number_of(q: str) -> str | None:
    """The case number a search term names exactly, if it is shaped like one."""
    match = _CASE_NUMBER.match(q.strip())
    if match is None:
        return None
    county = get_settings().county_code
    given = match["county"]
    if given and given.lower() != county.lower():
        county = given
    return f"{county}-{match['year']}-{match['seq']}"


def _name_prefix_sql() -> str:
    """SQL selecting the ids of cases with a party whose name starts with the term: the
    expression index on ``lower(name)`` answers it (``text_pattern_ops`` on PostgreSQL, a
    range on SQLite, whose LIKE cannot use an index)."""
    if is_postgres():
        return 'SELECT p."case" FROM party p WHERE lower(p.name) LIKE {}'
    return 'SELECT p."case" FROM party p WHERE lower(p.name) >= {} AND lower(p.name) < {}'


def _name_prefix_args(term: str) -> list[str]:
    if is_postgres():
        return [term + "%"]  # plain terms only: no LIKE wildcard in them
    return [term, term[:-1] + chr(ord(term[-1]) + 1)]


async def _name_prefix_cases(term: str) -> CaseIds | None:
    """Cases with a party named ``term`` or a name starting with it; None if there is none."""
    sql = _name_prefix_sql()
    args = _name_prefix_args(term)
    found = await Party.raw(sql.replace('SELECT p."case"', "SELECT 1") + " LIMIT 1", *args)
    if not found:
        return None
    distinct = sql.replace('SELECT p."case"', 'SELECT DISTINCT p."case" AS id')
    return CaseIds(distinct + "{order}", tuple(args))


# The cases of the parties whose phone ends with the digits (at most PHONE_TAIL_LIMIT).
def _phone_tail_sql() -> str:
    if is_postgres():
        # Expression index on reverse(phone) (text_pattern_ops): a prefix of the reversed number.
        return 'SELECT DISTINCT p."case" FROM party p WHERE reverse(p.phone) LIKE {} LIMIT {}'
    return 'SELECT DISTINCT p."case" FROM party p WHERE p.phone LIKE {} LIMIT {}'


def _phone_tail_args(tail: str) -> list:
    pattern = tail[::-1] + "%" if is_postgres() else "%" + tail
    return [pattern, PHONE_TAIL_LIMIT]


async def _phone_tail_case_ids(tail: str) -> list[int]:
    rows = await Party.raw(_phone_tail_sql(), *_phone_tail_args(tail))
    return [r["case"] for r in rows]


# Numbers a run of digits may name, at most; beyond that the digits are looked up in the text.
NUMBER_CANDIDATES_MAX = 5000


def _sequences_containing(digits: str, last: int) -> list[str] | None:
    """The sequence parts (``000123``; six digits, more once a year passes 999,999) of the
    numbers 1..``last`` that contain ``digits``; None if there are too many to list."""
    found: set[str] = set()
    for width in range(6, max(6, len(str(last))) + 1):
        free = width - len(digits)
        if free < 0:
            continue
        if (free + 1) * 10**free > NUMBER_CANDIDATES_MAX:
            return None
        for at in range(free + 1):
            for k in range(10**free):
                fill = str(k).zfill(free) if free else ""
                candidate = fill[:at] + digits + fill[at:]
                if width > 6 and candidate[0] == "0":
                    continue
                if 0 < int(candidate) <= last:
                    found.add(candidate)
    return sorted(found)


async def _digits_condition(digits: str) -> Combinable | CaseIds | None:
    """Cases a run of 4 to 11 digits finds: those with a party whose phone ends with them,
    and those whose case number contains them (listed from the per-year counters and looked
    up on the unique index of ``number``). None when the numbers are too many to list (the
    text is searched instead). On PostgreSQL, unless the digits are a whole year or county
    code, the ids of both as a ``CaseIds`` (the numbers as one array argument)."""
    from mediation.cases.tables import CaseCounter

    numbers: list[str] = []
    prefixes: list[str] = []
    for counter in await CaseCounter.select(CaseCounter.key, CaseCounter.last_number):
        if digits in counter["key"]:
            prefixes.append(counter["key"] + "-")  # the year (or the county code) itself
            continue
        sequences = _sequences_containing(digits, counter["last_number"])
        if sequences is None:
            return None
        numbers.extend(f"{counter['key']}-{seq}" for seq in sequences)
    if is_postgres() and not prefixes:
        return CaseIds(
            f'SELECT DISTINCT id FROM ((SELECT p."case" AS id FROM ({_phone_tail_sql()}) p)'
            ' UNION ALL (SELECT c.id FROM "case" c WHERE c.number = ANY({}::text[]))) ids'
            "{order}",
            (*_phone_tail_args(digits), numbers),
        )
    conditions: list[Combinable] = [Case.number.like(prefix + "%") for prefix in prefixes]
    if numbers:
        conditions.append(Case.number.is_in(numbers))
    ids = await _phone_tail_case_ids(digits)
    if ids:
        conditions.append(Case.id.is_in(ids))
    if not conditions:
        return Case.id < 0
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = combined | condition
    return combined


async def text_search_condition(q: str):
    """The cases a search term finds, by the index that answers it:

    - a case number (whole, or year and sequence): the unique index on ``number``;
    - a term of one or two characters that starts a party's name (most names have two or
      three characters): the B-tree on the party's name; a short term no name starts with
      (a word of a summary, 漏水) is looked up in the text as before;
    - 4 to 11 digits: the cases with a party whose phone ends with them (the ``reverse(phone)``
      index) and those whose case number contains them (the unique index on ``number``), not
      the text: digits inside a summary or a name (an amount, 3000) are not looked up;
    - anything else: ``search_text`` contains the term, its ``%`` and ``_`` literal. On SQLite
      a term of three or more characters is looked up in the FTS5 trigram index, which answers
      the same LIKE; PostgreSQL's trigram index answers the LIKE itself.
    """
    found = await _text_search(q)
    return found.condition() if isinstance(found, CaseIds) else found


async def _text_search(q: str) -> Combinable | CaseIds:
    raw = q.strip()
    term = raw.lower()
    plain = bool(term) and not any(c in term for c in "%_\\")
    number = case_number_of(raw) if plain else None
    if number is not None:
        return Case.number == number
    if plain and len(term) <= NAME_TERM_MAX and not term.isdigit():
        by_name = await _name_prefix_cases(term)
        if by_name is not None:
            return by_name
    if plain and _PHONE_TAIL.match(term):
        by_digits = await _digits_condition(term)
        if by_digits is not None:
            return by_digits
        text = await _contains_condition(term, plain)
        ids = await _phone_tail_case_ids(term)
        return text | Case.id.is_in(ids) if ids else text
    if plain and len(term) >= 3 and is_postgres():
        rare = await _rare_text_cases(term)
        if rare is not None:
            return rare
    return await _contains_condition(term, plain)


# How a text term is told rare or common (PostgreSQL). A term found in a page's worth of
# cases among the first read in table order within COMMON_PROBE is common: the list walks the
# cases newest first and fills its page at once. Otherwise the trigram index is asked (within
# RARE_PROBE) for the cases; at most RARE_TEXT_MAX of them drive the list.
COMMON_PROBE = "5ms"
RARE_PROBE = "25ms"
RARE_TEXT_MAX = 500
_COMMON_TEXT_SQL = (
    'SELECT count(*) AS n FROM (SELECT 1 FROM "case" WHERE "search_text" ILIKE {} LIMIT {}) s'
)
_RARE_TEXT_SQL = 'SELECT "id" FROM "case" WHERE "search_text" ILIKE {} LIMIT {}'


async def _probe(plan: str, timeout: str, sql: str, *args: object) -> list[dict] | None:
    """``sql`` run with only one kind of scan allowed (``seq``: the table in its order;
    ``bitmap``: through an index's bitmap), and at most ``timeout``; None if it took longer."""
    import asyncpg

    allowed = {
        "seq": ("enable_indexscan", "enable_bitmapscan"),
        "bitmap": ("enable_indexscan", "enable_seqscan"),
    }[plan]
    settings = ", ".join(f"set_config('{name}', 'off', true)" for name in allowed)
    try:
        async with Case._meta.db.transaction():
            limit = "set_config('statement_timeout', {}, true)"
            await Case.raw(f"SELECT {settings}, {limit}", timeout)
            return await Case.raw(sql, *args)
    except asyncpg.QueryCanceledError:
        return None


async def _rare_text_cases(term: str) -> CaseIds | None:
    """On PostgreSQL, the cases whose text contains ``term`` when they are few (a whole name
    of three characters: a hundred cases in a million), else None.

    The planner cannot tell a rare term from a common one (its estimate comes from a sample of
    about a hundred texts): it may walk the primary key backwards filtering every case for a
    term few cases contain (0.3–1.4 s at a million cases), a plan that is right only for
    common terms. So the term is tried first on the first cases of the table (common), then on
    the trigram index alone (rare: the list is then driven by its cases, see ``_driven_by``);
    a term that is neither is left to the planner."""
    pattern = f"%{term}%"
    sample = PAGE_SIZE + 1
    dense = await _probe("seq", COMMON_PROBE, _COMMON_TEXT_SQL, pattern, sample)
    if dense is not None and dense[0]["n"] >= sample:
        return None
    rows = await _probe("bitmap", RARE_PROBE, _RARE_TEXT_SQL, pattern, RARE_TEXT_MAX + 1)
    if rows is None or len(rows) > RARE_TEXT_MAX:
        return None
    return CaseIds("SELECT unnest({}::int[]) AS id{order}", ([r["id"] for r in rows],))


async def _contains_condition(term: str, plain: bool):
    if plain and len(term) >= 3 and not is_postgres() and await _sqlite_fts_ready():
        return WhereRaw(
            '"case"."id" IN (SELECT rowid FROM case_search WHERE search_text LIKE {})',
            f"%{term}%",
        )
    return inputs.contains(Case.search_text, term)


async def text_search_condition_scan(q: str):
    """The search as it was before the index paths: ``search_text`` contains the term (kept
    to check that the index paths find the same cases)."""
    term = q.strip().lower()
    plain = not any(c in term for c in "%_\\")
    return await _contains_condition(term, plain)


@dataclass(slots=True)
class CaseRow:
    """One case in a list (the case list, my work, the JSON API's list)."""

    id: int
    number: str
    summary: str
    category: str
    status: str
    colour: str
    level: str
    source: str
    overdue: bool
    registered_on: date
    grid_name: str


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


def _case_rows(rows: list[dict]) -> list[CaseRow]:
    return [
        CaseRow(
            r["id"],
            r["number"],
            r["summary"],
            r["category"],
            r["status"],
            r["colour"],
            r["level"],
            r["source"],
            r["overdue"],
            r["registered_on"],
            r["grid.name"] or "",
        )
        for r in rows
    ]


async def list_cases(user: CurrentUser, f: CaseFilters) -> tuple[list[CaseRow], bool]:
    """One page of cases in the user's subtree, newest first, and whether more follow.

    With ``after`` or ``before`` the page is found from the case next to it (keyset), as
    deep as it goes, at the cost of the first page; otherwise by ``page`` (an offset)."""
    query, found = await _filtered_search(Case.select(*LIST_COLUMNS), user, f)

    async def run(query, ascending: bool = False) -> list[dict]:
        return await (query if found is None else _driven_by(query, found, ascending))

    if f.before is not None:
        rows = await run(
            query.where(Case.id > f.before).order_by(Case.id, ascending=True).limit(PAGE_SIZE),
            ascending=True,
        )
        # The page the user came from follows these (unless every case in it has gone).
        return _case_rows(rows[::-1]), True
    if f.after is not None:
        query = query.where(Case.id < f.after)
        rows = await run(query.order_by(Case.id, ascending=False).limit(PAGE_SIZE + 1))
        return _case_rows(rows[:PAGE_SIZE]), len(rows) > PAGE_SIZE
    page = max(f.page, 1)
    query = query.order_by(Case.id, ascending=False)
    rows = await run(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE))
    return _case_rows(rows[:PAGE_SIZE]), len(rows) > PAGE_SIZE


# The most cases a spreadsheet of the list holds (the newest): more is a report, not a list.
EXPORT_LIMIT = 10_000


async def export_cases(user: CurrentUser, f: CaseFilters) -> list[CaseRow]:
    """Every case of the list with these filters (the same scope), newest first, at most
    ``EXPORT_LIMIT``: the page's query without its pages."""
    query, found = await _filtered_search(Case.select(*LIST_COLUMNS), user, f)
    query = query.order_by(Case.id, ascending=False).limit(EXPORT_LIMIT)
    rows = await (query if found is None else _driven_by(query, found, False))
    return _case_rows(rows)


async def my_work(user: CurrentUser, limit: int = 50) -> list[CaseRow]:
    """The open cases a person is expected to act on, most urgent first."""
    query = Case.select(Case.id).where(Case.status.is_in(OPEN_STATUSES))
    # The team's grids and the cases assigned to the user (a mediator's active assignments:
    # one profile per staff member) decide both what they may open and what is theirs to do.
    grids = await access.team_grids(user)
    assigned = await access.assigned_case_ids(user)
    scope = await access.case_scope(user, grids, assigned)
    if scope is None:
        return []
    query = query.where(scope)
    conditions: list[Combinable] = []
    if grids:
        conditions.append(Case.grid.is_in(grids))
    if assigned:
        conditions.append(Case.id.is_in(assigned))
    if user.has_role("centre_staff"):
        depth = len([p for p in user.region_path.split("/") if p])
        level = {1: "county", 2: "town", 3: "community"}.get(depth, "town")
        conditions.append((Case.level == level) | (Case.colour == "red") | (Case.overdue.eq(True)))
    if not conditions:
        return []
    combined = conditions[0]
    for c in conditions[1:]:
        combined = combined | c
    # The newest ``limit`` ids first, then their rows: the ids come from the index of open
    # cases alone (area, level, colour, overdue; or grid), without reading a row of the table
    # for each open case of the area that is not the user's to act on.
    newest = query.where(combined).order_by(Case.id, ascending=False).limit(limit)
    rows = _case_rows(
        await Case.select(*LIST_COLUMNS)
        .where(Case.id.is_in(newest))
        .order_by(Case.id, ascending=False)
    )
    rank = {"red": 0, "yellow": 1, "green": 2}
    rows.sort(key=lambda r: (not r.overdue, rank.get(r.colour, 3)))
    return rows


@dataclass(slots=True)
class RegionChoice:
    code: str
    name: str
    path: str


async def region_for_filter(code: str) -> RegionChoice | None:
    """A region chosen by code in a list filter (its path does the scoping; the user's own
    subtree is applied separately, so a region outside it simply narrows to nothing)."""
    if not code or len(code) > 32:
        return None
    row = (
        await Region.select(Region.code, Region.name, Region.path)
        .where(Region.code == code)
        .first()
    )
    return None if row is None else RegionChoice(row["code"], row["name"], row["path"])


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
