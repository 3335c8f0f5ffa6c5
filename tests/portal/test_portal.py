"""一案一码: each party follows their own case with a code and a secret, and nothing more.

王堃 (the student, applicant) and 李二房东 (the sublessor, respondent) each get a code at
registration; each sees only their own case, never an ID number or a phone, and the other
party's name only once it is printed on an agreement.
"""

from __future__ import annotations

import logging
import re
import subprocess
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from mediation import crypto, i18n
from mediation.cases import agreements, services, sessions
from mediation.cases.tables import (
    Agreement,
    AgreementClause,
    Case,
    CaseEvent,
    CaseMediator,
    MediationSession,
    Notification,
    Party,
)
from mediation.clock import county_zone
from mediation.grid.tables import Mediator, Staff
from mediation.portal import messaging
from mediation.portal.tables import CaseRating, PartyAccess, PartyMessage
from tests.cases.conftest import STUDENT_ID, deposit_case, grid_id, user
from tests.helpers import login, post_form, text_of

pytestmark = pytest.mark.anyio


async def _register(new_key, **overrides) -> int:
    grid1 = await user("grid1")
    return await services.register_case(
        deposit_case(await grid_id(), **overrides), grid1, new_key()
    )


async def _pair(case_id: int, name: str) -> tuple[str, str]:
    row = (
        await PartyAccess.select(PartyAccess.code, PartyAccess.secret_encrypted)
        .where(
            PartyAccess.case == case_id,
            PartyAccess.party.name == name,
            PartyAccess.active.eq(True),
        )
        .first()
    )
    return row["code"], crypto.decrypt(row["secret_encrypted"])


async def _open(client, code: str, secret: str):
    return await post_form(client, "/my-case", {"code": code, "secret": secret})


async def _actions(case_id: int) -> list[str]:
    rows = await CaseEvent.select(CaseEvent.action).where(CaseEvent.case == case_id)
    return [r["action"] for r in rows]


async def test_registration_gives_a_code_to_each_party_with_a_phone(new_key):
    parties = deposit_case(1).parties + [
        services.PartyInput(role="third_party", name="赵邻居", phone="")
    ]
    case_id = await _register(new_key, parties=parties)
    rows = await PartyAccess.select(PartyAccess.party.name, PartyAccess.code).where(
        PartyAccess.case == case_id
    )
    assert sorted(r["party.name"] for r in rows) == ["李二房东", "王堃"]
    assert all(r["code"].startswith("JF-") for r in rows)
    assert len({r["code"] for r in rows}) == 2


async def test_the_code_and_secret_open_that_partys_own_case_and_nothing_personal(client, new_key):
    case_id = await _register(new_key)
    number = (await Case.select(Case.number).where(Case.id == case_id).first())["number"]
    code, secret = await _pair(case_id, "王堃")
    response = await _open(client, code, secret)
    assert response.status_code == 200
    page = text_of(response.text)
    assert number in page
    assert "王堃" in page
    assert "已登记" in page  # status in plain words
    # No ID number or phone of anyone, and not the other party before any agreement.
    for secret_text in (STUDENT_ID, STUDENT_ID[-4:], "13812345678", "13900001111", "1111"):
        assert secret_text not in page
    assert "李二房东" not in page
    assert response.headers["cache-control"] == "no-store"


async def test_a_wrong_secret_or_another_partys_secret_reveals_nothing(client, new_key):
    case_id = await _register(new_key)
    number = (await Case.select(Case.number).where(Case.id == case_id).first())["number"]
    code, secret = await _pair(case_id, "王堃")
    _other_code, other_secret = await _pair(case_id, "李二房东")
    wrong = "000000" if secret != "000000" else "111111"
    for attempt in (wrong, other_secret if other_secret != secret else wrong, ""):
        response = await _open(client, code, attempt)
        assert response.status_code == 403
        assert number not in response.text
        assert "王堃" not in response.text


async def test_a_reissued_secret_ends_the_old_one(client, new_key):
    case_id = await _register(new_key)
    old_code, old_secret = await _pair(case_id, "王堃")
    party_id = (
        await Party.select(Party.id).where(Party.case == case_id, Party.name == "王堃").first()
    )["id"]
    await login(client, "grid1")
    response = await post_form(client, f"/cases/{case_id}/parties/{party_id}/reissue", {})
    assert response.status_code == 303
    new_code, new_secret = await _pair(case_id, "王堃")
    assert new_code != old_code
    assert (await _open(client, old_code, old_secret)).status_code == 403
    assert (await _open(client, new_code, new_secret)).status_code == 200
    assert "party_code_reissued" in await _actions(case_id)


