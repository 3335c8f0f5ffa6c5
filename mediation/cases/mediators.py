"""Choosing, assigning and replacing a case's mediators; extending mediation."""

from __future__ import annotations

from collections.abc import Iterable

from mediation import crypto
from mediation.accounts.services import CurrentUser
from mediation.cases import assignment, deadlines
from mediation.cases.changes import update_case
from mediation.cases.common import OPEN_STATUSES, CaseError
from mediation.cases.events import centre_staff, grid_team, notify, record_event
from mediation.cases.policy_store import current_policy
from mediation.cases.queries import CaseDetail, CaseRecord, case_for
from mediation.cases.tables import (
    Case,
    CaseMediator,
    MediationSession,
    Party,
)
from mediation.clock import to_local
from mediation.db import write_transaction
from mediation.grid.tables import Mediator
from mediation.i18n import format_datetime, get_locale
from mediation.i18n import gettext as _
from mediation.reports import mediator_rollup

# Built once (Piccolo copies a referenced table's columns each time one is named).
_MEDIATOR_COLUMNS = (
    Mediator.id,
    Mediator.staff,
    Mediator.staff.display_name,
    Mediator.staff._.region._.path,
    Mediator.staff.phone,
    Mediator.skills,
    Mediator.dialects,
    Mediator.available,
    Mediator.max_cases,
    Mediator.related_persons,
)


def taken_off_by_objection(assignments: Iterable[tuple[int, bool, str]]) -> frozenset[int]:
    """Mediators an objection took off the case and nobody assigned again, from the case's
    assignments as (mediator, active, ended reason)."""
    assignments = list(assignments)
    active = {mediator for mediator, is_active, _ended in assignments if is_active}
    return frozenset(
        mediator
        for mediator, is_active, ended in assignments
        if not is_active and ended and mediator not in active
    )


async def mediators_taken_off(case_id: int) -> frozenset[int]:
    """``taken_off_by_objection`` read from the case's assignments."""
    rows = await CaseMediator.select(
        CaseMediator.mediator, CaseMediator.active, CaseMediator.ended_reason
    ).where(CaseMediator.case == case_id)
    return taken_off_by_objection((r["mediator"], r["active"], r["ended_reason"]) for r in rows)


async def suggest_mediators(user: CurrentUser, case_id: int) -> list[assignment.Suggestion]:
    case = await case_for(user, case_id)
    if case is None:
        raise CaseError(_("This case does not exist."))
    return await _ranked_mediators(case)


async def ranked_for_detail(case: CaseDetail) -> list[assignment.Suggestion]:
    """``suggest_mediators`` for a case its page has read already (``case_detail``, which
    checked the user may open it): its assignments are taken from it, not read again."""
    return await _ranked_mediators(
        case, [(m.mediator, m.active, m.ended_reason) for m in case.mediators]
    )


