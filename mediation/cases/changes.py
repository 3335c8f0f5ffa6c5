"""Changes to a registered case: status, colour, revealed fields, conclusion figures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mediation import crypto
from mediation.accounts.services import CurrentUser
from mediation.cases import access, ontime, workflow
from mediation.cases.common import COLOURS, CaseError, EditConflict, today
from mediation.cases.events import centre_staff, grid_team, notify, record_event
from mediation.cases.queries import CaseRecord, case_for
from mediation.cases.tables import (
    Case,
    CaseMediator,
    Party,
)
from mediation.clock import utc_now
from mediation.db import write_transaction
from mediation.i18n import gettext as _
from mediation.reports import rollups


async def update_case(
    case: CaseRecord | Mapping[str, Any],
    values: dict,
    actor: CurrentUser | None,
    version: int | None,
):
    """Apply a change only if nobody else changed the case since ``version`` was read.

    ``case`` is the case as read: a ``CaseRecord``, or a row with at least the columns of
    ``rollups.STAT_COLUMNS`` and ``version`` (as the sweep reads them)."""
    before: Mapping[str, Any] = (
        case
        if isinstance(case, Mapping)
        else {name: getattr(case, name) for name in (*rollups.STAT_FIELDS, "version")}
    )
    expected = before["version"] if version is None else version
    values = {**values, Case.version: expected + 1, Case.updated_at: utc_now()}
    rows = (
        await Case.update(values)
        .where(Case.id == before["id"], Case.version == expected)
        .returning(*rollups.STAT_COLUMNS, Case.extension_days)
    )
    if rows:
        after = rows[0]
        # Whether each clock finished in time, judged on the case as it is now.
        facts = await ontime.judged(after)
        if any(after[f] != facts[f] for f in ontime.FIELDS):
            await Case.update({getattr(Case, f): v for f, v in facts.items()}).where(
                Case.id == before["id"]
            )
            after = {**after, **facts}
        # The update matched the version ``case`` was read at, so ``case`` is the exact
        # before-image: move the case's share of the figures in the same transaction.
        await rollups.apply_change(dict(before), after)
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
            action, workflow.CaseStatus(case.status), workflow.CaseLevel(case.level), **facts
        )
    except workflow.WorkflowError as exc:
        raise CaseError(exc.message, getattr(exc, "field", "") or "") from exc
    if advice := (move.details or {}).get("referral_advice"):
        allowed = {c.value for c in workflow.channels_for(case.category)}
        if wrong := [a for a in advice.split(",") if a not in allowed]:
            raise CaseError(
                _(
                    "“%(channel)s” is not open for this kind of dispute; choose among: "
                    "%(allowed)s.",
                    channel=workflow.REFERRAL_ADVICE_LABELS[workflow.ReferralAdvice(wrong[0])],
                    allowed="、".join(
                        str(workflow.REFERRAL_ADVICE_LABELS[c])
                        for c in workflow.channels_for(case.category)
                    ),
                ),
                "referral_advice",
            )
    changes: dict[Any, Any] = {Case.status: move.to_status.value}
    the_day = today()
    if move.to_status == workflow.CaseStatus.ACCEPTED and not case.accepted_on:
        changes[Case.accepted_on] = the_day
    if move.to_status == workflow.CaseStatus.MEDIATING and not case.mediation_started_on:
        changes[Case.mediation_started_on] = the_day
    if move.to_status in (workflow.CaseStatus.CLOSED, workflow.CaseStatus.DECLINED):
        changes[Case.closed_on] = the_day
        # Closing stops every clock, and the sweep reads only open cases: the flag would
        # otherwise stay set for good (a closed case in "overdue only", with the badge).
        changes[Case.overdue] = False
    if move.to_status in (workflow.CaseStatus.SETTLED, workflow.CaseStatus.TERMINATED):
        changes[Case.concluded_on] = the_day
        changes[Case.outcome] = move.to_status.value
        changes[Case.agreement_form] = (move.details or {}).get("agreement_form", "")
    if move.level_after != move.level_before:
        changes[Case.level] = move.level_after.value
    async with write_transaction():
        await update_case(case, changes, user, version)
        detail = {k: v for k, v in (move.details or {}).items()}
        record = {
            "status": [case.status, move.to_status.value],
            **{k: [None, v] for k, v in detail.items()},
        }
        if move.level_after != move.level_before:
            record["level"] = [move.level_before.value, move.level_after.value]
        await record_event(case_id, user, action, case.status, move.to_status.value, record, note)
    if move.to_status == workflow.CaseStatus.TERMINATED:
        # The termination notice is numbered when it is decided, shown on the case page.
        from mediation.cases.followups import number_termination_notice

        await number_termination_notice(user, case_id)
    if action == "escalate":
        centre = await centre_staff(case.region_path, move.level_after.value)
        await notify(
            centre,
            case_id,
            "escalated",
            _("Case %(number)s was escalated to you.", number=case.number),
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
    if colour == case.colour:
        return
    async with write_transaction():
        await update_case(case, {Case.colour: colour}, user, version)
        await record_event(
            case_id,
            user,
            "colour_changed",
            changes={"colour": [case.colour, colour]},
            note=reason,
        )
    if colour == "red":
        team = await grid_team(case.grid)
        recipients = [m.staff for m in team if m.role == "police"]
        recipients += await centre_staff(case.region_path, "town")
        await notify(
            recipients,
            case_id,
            "urgent",
            _("Case %(number)s is now red: %(reason)s", number=case.number, reason=reason),
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
    if case.outcome not in ("settled", "terminated"):
        raise CaseError(_("These figures are recorded once mediation has concluded."))
    new: dict[str, Any] = {name: bool(values.get(name)) for name in PREVENTION_FLAGS}
    for name in PREVENTION_PERSONS:
        raw = str(values.get(name, "") or "0").strip()
        if not raw.isdigit() or int(raw) > MAX_PERSONS:
            raise CaseError(
                _("Enter a whole number of persons from 0 to %(max)s.", max=MAX_PERSONS), name
            )
        new[name] = int(raw)
    if new["judicially_confirmed"] and case.outcome != "settled":
        raise CaseError(_("Only an agreement can be judicially confirmed."), "judicially_confirmed")
    changed = {
        name: [getattr(case, name), value]
        for name, value in new.items()
        if getattr(case, name) != value
    }
    if not changed:
        return
    async with write_transaction():
        await update_case(
            case, {getattr(Case, name): value for name, value in new.items()}, user, version
        )
        await record_event(case_id, user, "figures_recorded", changes=changed)
