"""Follow-up visits (回访) and the case file (卷宗) with every printed record of a case."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from mediation.accounts.services import CurrentUser
from mediation.cases import agreements, sessions, workflow
from mediation.cases.agreements import AgreementSummary, PrintedAgreement
from mediation.cases.materials import FiledMaterial
from mediation.cases.services import (
    CaseDetail,
    CaseError,
    case_detail,
    case_for,
    record_event,
    today,
    transition_case,
)
from mediation.cases.tables import Agreement, AgreementClause, Case, CaseEvent, FollowUp
from mediation.clock import local_date
from mediation.db import PreparedSelect, fields_of
from mediation.i18n import LazyText, format_date
from mediation.i18n import gettext as _
from mediation.i18n import lazy_gettext as _l

PERFORMANCE = {
    "performed": _l("Performed in full"),
    "partly": _l("Partly performed"),
    "not": _l("Not performed"),
}
METHODS = {
    "visit": _l("Home or on-site visit"),
    "phone": _l("Telephone"),
    "video": _l("Video call"),
    "interview": _l("Interview at the committee"),
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
    method: str = "",
    place: str = "",
) -> int:
    """Record a visit. ``performance`` is how the agreement is kept, chosen by the visitor: a
    case that ended without an agreement has none to keep, and its visit records none ("")."""
    if await case_for(user, case_id) is None:
        raise CaseError(_("This case does not exist."))
    if not await follow_up_due(case_id):
        raise CaseError(
            _("A follow-up visit is recorded after an agreement or a termination."), "status"
        )
    rules = await visit_rules(case_id)
    if rules.performance and performance not in PERFORMANCE:
        raise CaseError(_("Choose how the agreement is being performed."), "performance")
    if not rules.performance and performance:
        raise CaseError(
            _("The mediation ended without an agreement: there is no performance to record."),
            "performance",
        )
    if satisfaction and satisfaction not in SATISFACTION:
        raise CaseError(_("Choose from the list."), "satisfaction")
    if visited_on > today():
        raise CaseError(_("The visit cannot be in the future."), "visited_on")
    if visited_on < rules.earliest:
        raise CaseError(rules.too_early_message(), "visited_on")
    if method and method not in METHODS:
        raise CaseError(_("Choose from the list."), "method")
    row = FollowUp(
        case=case_id,
        visited_on=visited_on,
        visited_by=user.id,
        performance=performance,
        satisfaction=satisfaction,
        note=note.strip()[:2000],
        method=method,
        place=place.strip()[:200],
    )
    await row.save()
    await record_event(
        case_id,
        user,
        "follow_up",
        changes={"performance": [None, performance]} if performance else {},
        note=note[:200],
    )
    if performance == "performed":
        await _mark_all_performed(user, case_id, visited_on)
    return row.id


def performance_applies(outcome: str, agreement_statuses: Iterable[str]) -> bool:
    """Whether a follow-up visit records how an agreement is kept: only when the mediation
    reached one (the case settled, or an agreement is in effect: a breached agreement stays the
    thing to perform even when the case is terminated afterwards). A case terminated without
    an agreement has nothing to perform."""
    return outcome == "settled" or any(s == "effective" for s in agreement_statuses)


@dataclass(frozen=True, slots=True)
class VisitRules:
    """What a follow-up visit of a case may record, from the case's facts."""

    performance: bool  # ``performance_applies``
    earliest: date  # the first day a visit can be on
    after_end: bool  # True: ``earliest`` is the day mediation ended; False: registration

    def too_early_message(self) -> str:
        day = format_date(self.earliest, "long")
        if self.after_end:
            return _("The visit cannot be before the mediation ended (%(date)s).", date=day)
        return _("The visit cannot be before the case was registered (%(date)s).", date=day)


async def visit_rules(case_id: int) -> VisitRules:
    """A visit follows the end of mediation (an agreement in effect, the case settled or
    terminated: the earliest of these days), and never comes before the case was registered.
    Dates are the county's: ``registered_on`` and ``concluded_on`` are stored as such."""
    case = (
        await Case.select(Case.registered_on, Case.concluded_on, Case.outcome)
        .where(Case.id == case_id)
        .first()
    )
    if case is None:
        raise CaseError(_("This case does not exist."))
    agreements_ = await Agreement.select(Agreement.status, Agreement.effective_on).where(
        Agreement.case == case_id
    )
    effective_on = [a["effective_on"] for a in agreements_ if a["status"] == "effective"]
    ends = [d for d in (case["concluded_on"], *effective_on) if d]
    end = min(ends) if ends else None
    registered = case["registered_on"]
    return VisitRules(
        performance=performance_applies(case["outcome"], [a["status"] for a in agreements_]),
        earliest=max(registered, end) if end else registered,
        after_end=end is not None and end >= registered,
    )