async def test_a_slip_prints_the_code_and_secret_and_is_recorded(client, new_key):
    case_id = await _register(new_key)
    code, secret = await _pair(case_id, "王堃")
    party_id = (
        await Party.select(Party.id).where(Party.case == case_id, Party.name == "王堃").first()
    )["id"]
    await login(client, "grid1")
    for paper, must in (("slip", "您的解纷码"), ("a4", "人民调解受理告知书")):
        response = await client.get(f"/cases/{case_id}/parties/{party_id}/slip.pdf?paper={paper}")
        assert response.status_code == 200
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
        ).stdout.decode()
        compact = "".join(text.split())
        assert must in compact
        assert code in compact and secret in compact
        assert f"/my-case?code={code}" in compact
    assert (await _actions(case_id)).count("party_code_printed") == 2
    # The A4 notice states the parties' rights and duties (Arts 23–24).
    assert "如实陈述纠纷事实" in compact and "选择或者接受人民调解员" in compact


async def test_staff_of_another_community_cannot_print_or_reissue(client, new_key):
    case_id = await _register(new_key)
    party_id = (
        await Party.select(Party.id).where(Party.case == case_id, Party.name == "王堃").first()
    )["id"]
    await login(client, "grid4")
    assert (await client.get(f"/cases/{case_id}/parties/{party_id}/slip.pdf")).status_code == 404
    response = await post_form(client, f"/cases/{case_id}/parties/{party_id}/reissue", {})
    assert response.status_code == 404
    assert (await client.get(f"/cases/{case_id}/parties")).status_code == 404


async def test_wrong_secrets_lock_the_code_and_the_answer_says_when_to_retry(client, new_key):
    case_id = await _register(new_key)
    code, secret = await _pair(case_id, "王堃")
    wrong = "000000" if secret != "000000" else "111111"
    for _ in range(10):
        assert (await _open(client, code, wrong)).status_code == 403
    response = await _open(client, code, secret)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert "王堃" not in response.text


async def _case_with_session(new_key, presiding: bool = False) -> tuple[int, int]:
    """A case in mediation by mediator1, with a session in three days (presided by mediator1
    if ``presiding``)."""
    grid1 = await user("grid1")
    centre1 = await user("centre1")
    mediator1 = await user("mediator1")
    case_id = await _register(new_key)
    await services.transition_case(grid1, case_id, "accept", {})
    # mediator1 on the case directly: earlier tests may have filled every mediator's load.
    mediator = await Mediator.select(Mediator.id).where(Mediator.staff == mediator1.id).first()
    await CaseMediator(case=case_id, mediator=mediator["id"], assigned_by=centre1.id).save()
    await services.transition_case(grid1, case_id, "start_mediation", {})
    when = datetime.now(county_zone()).replace(microsecond=0) + timedelta(days=3)
    session_id, _ = await sessions.schedule_session(
        mediator1,
        case_id,
        when,
        60,
        "东湖社区调解室",
        "in_person",
        mediator["id"] if presiding else None,
    )
    return case_id, session_id


async def test_the_party_sees_the_next_session_and_asks_for_another_date(client, new_key):
    case_id, session_id = await _case_with_session(new_key)
    code, secret = await _pair(case_id, "王堃")
    page = text_of((await _open(client, code, secret)).text)
    assert "东湖社区调解室" in page
    assert "调解中" in page or "正在调解" in page

    base = {"code": code, "secret": secret, "action": "reschedule", "session": str(session_id)}
    response = await post_form(client, "/my-case/act", {**base, "reason": ""})
    assert response.status_code == 422
    assert "请说明需要改期的原因" in response.text
    response = await post_form(client, "/my-case/act", {**base, "reason": "那天要考试，下周都可以"})
    assert response.status_code == 303
    assert "party_reschedule_request" in await _actions(case_id)
    event = (
        await CaseEvent.select(CaseEvent.note)
        .where(CaseEvent.case == case_id, CaseEvent.action == "party_reschedule_request")
        .first()
    )
    assert event["note"] == "那天要考试，下周都可以"


