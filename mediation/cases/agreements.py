"""Mediation agreements: draft, issue with a number, sign, take effect, lock, verify, perform."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from mediation import crypto
from mediation.accounts.services import CurrentUser
from mediation.cases.services import CaseError, case_for, notify, record_event, today
from mediation.cases.tables import (
    Agreement,
    AgreementClause,
    AgreementCounter,
    CaseMediator,
    Party,
    Signature,
)
from mediation.cases.workdays import rolled_to_working_day
from mediation.db import write_transaction
from mediation.grid.tables import Region, TeamMember
from mediation.i18n import format_date
from mediation.i18n import gettext as _
from mediation.i18n import lazy_gettext as _l
from mediation.inputs import parse_amount, too_long
from mediation.intake.validators import ValidationError

KINDS = {"written": _l("Written agreement"), "oral": _l("Oral agreement")}
STATUSES = {
    "draft": _l("Draft"),
    "issued": _l("Issued, awaiting signatures"),
    "effective": _l("In effect"),
}
SIGNATORY_ROLES = {"party": _l("Party"), "mediator": _l("Mediator"), "seal": _l("Committee seal")}
# Civil Procedure Law Art. 205 / People's Mediation Law Art. 33.
JUDICIAL_CONFIRMATION_DAYS = 30


def confirmation_until(effective_on: date) -> date:
    """Last day to apply for judicial confirmation: 30 days after the agreement took effect,
    moved to the first working day after a holiday (Civil Procedure Law Art. 85)."""
    return rolled_to_working_day(effective_on + timedelta(days=JUDICIAL_CONFIRMATION_DAYS))


def performance_due(deadline: date) -> date:
    """A clause's deadline as it binds: a last day on a holiday moves to the next working day
    (Civil Procedure Law Art. 85)."""
    return rolled_to_working_day(deadline)


CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud without doubt


@dataclass
class ClauseInput:
    obligor: str
    obligation: str
    amount: Decimal | None = None
    method: str = ""
    place: str = ""
    deadline: date | None = None


def parse_clauses(rows: list[dict]) -> tuple[list[ClauseInput], dict[str, str]]:
    """Clause rows from a form (already grouped by index) into inputs, with errors by field."""
    clauses, errors = [], {}
    for index, row in enumerate(rows):
        if not any(str(row.get(k, "")).strip() for k in ("obligor", "obligation", "amount")):
            continue
        prefix = f"clauses-{row.get('index', index)}-"
        obligor = str(row.get("obligor", "")).strip()
        obligation = str(row.get("obligation", "")).strip()
        if not obligor:
            errors[prefix + "obligor"] = _("This field is required.")
        if not obligation:
            errors[prefix + "obligation"] = _("This field is required.")
        amount = None
        raw_amount = str(row.get("amount", "")).strip()
        if raw_amount:
            try:
                amount = parse_amount(raw_amount)
            except ValidationError as exc:
                errors[prefix + "amount"] = exc.message
        deadline = None
        raw_deadline = str(row.get("deadline", "")).strip()
        if raw_deadline:
            try:
                deadline = date.fromisoformat(raw_deadline)
            except ValueError:
                errors[prefix + "deadline"] = _("Enter a date.")
        method = str(row.get("method", "")).strip()
        place = str(row.get("place", "")).strip()
        for field, text, limit in (
            ("obligor", obligor, 100),
            ("obligation", obligation, 2000),
            ("method", method, 200),
            ("place", place, 200),
        ):
            if message := too_long(text, limit):
                errors[prefix + field] = message
        clauses.append(ClauseInput(obligor, obligation, amount, method, place, deadline))
    return clauses, errors


async def _committee_for(case: dict) -> tuple[str, str]:
    """The town's people's mediation committee: 当湖街道人民调解委员会, short name 当湖."""
    parts = [p for p in case["region_path"].split("/") if p]
    town = (
        await Region.select(Region.name).where(Region.code == parts[1]).first()
        if len(parts) > 1
        else None
    )
    name = town["name"] if town else ""
    short = name.removesuffix("街道").removesuffix("镇").removesuffix("乡") or name
    return f"{name}人民调解委员会", short[:16]


def mediation_started(case: dict) -> bool:
    """An agreement comes out of a mediation: none before it starts (or on a declined case)."""
    return case["mediation_started_on"] is not None and case["status"] not in (
        "registered",
        "accepted",
        "declined",
    )


async def create_agreement(
    user: CurrentUser, case_id: int, kind: str = "written", supplements: int | None = None
) -> int:
    case = await case_for(user, case_id)
    if case is None:
        raise CaseError(_("This case does not exist."))
    if kind not in KINDS:
        raise CaseError(_("Choose from the list."), "kind")
    if not mediation_started(case):
        raise CaseError(_("An agreement can be drafted once mediation has started."), "status")
    committee, short = await _committee_for(case)
    agreement = Agreement(
        case=case_id, kind=kind, committee=committee, committee_short=short, supplements=supplements
    )
    await agreement.save()
    await record_event(case_id, user, "agreement_drafted", changes={"kind": [None, kind]})
    return agreement.id


async def agreement_for(user: CurrentUser, agreement_id: int) -> dict | None:
    row = (
        await Agreement.select(
            Agreement.all_columns(),
            Agreement.case.number,
            Agreement.case.region_path,
            Agreement.supplements.number,
        )
        .where(Agreement.id == agreement_id)
        .first()
    )
    if row is None or not user.can_see_path(row["case.region_path"]):
        return None
    row["clauses"] = (
        await AgreementClause.select()
        .where(AgreementClause.agreement == agreement_id)
        .order_by(AgreementClause.seq)
    )
    row["signatures"] = (
        await Signature.select().where(Signature.agreement == agreement_id).order_by(Signature.id)
    )
    row["parties"] = (
        await Party.select(
            Party.id,
            Party.role,
            Party.name,
            Party.kind,
            Party.address,
            Party.phone,
            Party.id_number_masked,
        )
        .where(Party.case == row["case"])
        .order_by(Party.id)
    )
    row["missing_signatures"] = missing_signatures(row)
    if row["effective_on"]:
        row["confirmation_until"] = confirmation_until(row["effective_on"])
        row["confirmation_days_left"] = (row["confirmation_until"] - today()).days
    for c in row["clauses"]:
        c["due"] = performance_due(c["deadline"]) if c["deadline"] else None
    row["overdue_clauses"] = [
        c for c in row["clauses"] if c["due"] and not c["done_on"] and c["due"] < today()
    ]
    return row


async def _editable(user: CurrentUser, agreement_id: int) -> dict:
    agreement = await agreement_for(user, agreement_id)
    if agreement is None:
        raise CaseError(_("This agreement does not exist."))
    if agreement["status"] != "draft":
        raise CaseError(
            _(
                "This agreement has been issued and can no longer change; "
                "record a supplementary agreement instead."
            )
        )
    return agreement


async def update_draft(
    user: CurrentUser,
    agreement_id: int,
    main_facts: str,
    issues: str,
    responsibilities: str,
    performance_method: str,
    oral_content: str,
    copies: int,
    clauses: list[ClauseInput],
) -> None:
    agreement = await _editable(user, agreement_id)
    party_count = len(agreement["parties"])
    if copies < party_count + 1:
        raise CaseError(
            _(
                "Print at least one copy per party and one for the committee (%(n)s).",
                n=party_count + 1,
            ),
            "copies",
        )
    async with write_transaction():
        await Agreement.update(
            {
                Agreement.main_facts: main_facts.strip()[:10000],
                Agreement.issues: issues.strip()[:5000],
                Agreement.responsibilities: responsibilities.strip()[:5000],
                Agreement.performance_method: performance_method.strip()[:2000],
                Agreement.oral_content: oral_content.strip()[:10000],
                Agreement.copies: copies,
                Agreement.version: agreement["version"] + 1,
            }
        ).where(Agreement.id == agreement_id)
        await AgreementClause.delete().where(AgreementClause.agreement == agreement_id)
        for seq, clause in enumerate(clauses, start=1):
            await AgreementClause(
                agreement=agreement_id,
                seq=seq,
                obligor=clause.obligor,
                obligation=clause.obligation,
                amount=clause.amount,
                method=clause.method,
                place=clause.place,
                deadline=clause.deadline,
            ).save()


def canonical_content(agreement: dict) -> str:
    """The agreement's content in one fixed form: what the hash on the printout stands for."""

    def amount(value):
        return None if value is None else f"{Decimal(value):.2f}"

    content = {
        "number": agreement["number"],
        "committee": agreement["committee"],
        "kind": agreement["kind"],
        "parties": [[p["role"], p["name"]] for p in agreement["parties"]],
        "main_facts": agreement["main_facts"],
        "issues": agreement["issues"],
        "responsibilities": agreement["responsibilities"],
        "oral_content": agreement["oral_content"],
        "copies": agreement["copies"],
        "clauses": [
            [
                c["seq"],
                c["obligor"],
                c["obligation"],
                amount(c["amount"]),
                c["method"],
                c["place"],
                c["deadline"].isoformat() if c["deadline"] else None,
            ]
            for c in agreement["clauses"]
        ],
    }
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def content_hash(agreement: dict) -> str:
    return hashlib.sha256(canonical_content(agreement).encode("utf-8")).hexdigest()


