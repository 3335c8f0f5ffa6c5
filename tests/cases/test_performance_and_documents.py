"""After the agreement: clause performance and the confirmation window swept, follow-up visits,
and the text of every printed document read back from the PDF itself."""

from __future__ import annotations

import ast
import asyncio
import re
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mediation import i18n
from mediation.cases import agreements, labels, services, sessions, workflow
from mediation.cases.events import record_event
from mediation.cases.labels import EVENT_LABELS
from mediation.cases.tables import (
    Agreement,
    AgreementClause,
    CaseEvent,
    CaseMediator,
    Notification,
)
from mediation.documents.pdf import print_date
from mediation.grid.tables import Staff
from tests.cases.conftest import user
from tests.cases.test_sessions_and_agreements import _case_in_mediation, _issued_agreement
from tests.helpers import login, post_form

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("release_mediators")]
TZ = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parents[2]


def pdf_layout(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def pdf_text(pdf: bytes) -> str:
    return re.sub(r"\s+", "", pdf_layout(pdf))


async def _effective_agreement(new_key) -> tuple[int, int]:
    """The deposit case settled by an agreement signed by everyone today."""
    mediator1 = await user("mediator1")
    case_id, agreement_id = await _issued_agreement(new_key)
    today = services.today()
    for name, role in (
        ("王堃", "party"),
        ("李二房东", "party"),
        ("沈建华", "mediator"),
        ("", "seal"),
    ):
        await agreements.record_signature(mediator1, agreement_id, name, role, today)
    return case_id, agreement_id


async def _notifications(case_id: int, kind: str) -> list[dict]:
    return (
        await Notification.select(Notification.recipient, Notification.message)
        .where(Notification.case == case_id, Notification.kind == kind)
        .order_by(Notification.id)
    )


async def _staff_id(username: str) -> int:
    return (await Staff.select(Staff.id).where(Staff.username == username).first())["id"]


async def _case_mediators(case_id: int) -> set[int]:
    rows = await CaseMediator.select(CaseMediator.mediator.staff).where(
        CaseMediator.case == case_id, CaseMediator.active.eq(True)
    )
    assert rows, "the case has a mediator"
    return {r["mediator.staff"] for r in rows}


async def test_an_overdue_clause_is_reported_once_to_the_mediator_and_the_grid_team(new_key):
    case_id, agreement_id = await _effective_agreement(new_key)
    clause = await AgreementClause.select().where(AgreementClause.agreement == agreement_id).first()
    # A last day on a rest day moves to the next working day (Art. 85).
    due = agreements.performance_due(clause["deadline"])

    await agreements.sweep_agreements(on=due)  # due today: not late yet
    assert await _notifications(case_id, "clause_overdue") == []

    late_day = due + timedelta(days=1)
    # Two sweeps at once (two servers) and a third later: one report.
    await asyncio.gather(
        agreements.sweep_agreements(on=late_day), agreements.sweep_agreements(on=late_day)
    )
    await agreements.sweep_agreements(on=late_day + timedelta(days=3))
    sent = await _notifications(case_id, "clause_overdue")
    recipients = [n["recipient"] for n in sent]
    assert sorted(recipients) == sorted(set(recipients)), "someone was told twice"
    assert await _case_mediators(case_id) <= set(recipients)
    assert await _staff_id("police1") in recipients and await _staff_id("grid1") in recipients
    assert "李二房东" in sent[0]["message"]
    assert i18n.format_date(clause["deadline"], "long") in sent[0]["message"]
    assert clause["deadline"].isoformat() not in sent[0]["message"]
    events = await CaseEvent.select().where(
        CaseEvent.case == case_id, CaseEvent.action == "clause_overdue"
    )
    assert len(events) == 1 and events[0]["actor"] is None


async def test_a_performed_clause_is_never_reported(new_key):
    mediator1 = await user("mediator1")
    case_id, agreement_id = await _effective_agreement(new_key)
    clause = await AgreementClause.select().where(AgreementClause.agreement == agreement_id).first()
    await agreements.mark_clause_done(mediator1, agreement_id, clause["id"], services.today())
    await agreements.sweep_agreements(on=clause["deadline"] + timedelta(days=5))
    assert await _notifications(case_id, "clause_overdue") == []
    event = (
        await CaseEvent.select()
        .where(CaseEvent.case == case_id, CaseEvent.action == "clause_performed")
        .output(load_json=True)
        .first()
    )
    assert event["changes"]["clause"][1].endswith("#1")


async def test_a_clause_cannot_be_marked_done_in_the_future(new_key):
    mediator1 = await user("mediator1")
    _case, agreement_id = await _effective_agreement(new_key)
    clause = await AgreementClause.select().where(AgreementClause.agreement == agreement_id).first()
    with pytest.raises(services.CaseError):
        await agreements.mark_clause_done(
            mediator1, agreement_id, clause["id"], services.today() + timedelta(days=1)
        )


async def test_the_judicial_confirmation_window_is_reminded_once_a_week_before_it_closes(
    new_key,
):
    case_id, agreement_id = await _effective_agreement(new_key)
    until = agreements.confirmation_until(services.today())

    # The signature itself announced the window; the reminder is a separate, later message.
    before = len(await _notifications(case_id, "confirmation_window"))
    await agreements.sweep_agreements(on=until - timedelta(days=8))  # 8 days left
    assert len(await _notifications(case_id, "confirmation_window")) == before
    for days_left in (7, 6, 1):
        await agreements.sweep_agreements(on=until - timedelta(days=days_left))
    sent = await _notifications(case_id, "confirmation_window")
    reminders = sent[before:]
    assert {n["recipient"] for n in reminders} >= await _case_mediators(case_id)
    assert len(reminders) == len({n["recipient"] for n in reminders})
    number = (await Agreement.select(Agreement.number).where(Agreement.id == agreement_id))[0]
    expected = i18n.ngettext(
        "The parties to agreement %(number)s may jointly apply to the court for "
        "judicial confirmation until %(until)s (%(num)s day left).",
        "The parties to agreement %(number)s may jointly apply to the court for "
        "judicial confirmation until %(until)s (%(num)s days left).",
        7,
        number=number["number"],
        until=i18n.format_date(until, "long"),
    )
    assert reminders and all(n["message"] == expected for n in reminders)
    assert (
        await CaseEvent.count().where(
            CaseEvent.case == case_id, CaseEvent.action == "confirmation_reminder"
        )
        == 1
    )


async def test_no_reminder_once_the_window_has_closed(new_key):
    case_id, _agreement = await _effective_agreement(new_key)
    before = len(await _notifications(case_id, "confirmation_window"))
    closed_after = agreements.confirmation_until(services.today()) + timedelta(days=1)
    await agreements.sweep_agreements(on=closed_after)
    assert len(await _notifications(case_id, "confirmation_window")) == before


async def test_a_follow_up_with_a_bad_date_keeps_what_was_typed(client, new_key):
    case_id, _agreement = await _effective_agreement(new_key)
    await login(client, "mediator1")
    response = await post_form(
        client,
        f"/cases/{case_id}/follow-ups",
        {
            "visited_on": "",
            "performance": "partly",
            "satisfaction": "basically",
            "note": "押金已退一半，余款月底付清",
        },
    )
    assert response.status_code == 422
    assert "押金已退一半，余款月底付清" in response.text
    assert 'value="partly" selected' in response.text
    assert "请填写回访日期。" in response.text

    future = (services.today() + timedelta(days=3)).isoformat()
    response = await post_form(
        client,
        f"/cases/{case_id}/follow-ups",
        {"visited_on": future, "performance": "partly", "satisfaction": "", "note": "明天再去"},
    )
    assert response.status_code == 422
    assert "明天再去" in response.text and future in response.text
    assert (
        await CaseEvent.count().where(CaseEvent.case == case_id, CaseEvent.action == "follow_up")
        == 0
    )


async def test_the_follow_up_record_prints_the_visit_and_every_clause(client, new_key):
    case_id, _agreement = await _effective_agreement(new_key)
    await login(client, "mediator1")
    response = await post_form(
        client,
        f"/cases/{case_id}/follow-ups",
        {
            "visited_on": services.today().isoformat(),
            "performance": "partly",
            "satisfaction": "basically",
            "note": "押金已退一半，余款月底付清",
            "method": "visit",
            "place": "梅园小区3幢",
        },
    )
    assert response.status_code == 303
    page = await client.get(f"/cases/{case_id}")
    link = re.search(rf"/cases/{case_id}/follow-ups/(\d+)/record\.pdf", page.text)
    assert link, "the case page links the printed record"
    response = await client.get(link.group(0))
    assert response.status_code == 200
    text = pdf_text(response.content)
    for expected in (
        "回访记录",
        "王堃",
        "李二房东",
        "部分履行",
        "基本满意",
        "押金已退一半",
        "壹仟伍佰元整",
        "尚未履行",
        "回访方式：上门或实地走访",
        "回访地点：梅园小区3幢",
        "一、李二房东退还押金人民币1,500.00元",
        "被回访人：王堃",
    ):
        assert expected in text, expected
    assert text.count("人民币1,500.00元") == 1
    client.cookies.clear()
    await login(client, "grid4")  # another community
    assert (await client.get(link.group(0))).status_code in (403, 404)


async def test_the_session_record_prints_who_was_there_and_what_was_said(client, new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    session_id, _ = await sessions.schedule_session(
        mediator1, case_id, datetime(2031, 6, 1, 9, tzinfo=TZ), 60, "二楼调解室", "in_person", None
    )
    await sessions.add_participant(mediator1, session_id, "王堃", "party", "applicant")
    await sessions.add_participant(mediator1, session_id, "𠮷野昇", "party", "respondent")
    await sessions.add_minute(mediator1, session_id, "王堃", "要求退还押金三千元。")
    await sessions.add_minute(mediator1, session_id, "𠮷野昇", "同意退一半。")
    await login(client, "mediator1")
    response = await client.get(f"/cases/{case_id}/sessions/{session_id}/record.pdf")
    assert response.status_code == 200
    text = pdf_text(response.content)
    for expected in (
        "调解笔录",
        "二楼调解室",
        "王堃",
        "𠮷野昇",
        "要求退还押金三千元。",
        "同意退一半。",
    ):
        assert expected in text, expected


async def test_the_termination_notice_gives_the_reason_and_the_other_channels(client, new_key):
    grid1 = await user("grid1")
    case_id = await _case_in_mediation(new_key)
    await services.transition_case(
        grid1,
        case_id,
        "terminate",
        {"termination_reason": "positions_too_far", "referral_advice": "litigation"},
    )
    await login(client, "mediator1")
    response = await client.get(f"/cases/{case_id}/termination.pdf")
    assert response.status_code == 200
    text = pdf_text(response.content)
    case = await services.case_for(grid1, case_id)
    assert case is not None
    for expected in ("终止调解通知书", case.number, "王堃", "李二房东", "第二十六条"):
        assert expected in text, expected
    # Labels are rendered in the print locale (zh_CN) whatever the caller's locale.
    from mediation import i18n

    token = i18n.set_locale("zh_CN")
    try:
        reason = str(workflow.TERMINATION_REASON_LABELS["positions_too_far"])
    finally:
        token.var.reset(token)
    assert re.sub(r"\s+", "", reason) in text and "依法向有管辖权的人民法院提起诉讼" in text


async def test_the_case_file_holds_registration_sessions_agreements_and_visits(client, new_key):
    mediator1 = await user("mediator1")
    case_id, agreement_id = await _effective_agreement(new_key)
    session_id, _ = await sessions.schedule_session(
        mediator1, case_id, datetime(2031, 6, 2, 9, tzinfo=TZ), 60, "", "in_person", None
    )
    await sessions.add_minute(mediator1, session_id, "调解员", "双方同意按协议履行。")
    # A closed session's event: its note (the outcome in the mediator's language) repeats
    # the recorded outcome.
    await record_event(
        case_id,
        mediator1,
        "session_closed",
        changes={"outcome": [None, "agreement"]},
        note="达成协议",
    )
    await login(client, "mediator1")
    await post_form(
        client,
        f"/cases/{case_id}/follow-ups",
        {
            "visited_on": services.today().isoformat(),
            "performance": "performed",
            "satisfaction": "satisfied",
            "note": "已全部退还",
        },
    )
    response = await client.get(f"/cases/{case_id}/file.pdf")
    assert response.status_code == 200
    text = pdf_text(response.content)
    number = (await agreements.agreement_for(mediator1, agreement_id)).number
    for expected in ("卷宗", "王堃", "双方同意按协议履行。", number, "壹仟伍佰元整", "已全部退还"):
        assert expected in text, expected
    # The cover, and the contents with page numbers; the agreement with its full terms and
    # signature record; labels, never codes, on the timeline.
    for expected in (
        "案由房屋宅基地：学生提前退租，二房东扣押押金",
        "当事人王堃、李二房东",
        "调解员",
        "受理日期",
        "结案日期",
        "调解结果",
        "立卷人沈建华",
        "立卷日期",
        "保管期限长期",
        "一、李二房东退还押金人民币1,500.00元",
        "签署情况：",
    ):
        assert expected in text, expected
    # The filed copy carries every element of the agreement as signed (Art. 29): facts,
    # points in dispute, each party's responsibility, the terms, other matters and copies.
    filed = text[text.index(number, text.index("登记")) :]
    for expected in (
        "纠纷主要事实、争议事项：租客提前退租，二房东扣押押金。争议事项：押金是否退还。",
        "各方当事人的责任：双方各有责任。",
        "协议内容：",
        "其他事项：本协议具有法律约束力",
        "本协议一式三份",
    ):
        assert expected in filed, expected
    # One signature a line, without gaps stretched into it.
    signed = print_date(services.today())
    for expected in (
        f"当事人王堃于{signed}签名。",
        f"调解员沈建华于{signed}签名。",
        f"调解委员会印章于{signed}加盖。",
    ):
        assert expected in filed, expected
    layout = pdf_layout(response.content)
    assert re.search(r"调解员 {2,}沈建华", layout[layout.index("签署情况") :]) is None
    # The timeline states a closed session's outcome once.
    assert "调解结果：达成协议" in text
    assert "达成协议（达成协议）" not in text
    assert re.search(r"登记\.{3,}3", text), "the contents give page numbers"
    assert "签署人：seal" not in text and "T0" not in text


async def test_oral_and_supplementary_agreements_print_under_their_own_titles(new_key):
    mediator1 = await user("mediator1")
    case_id, agreement_id = await _effective_agreement(new_key)
    oral = await agreements.create_agreement(mediator1, case_id, "oral")
    await agreements.update_draft(mediator1, oral, "", "", "", "", "当场退还押金。", 3, [])
    supplement = await agreements.create_agreement(
        mediator1, case_id, "written", supplements=agreement_id
    )
    oral_context = await agreements.print_context(mediator1, oral, "http://testserver")
    supplement_context = await agreements.print_context(mediator1, supplement, "http://testserver")
    from mediation.documents.pdf import render_pdf

    assert "口头调解协议登记" in pdf_text(render_pdf("documents/agreement.html", oral_context))
    assert "人民调解补充协议书" in pdf_text(
        render_pdf("documents/agreement.html", supplement_context)
    )


def _recorded_actions() -> set[str]:
    """Every literal action passed to record_event(case, actor, "<action>", ...) in the code,
    and to the sweeps' batched _record([(case, "<action>", ...), ...])."""
    actions = set()
    for path in (ROOT / "mediation").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if (
                name == "record_event"
                and len(node.args) >= 3
                and isinstance(node.args[2], ast.Constant)
            ):
                actions.add(node.args[2].value)
            elif name == "_record" and node.args:
                for event in ast.walk(node.args[0]):
                    if (
                        isinstance(event, ast.Tuple)
                        and len(event.elts) == 6
                        and isinstance(event.elts[1], ast.Constant)
                    ):
                        actions.add(event.elts[1].value)
    return actions


async def test_every_timeline_event_has_a_label():
    actions = _recorded_actions()
    assert {"registered", "agreement_signed", "clause_overdue"} <= actions, "the scan is vacuous"
    known = set(EVENT_LABELS) | {a.value for a in workflow.CaseAction}
    assert actions - known == set()


async def test_the_timeline_shows_recorded_codes_as_labels(client, new_key):
    case_id = await _case_in_mediation(new_key)
    grid1 = await user("grid1")
    await services.transition_case(grid1, case_id, "escalate", {})
    await login(client, "grid1")
    page = (await client.get(f"/cases/{case_id}")).text
    timeline = page[page.index('class="timeline"') :]
    assert "绿色" in timeline and "→ green" not in timeline
    assert "网格 → 村（社区）" in timeline and "grid → community" not in timeline
    assert labels.change_value("colour", None) == "—"
    assert labels.change_value("room", "二楼调解室") == "二楼调解室"
    # A recorded flag reads as a word, never as Python's True/False.
    from mediation.i18n import reset_locale, set_locale

    token = set_locale("zh_CN")
    try:
        assert str(labels.change_value("judicially_confirmed", True)) == "是"
        assert str(labels.change_value("judicially_confirmed", False)) == "否"
    finally:
        reset_locale(token)