async def _requests_told(case_id: int) -> int:
    return await Notification.count().where(
        Notification.case == case_id, Notification.kind == "party_request"
    )


async def test_a_reschedule_request_is_confirmed_after_a_redirect_and_told_once(client, new_key):
    """Post/Redirect/Get: a Reload fetches the page again and sends nothing; the same form
    sent twice (a double tap, Back and send again) is one request."""
    case_id, session_id = await _case_with_session(new_key)
    code, secret = await _pair(case_id, "王堃")
    form = {
        "code": code,
        "secret": secret,
        "action": "reschedule",
        "session": str(session_id),
        "reason": "那天要考试，下周都可以",
    }
    response = await post_form(client, "/my-case/act", form)
    assert response.status_code == 303
    assert response.headers["location"] == "/my-case"
    assert response.headers["cache-control"] == "no-store"
    told = await _requests_told(case_id)
    assert told >= 1  # the grid team and the session's mediator

    page = await client.get("/my-case")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    text = text_of(page.text)
    assert "您的改期申请已转给调解员，调解员将与您联系。" in text
    assert "东湖社区调解室" in text
    # The page that follows carries the proof for the party's next action.
    assert f'name="secret" value="{secret}"' in page.text

    # Reload: the page again, without the confirmation or the case, and nothing sent.
    again = await client.get("/my-case")
    assert again.status_code == 200
    assert "您的改期申请已转给调解员" not in again.text
    assert "东湖社区调解室" not in again.text
    assert await _requests_told(case_id) == told

    # The same POST again: confirmed again, but the mediator and the team are not told twice.
    replay = await post_form(client, "/my-case/act", form)
    assert replay.status_code == 303
    assert "您的改期申请已转给调解员" in (await client.get("/my-case")).text
    assert await _requests_told(case_id) == told
    assert (await _actions(case_id)).count("party_reschedule_request") == 1

    # Asking in other words is another request.
    other = await post_form(client, "/my-case/act", {**form, "reason": "下周三以后都可以"})
    assert other.status_code == 303
    assert await _requests_told(case_id) == 2 * told


async def test_a_refused_action_stays_on_the_page_with_what_was_typed(client, new_key):
    case_id, _session_id = await _case_with_session(new_key)
    code, secret = await _pair(case_id, "王堃")
    reason = "那天要考试<下周>都可以"
    response = await post_form(
        client,
        "/my-case/act",
        {"code": code, "secret": secret, "action": "reschedule", "session": "0", "reason": reason},
    )
    assert response.status_code == 422
    assert 'id="reschedule-session-error"' in response.text
    assert "那天要考试&lt;下周&gt;都可以" in response.text
    assert await _requests_told(case_id) == 0
    # No confirmation is waiting for the next page.
    assert "您的改期申请已转给调解员" not in (await client.get("/my-case")).text


async def test_the_confirmation_after_a_redirect_reads_in_english(client, new_key):
    case_id, session_id = await _case_with_session(new_key)
    code, secret = await _pair(case_id, "王堃")
    await post_form(client, "/locale", {"locale": "en", "next": "/my-case"})
    response = await post_form(
        client,
        "/my-case/act",
        {
            "code": code,
            "secret": secret,
            "action": "reschedule",
            "session": str(session_id),
            "reason": "I have an exam that day",
        },
    )
    assert response.status_code == 303
    page = text_of((await client.get("/my-case")).text)
    assert "Your request has been passed to the mediator, who will contact you." in page


async def test_a_party_objects_to_a_mediator_as_staff_would_record_it(client, new_key):
    case_id, _session = await _case_with_session(new_key)
    code, secret = await _pair(case_id, "李二房东")
    assignment = (
        await CaseMediator.select(CaseMediator.id)
        .where(CaseMediator.case == case_id, CaseMediator.active.eq(True))
        .first()
    )
    response = await post_form(
        client,
        "/my-case/act",
        {
            "code": code,
            "secret": secret,
            "action": "object",
            "mediator": str(assignment["id"]),
            "reason": "调解员是对方的亲戚",
        },
    )
    assert response.status_code == 303
    assert "您的申请已记录，将另行安排调解员。" in (await client.get("/my-case")).text
    row = await CaseMediator.select().where(CaseMediator.id == assignment["id"]).first()
    assert row["active"] is False and row["ended_reason"] == "调解员是对方的亲戚"
    event = (
        await CaseEvent.select(CaseEvent.changes, CaseEvent.actor)
        .where(CaseEvent.case == case_id, CaseEvent.action == "mediator_objected")
        .output(load_json=True)
        .first()
    )
    assert event["changes"]["party"] == [None, "李二房东"]
    assert event["actor"] is None