def _verification_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


async def issue_agreement(user: CurrentUser, agreement_id: int) -> str:
    """Give the agreement its number (per committee and year) and freeze its content."""
    agreement = await _editable(user, agreement_id)
    if agreement["kind"] == "written" and not agreement["clauses"]:
        raise CaseError(_("Add at least one clause before issuing."), "clauses")
    if agreement["kind"] == "oral" and not agreement["oral_content"]:
        raise CaseError(_("Record what was agreed orally."), "oral_content")
    year = today().year
    key = f"{agreement['committee_short']}-{year}"
    async with write_transaction():
        rows = await AgreementCounter.raw(
            "INSERT INTO agreement_counter (key, last_number) VALUES ({}, 1) "
            "ON CONFLICT (key) DO UPDATE SET last_number = agreement_counter.last_number + 1 "
            "RETURNING last_number",
            key,
        )
        number = f"（{year}）{agreement['committee_short']}调字第{rows[0]['last_number']}号"
        agreement["number"] = number
        digest = content_hash(agreement)
        updated = (
            await Agreement.update(
                {
                    Agreement.number: number,
                    Agreement.status: "issued",
                    Agreement.issued_on: today(),
                    Agreement.verification_code: _verification_code(),
                    Agreement.content_hash: digest,
                }
            )
            .where(Agreement.id == agreement_id, Agreement.status == "draft")
            .returning(Agreement.id)
        )
        if not updated:
            raise CaseError(_("This agreement was issued a moment ago by someone else."))
        await record_event(
            agreement["case"], user, "agreement_issued", changes={"number": [None, number]}
        )
    return number


