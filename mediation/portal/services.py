"""The parties' side of a case: codes and secrets, what a party may see and do, texts to parties.

A party's page shows their own case and nothing personal about anyone: no ID numbers, no
phones, no other party's details beyond the names printed on an agreement. Every action a
party takes lands on the case's timeline.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from piccolo.columns import Column

from mediation import crypto, db, i18n
from mediation.accounts.services import CurrentUser
from mediation.cases import deadlines
from mediation.cases import services as case_services
from mediation.cases.categories import category_label
from mediation.cases.tables import (
    Agreement,
    AgreementClause,
    Case,
    CaseEvent,
    CaseMediator,
    MediationSession,
    Party,
)
from mediation.clock import local_date, local_today, to_local, utc_now
from mediation.i18n import gettext as _
from mediation.i18n import lazy_gettext as _l
from mediation.masking import mask_phone
from mediation.portal import messaging
from mediation.portal.tables import CaseRating, PartyAccess, PartyMessage
from mediation.public_codes import CodeFormat, new_secret

if TYPE_CHECKING:
    from mediation.cases.agreements import AgreementPrint

log = logging.getLogger(__name__)

PARTY_CODES = CodeFormat("JF")  # 解纷码

RATINGS = ("satisfied", "basically_satisfied", "not_satisfied")
RATING_LABELS = {
    "satisfied": _l("Satisfied"),
    "basically_satisfied": _l("Basically satisfied"),
    "not_satisfied": _l("Not satisfied"),
}

# What a party reads about their case: plain words, not the workflow's terms.
PLAIN_STATUS = {
    "registered": _l("Your dispute has been registered and is waiting to be accepted."),
    "accepted": _l("Your dispute has been accepted; a mediation is being arranged."),
    "declined": _l("The mediation committee could not take on this dispute."),
    "mediating": _l("Mediation is under way."),
    "settled": _l("The parties have reached a mediation agreement."),
    "performing": _l("The agreement is being carried out."),
    "performed": _l("The agreement has been carried out."),
    "breached": _l("The agreement has not been carried out; the committee will contact you."),
    "terminated": _l("The mediation has ended without an agreement."),
    "closed": _l("The case is closed."),
}


class PortalError(Exception):
    """A party's request that cannot be done, with a message for the field it concerns."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Access:
    """Who is asking: one party of one case, proven by code and secret."""

    access_id: int
    case_id: int
    party_id: int
    party_name: str
    code: str


# ---------------------------------------------------------------- codes and secrets


# A party's code like "JF-2026-7K3Q9M" and the secret beside it (see mediation.public_codes).
new_code = PARTY_CODES.new
parse_code = PARTY_CODES.parse


async def _issue(case_id: int, party_id: int, actor: CurrentUser | None) -> tuple[str, str]:
    secret = new_secret()
    for _attempt in range(5):
        code = new_code()
        if not await PartyAccess.exists().where(PartyAccess.code == code):
            break
    await PartyAccess.insert(
        PartyAccess(
            case=case_id,
            party=party_id,
            code=code,
            secret_encrypted=crypto.encrypt(secret),
            issued_by=actor.id if actor else None,
        )
    )
    return code, secret


async def issue_codes_for_case(case_id: int, actor: CurrentUser | None) -> int:
    """At registration: a code and secret for every party with a phone number."""
    parties = await Party.select(Party.id, Party.phone).where(Party.case == case_id)
    issued = 0
    for party in parties:
        if party["phone"]:
            await _issue(case_id, party["id"], actor)
            issued += 1
    return issued


@dataclass(slots=True, frozen=True)
class CaseParty:
    """A party of a case as its code is given and printed (the phone only tells whether a code
    can be sent)."""

    id: int
    name: str
    role: str
    phone: str


async def _case_party(
    user: CurrentUser, case_id: int, party_id: int
) -> tuple[case_services.CaseRecord, CaseParty]:
    case = await case_services.case_for(user, case_id)
    if case is None:
        raise PortalError(_("This case does not exist."))
    row = (
        await Party.select(Party.id, Party.name, Party.role, Party.phone)
        .where(Party.id == party_id, Party.case == case_id)
        .first()
    )
    if row is None:
        raise PortalError(_("This party is not on the case."))
    return case, CaseParty(**row)