async def test_an_objection_is_told_at_once_and_the_case_shows_it_needs_a_mediator(client, new_key):
    """The mediator taken off the case, the grid team (grid1, police1) and the town centre
    (centre1) are told; the session the mediator was to preside stays booked (the parties
    were texted about it) but is marked on the case page, which asks for a new mediator."""
    case_id, session_id = await _case_with_session(new_key, presiding=True)
    number = (await Case.select(Case.number).where(Case.id == case_id).first())["number"]
    code, secret = await _pair(case_id, "李二房东")
    assignment = (
        await CaseMediator.select(CaseMediator.id)
        .where(CaseMediator.case == case_id, CaseMediator.active.eq(True))
        .first()
    )
    response = await post_form(
        client,
        "/my-case/act",
        {
            "code": code,
            "secret": secret,
            "action": "object",
            "mediator": str(assignment["id"]),
            "reason": "调解员与对方是亲戚",
        },
    )
    assert response.status_code == 303

    staff = {
        r["username"]: r["id"]
        for r in await Staff.select(Staff.id, Staff.username).where(
            Staff.username.is_in(["grid1", "police1", "centre1", "mediator1"])
        )
    }
    told = await Notification.select(
        Notification.recipient, Notification.case, Notification.message
    ).where(Notification.kind == "objection", Notification.message.like(f"%{number}%"))
    by_recipient = {r["recipient"]: r for r in told}
    for username in ("grid1", "police1", "centre1"):
        note = by_recipient[staff[username]]
        assert note["case"] == case_id
        assert "需要另行指派调解员" in note["message"] and "李二房东" in note["message"]
        assert "请改派或取消" in note["message"] and "调解员与对方是亲戚" in note["message"]
    # The mediator may no longer open the case: told without a link to it, and shown it.
    assert by_recipient[staff["mediator1"]]["case"] is None
    await login(client, "mediator1")
    inbox = text_of((await client.get("/notifications")).text)
    assert f"您不再承办案件{number}" in inbox

    session = await sessions.session_for(await user("centre1"), session_id)
    assert session.status == "scheduled"  # kept: the parties were told of it
    await login(client, "centre1")
    page = text_of((await client.get(f"/cases/{case_id}")).text)
    assert "本案需要另行指派调解员" in page
    assert "推荐调解员" in page  # the ranking to choose the new one from
    assert "主持调解员沈建华已不再承办本案：请改派或取消" in page
    session_page = text_of((await client.get(f"/cases/{case_id}/sessions/{session_id}")).text)
    assert "因当事人异议已不再承办本案" in session_page

    # The other party then asks for another date: the centre that must now deal with the
    # session is told, not the mediator who is off the case, and the party is told so.
    client.cookies.clear()
    code, secret = await _pair(case_id, "王堃")
    response = await post_form(
        client,
        "/my-case/act",
        {
            "code": code,
            "secret": secret,
            "action": "reschedule",
            "session": str(session_id),
            "reason": "那天要上班",
        },
    )
    assert response.status_code == 303
    page = text_of((await client.get("/my-case")).text)
    assert "已转给调解中心" in page and "已转给调解员" not in page
    asked = {
        r["recipient"]
        for r in await Notification.select(Notification.recipient).where(
            Notification.kind == "party_request", Notification.case == case_id
        )
    }
    assert staff["centre1"] in asked and staff["grid1"] in asked
    assert staff["mediator1"] not in asked

    # The centre assigns another mediator: the booked session is theirs to preside from now,
    # so neither the parties' session nor its record names the one objected to.
    centre1 = await user("centre1")
    choice = (await services.suggest_mediators(centre1, case_id))[0]
    await services.assign_mediator(centre1, case_id, choice.mediator.id)
    presiding = (
        await MediationSession.select(MediationSession.mediator)
        .where(MediationSession.id == session_id)
        .first()
    )
    assert presiding["mediator"] == choice.mediator.id
    await login(client, "centre1")
    page = text_of((await client.get(f"/cases/{case_id}")).text)
    assert "请改派或取消" not in page and "本案需要另行指派调解员" not in page
    assert "改由其主持的调解会" in page