async def _ranked_mediators(
    case: CaseRecord, assignments: list[tuple[int, bool, str]] | None = None
) -> list[assignment.Suggestion]:
    """The ranking; ``assignments`` (mediator, active, ended reason) of the case if known."""
    case_id = case.id
    parties = await Party.select(
        Party.name, Party.id_number_encrypted, Party.phone, Party.staff
    ).where(Party.case == case_id)
    if assignments is None:
        rows = await CaseMediator.select(
            CaseMediator.mediator, CaseMediator.active, CaseMediator.ended_reason
        ).where(CaseMediator.case == case_id)
        assignments = [(r["mediator"], r["active"], r["ended_reason"]) for r in rows]
    objected = {mediator for mediator, _active, ended in assignments if ended != ""}
    active = {mediator for mediator, is_active, _ended in assignments if is_active}
    facts = assignment.CaseFacts(
        category_code=case.category,
        region_path=case.region_path,
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
    rows = await Mediator.select(*_MEDIATOR_COLUMNS).output(load_json=True)
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
    """Open cases per mediator (active assignments), as the database's triggers keep them in
    ``mediator_load`` (see the migration that created it); mediators with none are left out."""
    rows = await CaseMediator.raw(
        "SELECT mediator, open_cases FROM mediator_load WHERE open_cases <> 0"
    )
    return {r["mediator"]: int(r["open_cases"]) for r in rows}


async def counted_mediator_loads() -> dict[int, int]:
    """The same loads counted from the assignments themselves (to check the kept ones)."""
    rows = await CaseMediator.raw(
        'SELECT cm.mediator, count(*) AS n FROM case_mediator cm JOIN "case" c '
        'ON c.id = cm."case" WHERE cm.active AND c.status IN ('
        + ", ".join("{}" for _ in OPEN_STATUSES)
        + ") GROUP BY cm.mediator",
        *OPEN_STATUSES,
    )
    return {r["mediator"]: int(r["n"]) for r in rows}


async def assign_mediator(user: CurrentUser, case_id: int, mediator_id: int) -> None:
    """Staff confirm one of the suggested mediators (conflicts of interest are refused)."""
    case = await case_for(user, case_id)
    if case is None:
        raise CaseError(_("This case does not exist."))
    suggestions = await _ranked_mediators(case)
    chosen = next((s for s in suggestions if s.mediator.id == mediator_id), None)
    if chosen is None:
        raise CaseError(
            _("This mediator cannot take the case (conflict of interest, objection or full load)."),
            "mediator",
        )
    async with write_transaction(), mediator_rollup.assignments_changing(case_id):
        await CaseMediator(case=case_id, mediator=mediator_id, assigned_by=user.id).save()
        handed = await _hand_over_sessions(case_id, mediator_id)
    staff = await Mediator.select(Mediator.staff).where(Mediator.id == mediator_id).first()
    changes: dict[str, list] = {"mediator": [None, chosen.mediator.name]}
    if handed:
        changes["sessions_presided"] = [None, handed]
    await record_event(case_id, user, "mediator_assigned", changes=changes)
    await notify(
        [staff["staff"]] if staff else [],
        case_id,
        "assigned",
        _("You were assigned to case %(number)s.", number=case.number),
    )


async def _hand_over_sessions(case_id: int, mediator_id: int) -> str:
    """Sessions still to be held whose presiding mediator an objection took off the case (the
    ones the case page marks) go to the mediator just assigned, so neither the parties' session
    nor its printed record names the one they objected to; their times as the timeline shows
    them."""
    taken_off = await mediators_taken_off(case_id)
    if not taken_off:
        return ""
    rows = await MediationSession.select(
        MediationSession.id, MediationSession.mediator, MediationSession.starts_at
    ).where(MediationSession.case == case_id, MediationSession.status == "scheduled")
    orphaned = [r for r in rows if r["mediator"] in taken_off]
    if not orphaned:
        return ""
    await MediationSession.update({MediationSession.mediator: mediator_id}).where(
        MediationSession.id.is_in([r["id"] for r in orphaned])
    )
    return ", ".join(
        to_local(r["starts_at"]).strftime("%Y-%m-%d %H:%M")
        for r in sorted(orphaned, key=lambda r: r["starts_at"])
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
    """End a mediator's assignment because a party objects (entered by staff or by the party).

    The mediator leaves the case at once, and is told; so are the grid team and the centre,
    who must find a new mediator. Sessions the mediator was to preside stay booked (the parties
    were texted about them): the case page marks them, and staff reassign or cancel them."""
    if not reason.strip():
        raise CaseError(_("Give a reason for the objection."), "reason")
    row = (
        await CaseMediator.select(
            CaseMediator.id,
            CaseMediator.mediator,
            CaseMediator.mediator._.staff,
            CaseMediator.mediator._.staff._.display_name,
        )
        .where(
            CaseMediator.id == assignment_id,
            CaseMediator.case == case_id,
            CaseMediator.active.eq(True),
        )
        .first()
    )
    if row is None:
        raise CaseError(_("This mediator is not on the case."))
    async with write_transaction(), mediator_rollup.assignments_changing(case_id):
        await CaseMediator.update(
            {CaseMediator.active: False, CaseMediator.ended_reason: reason.strip()[:200]}
        ).where(CaseMediator.id == assignment_id)
    changes = {"mediator": [row["mediator.staff.display_name"], None]}
    if party_name:
        changes["party"] = [None, party_name]
    await record_event(case_id, actor, "mediator_objected", changes=changes, note=reason)
    await _tell_of_objection(case_id, row, reason.strip(), actor, party_name)


async def _tell_of_objection(
    case_id: int,
    assignment_row: dict,
    reason: str,
    actor: CurrentUser | None,
    party_name: str,
) -> None:
    """Notify the mediator taken off the case, its grid team and the centre of its area."""
    case = (
        await Case.select(Case.number, Case.grid, Case.region_path, Case.level)
        .where(Case.id == case_id)
        .first()
    )
    if case is None:
        return
    booked = await MediationSession.select(MediationSession.starts_at).where(
        MediationSession.case == case_id,
        MediationSession.mediator == assignment_row["mediator"],
        MediationSession.status == "scheduled",
    )
    sessions = "、".join(
        format_datetime(s["starts_at"]) for s in sorted(booked, key=lambda s: s["starts_at"])
    )
    name = assignment_row["mediator.staff.display_name"] or ""
    staff_message = _sentences(
        _(
            "Case %(number)s needs a new mediator: %(who)s objected to mediator %(mediator)s, "
            "who is off the case.",
            number=case["number"],
            who=party_name or _("a party"),
            mediator=name,
        ),
        sessions
        and _(
            "Still booked with them presiding, and the parties were told: %(sessions)s. "
            "Reassign or cancel.",
            sessions=sessions,
        ),
        _("Grounds of the objection: %(reason)s", reason=reason),
    )
    team = [m.staff for m in await grid_team(case["grid"])]
    # The centre that assigns mediators at the case's level, and the town's in any case.
    levels = {"county"} if case["level"] == "county" else {case["level"], "town"}
    centre = [
        sid for level in sorted(levels) for sid in await centre_staff(case["region_path"], level)
    ]
    told = [sid for sid in [*team, *centre] if actor is None or sid != actor.id]
    await notify(told, case_id, "objection", staff_message)
    mediator_message = _sentences(
        _("A party objected to you: you no longer mediate case %(number)s.", number=case["number"]),
        sessions
        and _(
            "Your sessions on it (%(sessions)s) are left to the centre to reassign or cancel.",
            sessions=sessions,
        ),
    )
    # Not linked to the case: a mediator taken off it may no longer open it, and the inbox
    # leaves out notifications about cases their reader may not open.
    await notify([assignment_row["mediator.staff"]], None, "objection", mediator_message)


def _sentences(*sentences: str) -> str:
    """Sentences of a message, the empty ones left out: Chinese runs them on, English spaces."""
    return ("" if get_locale() == "zh_CN" else " ").join(s for s in sentences if s)


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
    if case.status != "mediating":
        raise CaseError(_("Only a case in mediation can have its mediation period extended."))
    policy = await current_policy()
    try:
        added = deadlines.extend_mediation(
            policy,
            days=days,
            times_extended=case.extensions,
            applicant_consents=applicant_consents,
            respondent_consents=respondent_consents,
        )
    except deadlines.DeadlineError as exc:
        raise CaseError(exc.message, "days") from exc
    async with write_transaction():
        await update_case(
            case,
            {
                Case.extension_days: case.extension_days + added,
                Case.extensions: case.extensions + 1,
            },
            user,
            version,
        )
        await record_event(
            case_id,
            user,
            "extended",
            changes={"extension_days": [case.extension_days, case.extension_days + added]},
            note=_("Both sides consented."),
        )