async def reissue_code(user: CurrentUser, case_id: int, party_id: int) -> str:
    """A new code and secret for a party; the old secret stops working at once."""
    case, party = await _case_party(user, case_id, party_id)
    await PartyAccess.update({PartyAccess.active: False}).where(
        PartyAccess.party == party_id, PartyAccess.active.eq(True)
    )
    code, _secret = await _issue(case_id, party_id, user)
    await case_services.record_event(
        case_id, user, "party_code_reissued", changes={"party": [None, party.name]}
    )
    return code


@dataclass(slots=True, frozen=True)
class PartyCode:
    """A party with their current code (never the secret), for the staff's page of the case."""

    id: int
    name: str
    role: str
    phone_masked: str
    code: str  # "" when the party has none (no phone number)
    issued_at: datetime | None


async def codes_of_case(user: CurrentUser, case_id: int) -> list[PartyCode]:
    """Each party with their current code (no secret), for the staff's page of the case."""
    if await case_services.case_for(user, case_id) is None:
        raise PortalError(_("This case does not exist."))
    parties = (
        await Party.select(Party.id, Party.name, Party.role, Party.phone)
        .where(Party.case == case_id)
        .order_by(Party.id)
    )
    active = await PartyAccess.select(
        PartyAccess.party, PartyAccess.code, PartyAccess.issued_at
    ).where(PartyAccess.case == case_id, PartyAccess.active.eq(True))
    by_party = {row["party"]: row for row in active}
    return [
        PartyCode(
            id=p["id"],
            name=p["name"],
            role=p["role"],
            phone_masked=mask_phone(p["phone"]),
            code=by_party.get(p["id"], {}).get("code", ""),
            issued_at=by_party.get(p["id"], {}).get("issued_at"),
        )
        for p in parties
    ]


@dataclass(slots=True, frozen=True)
class PartySlip:
    """What the printed slip (or the acceptance notice) of a party's code shows, secret
    included."""

    case: case_services.CaseRecord
    party: CaseParty
    code: str
    secret: str
    category: str
    committee: str
    registered_on: date


async def slip_for(user: CurrentUser, case_id: int, party_id: int) -> PartySlip:
    """What the printed slip needs, secret included: printing it is recorded on the case."""
    case, party = await _case_party(user, case_id, party_id)
    row = (
        await PartyAccess.select(PartyAccess.code, PartyAccess.secret_encrypted)
        .where(PartyAccess.party == party_id, PartyAccess.active.eq(True))
        .first()
    )
    if row is None:
        if not party.phone:
            raise PortalError(_("A code is given to parties with a phone number."))
        code, secret = await _issue(case_id, party_id, user)
    else:
        code, secret = row["code"], crypto.decrypt(row["secret_encrypted"])
    await case_services.record_event(
        case_id, user, "party_code_printed", changes={"party": [None, party.name]}
    )
    from mediation.cases.agreements import _committee_for

    committee, _short = await _committee_for(case.region_path, case.level)
    return PartySlip(
        case=case,
        party=party,
        code=code,
        secret=secret,
        category=category_label(case.category),
        committee=committee,
        registered_on=case.registered_on,
    )


# ---------------------------------------------------------------- the party's side


async def access(code: str, secret: str) -> Access | None:
    """The party behind a code and secret, or None: a wrong pair reveals nothing at all."""
    canonical = parse_code(code)
    if canonical is None or not secret:
        return None
    row = (
        await PartyAccess.select(
            PartyAccess.id,
            PartyAccess.case,
            PartyAccess.party,
            PartyAccess.party.name,
            PartyAccess.secret_encrypted,
        )
        .where(PartyAccess.code == canonical, PartyAccess.active.eq(True))
        .first()
    )
    if row is None:
        return None
    try:
        expected = crypto.decrypt(row["secret_encrypted"])
    except Exception:  # a key that does not open it is the same as a wrong secret here
        log.exception("party code %s: the stored secret does not decrypt", canonical)
        return None
    if not hmac.compare_digest(expected.encode(), secret.strip().encode()):
        return None
    return Access(
        access_id=row["id"],
        case_id=row["case"],
        party_id=row["party"],
        party_name=row["party.name"],
        code=canonical,
    )


@dataclass(slots=True, frozen=True)
class PartyMediator:
    """A mediator of the case, as the parties see them."""

    assignment_id: int
    name: str | None
    organisation: str | None


