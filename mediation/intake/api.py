"""Registering a case through the JSON API: POST /api/cases, checked by the intake form's rules.

The body is turned into the flat dict the HTML form posts, so ``parse_intake`` applies the very
same rules and a wrong value comes back as a 422 keyed like the form's fields.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, Response, post
from litestar.exceptions import NotFoundException
from litestar.openapi import ResponseSpec
from litestar.params import HeaderParameter, JSONBody
from msgspec import Meta

from mediation.accounts.guards import current_user, requires_role
from mediation.cases import services
from mediation.cases.api import CaseApiController, CaseOut, case_out
from mediation.i18n import gettext as _
from mediation.intake.forms import MAX_PARTIES, parse_intake
from mediation.roles import INTAKE_ROLES

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


class ValidationErrors(msgspec.Struct):
    """Messages keyed by the intake form's field names, e.g. ``parties-0-id_number``."""

    errors: dict[str, str]


class InvalidCase(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid case")
        self.errors = errors


def _invalid_case(_request: Request, exc: InvalidCase) -> Response[ValidationErrors]:
    return Response(ValidationErrors(errors=exc.errors), status_code=422, media_type=MediaType.JSON)


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


class CaseIntakeApiController(CaseApiController):
    """The case API with registration: ``cases.api`` reads, intake adds POST /api/cases.

    One controller for the path (two would each claim its OPTIONS route). CSRF: a POST needs
    the ``csrftoken`` cookie's value in the ``x-csrftoken`` header.
    """

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
