"""Demo sessions, minutes, agreements and follow-ups on the demo cases, so every document prints."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from mediation.accounts.services import load_user
from mediation.cases import agreements, followups, sessions
from mediation.cases.tables import Agreement, Case, CaseMediator, Party, Signature
from mediation.clock import county_zone, local_today
from mediation.grid.tables import Staff

SETTLED = ("settled", "performing", "performed", "breached", "closed")
OPENING = [
    "请双方当事人分别陈述纠纷经过和各自诉求。",
    "今天我们在社区调解室进行调解，请大家心平气和。",
]
CLOSING = ["经调解，双方同意按今天的方案解决，下面起草协议。", "双方对调解结果无异议。"]


async def load_demo_documents(limit: int = 40, seed: int = 2026) -> int:
    """Sessions with minutes for cases that reached mediation; agreements for settled ones."""
    if await Agreement.exists():
        return 0
    rng = random.Random(seed)
    county_staff = await Staff.select(Staff.id).where(Staff.username == "centre2").first()
    user = await load_user(county_staff["id"])
    rows = (
        await Case.select(
            Case.id,
            Case.status,
            Case.amount,
            Case.summary,
            Case.mediation_started_on,
            Case.registered_on,
        )
        .where(Case.mediation_started_on.is_not_null())
        .order_by(Case.id)
    )
    made = 0
    for case in rows[:limit]:
        mediators = await CaseMediator.select(
            CaseMediator.mediator, CaseMediator.mediator.staff.display_name
        ).where(CaseMediator.case == case["id"])
        parties = await Party.select(Party.name, Party.role).where(Party.case == case["id"])
        if not mediators or len(parties) < 2:
            continue
        mediator_name = mediators[0]["mediator.staff.display_name"]
        day = case["mediation_started_on"] + timedelta(days=rng.randint(1, 6))
        starts = datetime.combine(day, time(9 + rng.randint(0, 6), 30), county_zone())
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
        settled = case["status"] in SETTLED
        await sessions.add_minute(
            user,
            session_id,
            mediator_name,
            rng.choice(CLOSING) if settled else "双方分歧较大，择期再调。",
        )
        await sessions.close_session(
            user,
            session_id,
            "agreement" if settled else "adjourned",
            None if settled else day + timedelta(days=7),
        )
        made += 1
        if not settled:
            continue
        agreement_id = await agreements.create_agreement(user, case["id"], "written")
        amount = case["amount"] or Decimal(rng.choice([800, 1500, 3000, 6000, 12000]))
        obligor = next(
            (p["name"] for p in parties if p["role"] == "respondent"), parties[-1]["name"]
        )
        obligee = next((p["name"] for p in parties if p["role"] == "applicant"), parties[0]["name"])
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
                    f"向{obligee}支付",
                    amount,
                    "银行转账",
                    "平湖市",
                    day + timedelta(days=15),
                ),
                agreements.ClauseInput(obligee, "不再就本纠纷提出其他主张"),
            ],
        )
        await agreements.issue_agreement(user, agreement_id)
        today = local_today()
        for p in parties:
            await agreements.record_signature(user, agreement_id, p["name"], "party", today)
        await agreements.record_signature(user, agreement_id, mediator_name, "mediator", today)
        await agreements.record_signature(user, agreement_id, "", "seal", today)
        # The demo happened in the past: the agreement was issued and signed on the session day.
        signed_on = min(day, today)
        await Agreement.update(
            {Agreement.issued_on: signed_on, Agreement.effective_on: signed_on}
        ).where(Agreement.id == agreement_id)
        await Signature.update({Signature.signed_on: signed_on}).where(
            Signature.agreement == agreement_id
        )
        if case["status"] in ("performed", "closed"):
            row = await agreements.agreement_for(user, agreement_id)
            for clause in row["clauses"]:
                await agreements.mark_clause_done(user, agreement_id, clause["id"], signed_on)
            await followups.record_follow_up(
                user, case["id"], signed_on, "performed", "satisfied", "回访时双方表示协议已履行。"
            )
    return made