@dataclass(slots=True, frozen=True)
class NextSession:
    """The next session scheduled for the case."""

    id: int
    starts_at: datetime
    room: str
    mode: str


@dataclass(slots=True, frozen=True)
class PartyClause:
    """A clause of an agreement, and whether it is owed to the party reading."""

    id: int
    seq: int
    obligor: str
    obligation: str
    amount: Decimal | None
    deadline: date | None
    done_on: date | None
    owed_to_me: bool


@dataclass(slots=True, frozen=True)
class PartyAgreement:
    """An issued agreement of the case with its clauses."""

    id: int
    number: str | None
    kind: str
    status: str
    issued_on: date | None
    effective_on: date | None
    clauses: list[PartyClause]


@dataclass(slots=True, frozen=True)
class PartyDeadline:
    """The mediation's time limit as the parties see it."""

    label: str
    due: date
    state: deadlines.ClockState
    late: bool


@dataclass(slots=True, frozen=True)
class PartyRating:
    rating: str
    comment: str


@dataclass(slots=True, frozen=True)
class PartyView:
    """Everything the party's page shows, and nothing personal about anyone."""

    code: str
    party_name: str
    number: str
    category: str
    status: str
    status_words: str
    registered_on: date
    accepted_on: date | None
    next_session: NextSession | None
    mediators: list[PartyMediator]
    deadlines: list[PartyDeadline]
    agreements: list[PartyAgreement]
    rating: PartyRating | None
    can_rate: bool


async def _case_of(case_id: int, *columns: Column) -> dict[str, Any]:
    """Columns of the party's case (an access code always belongs to a case)."""
    row = await Case.select(*columns).where(Case.id == case_id).first()
    if row is None:
        raise PortalError(_("This case does not exist."))
    return row


async def _mediators(case_id: int) -> list[PartyMediator]:
    rows = await CaseMediator.select(
        CaseMediator.id,
        CaseMediator.mediator._.staff._.display_name,
        CaseMediator.mediator.organisation,
    ).where(CaseMediator.case == case_id, CaseMediator.active.eq(True))
    return [
        PartyMediator(
            assignment_id=r["id"],
            name=r["mediator.staff.display_name"],
            organisation=r["mediator.organisation"],
        )
        for r in rows
    ]


async def _next_session(case_id: int) -> NextSession | None:
    row = (
        await MediationSession.select(
            MediationSession.id,
            MediationSession.starts_at,
            MediationSession.room,
            MediationSession.mode,
        )
        .where(
            MediationSession.case == case_id,
            MediationSession.status == "scheduled",
            MediationSession.starts_at >= utc_now(),
        )
        .order_by(MediationSession.starts_at)
        .first()
    )
    return None if row is None else NextSession(**row)


async def _agreements(case_id: int, party_name: str) -> list[PartyAgreement]:
    """The case's agreements past drafting; a clause is owed to ``party_name`` when someone
    else is its obligor."""
    agreements = (
        await Agreement.select(
            Agreement.id,
            Agreement.number,
            Agreement.kind,
            Agreement.status,
            Agreement.issued_on,
            Agreement.effective_on,
        )
        .where(Agreement.case == case_id, Agreement.status != "draft")
        .order_by(Agreement.id)
    )
    out = []
    for agreement in agreements:
        clauses = (
            await AgreementClause.select(
                AgreementClause.id,
                AgreementClause.seq,
                AgreementClause.obligor,
                AgreementClause.obligation,
                AgreementClause.amount,
                AgreementClause.deadline,
                AgreementClause.done_on,
            )
            .where(AgreementClause.agreement == agreement["id"])
            .order_by(AgreementClause.seq)
        )
        out.append(
            PartyAgreement(
                **agreement,
                clauses=[PartyClause(**c, owed_to_me=c["obligor"] != party_name) for c in clauses],
            )
        )
    return out