def missing_signatures(agreement: dict) -> list[str]:
    """Who still has to sign: every party, a mediator, and the committee's seal (Arts. 29–30)."""
    signed = {(s["role"], s["signatory"]) for s in agreement["signatures"]}
    missing = [p["name"] for p in agreement["parties"] if ("party", p["name"]) not in signed]
    if not any(role == "mediator" for role, _name in signed):
        missing.append(str(SIGNATORY_ROLES["mediator"]))
    if not any(role == "seal" for role, _name in signed):
        missing.append(str(SIGNATORY_ROLES["seal"]))
    return missing


async def record_signature(
    user: CurrentUser, agreement_id: int, signatory: str, role: str, signed_on: date
) -> bool:
    """Record one signature; returns True when this one made the agreement take effect."""
    agreement = await agreement_for(user, agreement_id)
    if agreement is None:
        raise CaseError(_("This agreement does not exist."))
    if agreement["status"] != "issued":
        raise CaseError(_("Only an issued agreement awaiting signatures can be signed."))
    if role not in SIGNATORY_ROLES:
        raise CaseError(_("Choose from the list."), "role")
    if role == "party" and signatory not in {p["name"] for p in agreement["parties"]}:
        raise CaseError(_("Choose from the list."), "signatory")
    if signed_on > today() or (agreement["issued_on"] and signed_on < agreement["issued_on"]):
        raise CaseError(_("The date must lie between issue and today."), "signed_on")
    if role == "party" and any(
        s["role"] == "party" and s["signatory"] == signatory for s in agreement["signatures"]
    ):
        raise CaseError(_("This person has already signed."), "signatory")
    async with write_transaction():
        await Signature(
            agreement=agreement_id,
            signatory=signatory.strip()[:100] or str(SIGNATORY_ROLES[role]),
            role=role,
            signed_on=signed_on,
            recorded_by=user.id,
        ).save()
        await record_event(
            agreement["case"],
            user,
            "agreement_signed",
            changes={"signatory": [None, signatory or role]},
        )
        agreement["signatures"].append(
            {
                "role": role,
                "signatory": signatory or str(SIGNATORY_ROLES[role]),
                "signed_on": signed_on,
            }
        )
        if missing_signatures(agreement):
            return False
        effective_on = max(s["signed_on"] for s in agreement["signatures"])
        await Agreement.update(
            {Agreement.status: "effective", Agreement.effective_on: effective_on}
        ).where(Agreement.id == agreement_id)
        await record_event(
            agreement["case"],
            user,
            "agreement_effective",
            changes={"effective_on": [None, effective_on.isoformat()]},
        )
    mediators = await CaseMediator.select(CaseMediator.mediator.staff).where(
        CaseMediator.case == agreement["case"], CaseMediator.active.eq(True)
    )
    await notify(
        [m["mediator.staff"] for m in mediators] + [user.id],
        agreement["case"],
        "confirmation_window",
        _(
            "Agreement %(number)s is in effect. The parties may jointly apply for judicial "
            "confirmation until %(until)s.",
            number=agreement["number"],
            until=format_date(confirmation_until(effective_on), "long"),
        ),
    )
    return True


