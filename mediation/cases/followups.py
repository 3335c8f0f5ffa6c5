"""Follow-up visits (回访) and the case file (卷宗) with every printed record of a case."""

from __future__ import annotations

from datetime import date

from mediation.accounts.services import CurrentUser
from mediation.cases import agreements, sessions
from mediation.cases.services import CaseError, case_detail, case_for, record_event, today
from mediation.cases.tables import Agreement, AgreementClause, Case, CaseEvent, FollowUp
from mediation.i18n import gettext as _
from mediation.i18n import lazy_gettext as _l

PERFORMANCE = {
    "performed": _l("Performed in full"),
    "partly": _l("Partly performed"),
    "not": _l("Not performed"),
}
SATISFACTION = {
    "satisfied": _l("Satisfied"),
    "basically": _l("Basically satisfied"),
    "not_satisfied": _l("Not satisfied"),
}


async def record_follow_up(
    user: CurrentUser,
    case_id: int,
    visited_on: date,
    performance: str,
    satisfaction: str,
    note: str,
) -> int:
    if await case_for(user, case_id) is None:
        raise CaseError(_("This case does not exist."))
    if performance not in PERFORMANCE:
        raise CaseError(_("Choose from the list."), "performance")
    if satisfaction and satisfaction not in SATISFACTION:
        raise CaseError(_("Choose from the list."), "satisfaction")
    if visited_on > today():
        raise CaseError(_("The visit cannot be in the future."), "visited_on")
    if not await follow_up_due(case_id):
        raise CaseError(
            _("A follow-up visit is recorded after an agreement or a termination."), "status"
        )
    row = FollowUp(
        case=case_id,
        visited_on=visited_on,
        visited_by=user.id,
        performance=performance,
        satisfaction=satisfaction,
        note=note.strip()[:2000],
    )
    await row.save()
    await record_event(
        case_id, user, "follow_up", changes={"performance": [None, performance]}, note=note[:200]
    )
    return row.id


FOLLOW_UP_STATUSES = ("settled", "performing", "performed", "breached", "terminated", "closed")


async def follow_up_due(case_id: int) -> bool:
    """A visit checks how an agreement is kept or how a terminated case stands: none before."""
    case = await Case.select(Case.status).where(Case.id == case_id).first()
    if case is None:
        return False
    if case["status"] in FOLLOW_UP_STATUSES:
        return True
    return await Agreement.exists().where(
        Agreement.case == case_id, Agreement.status == "effective"
    )


async def follow_ups_of_case(case_id: int) -> list[dict]:
    return (
        await FollowUp.select(FollowUp.all_columns(), FollowUp.visited_by.display_name)
        .where(FollowUp.case == case_id)
        .order_by(FollowUp.visited_on)
    )


async def termination_context(user: CurrentUser, case_id: int) -> dict:
    """终止调解通知书: the reason and the advice on other channels (Art. 26)."""
    case = await case_detail(user, case_id)
    if case is None:
        raise CaseError(_("This case does not exist."))
    event = (
        await CaseEvent.select()
        .where(CaseEvent.case == case_id, CaseEvent.action == "terminate")
        .order_by(CaseEvent.id, ascending=False)
        .output(load_json=True)
        .first()
    )
    if event is None:
        raise CaseError(_("This case was not terminated."))
    from mediation.cases.workflow import REFERRAL_ADVICE_LABELS, TERMINATION_REASON_LABELS

    changes = event["changes"] or {}
    reason = (changes.get("termination_reason") or [None, ""])[1]
    text = (changes.get("termination_text") or [None, ""])[1]
    advice = (changes.get("referral_advice") or [None, ""])[1]
    committee, _short = await agreements._committee_for(case)  # noqa: SLF001
    return {
        "case": case,
        "committee": committee,
        "terminated_on": event["at"],
        "reason": str(TERMINATION_REASON_LABELS.get(reason, reason)),
        "reason_text": text,
        "advice": str(REFERRAL_ADVICE_LABELS.get(advice, advice)),
    }


async def case_file_context(user: CurrentUser, case_id: int, base_url: str) -> dict:
    """卷宗 (Art. 27): registration, session records, agreements, follow-ups, in that order."""
    case = await case_detail(user, case_id)
    if case is None:
        raise CaseError(_("This case does not exist."))
    committee, _short = await agreements._committee_for(case)  # noqa: SLF001
    session_rows = [
        await sessions.session_for(user, s["id"]) for s in await sessions.sessions_of_case(case_id)
    ]
    agreement_contexts = [
        (await agreements.print_context(user, a["id"], base_url, full_ids=False))["agreement"]
        for a in await agreements.agreements_of_case(case_id)
        if a["number"]
    ]
    return {
        "case": case,
        "committee": committee,
        "sessions": session_rows,
        "agreements": agreement_contexts,
        "follow_ups": await follow_ups_of_case(case_id),
        "PERFORMANCE": PERFORMANCE,
        "SATISFACTION": SATISFACTION,
    }


async def follow_up_context(user: CurrentUser, case_id: int, follow_up_id: int) -> dict:
    """回访记录: one visit, with the state of every clause of the case's agreements."""
    case = await case_detail(user, case_id)
    if case is None:
        raise CaseError(_("This case does not exist."))
    row = (
        await FollowUp.select(FollowUp.all_columns(), FollowUp.visited_by.display_name)
        .where(FollowUp.id == follow_up_id, FollowUp.case == case_id)
        .first()
    )
    if row is None:
        raise CaseError(_("This follow-up visit does not exist."))
    committee, _short = await agreements._committee_for(case)  # noqa: SLF001
    issued = [a for a in await agreements.agreements_of_case(case_id) if a["number"]]
    clauses = []
    if issued:
        clauses = (
            await AgreementClause.select()
            .where(AgreementClause.agreement.is_in([a["id"] for a in issued]))
            .order_by(AgreementClause.agreement, AgreementClause.seq)
        )
    return {
        "case": case,
        "committee": committee,
        "follow_up": row,
        "agreements": [a["number"] for a in issued],
        "clauses": clauses,
        "PERFORMANCE": PERFORMANCE,
        "SATISFACTION": SATISFACTION,
    }