async def _effective_agreement(case_id: int) -> tuple[int, int, int]:
    agreement = Agreement(
        case=case_id,
        kind="written",
        status="effective",
        committee="平湖市当湖街道人民调解委员会",
        committee_short="当湖",
        number=f"（2026）当湖调字第9{case_id}号",
        main_facts="租客提前退租，二房东扣押押金。",
        copies=3,
        issued_on=date(2026, 11, 20),
        effective_on=date(2026, 11, 21),
    )
    await agreement.save()
    owed = AgreementClause(
        agreement=agreement.id,
        seq=1,
        obligor="李二房东",
        obligation="向王堃退还押金",
        amount=Decimal("1500"),
    )
    await owed.save()
    own = AgreementClause(agreement=agreement.id, seq=2, obligor="王堃", obligation="归还钥匙")
    await own.save()
    return agreement.id, owed.id, own.id


async def test_the_party_confirms_a_clause_owed_to_them_but_not_their_own(client, new_key):
    case_id, _session = await _case_with_session(new_key)
    _agreement, owed, own = await _effective_agreement(case_id)
    code, secret = await _pair(case_id, "王堃")
    base = {"code": code, "secret": secret, "action": "confirm"}
    response = await post_form(client, "/my-case/act", {**base, "clause": str(own)})
    assert response.status_code == 422
    response = await post_form(client, "/my-case/act", {**base, "clause": str(owed)})
    assert response.status_code == 303
    assert "谢谢，您的确认已记录。" in (await client.get("/my-case")).text
    done = await AgreementClause.select(AgreementClause.done_on).where(AgreementClause.id == owed)
    assert done[0]["done_on"] is not None
    assert "party_confirmed_clause" in await _actions(case_id)