async def mark_clause_done(
    user: CurrentUser, agreement_id: int, clause_id: int, done_on: date
) -> None:
    agreement = await agreement_for(user, agreement_id)
    if agreement is None:
        raise CaseError(_("This agreement does not exist."))
    if agreement["status"] != "effective":
        raise CaseError(_("Performance is tracked once the agreement is in effect."))
    clause = next((c for c in agreement["clauses"] if c["id"] == clause_id), None)
    if clause is None:
        raise CaseError(_("This clause does not exist."))
    if done_on > today():
        raise CaseError(_("The date cannot be in the future."), "done_on")
    await AgreementClause.update({AgreementClause.done_on: done_on}).where(
        AgreementClause.id == clause_id, AgreementClause.agreement == agreement_id
    )
    await record_event(
        agreement["case"],
        user,
        "clause_performed",
        changes={"clause": [None, f"{agreement['number']} #{clause['seq']}"]},
    )


# Remind this many days before the judicial-confirmation window closes.
CONFIRMATION_REMINDER_DAYS = 7
# The longest run of rest days a holiday can put after a window's last day (Spring Festival).
HOLIDAY_MARGIN_DAYS = 12
# Cases whose agreement is still being performed; later states need no reminders.
PERFORMING_STATUSES = ("settled", "performing")


@dataclass
class AgreementSweepReport:
    clauses_overdue: int = 0
    confirmation_reminders: int = 0


