"""Mediation agreements: draft, issue with a number, sign, take effect, lock, verify, perform."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from piccolo.columns import Column

from mediation import crypto
from mediation.accounts.services import CurrentUser
from mediation.cases import workflow
from mediation.cases.access import case_entitled, may_reveal
from mediation.cases.parties import PrintedParty, print_party
from mediation.cases.services import CaseError, case_for, notify, record_event, today
from mediation.cases.tables import (
    Agreement,
    AgreementClause,
    AgreementCounter,
    Case,
    CaseMediator,
    Party,
    Signature,
)
from mediation.cases.workdays import rolled_to_working_day
from mediation.db import PreparedSelect, fields_of, write_transaction
from mediation.grid.tables import Region, TeamMember
from mediation.i18n import format_date, ngettext
from mediation.i18n import gettext as _
from mediation.i18n import lazy_gettext as _l
from mediation.inputs import parse_amount, too_long
from mediation.masking import mask_phone
from mediation.public_codes import random_text
from mediation.validators import ValidationError

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


@dataclass
class ClauseInput:
    obligor: str
    obligation: str
    amount: Decimal | None = None
    method: str = ""
    place: str = ""
    deadline: date | None = None
    obligee: str = ""


CLAUSE_FIELDS = ("obligor", "obligee", "obligation", "amount", "method", "place", "deadline")
# A sum written into the wording as well as in the amount field would print twice.
_SUM_IN_WORDS = re.compile(r"(人民币|￥|¥|RMB)\s*[0-9０-９]|[0-9０-９][0-9０-９,，.]*\s*(元|块)")


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
        elif _SUM_IN_WORDS.search(obligation):
            errors[prefix + "obligation"] = _(
                "Leave the sum out of the wording and enter it under Amount: the amount prints "
                "once, in figures and in words."
            )
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
        obligee = str(row.get("obligee", "")).strip()
        for field, text, limit in (
            ("obligor", obligor, 100),
            ("obligation", obligation, 2000),
            ("method", method, 200),
            ("place", place, 200),
            ("obligee", obligee, 100),
        ):
            if message := too_long(text, limit):
                errors[prefix + field] = message
        clauses.append(ClauseInput(obligor, obligation, amount, method, place, deadline, obligee))
    return clauses, errors


@dataclass(frozen=True)
class Committee:
    """A people's mediation committee: full name with the county, and the short form used in
    document numbers (（2026）当湖调字第12号)."""

    name: str
    short: str


def _short_name(name: str) -> str:
    for suffix in ("街道", "社区", "镇", "乡", "村"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name.removesuffix(suffix)
    return name


async def committee_for(region_path: str, level: str) -> Committee:
    """The committee that handles a case of this community (``region_path``) at this level:
    the village/community committee while the case is at grid or community level, the town's
    once it is at town level or above. The full name starts with the county
    (平湖市当湖街道人民调解委员会)."""
    codes = [p for p in region_path.split("/") if p]
    rows = await Region.select(Region.code, Region.name).where(Region.code.is_in(codes or [""]))
    names = {r["code"]: r["name"] for r in rows}
    chain = [names[c] for c in codes if c in names]
    if level in ("town", "county") and len(chain) > 2:
        chain = chain[:2]
    if not chain:
        return Committee(_("People's mediation committee"), "")
    short = "".join(_short_name(n) for n in chain[1:]) or _short_name(chain[0])
    return Committee(f"{''.join(chain)}人民调解委员会", short[:16])


async def _committee_for(region_path: str, level: str) -> tuple[str, str]:
    committee = await committee_for(region_path, level)
    return committee.name, committee.short


async def may_handle(user: CurrentUser, case_id: int, region_path: str) -> bool:
    """Only a mediator assigned to the case, or centre staff of its area (``region_path`` is the
    case's), may draft, issue or record signatures on its documents."""
    if user.has_role("centre_staff") and user.region_path and user.can_see_path(region_path):
        return True
    return await CaseMediator.exists().where(
        CaseMediator.case == case_id,
        CaseMediator.active.eq(True),
        CaseMediator.mediator.staff == user.id,
    )


async def _require_handler(user: CurrentUser, case_id: int, region_path: str) -> None:
    if not await may_handle(user, case_id, region_path):
        raise CaseError(
            _(
                "Only a mediator assigned to this case, or mediation-centre staff of its area, "
                "may draft, issue or sign its agreements."
            ),
            "permission",
        )


def drafting_refused(started_on: date | None, status: str) -> str | None:
    """Why no agreement can be drafted on the case now, or None: an agreement comes out of a
    mediation, so none before it starts, and none once it failed or the case is over.
    ``started_on`` and ``status`` are the case's ``mediation_started_on`` and ``status``."""
    return workflow.agreement_refused(status, mediation_started=started_on is not None)


async def create_agreement(
    user: CurrentUser,
    case_id: int,
    kind: str = "written",
    supplements: int | None = None,
    *,
    oral_content: str = "",
    reached_on: date | None = None,
) -> int:
    """Draft an agreement. An oral agreement recorded with its content and the day it was
    reached takes effect at once (Art. 30): no signatures, no seal."""
    case = await case_for(user, case_id)
    if case is None:
        raise CaseError(_("This case does not exist."))
    if kind not in KINDS:
        raise CaseError(_("Choose from the list."), "kind")
    if refused := drafting_refused(case.mediation_started_on, case.status):
        raise CaseError(refused, "status")
    await _require_handler(user, case.id, case.region_path)
    if supplements is not None:
        original = (
            await Agreement.select(Agreement.status)
            .where(Agreement.id == supplements, Agreement.case == case_id)
            .first()
        )
        if original is None or original["status"] != "effective":
            raise CaseError(_("Only an agreement in effect can be supplemented."), "supplements")
    committee = await committee_for(case.region_path, case.level)
    agreement = Agreement(
        case=case_id,
        kind=kind,
        committee=committee.name,
        committee_short=committee.short,
        supplements=supplements,
        recorded_by=user.id,
        oral_content=oral_content.strip()[:10000],
        reached_on=reached_on,
    )
    await agreement.save()
    await record_event(case_id, user, "agreement_drafted", changes={"kind": [None, kind]})
    if kind == "oral" and oral_content.strip():
        await issue_agreement(user, agreement.id)
    return agreement.id


# What a printed agreement says about each party: frozen on the agreement when it is issued, so
# correcting a party afterwards changes neither the hash behind /verify nor a reprint. ID numbers
# stay on the party (encrypted under the current key): only their masked form is copied.
SNAPSHOT_FIELDS = (
    "id",
    "role",
    "kind",
    "name",
    "id_number_masked",
    "phone",
    "address",
    "gender",
    "ethnicity",
    "birth_date",
    "occupation",
    "credit_code",
    "legal_rep",
    "legal_rep_title",
    "agent_name",
    "agent_relation",
)
_SNAPSHOT_COLUMNS = [getattr(Party, f) for f in SNAPSHOT_FIELDS]


def freeze_parties(parties: Iterable[PartySnapshot]) -> str:
    """The parties' printed details as stored on an issued agreement (JSON)."""
    rows = []
    for p in parties:
        row = {f: getattr(p, f) for f in SNAPSHOT_FIELDS}
        if isinstance(row["birth_date"], date):
            row["birth_date"] = row["birth_date"].isoformat()
        rows.append(row)
    return json.dumps(rows, ensure_ascii=False)


def thaw_parties(snapshot: str) -> list[dict[str, Any]]:
    rows = json.loads(snapshot)
    for row in rows:
        if row.get("birth_date"):
            row["birth_date"] = date.fromisoformat(row["birth_date"])
    return rows


@dataclass(frozen=True, slots=True)
class PartySnapshot:
    """A party as an agreement prints it: frozen on the agreement when it is issued, read from
    the case while it is a draft (``SNAPSHOT_FIELDS``; the ID number only masked)."""

    id: int | None
    role: str
    kind: str | None
    name: str
    id_number_masked: str | None
    phone: str | None
    address: str | None
    gender: str | None
    ethnicity: str | None
    birth_date: date | None
    occupation: str | None
    credit_code: str | None
    legal_rep: str | None
    legal_rep_title: str | None
    agent_name: str | None
    agent_relation: str | None


def _snapshot(row: Mapping[str, Any]) -> PartySnapshot:
    # A snapshot stored before a field was added to SNAPSHOT_FIELDS lacks it: None, as printed.
    values: dict[str, Any] = {f: row.get(f) for f in SNAPSHOT_FIELDS}
    return PartySnapshot(**values)


@dataclass(frozen=True, slots=True)
class ClauseRow:
    """A clause of an agreement as stored, with ``due``: its deadline as it binds (moved past a
    holiday, Art. 85)."""

    id: int
    agreement: int
    seq: int
    obligor: str
    obligee: str
    obligation: str
    amount: Decimal | None
    method: str
    place: str
    deadline: date | None
    done_on: date | None
    overdue_notified_on: date | None
    due: date | None


@dataclass(frozen=True, slots=True)
class SignatureRow:
    """A recorded signature (a party, a mediator, or the committee's seal)."""

    id: int
    agreement: int
    signatory: str
    role: str
    signed_on: date
    recorded_by: int | None


@dataclass(frozen=True, slots=True)
class AgreementRecord:
    """An agreement with its clauses, signatures and parties, and where it stands: what its
    page shows, what is hashed and printed (see ``tables.Agreement`` for the columns)."""

    id: int
    case: int
    kind: str
    status: str
    committee: str
    committee_short: str
    number: str | None  # None while a draft
    main_facts: str
    issues: str
    responsibilities: str
    oral_content: str
    performance_method: str
    copies: int
    verification_code: str | None
    content_hash: str
    issued_on: date | None
    effective_on: date | None
    supplements: int | None
    amended_clauses: str
    reached_on: date | None
    recorded_by: int | None
    version: int
    confirmation_reminded_on: date | None
    parties_snapshot: str
    case_number: str
    case_region_path: str
    case_status: str
    supplements_number: str | None
    supplements_effective_on: date | None
    supplements_issued_on: date | None
    recorded_by_name: str | None
    clauses: list[ClauseRow]
    signatures: list[SignatureRow]
    parties: list[PartySnapshot]
    missing_signatures: list[str]
    confirmation_until: date | None  # None until it takes effect
    confirmation_days_left: int | None
    overdue_clauses: list[ClauseRow]


_JOINED = {
    "case.number": "case_number",
    "case.region_path": "case_region_path",
    "case.status": "case_status",
    "supplements.number": "supplements_number",
    "supplements.effective_on": "supplements_effective_on",
    "supplements.issued_on": "supplements_issued_on",
    "recorded_by.display_name": "recorded_by_name",
}


async def agreement_for(user: CurrentUser, agreement_id: int) -> AgreementRecord | None:
    row = (
        await Agreement.select(
            *Agreement.all_columns(),
            Agreement.case.number,
            Agreement.case.region_path,
            Agreement.case.status,
            Agreement.supplements.number,
            Agreement.supplements.effective_on,
            Agreement.supplements.issued_on,
            Agreement.recorded_by.display_name,
        )
        .where(Agreement.id == agreement_id)
        .first()
    )
    if row is None or not await case_entitled(user, row["case"]):
        return None
    clauses = [
        ClauseRow(**c, due=performance_due(c["deadline"]) if c["deadline"] else None)
        for c in await AgreementClause.select()
        .where(AgreementClause.agreement == agreement_id)
        .order_by(AgreementClause.seq)
    ]
    signatures = [
        SignatureRow(**s)
        for s in await Signature.select()
        .where(Signature.agreement == agreement_id)
        .order_by(Signature.id)
    ]
    if row["parties_snapshot"]:
        # Issued: the parties as printed then, whatever has been corrected on the case since.
        parties = [_snapshot(p) for p in thaw_parties(row["parties_snapshot"])]
    else:
        parties = [
            _snapshot(p)
            for p in await Party.select(*_SNAPSHOT_COLUMNS)
            .where(Party.case == row["case"])
            .order_by(Party.id)
        ]
    until = confirmation_until(row["effective_on"]) if row["effective_on"] else None
    return AgreementRecord(
        **fields_of(row, _JOINED),
        clauses=clauses,
        signatures=signatures,
        parties=parties,
        missing_signatures=missing_signatures(
            row["kind"], parties, [(s.role, s.signatory) for s in signatures]
        ),
        confirmation_until=until,
        confirmation_days_left=None if until is None else (until - today()).days,
        overdue_clauses=[c for c in clauses if c.due and not c.done_on and c.due < today()],
    )


async def _editable(user: CurrentUser, agreement_id: int) -> AgreementRecord:
    agreement = await agreement_for(user, agreement_id)
    if agreement is None:
        raise CaseError(_("This agreement does not exist."))
    await _require_handler(user, agreement.case, agreement.case_region_path)
    if agreement.status != "draft":
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
    *,
    amended_clauses: str = "",
    reached_on: date | None = None,
) -> None:
    agreement = await _editable(user, agreement_id)
    party_count = len(agreement.parties)
    if reached_on is not None and reached_on > today():
        raise CaseError(_("The date cannot be in the future."), "reached_on")
    if agreement.kind == "written" and copies < party_count + 1:
        raise CaseError(
            _(
                "Print at least one copy per party and one for the committee (%(n)s).",
                n=party_count + 1,
            ),
            "copies",
        )
    texts = {
        "main_facts": (main_facts.strip(), 10000),
        "issues": (issues.strip(), 5000),
        "responsibilities": (responsibilities.strip(), 5000),
        "performance_method": (performance_method.strip(), 2000),
        "oral_content": (oral_content.strip(), 10000),
    }
    for field, (text, limit) in texts.items():
        if message := too_long(text, limit):
            raise CaseError(message, field)
    async with write_transaction():
        await Agreement.update(
            {
                Agreement.main_facts: texts["main_facts"][0],
                Agreement.issues: texts["issues"][0],
                Agreement.responsibilities: texts["responsibilities"][0],
                Agreement.performance_method: texts["performance_method"][0],
                Agreement.oral_content: texts["oral_content"][0],
                Agreement.copies: copies,
                Agreement.amended_clauses: amended_clauses.strip()[:200],
                Agreement.reached_on: reached_on or agreement.reached_on,
                Agreement.version: agreement.version + 1,
            }
        ).where(Agreement.id == agreement_id)
        await AgreementClause.delete().where(AgreementClause.agreement == agreement_id)
        for seq, clause in enumerate(clauses, start=1):
            await AgreementClause(
                agreement=agreement_id,
                seq=seq,
                obligor=clause.obligor,
                obligee=clause.obligee,
                obligation=clause.obligation,
                amount=clause.amount,
                method=clause.method,
                place=clause.place,
                deadline=clause.deadline,
            ).save()


