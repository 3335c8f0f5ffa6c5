"""Sessions (booking, representatives, minutes lock) and agreements (number, signatures, lock)."""

from __future__ import annotations

import asyncio
import pickle
import re
import subprocess
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from mediation.accounts.services import set_preferred_locale
from mediation.cases import agreements, services, sessions
from mediation.cases.tables import Agreement, Case, CaseEvent, CaseMediator
from mediation.clock import utc_now
from mediation.documents.pdf import render_pdf
from mediation.grid.tables import Mediator, Staff
from mediation.i18n import gettext
from tests.cases.conftest import deposit_case, grid_id, user
from tests.helpers import login, post_form

pytestmark = pytest.mark.anyio
TZ = ZoneInfo("Asia/Shanghai")


async def _case_in_mediation(new_key) -> int:
    grid1 = await user("grid1")
    case_id = await services.register_case(deposit_case(await grid_id()), grid1, new_key())
    await services.transition_case(grid1, case_id, "accept", {})
    await assign_directly(case_id, "mediator1")
    await services.transition_case(grid1, case_id, "start_mediation", {})
    return case_id


async def assign_directly(case_id: int, username: str) -> None:
    """Put a named mediator on the case, whatever the suggestion ranking says: only an
    assigned mediator may draft, issue and sign the case's agreements."""
    mediator = await Mediator.select(Mediator.id).where(Mediator.staff.username == username).first()
    if not await CaseMediator.exists().where(
        CaseMediator.case == case_id, CaseMediator.mediator == mediator["id"]
    ):
        await CaseMediator(case=case_id, mediator=mediator["id"]).save()