async def party_view(who: Access) -> PartyView:
    """Everything the party's page shows, and nothing personal about anyone."""
    case = await _case_of(who.case_id, *Case.all_columns())
    clocks = await case_services.clocks_for(case)
    rating = (
        await CaseRating.select(CaseRating.rating, CaseRating.comment)
        .where(CaseRating.party == who.party_id)
        .first()
    )
    return PartyView(
        code=who.code,
        party_name=who.party_name,
        number=case["number"],
        category=category_label(case["category"]),
        status=case["status"],
        status_words=str(PLAIN_STATUS.get(case["status"], case["status"])),
        registered_on=case["registered_on"],
        accepted_on=case["accepted_on"],
        next_session=await _next_session(who.case_id),
        mediators=await _mediators(who.case_id),
        deadlines=[
            PartyDeadline(
                label=c.clock.label,
                due=c.clock.due,
                state=c.state,
                late=c.clock.due < local_today(),
            )
            for c in clocks
            # A due date the policy cannot give is the office's to fix, not the parties' news.
            if c.clock.name == "mediation" and c.clock.due is not None
        ],
        agreements=await _agreements(who.case_id, who.party_name),
        rating=None if rating is None else PartyRating(**rating),
        can_rate=case["status"] == "closed" and rating is None,
    )


async def request_reschedule(who: Access, session_id: int, reason: str) -> bool:
    """A party asks for another date: the grid team and the case's mediators are told,
    nothing moves. A mediator taken off the case (an objection) is not told; without a
    mediator the town's mediation centre, which must deal with the session, is. Whether a
    mediator was told."""
    reason = reason.strip()
    if not reason:
        raise PortalError(_("Say why you need another date."), "reason")
    session = (
        await MediationSession.select(MediationSession.id, MediationSession.starts_at)
        .where(
            MediationSession.id == session_id,
            MediationSession.case == who.case_id,
            MediationSession.status == "scheduled",
        )
        .first()
    )
    if session is None:
        raise PortalError(_("This session cannot be rescheduled any more."), "session")
    when = local_date(session["starts_at"])
    # The case's mediators now: one taken off it (an objection) is not told any more.
    mediators = [
        r["mediator.staff"]
        for r in await CaseMediator.select(CaseMediator.mediator.staff).where(
            CaseMediator.case == who.case_id, CaseMediator.active.eq(True)
        )
        if r["mediator.staff"]
    ]
    if await _asked_already(who, when, reason):
        return bool(mediators)
    await case_services.record_event(
        who.case_id,
        None,
        "party_reschedule_request",
        changes={"party": [None, who.party_name], "session": [None, when]},
        note=reason,
    )
    case = await _case_of(who.case_id, Case.number, Case.grid, Case.region_path)
    recipients = [member.staff for member in await case_services.grid_team(case["grid"])]
    recipients += mediators or await case_services.centre_staff(case["region_path"], "town")
    await case_services.notify(
        recipients,
        who.case_id,
        "party_request",
        _(
            "%(party)s asks to reschedule the session of case %(number)s: %(reason)s",
            party=who.party_name,
            number=case["number"],
            reason=reason,
        ),
    )
    return bool(mediators)


# A request sent again as it was (a double tap, a form resent from the browser's history) is the
# request already made: the mediator and the team are told once.
REPEATED_REQUEST_WINDOW = timedelta(minutes=10)


async def _asked_already(who: Access, when: date, reason: str) -> bool:
    """Whether this party asked, in these words and for the session of that day, a moment ago."""
    recent = (
        await CaseEvent.select(CaseEvent.changes)
        .where(
            CaseEvent.case == who.case_id,
            CaseEvent.action == "party_reschedule_request",
            CaseEvent.note == reason,
            CaseEvent.at >= utc_now() - REPEATED_REQUEST_WINDOW,
        )
        .output(load_json=True)
    )
    asked = {"party": [None, who.party_name], "session": [None, when.isoformat()]}
    return any(row["changes"] == asked for row in recent)


async def object_to_mediator(who: Access, assignment_id: int, reason: str) -> None:
    """A party objects to a mediator: recorded exactly as when staff enter the objection."""
    try:
        await case_services.end_assignment_on_objection(
            who.case_id, assignment_id, reason, actor=None, party_name=who.party_name
        )
    except case_services.CaseError as exc:
        raise PortalError(exc.message, exc.field or "mediator") from exc