def canonical_content(agreement: AgreementRecord) -> str:
    """The agreement's content in one fixed form: what the hash on the printout stands for."""

    def amount(value: Decimal | None) -> str | None:
        return None if value is None else f"{Decimal(value):.2f}"

    content: dict[str, Any] = {
        "number": agreement.number,
        "committee": agreement.committee,
        "kind": agreement.kind,
        "parties": [[p.role, p.name] for p in agreement.parties],
        "main_facts": agreement.main_facts,
        "issues": agreement.issues,
        "responsibilities": agreement.responsibilities,
        "oral_content": agreement.oral_content,
        "copies": agreement.copies,
        "clauses": [
            [
                c.seq,
                c.obligor,
                c.obligation,
                amount(c.amount),
                c.method,
                c.place,
                c.deadline.isoformat() if c.deadline else None,
                *([c.obligee] if c.obligee else []),
            ]
            for c in agreement.clauses
        ],
    }
    if agreement.amended_clauses:
        content["amended_clauses"] = agreement.amended_clauses
    if agreement.kind == "oral" and agreement.reached_on:
        content["reached_on"] = agreement.reached_on.isoformat()
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def content_hash(agreement: AgreementRecord) -> str:
    return hashlib.sha256(canonical_content(agreement).encode("utf-8")).hexdigest()