async def test_a_double_booked_room_is_reported_but_not_blocked(new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    when = datetime(2031, 3, 3, 9, 30, tzinfo=TZ)
    _first, conflicts = await sessions.schedule_session(
        mediator1, case_id, when, 90, "东湖社区调解室", "in_person", None
    )
    assert conflicts == []
    _second, conflicts = await sessions.schedule_session(
        mediator1, case_id, when + timedelta(minutes=30), 60, "东湖社区调解室", "in_person", None
    )
    assert [c.reason for c in conflicts] == ["room"]
    _third, conflicts = await sessions.schedule_session(
        mediator1, case_id, when + timedelta(hours=3), 60, "东湖社区调解室", "in_person", None
    )
    assert conflicts == []


async def test_a_side_has_at_most_five_representatives(new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    session_id, _ = await sessions.schedule_session(
        mediator1, case_id, datetime(2031, 4, 1, 14, tzinfo=TZ), 60, "", "in_person", None
    )
    for n in range(5):
        await sessions.add_participant(
            mediator1, session_id, f"业主代表{n}", "representative", "applicant"
        )
    with pytest.raises(services.CaseError) as info:
        await sessions.add_participant(
            mediator1, session_id, "业主代表6", "representative", "applicant"
        )
    assert info.value.message == gettext("A side may have at most %(n)s representatives.", n=5)
    # The other side still has its own five seats.
    await sessions.add_participant(
        mediator1, session_id, "商户代表", "representative", "respondent"
    )


async def test_minutes_keep_their_order_and_lock_when_the_session_closes(new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    session_id, _ = await sessions.schedule_session(
        mediator1, case_id, datetime(2031, 5, 1, 9, tzinfo=TZ), 60, "", "in_person", None
    )
    first = await sessions.add_minute(mediator1, session_id, "调解员", "请双方陈述。")
    second = await sessions.add_minute(mediator1, session_id, "王堃", "我提前一个月通知了。")
    assert (first.seq, second.seq) == (1, 2)
    await sessions.close_session(
        mediator1, session_id, "agreement", started_at=utc_now() - timedelta(hours=1)
    )
    with pytest.raises(services.CaseError):
        await sessions.add_minute(mediator1, session_id, "王堃", "补充一句")
    record = await sessions.session_for(mediator1, session_id)
    assert [m.statement for m in record.minutes] == [
        "请双方陈述。",
        "我提前一个月通知了。",
    ]
    # The printed record crosses a process pool: the session pickles whole.
    assert pickle.loads(pickle.dumps(record)) == record


async def _issued_agreement(new_key) -> tuple[int, int]:
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
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
        [
            agreements.ClauseInput(
                "李二房东",
                "退还押金",
                Decimal("1500"),
                "微信转账",
                "平湖市当湖街道",
                services.today() + timedelta(days=7),
            )
        ],
    )
    await agreements.issue_agreement(mediator1, agreement_id)
    return case_id, agreement_id


async def test_issuing_numbers_the_agreement_per_committee_and_year(new_key):
    _case, agreement_id = await _issued_agreement(new_key)
    row = await Agreement.select().where(Agreement.id == agreement_id).first()
    year = services.today().year
    # A grid-level case is handled by its community's committee, named after town and
    # community (平湖市当湖街道东湖社区人民调解委员会).
    assert row["committee"] == "平湖市当湖街道东湖社区人民调解委员会"
    assert re.fullmatch(rf"（{year}）当湖东湖调字第\d+号", row["number"])
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", row["verification_code"])
    assert len(row["content_hash"]) == 64


async def test_numbers_stay_unique_when_many_agreements_are_issued_at_once(new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    ids = []
    for _ in range(8):
        agreement_id = await agreements.create_agreement(mediator1, case_id, "oral")
        await agreements.update_draft(
            mediator1, agreement_id, "", "", "", "", "当场退还押金。", 3, []
        )
        ids.append(agreement_id)
    numbers = await asyncio.gather(*[agreements.issue_agreement(mediator1, i) for i in ids])
    assert len(set(numbers)) == 8
    seqs = sorted(int(re.search(r"第(\d+)号", n).group(1)) for n in numbers)
    assert seqs == list(range(seqs[0], seqs[0] + 8))


async def test_an_issued_agreement_cannot_be_edited(new_key):
    mediator1 = await user("mediator1")
    _case, agreement_id = await _issued_agreement(new_key)
    with pytest.raises(services.CaseError):
        await agreements.update_draft(mediator1, agreement_id, "改", "", "", "", "", 3, [])


async def test_it_takes_effect_on_the_last_signature_and_then_locks(new_key):
    mediator1 = await user("mediator1")
    case_id, agreement_id = await _issued_agreement(new_key)
    today = services.today()
    assert not await agreements.record_signature(
        mediator1, agreement_id, "王堃", "party", today - timedelta(days=0)
    )
    assert not await agreements.record_signature(
        mediator1, agreement_id, "沈建华", "mediator", today
    )
    assert not await agreements.record_signature(mediator1, agreement_id, "", "seal", today)
    with pytest.raises(services.CaseError):
        await agreements.record_signature(mediator1, agreement_id, "王堃", "party", today)
    assert await agreements.record_signature(mediator1, agreement_id, "李二房东", "party", today)
    row = await agreements.agreement_for(mediator1, agreement_id)
    assert row.status == "effective" and row.effective_on == today
    assert row.confirmation_until == today + timedelta(days=30)
    assert row.missing_signatures == [] and len(row.signatures) == 4
    assert pickle.loads(pickle.dumps(row)) == row
    with pytest.raises(services.CaseError):
        await agreements.record_signature(mediator1, agreement_id, "王堃", "party", today)
    # A change is a supplementary agreement linked to it.
    supplement = await agreements.create_agreement(
        mediator1, case_id, "written", supplements=agreement_id
    )
    assert (await Agreement.select().where(Agreement.id == supplement).first())[
        "supplements"
    ] == agreement_id
    assert await CaseEvent.exists().where(
        CaseEvent.case == case_id, CaseEvent.action == "agreement_effective"
    )


async def test_the_printed_agreement_carries_names_numbers_amounts_and_capitals(new_key):
    mediator1 = await user("mediator1")
    _case, agreement_id = await _issued_agreement(new_key)
    context = await agreements.print_context(mediator1, agreement_id, "http://testserver")
    pdf = render_pdf("documents/agreement.html", context)
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    flat = re.sub(r"\s+", "", text)
    assert "王堃" in flat and "李二房东" in flat
    assert context.agreement.number in flat
    assert "壹仟伍佰元整" in flat
    assert context.agreement.verification is not None
    assert context.agreement.verification.code in flat


async def test_the_public_page_tells_a_genuine_agreement_from_an_altered_one(client, new_key):
    mediator1 = await user("mediator1")
    _case, agreement_id = await _issued_agreement(new_key)
    genuine = await agreements.agreement_for(mediator1, agreement_id)
    code = genuine.verification_code
    page = await client.get(f"/verify/{code}")
    assert page.status_code == 200
    assert genuine.content_hash in page.text
    assert agreements.content_hash(genuine) == genuine.content_hash
    altered = replace(genuine, clauses=[replace(genuine.clauses[0], amount=Decimal("150"))])
    assert agreements.content_hash(altered) not in page.text
    # No personal data on the public page.
    for secret in ("王堃", "李二房东", "13812345678", "330482200305170019", "押金"):
        assert secret not in page.text
    assert (await client.get("/verify/XXXX-XXXX")).status_code == 404


async def test_the_agreement_pdf_is_served_to_the_case_team(client, new_key):
    _case, agreement_id = await _issued_agreement(new_key)
    case_id = (await Agreement.select(Agreement.case).where(Agreement.id == agreement_id).first())[
        "case"
    ]
    await login(client, "mediator1")
    response = await client.get(f"/cases/{case_id}/agreements/{agreement_id}/agreement.pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    client.cookies.clear()
    await login(client, "grid4")  # another community
    response = await client.get(f"/cases/{case_id}/agreements/{agreement_id}/agreement.pdf")
    assert response.status_code in (403, 404)


async def test_minutes_are_appended_with_htmx_as_a_fragment(client, new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    session_id, _ = await sessions.schedule_session(
        mediator1, case_id, datetime(2031, 6, 1, 9, tzinfo=TZ), 60, "", "in_person", None
    )
    await login(client, "mediator1")
    url = f"/cases/{case_id}/sessions/{session_id}/minutes"
    response = await post_form(
        client,
        url,
        {"speaker": "调解员", "statement": "开始调解。"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "<html" not in response.text and "开始调解。" in response.text
    response = await post_form(client, url, {"speaker": "王堃", "statement": "好的。"})
    assert response.status_code == 303
    page = await client.get(f"/cases/{case_id}/sessions/{session_id}")
    assert "开始调解。" in page.text and "好的。" in page.text
    case = await Case.select(Case.status).where(Case.id == case_id).first()
    assert case["status"] == "mediating"


def _pdf_words(pdf: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


async def test_a_user_of_the_english_interface_prints_a_wholly_chinese_agreement(client, new_key):
    case_id, agreement_id = await _issued_agreement(new_key)
    mediator1 = await user("mediator1")
    before = await Staff.select(Staff.locale).where(Staff.id == mediator1.id).first()
    await login(client, "mediator1")
    await post_form(client, "/locale", {"locale": "en", "next": f"/cases/{case_id}"})
    try:
        assert "Case" in (await client.get(f"/cases/{case_id}")).text  # English interface
        response = await client.get(f"/cases/{case_id}/agreements/{agreement_id}/agreement.pdf")
    finally:
        # The choice is kept on the user's account, which later tests may share.
        await set_preferred_locale(mediator1.id, before["locale"])
    assert response.status_code == 200
    text = _pdf_words(response.content)
    assert "人民调解协议书" in re.sub(r"\s+", "", text)
    for english in ("Female", "Male", "Applicant", "Respondent", "Neighbour", "Property"):
        assert english not in text, english
    # The reveal recorded for this print is written in the document's language too.
    event = (
        await CaseEvent.select(CaseEvent.note)
        .where(CaseEvent.case == case_id)
        .order_by(CaseEvent.id, ascending=False)
        .first()
    )
    assert event is not None and "Printed" not in (event["note"] or "")


async def test_an_agreement_is_printed_only_under_its_own_case(client, new_key):
    case_id, agreement_id = await _issued_agreement(new_key)
    other_case = await _case_in_mediation(new_key)
    await login(client, "mediator1")
    url = f"/cases/{other_case}/agreements/{agreement_id}/agreement.pdf"
    assert (await client.get(url)).status_code == 404
    assert (
        await client.get(f"/cases/999999/agreements/{agreement_id}/agreement.pdf")
    ).status_code == 404
    own = await client.get(f"/cases/{case_id}/agreements/{agreement_id}/agreement.pdf")
    assert own.status_code == 200 and own.content.startswith(b"%PDF")
