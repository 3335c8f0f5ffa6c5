"""Demo sessions, minutes, agreements and follow-ups on the demo cases, so every document prints."""

from __future__ import annotations

import random
import re
from datetime import datetime, time, timedelta
from decimal import Decimal

from mediation.accounts.services import load_user
from mediation.cases import agreements, followups, sessions, workflow
from mediation.cases.tables import (
    Agreement,
    Case,
    CaseEvent,
    CaseMediator,
    Party,
    Signature,
)
from mediation.clock import county_zone, local_date, local_today, pinned_at
from mediation.db import bulk_write_transaction
from mediation.grid.tables import Staff

SETTLED = ("settled", "performing", "performed", "breached", "closed")
OPENING = [
    "请双方当事人分别陈述纠纷经过和各自诉求。",
    "今天我们在社区调解室进行调解，请大家心平气和。",
]
CLOSING = ["经调解，双方同意按今天的方案解决，下面起草协议。", "双方对调解结果无异议。"]


AFTER_SETTLEMENT = ("settled", "performing", "performed", "breached")


async def load_demo_documents(limit: int = 40, seed: int = 2026) -> int:
    """Sessions with minutes for cases that reached mediation; agreements for settled ones.

    The documents follow each case's own timeline: the last session is held the day mediation
    concluded, an agreement exists exactly when the case settled and is of the kind the
    settlement recorded (written or oral), it takes effect that day, clauses are performed on
    the day performance was recorded, and every event these steps write is dated when it
    happened, not when the demo was loaded. Every case still in 达成协议 or later gets its
    agreement; other cases get documents up to ``limit``.
    """
    if await Agreement.exists():
        return 0
    rng = random.Random(seed)
    county_staff = await Staff.select(Staff.id).where(Staff.username == "centre2").first()
    assert county_staff is not None  # one of the demo county's people
    user = await load_user(county_staff["id"])
    rows = (
        await Case.select(
            Case.id,
            Case.status,
            Case.amount,
            Case.summary,
            Case.mediation_started_on,
            Case.closed_on,
            Case.registered_on,
        )
        .where(Case.mediation_started_on.is_not_null())
        .order_by(Case.id)
    )
    must = [r for r in rows if r["status"] in AFTER_SETTLEMENT]
    others = [r for r in rows if r["status"] not in AFTER_SETTLEMENT][:limit]
    made = 0
    # One transaction, as the cases are loaded: on SQLite each read outside one opens a
    # connection (and a thread) of its own, and the documents read thousands of times.
    async with bulk_write_transaction():
        for case in must + others:
            if await _documents_for(case, user, rng):
                made += 1
    return made


async def _timeline(case_id: int) -> dict[str, dict]:
    """The latest event of each kind that decides what the documents must say."""
    events = (
        await CaseEvent.select(CaseEvent.action, CaseEvent.at, CaseEvent.changes, CaseEvent.note)
        .where(
            CaseEvent.case == case_id,
            CaseEvent.action.is_in(
                ["settle", "terminate", "record_performed", "record_breach", "close"]
            ),
        )
        .order_by(CaseEvent.id)
        .output(load_json=True)
    )
    return {e["action"]: e for e in events}


async def _dated(case_id: int, mark: int, when: datetime) -> int:
    """Date the events written since ``mark`` to when they happened; returns the new mark."""
    await CaseEvent.update({CaseEvent.at: when}).where(
        CaseEvent.case == case_id, CaseEvent.id > mark
    )
    return await _last_event_id()


async def _last_event_id() -> int:
    row = await CaseEvent.select(CaseEvent.id).order_by(CaseEvent.id, ascending=False).first()
    return row["id"] if row else 0


_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)元")


_WITHOUT_SUM = re.compile(r"(人民币)?\s*[0-9][0-9,，.]*\s*元")


def _terms(note: str, summary: str) -> tuple[str, Decimal | None]:
    """The agreed terms of a settle note (「达成书面调解协议：…」) and the money in them."""
    terms = note.split("：", 1)[1].strip() if "：" in note else note.strip()
    terms = terms or f"双方就{summary}达成一致。"
    amounts = [Decimal(a) for a in _AMOUNT.findall(terms)]
    return terms, (sum(amounts, Decimal(0)) if amounts else None)


def _at(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), county_zone())


