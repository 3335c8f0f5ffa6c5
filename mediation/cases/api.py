"""JSON API for cases beside the HTML pages: list and read, same rules and scoping.

Registering a case through the API is intake's (``mediation.intake.api``), like the form."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import msgspec
from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, QueryParameter

from mediation.accounts.guards import current_user, requires_role
from mediation.cases import services
from mediation.cases.controllers import CASE_ROLES
from mediation.clock import to_local
from mediation.inputs import OptionalId, Page
from mediation.masking import mask_phone

# ---------------------------------------------------------------- response schemas


class PartyOut(msgspec.Struct):
    id: int
    role: str
    kind: str
    name: str
    id_number_masked: str
    phone_masked: str
    address: str
    representative: str
    refuses_mediation: bool


class ClockOut(msgspec.Struct):
    name: str
    label: str
    # None when the deadline policy gives a due date that cannot be counted.
    due: date | None
    overdue_days: int
    is_overdue: bool
    remaining_days: int
    done: bool
    # Years on the way to the due date with no holiday schedule entered: the date is an
    # estimate counted Monday to Friday.
    estimated_years: list[int] = []


class EventOut(msgspec.Struct):
    action: str
    at: datetime
    actor: str | None
    from_status: str
    to_status: str
    note: str


class MediatorOut(msgspec.Struct):
    id: int
    mediator_id: int
    name: str
    organisation: str
    active: bool
    ended_reason: str


class SuggestionLinkOut(msgspec.Struct):
    """The people's suggestion a case was re-routed from."""

    id: int
    tracking_code: str
    url: str | None  # its page, for those who may open it


class CaseOut(msgspec.Struct):
    id: int
    number: str
    category: str
    summary: str
    facts: str
    status: str
    level: str
    colour: str
    source: str
    grid: int
    grid_name: str
    community: str
    location: str
    amount: str | None
    public_security_risk: bool
    parties_consent: bool
    overdue: bool
    registered_on: date
    registered_at: datetime
    registered_by: str | None
    linked_case: int | None
    linked_case_number: str | None
    version: int
    actions: list[str]
    parties: list[PartyOut]
    clocks: list[ClockOut]
    events: list[EventOut]
    mediators: list[MediatorOut]
    suggestion: SuggestionLinkOut | None = None


class CaseListItem(msgspec.Struct):
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


class CasePage(msgspec.Struct):
    items: list[CaseListItem]
    page: int
    has_more: bool


def case_out(case: services.CaseDetail) -> CaseOut:
    amount = case.amount  # SQLite gives Decimal("3000"), PostgreSQL Decimal("3000.00")
    return CaseOut(
        id=case.id,
        number=case.number,
        category=case.category,
        summary=case.summary,
        facts=case.facts,
        status=case.status,
        level=case.level,
        colour=case.colour,
        source=case.source,
        grid=case.grid,
        grid_name=case.grid_name or "",
        community=case.community or "",
        location=case.location,
        amount=None if amount is None else f"{Decimal(amount):.2f}",
        public_security_risk=case.public_security_risk,
        parties_consent=case.parties_consent,
        overdue=case.overdue,
        registered_on=case.registered_on,
        registered_at=to_local(case.registered_at),
        registered_by=case.registered_by_name,
        linked_case=case.linked_case,
        linked_case_number=case.linked_case_number,
        version=case.version,
        actions=case.actions,
        parties=[
            PartyOut(
                id=p.id,
                role=p.role,
                kind=p.kind,
                name=p.name,
                id_number_masked=p.id_number_masked,
                phone_masked=mask_phone(p.phone),
                address=p.address,
                representative=p.representative,
                refuses_mediation=p.refuses_mediation,
            )
            for p in case.parties
        ],
        clocks=[
            ClockOut(
                name=c.clock.name,
                label=str(c.clock.label),
                due=c.state.due,
                overdue_days=c.state.overdue_days,
                is_overdue=c.state.is_overdue,
                remaining_days=c.state.remaining_days,
                done=c.state.done,
                estimated_years=list(c.clock.estimated_years),
            )
            for c in case.clocks
        ],
        events=[
            EventOut(
                action=e.action,
                at=to_local(e.at),
                actor=e.actor_name,
                from_status=e.from_status,
                to_status=e.to_status,
                note=e.note,
            )
            for e in case.events
        ],
        mediators=[
            MediatorOut(
                id=m.id,
                mediator_id=m.mediator,
                name=m.name or "",
                organisation=m.organisation or "",
                active=m.active,
                ended_reason=m.ended_reason,
            )
            for m in case.mediators
        ],
        suggestion=(
            SuggestionLinkOut(
                id=case.suggestion.id,
                tracking_code=case.suggestion.tracking_code,
                url=case.suggestion.url,
            )
            if case.suggestion
            else None
        ),
    )


def _list_item(row: services.CaseRow) -> CaseListItem:
    return CaseListItem(
        id=row.id,
        number=row.number,
        summary=row.summary,
        category=row.category,
        status=row.status,
        colour=row.colour,
        level=row.level,
        source=row.source,
        overdue=row.overdue,
        registered_on=row.registered_on,
        grid_name=row.grid_name,
    )


# ---------------------------------------------------------------- the controller


class CaseApiController(Controller):
    """Cases as JSON, for apps and integrations: the same rules and scoping as the pages.

    Authentication is the session cookie (sign in at ``/login``); what a user sees is limited
    to their region subtree, and a case outside it answers 404, like one that does not exist.

    CSRF: because the session travels in a cookie, unsafe methods (POST) need the CSRF token.
    Read the ``csrftoken`` cookie (set by any GET, e.g. ``GET /login`` before signing in) and
    send its value in the ``x-csrftoken`` header; without it a POST is refused with 403.
    """

    path = "/api/cases"
    tags = ["cases"]
    guards = [requires_role(*CASE_ROLES)]

    @get("/", summary="List cases in your area", description="Newest first, 25 per page.")
    async def list_cases(
        self,
        request: Request,
        status: FromQuery[str] = "",
        colour: FromQuery[str] = "",
        category: FromQuery[str] = "",
        level: FromQuery[str] = "",
        grid: OptionalId = None,
        source: FromQuery[str] = "",
        overdue: FromQuery[bool] = False,
        date_from: FromQuery[date | None] = None,
        date_to: FromQuery[date | None] = None,
        q: Annotated[str, QueryParameter(max_length=100)] = "",
        page: Page = 1,
    ) -> CasePage:
        filters = services.CaseFilters(
            status=status,
            colour=colour,
            category=category,
            level=level,
            grid=grid,
            source=source,
            overdue=overdue,
            date_from=date_from,
            date_to=date_to,
            q=q,
            page=page,
        )
        rows, has_more = await services.list_cases(current_user(request), filters)
        return CasePage(items=[_list_item(r) for r in rows], page=page, has_more=has_more)

    @get(
        "/{case_id:int}",
        summary="Read one case",
        description="Parties are masked: ID numbers and phones are never sent in full.",
        responses={404: ResponseSpec(None, description="No such case in your area")},
    )
    async def read_case(self, request: Request, case_id: FromPath[int]) -> CaseOut:
        case = await services.case_detail(current_user(request), case_id)
        if case is None:
            raise NotFoundException()
        return case_out(case)