def _verification_code() -> str:
    raw = random_text(8)  # no 0/O, 1/I: read aloud without doubt
    return f"{raw[:4]}-{raw[4:]}"


async def next_document_number(key: str) -> int:
    """The next number of a series (agreements, termination notices) per committee and year;
    bumped atomically, so two at once never share a number."""
    rows = await AgreementCounter.raw(
        "INSERT INTO agreement_counter (key, last_number) VALUES ({}, 1) "
        "ON CONFLICT (key) DO UPDATE SET last_number = agreement_counter.last_number + 1 "
        "RETURNING last_number",
        key[:64],
    )
    last: int = rows[0]["last_number"]
    return last


async def issue_agreement(user: CurrentUser, agreement_id: int) -> str:
    """Give the agreement its number (per committee and year) and freeze its content.

    A written agreement then waits for its signatures and the seal. An oral agreement takes
    effect on the day it was reached (Art. 30): recording it is issuing it.
    """
    agreement = await _editable(user, agreement_id)
    # A draft left over when mediation was terminated (or the case closed) stays a draft.
    if refused := workflow.agreement_refused(agreement.case_status):
        raise CaseError(refused)
    oral = agreement.kind == "oral"
    if not oral and not agreement.clauses:
        raise CaseError(_("Add at least one clause before issuing."), "clauses")
    if oral and not agreement.oral_content:
        raise CaseError(_("Record what was agreed orally."), "oral_content")
    year = today().year
    key = f"{agreement.committee_short}-{year}"
    async with write_transaction():
        serial = await next_document_number(key)
        number = f"（{year}）{agreement.committee_short}调字第{serial}号"
        agreement = replace(agreement, number=number)
        if oral:
            # The date reached is part of what the hash stands for: fix it before hashing.
            agreement = replace(agreement, reached_on=agreement.reached_on or today())
        digest = content_hash(agreement)
        values: dict[Column | str, Any] = {
            Agreement.number: number,
            Agreement.status: "issued",
            Agreement.issued_on: today(),
            Agreement.verification_code: _verification_code(),
            Agreement.content_hash: digest,
            Agreement.parties_snapshot: freeze_parties(agreement.parties),
        }
        effective_on = None
        if oral:
            effective_on = agreement.reached_on or today()
            values.update(
                {
                    Agreement.status: "effective",
                    Agreement.effective_on: effective_on,
                    Agreement.reached_on: effective_on,
                }
            )
        updated = (
            await Agreement.update(values)
            .where(Agreement.id == agreement_id, Agreement.status == "draft")
            .returning(Agreement.id)
        )
        if not updated:
            raise CaseError(_("This agreement was issued a moment ago by someone else."))
        await record_event(
            agreement.case, user, "agreement_issued", changes={"number": [None, number]}
        )
        if effective_on is not None:
            await record_event(
                agreement.case,
                user,
                "agreement_effective",
                changes={"effective_on": [None, effective_on.isoformat()]},
            )
    if effective_on is not None:
        await _case_follows_agreement(user, agreement, effective_on)
    return number