async def _mark_all_performed(user: CurrentUser, case_id: int, visited_on: date) -> None:
    """A visit that finds the agreement performed in full marks every open clause performed on
    that day, and moves a case in performance to performed: the record never says "performed
    in full" above a clause still marked open."""
    open_clauses = await AgreementClause.select(
        AgreementClause.id, AgreementClause.seq, AgreementClause.agreement.number
    ).where(
        AgreementClause.agreement.case == case_id,
        AgreementClause.agreement.status == "effective",
        AgreementClause.done_on.is_null(),
    )
    for clause in open_clauses:
        await AgreementClause.update({AgreementClause.done_on: visited_on}).where(
            AgreementClause.id == clause["id"]
        )
        await record_event(
            case_id,
            user,
            "clause_performed",
            changes={"clause": [None, f"{clause['agreement.number']} #{clause['seq']}"]},
            note=_("Found performed at the follow-up visit."),
        )
    case = await Case.select(Case.status).where(Case.id == case_id).first()
    if case and case["status"] == "performing":
        await transition_case(
            user, case_id, "record_performed", {}, note=_("Found performed at the follow-up visit.")
        )


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


def follow_up_due_from(status: str, agreements: list[AgreementSummary]) -> bool:
    """``follow_up_due`` from what a page has already read: the case's status and its
    agreements (``agreements.agreements_of_case``)."""
    return status in FOLLOW_UP_STATUSES or any(a.status == "effective" for a in agreements)


_FOLLOW_UP_COLUMNS = (*FollowUp.all_columns(), FollowUp.visited_by._.display_name)


@dataclass(frozen=True, slots=True)
class FollowUpRow:
    """A follow-up visit of a case (see ``tables.FollowUp``) and who made it."""

    id: int
    case: int
    visited_on: date
    visited_by: int | None
    performance: str
    method: str
    place: str
    satisfaction: str
    note: str
    visited_by_name: str | None


_FOLLOW_UPS_OF_CASE = PreparedSelect(
    lambda case_id: (
        FollowUp.select(*_FOLLOW_UP_COLUMNS)
        .where(FollowUp.case == case_id)
        .order_by(FollowUp.visited_on)
    )
)


async def follow_ups_of_case(case_id: int) -> list[FollowUpRow]:
    rows = await _FOLLOW_UPS_OF_CASE(case_id)
    return [
        FollowUpRow(**fields_of(r, {"visited_by.display_name": "visited_by_name"})) for r in rows
    ]


@dataclass(frozen=True, slots=True)
class TerminationPrint:
    """The context of templates/documents/termination_notice.html (终止调解通知书); also a
    part of the case file."""

    case: CaseDetail
    committee: str
    number: str
    terminated_on: date
    reason: str  # the reason chosen, in words
    # What the notice prints instead of ``reason`` when the mediator explained it: their own
    # wording for "other", else the reason with the explanation beside it.
    reason_text: str
    channels: tuple[str, ...]  # workflow.ReferralAdvice values: the other channels advised


async def termination_context(user: CurrentUser, case_id: int) -> TerminationPrint:
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

    changes = event["changes"] or {}
    reason = (changes.get("termination_reason") or [None, ""])[1]
    text = (changes.get("termination_text") or [None, ""])[1]
    advice = (changes.get("referral_advice") or [None, ""])[1] or ""
    label = str(workflow.TERMINATION_REASON_LABELS.get(reason, reason))
    if text and reason != workflow.TerminationReason.OTHER:
        text = _("%(reason)s (%(explanation)s)", reason=label, explanation=text)
    committee = await agreements.committee_for(case.region_path, case.level)
    number = case.termination_number or await _number_notice(user, case_id, committee)
    allowed = {c.value for c in workflow.channels_for(case.category)}
    channels = [a for a in advice.split(",") if a in allowed] or [
        workflow.channels_for(case.category)[0].value
    ]
    return TerminationPrint(
        case=case,
        committee=committee.name,
        number=number,
        terminated_on=local_date(event["at"]),
        reason=label,
        reason_text=text,
        channels=tuple(channels),
    )


async def _number_notice(user: CurrentUser, case_id: int, committee) -> str:
    """A termination notice has its own series per committee and year: （2026）当湖调终字第N号.
    Numbered once, at the first print, and kept."""
    year = today().year
    serial = await agreements.next_document_number(f"{committee.short}-终-{year}")
    number = f"（{year}）{committee.short}调终字第{serial}号"
    updated = (
        await Case.update({Case.termination_number: number})
        .where(Case.id == case_id, Case.termination_number.is_null())
        .returning(Case.id)
    )
    if not updated:  # printed at the same moment elsewhere: theirs stands
        row = await Case.select(Case.termination_number).where(Case.id == case_id).first()
        return row["termination_number"] if row else number
    await record_event(
        case_id,
        user,
        "termination_notice_numbered",
        changes={"number_of_notice": [None, number]},
    )
    return number


async def number_termination_notice(user: CurrentUser, case_id: int) -> str | None:
    """The notice's number, given when the case is terminated (or at the first look at a case
    terminated before numbers were given then); None if the case was not terminated."""
    case = await Case.select().where(Case.id == case_id).first()
    if case is None:
        return None
    if case["termination_number"]:
        return case["termination_number"]
    if not await CaseEvent.exists().where(
        CaseEvent.case == case_id, CaseEvent.action == "terminate"
    ):
        return None
    committee = await agreements.committee_for(case["region_path"], case["level"])
    return await _number_notice(user, case_id, committee)