async def test_the_partys_agreement_pdf_carries_no_id_number_or_phone(client, new_key):
    case_id, _session = await _case_with_session(new_key)
    agreement_id, _owed, _own = await _effective_agreement(case_id)
    code, secret = await _pair(case_id, "王堃")
    page = text_of((await _open(client, code, secret)).text)
    assert "李二房东" in page  # named on the agreement, so the party may see the name
    response = await post_form(
        client, "/my-case/agreement", {"code": code, "secret": secret, "agreement": agreement_id}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    compact = "".join(text.split())
    assert "向王堃退还押金" in compact
    for personal in (STUDENT_ID, "13812345678", "13900001111", "138****5678", "139****1111"):
        assert personal not in compact
    # Someone else's agreement id answers nothing.
    other_case, _s = await _case_with_session(new_key)
    other_agreement, _o, _w = await _effective_agreement(other_case)
    response = await post_form(
        client, "/my-case/agreement", {"code": code, "secret": secret, "agreement": other_agreement}
    )
    assert response.status_code == 404


async def _signed_agreement(case_id: int) -> int:
    """An agreement issued (numbered, with its verification code and content hash) and signed
    by everyone today, through the same steps as the mediator's pages."""
    mediator1 = await user("mediator1")
    agreement_id = await agreements.create_agreement(mediator1, case_id, "written")
    await agreements.update_draft(
        mediator1,
        agreement_id,
        "租客提前退租，二房东扣押押金。",
        "押金是否退还。",
        "双方各有责任。",
        "银行转账。",
        "",
        3,
        [agreements.ClauseInput("李二房东", "向王堃退还押金", Decimal("1500"), "", "", None)],
    )
    await agreements.issue_agreement(mediator1, agreement_id)
    today = services.today()
    for name, role in (
        ("王堃", "party"),
        ("李二房东", "party"),
        ("沈建华", "mediator"),
        ("", "seal"),
    ):
        await agreements.record_signature(mediator1, agreement_id, name, role, today)
    return agreement_id


async def test_the_partys_agreement_pdf_carries_the_verification_that_verifies(client, new_key):
    """The copy a party keeps and shows (to a court, an employer, the obligor) can be checked
    like the committee's: the same code, the /verify address, the same content hash."""
    case_id, _session = await _case_with_session(new_key)
    agreement_id = await _signed_agreement(case_id)
    stored = await agreements.agreement_for(await user("mediator1"), agreement_id)
    assert stored.status == "effective" and stored.verification_code
    code, secret = await _pair(case_id, "王堃")
    response = await post_form(
        client, "/my-case/agreement", {"code": code, "secret": secret, "agreement": agreement_id}
    )
    assert response.status_code == 200
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    compact = "".join(text.split())
    assert f"核验码：{stored.verification_code}" in compact
    assert stored.content_hash in compact
    assert "本件为当事人留存的协议副本" in compact
    assert f"本协议自{stored.effective_on.year}年{stored.effective_on.month}月" in compact
    for personal in (STUDENT_ID, "13812345678", "13900001111"):
        assert personal not in compact
    address = re.search(r"访问(\S+?/verify/" + stored.verification_code + ")", compact)
    assert address, "the copy names the verification address"
    verified = await client.get(urlsplit(address.group(1)).path)
    assert verified.status_code == 200
    page = text_of(verified.text)
    assert stored.number in page and stored.content_hash in page and "已生效" in page


async def test_a_party_rates_a_closed_case_once(client, new_key):
    case_id = await _register(new_key)
    code, secret = await _pair(case_id, "王堃")
    base = {"code": code, "secret": secret, "action": "rate", "rating": "satisfied"}
    response = await post_form(client, "/my-case/act", base)
    assert response.status_code == 422  # not closed yet
    await Case.update({Case.status: "closed"}).where(Case.id == case_id)
    response = await post_form(client, "/my-case/act", {**base, "comment": "调解员很耐心"})
    assert response.status_code == 303
    assert "感谢您的评价。" in (await client.get("/my-case")).text
    rows = await CaseRating.select().where(CaseRating.case == case_id)
    assert [(r["rating"], r["comment"]) for r in rows] == [("satisfied", "调解员很耐心")]
    assert (await post_form(client, "/my-case/act", base)).status_code == 422
    assert "party_rated" in await _actions(case_id)


async def test_acceptance_sends_each_party_a_text_that_staff_can_read(client, new_key, caplog):
    case_id = await _register(new_key)
    grid1 = await user("grid1")
    with caplog.at_level(logging.INFO, logger="mediation.messages"):
        await services.transition_case(grid1, case_id, "accept", {})
    rows = await PartyMessage.select().where(PartyMessage.case == case_id)
    assert sorted(r["event"] for r in rows) == ["accepted", "accepted"]
    code, _secret = await _pair(case_id, "王堃")
    assert any(code in r["text"] and "已受理" in r["text"] for r in rows)
    assert all("13812345678" not in r["phone_masked"] for r in rows)
    assert any("138****5678" in record.getMessage() for record in caplog.records)
    await login(client, "grid1")
    page = text_of((await client.get(f"/cases/{case_id}/parties")).text)
    assert code in page and "已受理" in page


async def test_texts_to_parties_are_chinese_whatever_the_operators_language(new_key):
    """A mediator who works in English still texts Chinese citizens in Chinese, and writes the
    session's date the Chinese way (12月3日), never the ambiguous American 12/3."""
    token = i18n.set_locale("en")
    try:
        case_id, _session_id = await _case_with_session(new_key)
    finally:
        i18n.reset_locale(token)
    rows = await PartyMessage.select(PartyMessage.event, PartyMessage.text).where(
        PartyMessage.case == case_id
    )
    texts = {(r["event"], r["text"]) for r in rows}
    assert {event for event, _text in texts} == {"accepted", "session_scheduled"}
    for event, text in texts:
        assert "case" not in text and "/" not in text, text
        if event == "accepted":
            assert "已受理" in text
        else:
            assert re.search(r"定于\d{1,2}月\d{1,2}日 \d{2}:\d{2}在东湖社区调解室举行", text), text


async def test_a_slip_printed_from_the_english_ui_is_all_chinese(client, new_key):
    case_id = await _register(new_key)
    party_id = (
        await Party.select(Party.id).where(Party.case == case_id, Party.name == "王堃").first()
    )["id"]
    await login(client, "grid1")
    await post_form(client, "/locale", {"locale": "en", "next": f"/cases/{case_id}"})
    for paper in ("slip", "a4"):
        response = await client.get(f"/cases/{case_id}/parties/{party_id}/slip.pdf?paper={paper}")
        assert response.status_code == 200
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
        ).stdout.decode()
        assert "房屋宅基地" in text
        assert "Housing" not in text and "homestead" not in text