def missing_signatures(
    kind: str, parties: Sequence[PartySnapshot], signatures: Iterable[tuple[str, str]]
) -> list[str]:
    """Who still has to sign: every party, a mediator, and the committee's seal (Arts. 29–30).
    ``signatures`` are the (role, signatory) pairs recorded.

    An oral agreement has no signatures to wait for: it is in effect once recorded.
    """
    if kind == "oral":
        return []
    signed = set(signatures)
    missing = [p.name for p in parties if ("party", p.name) not in signed]
    if not any(role == "mediator" for role, _name in signed):
        missing.append(str(SIGNATORY_ROLES["mediator"]))
    if not any(role == "seal" for role, _name in signed):
        missing.append(str(SIGNATORY_ROLES["seal"]))
    return missing


async def _case_follows_agreement(
    user: CurrentUser, agreement: AgreementRecord, effective_on: date
) -> None:
    """An agreement in effect settles a case in mediation and starts its performance, so
    nobody has to tap through "settled" and "performing" by hand."""
    from mediation.cases.services import transition_case

    status = await Case.select(Case.status).where(Case.id == agreement.case).first()
    if status is None or status["status"] != "mediating":
        return
    note = _("Agreement %(number)s took effect.", number=agreement.number)
    try:
        await transition_case(
            user, agreement.case, "settle", {"agreement_form": agreement.kind}, note=note
        )
        await transition_case(user, agreement.case, "start_performance", {}, note=note)
    except CaseError:
        # Another agreement of the same case moved it at the same moment: it has followed.
        return