async def confirm_clause(who: Access, clause_id: int) -> None:
    """The party a clause is owed to confirms it was carried out."""
    row = (
        await AgreementClause.select(
            AgreementClause.id,
            AgreementClause.seq,
            AgreementClause.obligor,
            AgreementClause.done_on,
            AgreementClause.agreement.number,
            AgreementClause.agreement.status,
            AgreementClause.agreement.case,
        )
        .where(AgreementClause.id == clause_id)
        .first()
    )
    if row is None or row["agreement.case"] != who.case_id:
        raise PortalError(_("This clause does not exist."), "clause")
    if row["agreement.status"] != "effective":
        raise PortalError(_("Performance is confirmed once the agreement is in effect."), "clause")
    if row["obligor"] == who.party_name:
        raise PortalError(_("Only the party a clause is owed to can confirm it."), "clause")
    if row["done_on"] is None:
        await AgreementClause.update({AgreementClause.done_on: local_today()}).where(
            AgreementClause.id == clause_id
        )
    await case_services.record_event(
        who.case_id,
        None,
        "party_confirmed_clause",
        changes={
            "party": [None, who.party_name],
            "clause": [None, f"{row['agreement.number']} #{row['seq']}"],
        },
    )


async def rate_mediation(who: Access, rating: str, comment: str) -> None:
    """Once the case is closed, each party rates the mediation once."""
    if rating not in RATINGS:
        raise PortalError(_("Choose satisfied, basically satisfied or not satisfied."), "rating")
    status = await _case_of(who.case_id, Case.status)
    if status["status"] != "closed":
        raise PortalError(_("The mediation can be rated once the case is closed."), "rating")
    if await CaseRating.exists().where(CaseRating.party == who.party_id):
        raise PortalError(_("You have already rated this mediation."), "rating")
    comment = comment.strip()
    if len(comment) > 500:
        raise PortalError(_("At most %(n)s characters.", n=500), "comment")
    await CaseRating.insert(
        CaseRating(case=who.case_id, party=who.party_id, rating=rating, comment=comment)
    )
    await case_services.record_event(
        who.case_id,
        None,
        "party_rated",
        changes={"party": [None, who.party_name], "rating": [None, rating]},
        note=comment,
    )


async def agreement_of_party(
    who: Access, agreement_id: int, base_url: str
) -> AgreementPrint | None:
    """The party's own copy: an issued agreement of their case, with no ID numbers or phones,
    and the same verification code, QR code and content hash as the committee's copy (the
    hash stands for the parties' roles and names and the agreement's text, never for their ID
    numbers or phones, so it is the same whatever a copy masks). ``base_url``: the public
    address the verification link starts with."""
    row = (
        await Agreement.select(Agreement.id, Agreement.status)
        .where(Agreement.id == agreement_id, Agreement.case == who.case_id)
        .first()
    )
    if row is None or row["status"] == "draft":
        return None
    case = await _case_of(who.case_id, Case.region_path)
    # The print context is read as someone who sees exactly this case's area (an area role
    # that may open the case but never reveal: nothing is printed in full, nothing logged).
    reader = CurrentUser(
        id=0,
        username="",
        display_name="",
        roles=frozenset({"admin"}),
        region_path=case["region_path"],
    )
    from mediation.cases import agreements

    context = await agreements.print_context(reader, agreement_id, base_url, full_ids=False)
    printed = context.agreement
    parties = tuple(replace(p, id_number_display="", phone="") for p in printed.parties)
    return replace(context, agreement=replace(printed, parties=parties, party_copy=True))


async def party_agreement_print(who: Access, agreement_id: int, base_url: str) -> AgreementPrint:
    """``agreement_of_party`` for printing: a refusal raises instead of returning None."""
    context = await agreement_of_party(who, agreement_id, base_url)
    if context is None:
        raise PortalError(_("This agreement does not exist."))
    return context


# ---------------------------------------------------------------- texts to parties


def _message_text(event: str, number: str, code: str, extra: dict) -> str | None:
    if event == "accepted":
        return _(
            "Your dispute (case %(number)s) has been accepted. Follow it with your code %(code)s.",
            number=number,
            code=code,
        )
    if event in ("session_scheduled", "session_rescheduled"):
        if not extra.get("when"):
            return None
        return _(
            "A mediation session for case %(number)s is set for %(when)s, %(place)s.",
            number=number,
            when=extra["when"],
            place=extra.get("place") or _("place to be told"),
        )
    if event == "session_cancelled":
        if not extra.get("when"):
            return None
        return _(
            "The mediation session of case %(number)s set for %(when)s is cancelled; "
            "you will be told the new date.",
            number=number,
            when=extra["when"],
        )
    if event == "agreement_issued":
        return _(
            "The mediation agreement of case %(number)s has been issued; "
            "you can read it with your code %(code)s.",
            number=number,
            code=code,
        )
    if event == "closed":
        return _(
            "Case %(number)s is closed. Please rate the mediation with your code %(code)s.",
            number=number,
            code=code,
        )
    return None