async def _documents_for(case: dict, user, rng: random.Random) -> bool:
    mediators = await CaseMediator.select(
        CaseMediator.mediator, CaseMediator.mediator._.staff._.display_name
    ).where(CaseMediator.case == case["id"])
    parties = await Party.select(Party.name, Party.role).where(Party.case == case["id"])
    if not mediators or len(parties) < 2:
        return False
    timeline = await _timeline(case["id"])
    today = local_today()
    settle, terminate = timeline.get("settle"), timeline.get("terminate")
    # An agreement exists exactly when the timeline records one, even if a breach later led
    # to re-mediation and termination.
    settled = settle is not None
    if settle is not None:
        day = local_date(settle["at"])  # the session at which the parties agreed
    elif terminate is not None:
        day = local_date(terminate["at"])
    else:
        day = min(case["mediation_started_on"] + timedelta(days=rng.randint(1, 6)), today)
    mediator_name = mediators[0]["mediator.staff.display_name"]
    starts = _at(day, 9 + rng.randint(0, 5), 30)
    mark = await _last_event_id()
    session_id, _conflicts = await sessions.schedule_session(
        user,
        case["id"],
        starts,
        90,
        f"调解室{rng.randint(1, 3)}",
        "in_person",
        mediators[0]["mediator"],
    )
    await sessions.add_participant(user, session_id, mediator_name, "mediator")
    for p in parties:
        await sessions.add_participant(user, session_id, p["name"], "party")
    await sessions.add_minute(user, session_id, mediator_name, rng.choice(OPENING))
    for p in parties:
        await sessions.add_minute(
            user, session_id, p["name"], f"我方认为：{case['summary']}，希望尽快解决。"
        )
    if settled:
        closing, outcome, next_date = rng.choice(CLOSING), "agreement", None
    elif terminate is not None:
        closing, outcome, next_date = "双方分歧较大，调解未能达成一致。", "failed", None
    else:
        closing, outcome, next_date = "双方分歧较大，择期再调。", "adjourned", day + timedelta(7)
    await sessions.add_minute(user, session_id, mediator_name, closing)
    # The sitting ends 90 minutes after it starts (the demo's "now" is then).
    ends = starts + timedelta(minutes=90)
    with pinned_at(ends):
        await sessions.close_session(user, session_id, outcome, next_date)
    mark = await _dated(case["id"], mark, starts)
    if settle is None:
        return True

    kind = ((settle["changes"] or {}).get("agreement_form") or [None, "written"])[1]
    # The agreement is written as it was at the session where the parties agreed: a case closed
    # or terminated since then stood at 达成协议 that day, and takes its status back after.
    later_status = case["status"] if workflow.agreement_refused(case["status"]) else None
    if later_status:
        await Case.update({Case.status: "settled"}).where(Case.id == case["id"])
    agreement_id = await agreements.create_agreement(user, case["id"], kind)
    # What the timeline says was agreed is what the agreement says: the same terms, the same
    # amount, the same kind.
    terms, amount = _terms(settle.get("note") or "", case["summary"])
    # The clause is owed by the party the terms start with; terms that name several parties'
    # duties are owed by both sides.
    obligor = next((p["name"] for p in parties if terms.startswith(p["name"])), "双方当事人")
    if kind == "oral":
        await agreements.update_draft(
            user, agreement_id, f"{case['summary']}。", "", "", "", terms, len(parties) + 1, []
        )
    else:
        await agreements.update_draft(
            user,
            agreement_id,
            f"{case['summary']}。经调解员多次沟通，双方达成一致。",
            "赔偿（返还）数额及履行方式。",
            "双方对纠纷的发生均有一定责任。",
            "",
            "",
            len(parties) + 1,
            [
                agreements.ClauseInput(
                    obligor,
                    # The amount field prints the sum: the wording must not repeat it.
                    _WITHOUT_SUM.sub("", terms.removeprefix(obligor)).rstrip("，,。") or terms,
                    amount,
                    "银行转账" if amount else "",
                    "平湖市" if amount else "",
                    day + timedelta(days=15) if amount else None,
                )
            ],
        )
    await agreements.issue_agreement(user, agreement_id)
    if kind != "oral":  # an oral agreement is in effect once recorded: nothing to sign
        for p in parties:
            await agreements.record_signature(user, agreement_id, p["name"], "party", today)
        await agreements.record_signature(user, agreement_id, mediator_name, "mediator", today)
        await agreements.record_signature(user, agreement_id, "", "seal", today)
    if later_status:
        await Case.update({Case.status: later_status}).where(Case.id == case["id"])
    # Issued and signed at the session where the parties agreed, the day the case settled.
    await Agreement.update(
        {
            Agreement.issued_on: day,
            Agreement.effective_on: day,
            Agreement.reached_on: day if kind == "oral" else None,
        }
    ).where(Agreement.id == agreement_id)
    await Signature.update({Signature.signed_on: day}).where(Signature.agreement == agreement_id)
    # The content printed on the agreement now carries the back-dated day (an oral agreement's
    # date reached): its hash must stand for that content, or /verify and restore disagree.
    issued = await agreements.agreement_for(user, agreement_id)
    assert issued is not None  # created above
    await Agreement.update({Agreement.content_hash: agreements.content_hash(issued)}).where(
        Agreement.id == agreement_id
    )
    await CaseEvent.update({CaseEvent.changes: {"effective_on": [None, day.isoformat()]}}).where(
        CaseEvent.case == case["id"],
        CaseEvent.id > mark,
        CaseEvent.action == "agreement_effective",
    )
    mark = await _dated(case["id"], mark, ends)

    performed = timeline.get("record_performed")
    if performed is not None and case["status"] in ("performed", "closed"):
        done_on = local_date(performed["at"])
        row = await agreements.agreement_for(user, agreement_id)
        assert row is not None  # created above
        for clause in row.clauses:
            await agreements.mark_clause_done(user, agreement_id, clause.id, done_on)
        mark = await _dated(case["id"], mark, performed["at"])
        closed = timeline.get("close")
        visited_on = case["closed_on"] or done_on
        await followups.record_follow_up(
            user, case["id"], visited_on, "performed", "satisfied", "回访时双方表示协议已履行。"
        )
        visit_at = closed["at"] - timedelta(hours=1) if closed else _at(visited_on, 15)
        mark = await _dated(case["id"], mark, visit_at)
    return True