async def record_signature(
    user: CurrentUser, agreement_id: int, signatory: str, role: str, signed_on: date
) -> bool:
    """Record one signature; returns True when this one made the agreement take effect."""
    agreement = await agreement_for(user, agreement_id)
    if agreement is None:
        raise CaseError(_("This agreement does not exist."))
    await _require_handler(user, agreement.case, agreement.case_region_path)
    if agreement.status != "issued":
        raise CaseError(_("Only an issued agreement awaiting signatures can be signed."))
    if role not in SIGNATORY_ROLES:
        raise CaseError(_("Choose from the list."), "role")
    if role == "party" and signatory not in {p.name for p in agreement.parties}:
        raise CaseError(_("Choose from the list."), "signatory")
    if signed_on > today() or (agreement.issued_on and signed_on < agreement.issued_on):
        raise CaseError(_("The date must lie between issue and today."), "signed_on")
    if role == "party" and any(
        s.role == "party" and s.signatory == signatory for s in agreement.signatures
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
            agreement.case,
            user,
            "agreement_signed",
            changes={"signatory": [None, signatory or str(SIGNATORY_ROLES[role])]},
        )
        signed = [(s.role, s.signatory, s.signed_on) for s in agreement.signatures]
        signed.append((role, signatory or str(SIGNATORY_ROLES[role]), signed_on))
        if missing_signatures(agreement.kind, agreement.parties, [s[:2] for s in signed]):
            return False
        effective_on = max(s[2] for s in signed)
        await Agreement.update(
            {Agreement.status: "effective", Agreement.effective_on: effective_on}
        ).where(Agreement.id == agreement_id)
        await record_event(
            agreement.case,
            user,
            "agreement_effective",
            changes={"effective_on": [None, effective_on.isoformat()]},
        )
    await _case_follows_agreement(user, agreement, effective_on)
    mediators = await CaseMediator.select(CaseMediator.mediator.staff).where(
        CaseMediator.case == agreement.case, CaseMediator.active.eq(True)
    )
    await notify(
        [m["mediator.staff"] for m in mediators] + [user.id],
        agreement.case,
        "confirmation_window",
        _(
            "Agreement %(number)s is in effect. The parties may jointly apply for judicial "
            "confirmation until %(until)s.",
            number=agreement.number,
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
    if agreement.status != "effective":
        raise CaseError(_("Performance is tracked once the agreement is in effect."))
    clause = next((c for c in agreement.clauses if c.id == clause_id), None)
    if clause is None:
        raise CaseError(_("This clause does not exist."))
    if done_on > today():
        raise CaseError(_("The date cannot be in the future."), "done_on")
    await AgreementClause.update({AgreementClause.done_on: done_on}).where(
        AgreementClause.id == clause_id, AgreementClause.agreement == agreement_id
    )
    await record_event(
        agreement.case,
        user,
        "clause_performed",
        changes={"clause": [None, f"{agreement.number} #{clause.seq}"]},
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


async def _people_of_cases(grid_of_case: dict[int, int]) -> dict[int, list[int]]:
    """Each case's active mediators and its grid team: who must hear about its agreements.
    Two queries (per chunk) for all the cases."""
    from mediation.cases.deadline_sweep import _chunk_size, _chunks

    people: dict[int, set[int]] = {case_id: set() for case_id in grid_of_case}
    for part in _chunks(sorted(grid_of_case), _chunk_size()):
        for m in await CaseMediator.select(CaseMediator.case, CaseMediator.mediator.staff).where(
            CaseMediator.case.is_in(list(part)), CaseMediator.active.eq(True)
        ):
            people[m["case"]].add(m["mediator.staff"])
    team: dict[int, set[int]] = {}
    for part in _chunks(sorted(set(grid_of_case.values())), _chunk_size()):
        for t in await TeamMember.select(TeamMember.grid, TeamMember.staff).where(
            TeamMember.grid.is_in(list(part))
        ):
            team.setdefault(t["grid"], set()).add(t["staff"])
    return {
        case_id: sorted(people[case_id] | team.get(grid, set()))
        for case_id, grid in grid_of_case.items()
    }


async def _claim(column, ids: list[int], on: date) -> set[int]:
    """Set ``column`` (a report's date) to ``on`` where it is still empty; the ids claimed.
    A conditional update: two sweeps at once never both claim one report."""
    table = column._meta.table
    rows = (
        await table.update({column: on})
        .where(table._meta.primary_key.is_in(ids), column.is_null())
        .returning(table._meta.primary_key)
    )
    return {r["id"] for r in rows}


async def sweep_agreements(on: date | None = None) -> AgreementSweepReport:
    """Report overdue clauses and the closing judicial-confirmation window, once each.

    Each report is claimed by a conditional update (``... WHERE reported IS NULL``), so two
    sweeps at once, or one run twice, never notify twice. Set-based: one read per kind of
    report, then per chunk one claiming UPDATE, one INSERT of the timeline events, two reads
    of who is told and one INSERT of the notifications.
    """
    from mediation.cases.deadline_sweep import _chunk_size, _chunks, _record
    from mediation.cases.events import notify_many

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
        AgreementClause.agreement._.case._.grid,
    ).where(
        AgreementClause.done_on.is_null(),
        AgreementClause.overdue_notified_on.is_null(),
        AgreementClause.deadline < on,
        AgreementClause.agreement.status == "effective",
        AgreementClause.agreement._.case._.status.is_in(list(PERFORMING_STATUSES)),
    )
    # A clause whose last day was a holiday is still within time (Art. 85).
    late = sorted((c for c in late if performance_due(c["deadline"]) < on), key=lambda c: c["id"])
    for part in _chunks(late, _chunk_size()):
        async with write_transaction():
            claimed = await _claim(AgreementClause.overdue_notified_on, [c["id"] for c in part], on)
            clauses = [c for c in part if c["id"] in claimed]
            if not clauses:
                continue
            labels = {c["id"]: f"{c['agreement.number']} #{c['seq']}" for c in clauses}
            await _record(
                [
                    (
                        c["agreement.case"],
                        "clause_overdue",
                        "",
                        "",
                        {
                            "clause": [None, labels[c["id"]]],
                            "due": [None, c["deadline"].isoformat()],
                        },
                        c["obligor"],
                    )
                    for c in clauses
                ]
            )
            people = await _people_of_cases(
                {c["agreement.case"]: c["agreement.case.grid"] for c in clauses}
            )
            await notify_many(
                (
                    people[c["agreement.case"]],
                    c["agreement.case"],
                    "clause_overdue",
                    _(
                        "Clause %(clause)s (%(obligor)s) was due on %(due)s and is not recorded "
                        "as performed.",
                        clause=labels[c["id"]],
                        obligor=c["obligor"],
                        due=format_date(c["deadline"], "long"),
                    ),
                )
                for c in clauses
            )
        report.clauses_overdue += len(clauses)

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
    until_of: dict[int, date] = {}
    for agreement in closing:
        until = confirmation_until(agreement["effective_on"])
        if on <= until <= on + timedelta(days=CONFIRMATION_REMINDER_DAYS):
            until_of[agreement["id"]] = until
    closing = sorted((a for a in closing if a["id"] in until_of), key=lambda a: a["id"])
    for part in _chunks(closing, _chunk_size()):
        async with write_transaction():
            claimed = await _claim(Agreement.confirmation_reminded_on, [a["id"] for a in part], on)
            agreements = [a for a in part if a["id"] in claimed]
            if not agreements:
                continue
            await _record(
                [
                    (
                        a["case"],
                        "confirmation_reminder",
                        "",
                        "",
                        {"until": [None, until_of[a["id"]].isoformat()]},
                        a["number"],
                    )
                    for a in agreements
                ]
            )
            people = await _people_of_cases({a["case"]: a["case.grid"] for a in agreements})
            await notify_many(
                (
                    people[a["case"]],
                    a["case"],
                    "confirmation_window",
                    ngettext(
                        "The parties to agreement %(number)s may jointly apply to the court for "
                        "judicial confirmation until %(until)s (%(num)s day left).",
                        "The parties to agreement %(number)s may jointly apply to the court for "
                        "judicial confirmation until %(until)s (%(num)s days left).",
                        (until_of[a["id"]] - on).days,
                        number=a["number"],
                        until=format_date(until_of[a["id"]], "long"),
                    ),
                )
                for a in agreements
            )
        report.confirmation_reminders += len(agreements)
    return report


@dataclass(frozen=True, slots=True)
class AgreementSummary:
    """An agreement of a case as the case's page lists it."""

    id: int
    number: str | None  # None while a draft
    kind: str
    status: str
    effective_on: date | None
    supplements: int | None


_AGREEMENTS_OF_CASE = PreparedSelect(
    lambda case_id: (
        Agreement.select(
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
)


async def agreements_of_case(case_id: int) -> list[AgreementSummary]:
    rows = await _AGREEMENTS_OF_CASE(case_id)
    return [AgreementSummary(**r) for r in rows]


@dataclass(frozen=True, slots=True)
class Verification:
    """What anyone holding the verification code may see of an agreement."""

    number: str | None
    status: str
    effective_on: date | None
    content_hash: str
    issued_on: date | None


async def public_verification(code: str) -> Verification | None:
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
    return None if row is None else Verification(**row)


ROLE_NAMES_ZH = {"applicant": "申请人", "respondent": "被申请人", "third_party": "第三人"}


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in (text or "").splitlines() if p.strip()]


@dataclass(frozen=True, slots=True)
class PrintedClause:
    """A numbered clause of a printed agreement: free ``text``, or an obligation."""

    text: str = ""
    obligor: str = ""
    obligee: str = ""
    obligation: str = ""
    amount: Decimal | None = None
    method: str = ""
    place: str = ""
    deadline: date | None = None


def print_clause(c: ClauseRow | ClauseInput) -> PrintedClause:
    """A clause as the printed agreement reads it: a stored one, or one on the draft form."""
    return PrintedClause(
        obligor=c.obligor,
        obligee=c.obligee,
        obligation=c.obligation,
        amount=c.amount,
        method=c.method,
        place=c.place,
        deadline=c.deadline,
    )


@dataclass(frozen=True, slots=True)
class PrintedSignature:
    role: str
    role_label: str
    signatory: str
    signed_on: date


@dataclass(frozen=True, slots=True)
class SupplementedAgreement:
    """The agreement a supplementary agreement changes, as the supplement cites it."""

    number: str | None
    date: date | None
    amended_clauses: str


@dataclass(frozen=True, slots=True)
class PrintedVerification:
    """The verification block: the code, the public URL in the QR code, the content hash."""

    code: str
    url: str
    digest: str


@dataclass(frozen=True, slots=True)
class PrintedAgreement:
    """An agreement as templates/documents/agreement.html prints it (its header comment
    describes each field); also a part of the case file."""

    id: int
    kind: str
    status: str
    committee: str
    number: str
    parties: tuple[PrintedParty, ...]
    facts: tuple[str, ...]
    disputes: tuple[str, ...]
    responsibilities: tuple[str, ...]
    clauses: tuple[PrintedClause, ...]
    mediators: tuple[str, ...]
    recorder: str
    copies: int
    signed_on: date | None
    reached_on: date | None
    signatures: tuple[PrintedSignature, ...]
    title: str = ""  # empty: the template's "People's Mediation Agreement"
    original: SupplementedAgreement | None = None
    verification: PrintedVerification | None = None
    party_copy: bool = False  # a party's own copy (/my-case): says so, beside the verification


@dataclass(frozen=True, slots=True)
class AgreementPrint:
    """The context of templates/documents/agreement.html."""

    agreement: PrintedAgreement


async def print_context(
    user: CurrentUser,
    agreement_id: int,
    base_url: str,
    full_ids: bool = True,
    unsaved: dict | None = None,
) -> AgreementPrint:
    """The context for templates/documents/agreement.html, from the stored agreement.

    ``unsaved``: the draft form's current values (text fields, ``copies``, ``reached_on`` and
    parsed ``clauses``), so that a preview shows what is on screen rather than the last save;
    ignored once the agreement is issued (its text is fixed then).

    Printing ID numbers and phones in full is a reveal: only for someone entitled to the case
    who may reveal (anyone else gets them masked), and recorded on the case like a reveal."""
    agreement = await agreement_for(user, agreement_id)
    if agreement is None:
        raise CaseError(_("This agreement does not exist."))
    clause_rows: Sequence[ClauseRow | ClauseInput] = agreement.clauses
    if unsaved and agreement.status == "draft":
        unsaved = dict(unsaved)
        clause_rows = unsaved.pop("clauses", clause_rows)
        agreement = replace(agreement, **unsaved)
    full_ids = full_ids and may_reveal(user)
    id_numbers: dict[int, str] = {}
    if full_ids:
        rows = await Party.select(Party.id, Party.id_number_encrypted).where(
            Party.case == agreement.case
        )
        id_numbers = {r["id"]: crypto.decrypt(r["id_number_encrypted"]) for r in rows}
    mediators = await CaseMediator.select(CaseMediator.mediator._.staff._.display_name).where(
        CaseMediator.case == agreement.case, CaseMediator.active.eq(True)
    )
    parties = []
    for p in agreement.parties:
        party = print_party(
            asdict(p),
            ROLE_NAMES_ZH.get(p.role, p.role),
            id_numbers.get(p.id or 0) or p.id_number_masked or "",
        )
        parties.append(party if full_ids else replace(party, phone=mask_phone(p.phone or "")))
    oral = agreement.kind == "oral"
    clauses = [print_clause(c) for c in clause_rows]
    if oral:
        clauses = [PrintedClause(text=t) for t in _paragraphs(agreement.oral_content)]
    clauses += [PrintedClause(text=t) for t in _paragraphs(agreement.performance_method)]
    title = ""
    original = None
    if oral:
        title = _("Record of an oral mediation agreement")
    elif agreement.supplements:
        title = _("Supplementary people's mediation agreement")
        original = SupplementedAgreement(
            number=agreement.supplements_number,
            date=agreement.supplements_effective_on or agreement.supplements_issued_on,
            amended_clauses=agreement.amended_clauses,
        )
    verification = None
    if agreement.verification_code:
        verification = PrintedVerification(
            code=agreement.verification_code,
            url=f"{base_url.rstrip('/')}/verify/{agreement.verification_code}",
            digest=agreement.content_hash,
        )
    printed = PrintedAgreement(
        id=agreement.id,
        kind=agreement.kind,
        status=agreement.status,
        committee=agreement.committee,
        number=agreement.number or _("(draft, not yet issued)"),
        parties=tuple(parties),
        facts=tuple(_paragraphs(agreement.main_facts)),
        disputes=tuple(_paragraphs(agreement.issues)),
        responsibilities=tuple(_paragraphs(agreement.responsibilities)),
        clauses=tuple(clauses),
        mediators=tuple(m["mediator.staff.display_name"] for m in mediators) or ("",),
        recorder=agreement.recorded_by_name or "",
        copies=agreement.copies,
        signed_on=agreement.effective_on,
        reached_on=agreement.reached_on,
        signatures=tuple(
            PrintedSignature(
                role=s.role,
                role_label=str(SIGNATORY_ROLES.get(s.role, s.role)),
                signatory=s.signatory,
                signed_on=s.signed_on,
            )
            for s in agreement.signatures
        ),
        title=title,
        original=original,
        verification=verification,
    )
    if full_ids:
        await record_event(
            agreement.case,
            user,
            "revealed",
            changes={
                "document": [None, "agreement"],
                "agreement": [None, agreement.number or agreement_id],
            },
            note=_("Printed with full ID numbers and phone numbers"),
        )
    return AgreementPrint(printed)


async def update_party(user: CurrentUser, case_id: int, party_id: int, values: dict) -> None:
    """Complete or correct a party's basic information (Art. 29(1)); recorded on the timeline
    by field name, so the timeline never repeats personal data."""
    case = await case_for(user, case_id)
    if case is None:
        raise CaseError(_("This case does not exist."))
    await _require_handler(user, case.id, case.region_path)
    party = await Party.select().where(Party.id == party_id, Party.case == case_id).first()
    if party is None:
        raise CaseError(_("This party does not exist."))
    changed = {k: v for k, v in values.items() if party.get(k) != v}
    if not changed:
        return
    async with write_transaction():
        await Party.update({getattr(Party, k): v for k, v in changed.items()}).where(
            Party.id == party_id
        )
        await record_event(
            case_id,
            user,
            "party_updated",
            changes={"party": [None, party["name"]]},
            note="、".join(str(PARTY_FIELD_LABELS.get(k, k)) for k in changed),
        )


PARTY_FIELD_LABELS = {
    "name": _l("Name"),
    "address": _l("Address"),
    "gender": _l("Gender"),
    "ethnicity": _l("Ethnicity"),
    "birth_date": _l("Date of birth"),
    "occupation": _l("Occupation or employer"),
    "credit_code": _l("Unified social credit code"),
    "legal_rep": _l("Legal representative (person in charge)"),
    "legal_rep_title": _l("Post"),
    "agent_name": _l("Authorised agent"),
    "agent_relation": _l("Relation to the party, or law firm"),
}