@dataclass(frozen=True, slots=True)
class CaseFilePrint:
    """The context of templates/documents/case_file.html (卷宗)."""

    case: CaseDetail
    committee: str
    filed_by: str
    filed_on: date
    sessions: tuple[sessions.SessionRecord, ...]  # the sessions held, with their minutes
    agreements: tuple[PrintedAgreement, ...]  # the issued ones, ID numbers masked
    termination: TerminationPrint | None  # a terminated case's notice
    follow_ups: tuple[FollowUpRow, ...]
    performance_applies: bool  # the visits record how an agreement is kept (see there)
    performance_labels: Mapping[str, LazyText]
    satisfaction_labels: Mapping[str, LazyText]
    # The materials part, added by the controller from ``materials.case_file_context``.
    materials: tuple[FiledMaterial, ...] = ()


async def case_file_context(user: CurrentUser, case_id: int, base_url: str) -> CaseFilePrint:
    """卷宗 (Art. 27): registration, session records, agreements, the termination notice of a
    terminated case, follow-ups, in that order. A cancelled or rescheduled session never took
    place: it stays on the timeline but has no record in the file."""
    case = await case_detail(user, case_id)
    if case is None:
        raise CaseError(_("This case does not exist."))
    committee, _short = await agreements._committee_for(case.region_path, case.level)  # noqa: SLF001
    session_rows = []
    for s in await sessions.sessions_of_case(case_id):
        if s.status not in sessions.NOT_HELD_STATUSES:
            record = await sessions.session_for(user, s.id)
            if record is not None:
                session_rows.append(record)
    termination = None
    if await CaseEvent.exists().where(CaseEvent.case == case_id, CaseEvent.action == "terminate"):
        termination = await termination_context(user, case_id)
    agreement_contexts = [
        (await agreements.print_context(user, a.id, base_url, full_ids=False)).agreement
        for a in await agreements.agreements_of_case(case_id)
        if a.number
    ]
    return CaseFilePrint(
        case=case,
        committee=committee,
        filed_by=user.display_name,
        filed_on=today(),
        sessions=tuple(session_rows),
        agreements=tuple(agreement_contexts),
        termination=termination,
        follow_ups=tuple(await follow_ups_of_case(case_id)),
        performance_applies=(await visit_rules(case_id)).performance,
        performance_labels=PERFORMANCE,
        satisfaction_labels=SATISFACTION,
    )


@dataclass(frozen=True, slots=True)
class VisitedClause:
    """A clause of an issued agreement, as a follow-up record states its performance."""

    obligor: str
    obligee: str
    obligation: str
    amount: Decimal | None
    deadline: date | None
    done_on: date | None


@dataclass(frozen=True, slots=True)
class FollowUpPrint:
    """The context of templates/documents/follow_up_record.html (回访记录)."""

    case: CaseDetail
    committee: str
    follow_up: FollowUpRow
    agreements: tuple[str, ...]  # the numbers of the case's issued agreements
    clauses: tuple[VisitedClause, ...]  # theirs, in order
    performance_applies: bool  # the visit records how an agreement is kept (see there)
    method_labels: Mapping[str, LazyText]
    performance_labels: Mapping[str, LazyText]
    satisfaction_labels: Mapping[str, LazyText]


async def follow_up_context(user: CurrentUser, case_id: int, follow_up_id: int) -> FollowUpPrint:
    """回访记录: one visit, with the state of every clause of the case's agreements."""
    case = await case_detail(user, case_id)
    if case is None:
        raise CaseError(_("This case does not exist."))
    row = (
        await FollowUp.select(*_FOLLOW_UP_COLUMNS)
        .where(FollowUp.id == follow_up_id, FollowUp.case == case_id)
        .first()
    )
    if row is None:
        raise CaseError(_("This follow-up visit does not exist."))
    committee, _short = await agreements._committee_for(case.region_path, case.level)  # noqa: SLF001
    rules = await visit_rules(case_id)
    # An agreement issued but never in effect (a party refused to sign, then the mediation was
    # terminated) has nothing to perform: the record of such a case lists no clauses.
    issued = [a for a in await agreements.agreements_of_case(case_id) if a.number]
    if not rules.performance:
        issued = []
    clauses = []
    if issued:
        clauses = (
            await AgreementClause.select(
                AgreementClause.obligor,
                AgreementClause.obligee,
                AgreementClause.obligation,
                AgreementClause.amount,
                AgreementClause.deadline,
                AgreementClause.done_on,
            )
            .where(AgreementClause.agreement.is_in([a.id for a in issued]))
            .order_by(AgreementClause.agreement, AgreementClause.seq)
        )
    return FollowUpPrint(
        case=case,
        committee=committee,
        follow_up=FollowUpRow(**fields_of(row, {"visited_by.display_name": "visited_by_name"})),
        agreements=tuple(a.number for a in issued if a.number),
        clauses=tuple(VisitedClause(**c) for c in clauses),
        performance_applies=rules.performance,
        method_labels=METHODS,
        performance_labels=PERFORMANCE,
        satisfaction_labels=SATISFACTION,
    )
