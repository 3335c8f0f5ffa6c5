"""The session record (调解笔录) and the termination notice (终止调解通知书) read back from
the PDF: every element a committee requires, for a person and for an organisation party."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timedelta

import pytest
import time_machine

from mediation.cases import services, sessions
from mediation.cases.tables import Case, Party
from mediation.clock import county_zone
from tests.cases.conftest import user
from tests.cases.test_sessions_and_agreements import _case_in_mediation
from tests.helpers import login

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("release_mediators")]


def pdf_text(pdf: bytes) -> str:
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return re.sub(r"\s+", "", text)


async def _with_an_organisation(case_id: int) -> None:
    await Party.update(
        {
            Party.kind: "organisation",
            Party.name: "平湖市梅园物业服务有限公司",
            Party.legal_rep: "李建国",
        }
    ).where(Party.case == case_id, Party.name == "李二房东")


async def test_the_session_record_has_every_element(client, new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    await _with_an_organisation(case_id)
    starts = datetime(2031, 6, 1, 9, 30, tzinfo=county_zone())
    session_id, _ = await sessions.schedule_session(
        mediator1, case_id, starts, 60, "二楼调解室", "in_person", None
    )
    await sessions.add_participant(mediator1, session_id, "王堃", "party", "applicant")
    await sessions.add_participant(
        mediator1, session_id, "平湖市梅园物业服务有限公司", "party", "respondent"
    )
    await sessions.add_participant(mediator1, session_id, "张律师", "lawyer")
    await sessions.add_participant(mediator1, session_id, "沈建华", "mediator")
    await sessions.add_minute(mediator1, session_id, "王堃", "要求退还押金三千元。")
    # It ends 75 minutes after it started (a session cannot end before it starts).
    with time_machine.travel(starts + timedelta(minutes=75), tick=False):
        await sessions.close_session(
            mediator1, session_id, "adjourned", starts.date() + timedelta(7)
        )
    await login(client, "mediator1")
    response = await client.get(f"/cases/{case_id}/sessions/{session_id}/record.pdf")
    assert response.status_code == 200
    text = pdf_text(response.content)
    for expected in (
        "调解笔录",
        "平湖市当湖街道东湖社区人民调解委员会",
        "案由：房屋宅基地：学生提前退租，二房东扣押押金",
        "时间：2031年6月1日09:30至2031年6月1日10:45",
        "记录人：沈建华",
        "申请人：王堃",
        "被申请人：平湖市梅园物业服务有限公司",
        "律师：张律师",
        "享有的权利和承担的义务",
        "要求退还押金三千元。",
        "以上笔录经本人核对无误。",
        "记录人（签名）",
        "人民调解员（签名）",
    ):
        assert expected in text, expected
    assert text.index("以上笔录经本人核对无误") < text.index("记录人（签名）")
    assert "+0800" not in text and "T09:30" not in text
    # The mediator is present (调解员：沈建华) but signs once, on the mediator's line, with no
    # fingerprint box; the two parties and the lawyer sign with one each.
    signatures = text[text.index("以上笔录经本人核对无误") :]
    assert "调解员：沈建华" in text[: text.index("以上笔录经本人核对无误")]
    assert "沈建华" not in signatures
    assert signatures.count("人民调解员（签名）") == 1
    assert signatures.count("指印") == 3


async def test_the_termination_notice_has_its_own_number_and_channels(client, new_key):
    grid1 = await user("grid1")
    case_id = await _case_in_mediation(new_key)
    await _with_an_organisation(case_id)
    await services.transition_case(
        grid1,
        case_id,
        "terminate",
        {"termination_reason": "positions_too_far", "referral_advice": "litigation,arbitration"},
    )
    await login(client, "mediator1")
    first = pdf_text((await client.get(f"/cases/{case_id}/termination.pdf")).content)
    again = pdf_text((await client.get(f"/cases/{case_id}/termination.pdf")).content)
    number = (await Case.select(Case.termination_number).where(Case.id == case_id).first())[
        "termination_number"
    ]
    assert re.fullmatch(rf"（{services.today().year}）当湖东湖调终字第\d+号", number)
    assert number in first and number in again  # numbered once, kept
    for expected in (
        "终止调解通知书",
        "王堃、平湖市梅园物业服务有限公司：",
        "第二十六条",
        "（一）依法向有管辖权的人民法院提起诉讼；",
        "（二）依据双方达成的仲裁协议向仲裁委员会申请仲裁。",
        "特此通知。",
        "送达回证",
        "受送达人（签收）：王堃",
        "受送达人（签收）：平湖市梅园物业服务有限公司",
        "送达人（签名）",
    ):
        assert expected in first, expected


async def test_a_family_dispute_cannot_be_sent_to_arbitration(new_key):
    grid1 = await user("grid1")
    case_id = await _case_in_mediation(new_key)
    await Case.update({Case.category: "marriage_family"}).where(Case.id == case_id)
    with pytest.raises(services.CaseError) as info:
        await services.transition_case(
            grid1,
            case_id,
            "terminate",
            {"termination_reason": "positions_too_far", "referral_advice": "arbitration"},
        )
    assert info.value.field == "referral_advice"
    await Case.update({Case.category: "labour"}).where(Case.id == case_id)
    await services.transition_case(
        grid1,
        case_id,
        "terminate",
        {"termination_reason": "positions_too_far", "referral_advice": "labour_arbitration"},
    )
