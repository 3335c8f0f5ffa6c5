"""JSON API for cases beside the HTML pages: list, read and register, same rules and scoping."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from msgspec import Meta

from mediation.accounts.guards import current_user, requires_role
from mediation.cases import services
from mediation.cases.controllers import CASE_ROLES
from mediation.clock import to_local
from mediation.i18n import gettext as _
from mediation.inputs import OptionalId, Page
from mediation.intake.controllers import INTAKE_ROLES
from mediation.intake.forms import MAX_PARTIES, parse_intake
from mediation.masking import mask_phone

MAX_KEY_LENGTH = 200

# Descriptions for the OpenAPI document. They describe the rules; they do not enforce them
# (a schema failure would be a 400 in another shape than the form's 422).
ID_NUMBER_DOC = (
    "A person's 18-character resident ID number (checksum checked; old 15-digit numbers are "
    "converted), or an organisation's unified social credit code. Never returned in full."
)
PHONE_DOC = "A mobile (13812345678) or a landline with its area code (0573-85012345)."
SOURCE_DOC = "Required: one of " + ", ".join(services.SOURCES) + "."
RISK_DOC = "Risk of a public-security or criminal incident: the police officer is told at once."
AMOUNT_DOC = 'Amount in dispute in yuan; a string such as "1500.50" keeps cents exact.'
PARTIES_DOC = f"At least one applicant with a name; at most {MAX_PARTIES} parties."

# ---------------------------------------------------------------- request schemas


class PartyIn(msgspec.Struct, kw_only=True):
    """A party as the intake form has it; ``id_number`` and ``phone`` are checked the same way."""

    role: Annotated[str, Meta(description="applicant, respondent or third_party.")] = ""
    kind: Annotated[str, Meta(description="person (the default) or organisation.")] = "person"
    name: Annotated[str, Meta(description="Required; at most 100 characters.")] = ""
    id_number: Annotated[str, Meta(description=ID_NUMBER_DOC)] = ""
    phone: Annotated[str, Meta(description=PHONE_DOC)] = ""
    address: str = ""
    representative: str = ""
    refuses_mediation: Annotated[
        bool, Meta(description="The party expressly refuses mediation (Art. 17).")
    ] = False


class CaseIn(msgspec.Struct, kw_only=True):
    """A dispute to register. Every field is checked by the intake form's rules, not the schema,
    so a missing or wrong value comes back as a 422 keyed like the form's fields."""

    category: Annotated[str, Meta(description="Required: a category code, e.g. housing_land.")] = ""
    summary: Annotated[str, Meta(description="Required: one line, at most 200 characters.")] = ""
    facts: Annotated[str, Meta(description="At most 5000 characters.")] = ""
    grid: Annotated[int | str | None, Meta(description="Required: a grid in your area.")] = None
    source: Annotated[str, Meta(description=SOURCE_DOC)] = ""
    colour: Annotated[str, Meta(description="Required: red, yellow or green.")] = ""
    public_security_risk: Annotated[bool, Meta(description=RISK_DOC)] = False
    amount: Annotated[str | int | float | None, Meta(description=AMOUNT_DOC)] = None
    location: Annotated[str, Meta(description="Address of the dispute.")] = ""
    parties: Annotated[list[PartyIn], Meta(description=PARTIES_DOC)] = msgspec.field(
        default_factory=list
    )
    linked_case: Annotated[int | str | None, Meta(description="A case this may duplicate.")] = None


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
    due: date
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


class SuggestionLink(msgspec.Struct):
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
    suggestion: SuggestionLink | None = None


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


class ValidationErrors(msgspec.Struct):
    """Messages keyed by the intake form's field names, e.g. ``parties-0-id_number``."""

    errors: dict[str, str]


