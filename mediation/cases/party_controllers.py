"""The page where a mediator completes a party's basic information for the documents."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from mediation.accounts.guards import current_user, requires_role
from mediation.cases import agreements, parties
from mediation.cases.labels import PARTY_KIND_LABELS, PARTY_ROLE_LABELS
from mediation.cases.services import CaseError, case_for
from mediation.cases.tables import Party
from mediation.roles import MEDIATOR_ROLES
from mediation.web import see_other

Form = Body(media_type=RequestEncodingType.URL_ENCODED)


class PartyController(Controller):
    path = "/cases/{case_id:int}/parties/{party_id:int}"
    guards = [requires_role(*MEDIATOR_ROLES, "centre_staff")]
    include_in_schema = False

    @get("/")
    async def edit(
        self, request: Request, case_id: FromPath[int], party_id: FromPath[int]
    ) -> Template:
        return await _page(request, case_id, party_id, {}, None)

    @post("/")
    async def save(
        self,
        request: Request,
        case_id: FromPath[int],
        party_id: FromPath[int],
        data: Annotated[dict[str, Any], Form],
    ) -> Template | Redirect:
        party = await _party(request, case_id, party_id)
        values, errors = parties.parse_basic_information(party["kind"], data)
        if not errors:
            try:
                await agreements.update_party(current_user(request), case_id, party_id, values)
            except CaseError as exc:
                errors[exc.field or "form"] = exc.message
        if errors:
            return await _page(request, case_id, party_id, errors, data, 422)
        return see_other(f"/cases/{case_id}#parties")


async def _party(request: Request, case_id: int, party_id: int) -> dict:
    if await case_for(current_user(request), case_id) is None:
        raise NotFoundException()
    party = await Party.select().where(Party.id == party_id, Party.case == case_id).first()
    if party is None:
        raise NotFoundException()
    return party


async def _page(
    request: Request,
    case_id: int,
    party_id: int,
    errors: dict,
    values: dict | None,
    status_code: int = 200,
) -> Template:
    party = await _party(request, case_id, party_id)
    form = {f: ("" if party.get(f) is None else str(party.get(f))) for f in parties.EDITABLE_FIELDS}
    if values is not None:
        form = {f: str(values.get(f, "")) for f in parties.EDITABLE_FIELDS}
    return Template(
        "cases/party.html",
        context={
            "case_id": case_id,
            "party": party,
            "form": form,
            "errors": errors,
            "GENDERS": parties.GENDERS,
            "ROLE_LABELS": PARTY_ROLE_LABELS,
            "KIND_LABELS": PARTY_KIND_LABELS,
            "FIELD_LABELS": agreements.PARTY_FIELD_LABELS,
        },
        status_code=status_code,
    )