class RecordingGateway:
    """A stand-in SMS gateway loaded by name from MESSAGE_BACKEND."""

    name = "recording"
    sent: list[tuple[str, str]] = []

    async def send(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))


async def test_an_sms_gateway_is_plugged_in_by_configuration(monkeypatch, new_key):
    monkeypatch.setenv("MESSAGE_BACKEND", "tests.portal.test_portal:RecordingGateway")
    messaging._load.cache_clear()
    try:
        case_id = await _register(new_key)
        await services.transition_case(await user("grid1"), case_id, "accept", {})
    finally:
        messaging._load.cache_clear()
    assert sorted(phone for phone, _ in RecordingGateway.sent[-2:]) == [
        "13812345678",
        "13900001111",
    ]
    rows = await PartyMessage.select(PartyMessage.backend).where(PartyMessage.case == case_id)
    assert {r["backend"] for r in rows} == {"recording"}


async def test_the_parties_ratings_feed_the_centres_figures(client, new_key):
    import re

    from mediation.cases.tables import Case as CaseTable

    case_id = await _register(new_key)
    code, secret = await _pair(case_id, "王堃")
    await CaseTable.update({CaseTable.status: "closed"}).where(CaseTable.id == case_id)
    response = await post_form(
        client,
        "/my-case/act",
        {"code": code, "secret": secret, "action": "rate", "rating": "satisfied"},
    )
    assert response.status_code == 303
    town = (await CaseTable.select(CaseTable.region_path).where(CaseTable.id == case_id).first())[
        "region_path"
    ]
    expected = 0
    for row in await CaseRating.select(
        CaseRating.rating, CaseRating.rated_at, CaseRating.case.region_path
    ):
        local = row["rated_at"].astimezone(county_zone()).date()
        today = datetime.now(county_zone()).date()
        if (
            row["rating"] == "satisfied"
            and row["case.region_path"].startswith("/".join(town.split("/")[:3]))
            and (local.year, local.month) == (today.year, today.month)
        ):
            expected += 1
    await login(client, "centre1")
    page = (await client.get("/reports")).text
    section = page.split("当事人对调解工作的评价", 1)[1].split("<h2", 1)[0]
    shown = re.search(r'<th scope="row">满意</th><td class="num">(\d+)</td>', section)
    assert shown and int(shown.group(1)) == expected >= 1


class OutsideTransactionGateway:
    """Records, for each text, whether a database transaction was open when it was sent."""

    name = "outside"
    sent: list[tuple[str, bool]] = []

    async def send(self, phone: str, text: str) -> None:
        from mediation import db

        self.sent.append((phone, db.engine().current_transaction.get() is not None))


async def test_texts_go_out_after_the_change_commits_and_never_after_a_rollback(
    monkeypatch, new_key
):
    """A slow SMS gateway must not hold the case's (and the figures') row locks, and a change
    that rolls back must not have texted anyone."""
    from mediation import db
    from mediation.cases.events import record_event

    monkeypatch.setenv("MESSAGE_BACKEND", "tests.portal.test_portal:OutsideTransactionGateway")
    messaging._load.cache_clear()
    OutsideTransactionGateway.sent.clear()
    try:
        case_id = await _register(new_key)
        grid1 = await user("grid1")
        await services.transition_case(grid1, case_id, "accept", {})
        assert sorted(OutsideTransactionGateway.sent) == [
            ("13812345678", False),
            ("13900001111", False),
        ]
        OutsideTransactionGateway.sent.clear()
        with pytest.raises(RuntimeError):
            async with db.write_transaction():
                await record_event(case_id, grid1, "close", "accepted", "closed", {}, "")
                assert OutsideTransactionGateway.sent == []  # not while the transaction is open
                raise RuntimeError("the change fails")
        assert OutsideTransactionGateway.sent == []
        assert not await PartyMessage.exists().where(
            PartyMessage.case == case_id, PartyMessage.event == "closed"
        )
    finally:
        messaging._load.cache_clear()