class InvalidCase(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid case")
        self.errors = errors


def _invalid_case(_request: Request, exc: InvalidCase) -> Response[ValidationErrors]:
    return Response(ValidationErrors(errors=exc.errors), status_code=422, media_type=MediaType.JSON)


# ---------------------------------------------------------------- conversions


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _flag(value: bool) -> str:
    # The form sends "1" for a ticked box and nothing otherwise; str(False) would be truthy.
    return "1" if value else ""


def form_data(body: CaseIn) -> dict[str, str]:
    """The flat dict the HTML form posts, so ``parse_intake`` applies the very same rules."""
    data = {
        "category": body.category,
        "summary": body.summary,
        "facts": body.facts,
        "grid": _text(body.grid),
        "source": body.source,
        "colour": body.colour,
        "public_security_risk": _flag(body.public_security_risk),
        "amount": _text(body.amount),
        "location": body.location,
        "linked_case": _text(body.linked_case),
    }
    for index, party in enumerate(body.parties):
        prefix = f"parties-{index}-"
        for name in ("role", "kind", "name", "id_number", "phone", "address", "representative"):
            data[prefix + name] = getattr(party, name)
        data[prefix + "refuses_mediation"] = _flag(party.refuses_mediation)
    return data


def _stored_key(user_id: int, key: str) -> str:
    """Clients choose their own keys: scope them to the user and fit the 64-character column."""
    return "api-" + hashlib.sha256(f"{user_id}:{key}".encode()).hexdigest()[:60]


def case_out(case: dict) -> CaseOut:
    amount = case["amount"]  # SQLite gives Decimal("3000"), PostgreSQL Decimal("3000.00")
    return CaseOut(
        id=case["id"],
        number=case["number"],
        category=case["category"],
        summary=case["summary"],
        facts=case["facts"],
        status=case["status"],
        level=case["level"],
        colour=case["colour"],
        source=case["source"],
        grid=case["grid"],
        grid_name=case["grid.name"] or "",
        community=case["grid.region.name"] or "",
        location=case["location"],
        amount=None if amount is None else f"{Decimal(amount):.2f}",
        public_security_risk=case["public_security_risk"],
        parties_consent=case["parties_consent"],
        overdue=case["overdue"],
        registered_on=case["registered_on"],
        registered_at=to_local(case["registered_at"]),
        registered_by=case["registered_by.display_name"],
        linked_case=case["linked_case"],
        linked_case_number=case["linked_case.number"],
        version=case["version"],
        actions=case["actions"],
        parties=[
            PartyOut(
                id=p["id"],
                role=p["role"],
                kind=p["kind"],
                name=p["name"],
                id_number_masked=p["id_number_masked"],
                phone_masked=mask_phone(p["phone"]),
                address=p["address"],
                representative=p["representative"],
                refuses_mediation=p["refuses_mediation"],
            )
            for p in case["parties"]
        ],
        clocks=[
            ClockOut(
                name=c["clock"].name,
                label=str(c["clock"].label),
                due=c["state"].due,
                overdue_days=c["state"].overdue_days,
                is_overdue=c["state"].is_overdue,
                remaining_days=c["state"].remaining_days,
                done=c["state"].done,
                estimated_years=list(c["clock"].estimated_years),
            )
            for c in case["clocks"]
        ],
        events=[
            EventOut(
                action=e["action"],
                at=to_local(e["at"]),
                actor=e["actor.display_name"],
                from_status=e["from_status"],
                to_status=e["to_status"],
                note=e["note"],
            )
            for e in case["events"]
        ],
        mediators=[
            MediatorOut(
                id=m["id"],
                mediator_id=m["mediator"],
                name=m["mediator.staff.display_name"] or "",
                organisation=m["mediator.organisation"] or "",
                active=m["active"],
                ended_reason=m["ended_reason"],
            )
            for m in case["mediators"]
        ],
        suggestion=SuggestionLink(**case["suggestion"]) if case.get("suggestion") else None,
    )


def _list_item(row: dict) -> CaseListItem:
    return CaseListItem(
        id=row["id"],
        number=row["number"],
        summary=row["summary"],
        category=row["category"],
        status=row["status"],
        colour=row["colour"],
        level=row["level"],
        source=row["source"],
        overdue=row["overdue"],
        registered_on=row["registered_on"],
        grid_name=row["grid.name"] or "",
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

    @post(
        "/",
        guards=[requires_role(*INTAKE_ROLES)],
        summary="Register a case",
        description=(
            "Validated exactly like the intake form; errors are keyed by the form's field "
            "names (``parties-0-id_number``). Send an ``Idempotency-Key`` header to make a "
            "retry safe: the same key from the same user always returns the same case."
        ),
        exception_handlers={InvalidCase: _invalid_case},
        responses={
            422: ResponseSpec(ValidationErrors, description="The case was not registered"),
        },
    )
    async def create_case(
        self,
        request: Request,
        data: JSONBody[CaseIn],
        idempotency_key: Annotated[
            str | None, HeaderParameter(name="Idempotency-Key", required=False)
        ] = None,
    ) -> Response[CaseOut]:
        user = current_user(request)
        raw = form_data(data)
        _values, case_input, errors = parse_intake(raw)
        if len(data.parties) > MAX_PARTIES:
            errors["parties"] = _("Add at most %(n)s parties.", n=MAX_PARTIES)
        key = (idempotency_key or "").strip()
        if len(key) > MAX_KEY_LENGTH:
            errors["idempotency_key"] = _(
                "This is too long (at most %(n)s characters).", n=MAX_KEY_LENGTH
            )
        if errors or case_input is None:
            raise InvalidCase(errors)
        try:
            case_id = await services.register_case(
                case_input, user, _stored_key(user.id, key) if key else ""
            )
        except services.CaseError as exc:
            raise InvalidCase({exc.field or "form": exc.message}) from exc
        case = await services.case_detail(user, case_id)
        if case is None:
            raise NotFoundException()
        return Response(
            case_out(case), status_code=201, headers={"Location": f"{self.path}/{case_id}"}
        )