def _party_event(action: str, to_status: str) -> str | None:
    if to_status == "accepted":
        return "accepted"
    if to_status == "closed":
        return "closed"
    if action in ("session_scheduled", "session_rescheduled", "session_cancelled"):
        return action
    if action == "agreement_issued":
        return action
    return None


async def on_case_event(case_id: int, action: str, to_status: str) -> None:
    """Called for every recorded case event: texts the parties about the ones they care about,
    once the change has committed (a gateway's round trip never holds the case's locks)."""
    event = _party_event(action, to_status)
    if event is None:
        return

    async def send() -> None:
        await _text_parties(case_id, event)

    if not db.after_commit(send):
        await send()


async def _text_parties(case_id: int, event: str) -> None:
    """Text every party with a code about ``event``, in Chinese: a text reaches a citizen, not
    the operator whose action caused it, so it never follows the operator's UI language (nor
    writes a date the American way)."""
    from mediation.documents.pdf import PRINT_LOCALE

    token = i18n.set_locale(PRINT_LOCALE)
    try:
        await _compose_and_send(case_id, event)
    finally:
        i18n.reset_locale(token)


async def _compose_and_send(case_id: int, event: str) -> None:
    case = await Case.select(Case.number).where(Case.id == case_id).first()
    if case is None:
        return
    extra: dict = {}
    if event == "session_cancelled":
        # The time of the sitting just called off, as recorded on the timeline.
        cancelled = (
            await CaseEvent.select(CaseEvent.changes)
            .where(CaseEvent.case == case_id, CaseEvent.action == "session_cancelled")
            .order_by(CaseEvent.id, ascending=False)
            .output(load_json=True)
            .first()
        )
        when = ((cancelled or {}).get("changes") or {}).get("session") or [None, None]
        if when[1]:
            extra = {"when": _format_when(datetime.fromisoformat(when[1]))}
    elif event.startswith("session_"):
        session = await _next_session(case_id)
        if session:
            extra = {"when": _format_when(session.starts_at), "place": session.room}
    recipients = await PartyAccess.select(
        PartyAccess.party, PartyAccess.code, PartyAccess.party.phone
    ).where(PartyAccess.case == case_id, PartyAccess.active.eq(True))
    backend = messaging.backend()
    for row in recipients:
        phone = row["party.phone"]
        text = _message_text(event, case["number"], row["code"], extra)
        if not phone or not text:
            continue
        status = "sent"
        try:
            await backend.send(phone, text)
        except Exception:  # a gateway failure must never undo the case's change
            log.exception("message to a party of case %s failed", case_id)
            status = "failed"
        await PartyMessage.insert(
            PartyMessage(
                case=case_id,
                party=row["party"],
                event=event,
                phone_masked=mask_phone(phone),
                text=text,
                backend=backend.name,
                status=status,
            )
        )


def _format_when(instant: datetime) -> str:
    local = to_local(instant)
    return _(
        "%(month)s/%(day)s %(time)s", month=local.month, day=local.day, time=local.strftime("%H:%M")
    )


@dataclass(slots=True, frozen=True)
class SentText:
    """A text sent to a party of the case (the phone masked)."""

    created_at: datetime
    party_name: str | None
    phone_masked: str
    text: str
    status: str
    event: str


async def messages_of_case(user: CurrentUser, case_id: int) -> list[SentText]:
    """The texts sent to the case's parties, newest first, for staff (phones masked)."""
    if await case_services.case_for(user, case_id) is None:
        raise PortalError(_("This case does not exist."))
    rows = (
        await PartyMessage.select(
            PartyMessage.created_at,
            PartyMessage.party.name,
            PartyMessage.phone_masked,
            PartyMessage.text,
            PartyMessage.status,
            PartyMessage.event,
        )
        .where(PartyMessage.case == case_id)
        .order_by(PartyMessage.id, ascending=False)
    )
    return [
        SentText(
            created_at=r["created_at"],
            party_name=r["party.name"],
            phone_masked=r["phone_masked"],
            text=r["text"],
            status=r["status"],
            event=r["event"],
        )
        for r in rows
    ]
