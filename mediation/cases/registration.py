"""Registering a dispute: the input it takes, the number it gets, duplicates found."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import Combinable

from mediation import crypto
from mediation.accounts.services import CurrentUser
from mediation.cases import access, deadlines
from mediation.cases import parties as party_info
from mediation.cases.common import CaseError, today
from mediation.cases.events import centre_staff, grid_team, notify, record_event
from mediation.cases.policy_store import current_policy
from mediation.cases.queries import case_for
from mediation.cases.submissions import IntakeSubmission
from mediation.cases.tables import (
    Case,
    CaseCounter,
    Party,
)
from mediation.db import fields_of, write_transaction
from mediation.grid.tables import Grid, Staff
from mediation.i18n import gettext as _
from mediation.masking import mask_id_number
from mediation.reports import rollups
from mediation.settings import get_settings


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


def basic_information(p: PartyInput) -> dict[Column, Any]:
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


@dataclass(frozen=True, slots=True)
class GridChoice:
    """A grid a case is registered on, with its community (``region``) and that one's path."""

    id: int
    name: str
    region: int
    region_path: str


async def grid_for(user: CurrentUser, grid_id: int) -> GridChoice | None:
    """The grid, if it lies in this person's area."""
    grid = (
        await Grid.select(Grid.id, Grid.name, Grid.region.path, Grid.region)
        .where(Grid.id == grid_id)
        .first()
    )
    if grid is None or not user.can_see_path(grid["region.path"]):
        return None
    return GridChoice(**fields_of(grid, {"region.path": "region_path"}))


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
                region_path=grid.region_path,
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
                    "grid": [None, grid.name],
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


async def _notify_on_register(case: Case, grid: GridChoice, actor: CurrentUser, policy) -> None:
    team = await grid_team(grid.id)
    message = _("New case %(number)s: %(summary)s", number=case.number, summary=case.summary)
    await notify([m.staff for m in team if m.staff != actor.id], case.id, "new_case", message)
    targets = deadlines.notifications_on_register(policy, case.category, case.colour, "grid")
    urgent = case.colour == "red" or case.public_security_risk
    if not (urgent or targets):
        return
    police = [m.staff for m in team if m.role == "police"]
    centre = await centre_staff(case.region_path, "town")
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


@dataclass(frozen=True, slots=True)
class PossibleDuplicate:
    """A recent case that may be the dispute being registered."""

    id: int
    number: str
    summary: str
    status: str
    registered_on: date


async def find_duplicates(
    user: CurrentUser,
    id_numbers: list[str],
    phones: list[str],
    address: str,
    category: str,
    days: int = 30,
) -> list[PossibleDuplicate]:
    """Cases of the last ``days`` with the same party ID or phone, or same address + category."""
    since = today() - timedelta(days=days)
    digests = [crypto.digest(i) for i in id_numbers if i]
    phones = [p for p in phones if p]
    case_ids: set[int] = set()
    conditions: Combinable | None = None
    if digests:
        conditions = Party.id_number_digest.is_in(digests)
    if phones:
        cond = Party.phone.is_in(phones)
        conditions = cond if conditions is None else (conditions | cond)
    if conditions is not None:
        rows = await Party.select(Party.case).where(Party.case.registered_on >= since, conditions)
        case_ids |= {r["case"] for r in rows}
    if address and category:
        rows = await Case.select(Case.id).where(
            Case.registered_on >= since, Case.category == category, Case.location == address
        )
        case_ids |= {r["id"] for r in rows}
    if not case_ids:
        return []
    query = Case.select(Case.id, Case.number, Case.summary, Case.status, Case.registered_on).where(
        Case.id.is_in(list(case_ids))
    )
    rows = await query.order_by(Case.id, ascending=False).limit(10)
    allowed = await access.entitled_case_ids(user, [r["id"] for r in rows])
    return [PossibleDuplicate(**r) for r in rows if r["id"] in allowed]