async def _people_of_case(case_id: int, grid_id: int) -> list[int]:
    """The case's active mediators and its grid team: who must hear about its agreements."""
    mediators = await CaseMediator.select(CaseMediator.mediator.staff).where(
        CaseMediator.case == case_id, CaseMediator.active.eq(True)
    )
    team = await TeamMember.select(TeamMember.staff).where(TeamMember.grid == grid_id)
    return sorted({m["mediator.staff"] for m in mediators} | {t["staff"] for t in team})


async def sweep_agreements(on: date | None = None) -> AgreementSweepReport:
    """Report overdue clauses and the closing judicial-confirmation window, once each.

    Each report is claimed by a conditional update (``... WHERE reported IS NULL``), so two
    sweeps at once, or one run twice, never notify twice.
    """
    on = on or today()
    report = AgreementSweepReport()
    late = await AgreementClause.select(
        AgreementClause.id,
        AgreementClause.seq,
        AgreementClause.obligor,
        AgreementClause.deadline,
        AgreementClause.agreement,
        AgreementClause.agreement.number,
        AgreementClause.agreement.case,
        AgreementClause.agreement.case.grid,
    ).where(
        AgreementClause.done_on.is_null(),
        AgreementClause.overdue_notified_on.is_null(),
        AgreementClause.deadline < on,
        AgreementClause.agreement.status == "effective",
        AgreementClause.agreement.case.status.is_in(list(PERFORMING_STATUSES)),
    )
    for clause in late:
        if performance_due(clause["deadline"]) >= on:
            continue  # its last day was a holiday: still within time (Art. 85)
        claimed = (
            await AgreementClause.update({AgreementClause.overdue_notified_on: on})
            .where(
                AgreementClause.id == clause["id"], AgreementClause.overdue_notified_on.is_null()
            )
            .returning(AgreementClause.id)
        )
        if not claimed:
            continue
        case_id = clause["agreement.case"]
        label = f"{clause['agreement.number']} #{clause['seq']}"
        await record_event(
            case_id,
            None,
            "clause_overdue",
            changes={"clause": [None, label], "due": [None, clause["deadline"].isoformat()]},
            note=clause["obligor"],
        )
        await notify(
            await _people_of_case(case_id, clause["agreement.case.grid"]),
            case_id,
            "clause_overdue",
            _(
                "Clause %(clause)s (%(obligor)s) was due on %(due)s and is not recorded as "
                "performed.",
                clause=label,
                obligor=clause["obligor"],
                due=format_date(clause["deadline"], "long"),
            ),
        )
        report.clauses_overdue += 1

    # Effective on or after this day: the window is still open; on or before the other: it
    # closes within CONFIRMATION_REMINDER_DAYS.
    # The window's end may move past holidays (Art. 85): look a little further back and decide
    # on the moved date below.
    window_open_from = on - timedelta(days=JUDICIAL_CONFIRMATION_DAYS + HOLIDAY_MARGIN_DAYS)
    closing_by = on - timedelta(days=JUDICIAL_CONFIRMATION_DAYS - CONFIRMATION_REMINDER_DAYS)
    closing = await Agreement.select(
        Agreement.id,
        Agreement.number,
        Agreement.effective_on,
        Agreement.case,
        Agreement.case.grid,
    ).where(
        Agreement.status == "effective",
        Agreement.confirmation_reminded_on.is_null(),
        Agreement.effective_on >= window_open_from,
        Agreement.effective_on <= closing_by,
        Agreement.case.status.is_in(list(PERFORMING_STATUSES)),
    )
    for agreement in closing:
        until = confirmation_until(agreement["effective_on"])
        if not on <= until <= on + timedelta(days=CONFIRMATION_REMINDER_DAYS):
            continue
        claimed = (
            await Agreement.update({Agreement.confirmation_reminded_on: on})
            .where(Agreement.id == agreement["id"], Agreement.confirmation_reminded_on.is_null())
            .returning(Agreement.id)
        )
        if not claimed:
            continue
        await record_event(
            agreement["case"],
            None,
            "confirmation_reminder",
            changes={"until": [None, until.isoformat()]},
            note=agreement["number"],
        )
        await notify(
            await _people_of_case(agreement["case"], agreement["case.grid"]),
            agreement["case"],
            "confirmation_window",
            _(
                "The parties to agreement %(number)s may jointly apply to the court for "
                "judicial confirmation until %(until)s (%(days)s days left).",
                number=agreement["number"],
                until=format_date(until, "long"),
                days=(until - on).days,
            ),
        )
        report.confirmation_reminders += 1
    return report


async def agreements_of_case(case_id: int) -> list[dict]:
    return (
        await Agreement.select(
            Agreement.id,
            Agreement.number,
            Agreement.kind,
            Agreement.status,
            Agreement.effective_on,
            Agreement.supplements,
        )
        .where(Agreement.case == case_id)
        .order_by(Agreement.id)
    )


async def public_verification(code: str) -> dict | None:
    """What anyone may see with the code: number, status, effective date, hash. Nothing else."""
    row = (
        await Agreement.select(
            Agreement.number,
            Agreement.status,
            Agreement.effective_on,
            Agreement.content_hash,
            Agreement.issued_on,
        )
        .where(Agreement.verification_code == code.strip().upper())
        .first()
    )
    return row


async def print_context(
    user: CurrentUser, agreement_id: int, base_url: str, full_ids: bool = True
) -> dict:
    """The context for templates/documents/agreement.html, from the stored agreement."""
    agreement = await agreement_for(user, agreement_id)
    if agreement is None:
        raise CaseError(_("This agreement does not exist."))
    parties = await Party.select().where(Party.case == agreement["case"]).order_by(Party.id)
    role_names = {"applicant": "申请人", "respondent": "被申请人", "third_party": "第三人"}
    mediators = await CaseMediator.select(CaseMediator.mediator.staff.display_name).where(
        CaseMediator.case == agreement["case"], CaseMediator.active.eq(True)
    )

    def paragraphs(text: str) -> list[str]:
        return [p.strip() for p in (text or "").splitlines() if p.strip()]

    clauses = [
        {
            "obligor": c["obligor"],
            "obligation": c["obligation"],
            "amount": c["amount"],
            "method": c["method"],
            "place": c["place"],
            "deadline": c["deadline"],
        }
        for c in agreement["clauses"]
    ]
    if agreement["kind"] == "oral":
        clauses = [{"text": t} for t in paragraphs(agreement["oral_content"])]
    clauses += [{"text": t} for t in paragraphs(agreement["performance_method"])]
    context = {
        "committee": agreement["committee"],
        "number": agreement["number"] or _("(draft, not yet issued)"),
        "parties": [
            {
                "role": role_names.get(p["role"], p["role"]),
                "name": p["name"],
                "id_number_display": (
                    crypto.decrypt(p["id_number_encrypted"]) if full_ids else p["id_number_masked"]
                ),
                "address": p["address"],
                "phone": p["phone"],
            }
            for p in parties
        ],
        "facts": paragraphs(agreement["main_facts"]),
        "disputes": paragraphs(agreement["issues"]),
        "responsibilities": paragraphs(agreement["responsibilities"]),
        "clauses": clauses,
        "mediators": [m["mediator.staff.display_name"] for m in mediators] or [""],
        "copies": agreement["copies"],
        "signed_on": agreement["effective_on"],
    }
    if agreement["kind"] == "oral":
        context["title"] = _("Record of an oral mediation agreement")
    elif agreement["supplements"]:
        context["title"] = _("Supplementary people's mediation agreement")
    if agreement["verification_code"]:
        context["verification"] = {
            "code": agreement["verification_code"],
            "url": f"{base_url.rstrip('/')}/verify/{agreement['verification_code']}",
            "digest": agreement["content_hash"],
        }
    return {"agreement": context}
