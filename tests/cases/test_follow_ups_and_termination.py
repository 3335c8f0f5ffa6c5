"""Follow-up visits of a case that ended with or without an agreement, their dates, what a
termination keeps of what was typed, and the timeline's own notes in the reader's language."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from mediation.cases import followups, services
from mediation.cases.tables import Case, CaseEvent, FollowUp
from tests.cases.conftest import user
from tests.cases.test_performance_and_documents import _effective_agreement, pdf_text
from tests.cases.test_sessions_and_agreements import _case_in_mediation
from tests.helpers import login, post_form, text_of

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("release_mediators")]


async def _terminated(new_key, **facts) -> int:
    case_id = await _case_in_mediation(new_key)
    await services.transition_case(
        await user("mediator1"),
        case_id,
        "terminate",
        {"termination_reason": "positions_too_far", "referral_advice": "litigation", **facts},
    )
    return case_id


def _zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- A visit of a case that ended without an agreement records no performance (finding 3) ---


async def test_a_visit_of_a_case_terminated_without_agreement_asks_for_no_performance(
    client, new_key
):
    case_id = await _terminated(new_key)
    await login(client, "mediator1")
    page = (await client.get(f"/cases/{case_id}")).text
    form = page[page.index('id="follow-up-form"') :]
    form = form[: form.index("</form>")]
    assert 'name="performance"' not in form
    assert "调解未达成协议，回访不记录协议履行情况。" in text_of(form)

    response = await post_form(
        client,
        f"/cases/{case_id}/follow-ups",
        {
            "visited_on": services.today().isoformat(),
            "satisfaction": "basically",
            "note": "双方已起诉",
        },
    )
    assert response.status_code == 303
    visit = await FollowUp.select().where(FollowUp.case == case_id).first()
    assert visit["performance"] == ""
    event = (
        await CaseEvent.select()
        .where(CaseEvent.case == case_id, CaseEvent.action == "follow_up")
        .output(load_json=True)
        .first()
    )
    assert "performance" not in event["changes"]

    page = (await client.get(f"/cases/{case_id}")).text
    listed = page[page.index('id="follow-ups"') :]
    listed = text_of(listed[: listed.index("</ul>")])
    timeline = text_of(page[page.index('class="timeline"') :])
    assert "双方已起诉" in listed and "基本满意" in listed
    for shown in (listed, timeline):
        assert "已全部履行" not in shown and "履行情况" not in shown
    record = pdf_text(
        (await client.get(f"/cases/{case_id}/follow-ups/{visit['id']}/record.pdf")).content
    )
    assert "回访记录" in record and "双方已起诉" in record and "基本满意" in record
    assert "履行" not in record, "a mediation without agreement has no performance line"
    case_file = pdf_text((await client.get(f"/cases/{case_id}/file.pdf")).content)
    assert "双方已起诉" in case_file and "基本满意" in case_file
    assert "已全部履行" not in case_file and "履行情况" not in case_file


async def test_a_performance_sent_for_a_case_without_agreement_is_refused_beside_the_field(
    client, new_key
):
    case_id = await _terminated(new_key)
    await login(client, "mediator1")
    response = await post_form(
        client,
        f"/cases/{case_id}/follow-ups",
        {"visited_on": services.today().isoformat(), "performance": "performed", "note": "回访"},
    )
    assert response.status_code == 422
    assert 'id="fu-performance-error"' in response.text
    assert "调解未达成协议，没有需要记录的协议履行情况。" in text_of(response.text)
    assert await FollowUp.count().where(FollowUp.case == case_id) == 0


async def test_a_visit_recorded_earlier_with_a_performance_prints_none_for_a_case_without_agreement(
    client, new_key
):
    """Visits stored before the fix said 已全部履行 for terminated cases: never printed again."""
    case_id = await _terminated(new_key)
    mediator1 = await user("mediator1")
    old = FollowUp(
        case=case_id,
        visited_on=services.today(),
        visited_by=mediator1.id,
        performance="performed",
        satisfaction="satisfied",
        note="旧记录",
    )
    await old.save()
    await login(client, "mediator1")
    record = pdf_text(
        (await client.get(f"/cases/{case_id}/follow-ups/{old.id}/record.pdf")).content
    )
    assert "旧记录" in record and "已全部履行" not in record
    case_file = pdf_text((await client.get(f"/cases/{case_id}/file.pdf")).content)
    assert "旧记录" in case_file and "已全部履行" not in case_file
    page = (await client.get(f"/cases/{case_id}")).text
    listed = page[page.index('id="follow-ups"') :]
    assert "旧记录" in listed and "已全部履行" not in text_of(listed[: listed.index("</ul>")])


async def test_a_visit_of_a_case_with_an_agreement_has_no_performance_chosen_for_the_user(
    client, new_key
):
    case_id, _agreement = await _effective_agreement(new_key)
    await login(client, "mediator1")
    page = (await client.get(f"/cases/{case_id}")).text
    select = re.search(r'<select id="fu-perf"[^>]*>(.*?)</select>', page, re.S)
    assert select, "the performance is asked"
    assert "required" in select.group(0)[: select.group(0).index(">")]
    assert re.search(r'<option value="" selected>', select.group(1))
    assert not re.search(r'value="(performed|partly|not)" selected', select.group(1))

    response = await post_form(
        client,
        f"/cases/{case_id}/follow-ups",
        {"visited_on": services.today().isoformat(), "performance": "", "note": "押金退了一半"},
    )
    assert response.status_code == 422
    assert 'id="fu-performance-error"' in response.text
    assert "请选择协议履行情况。" in text_of(response.text)
    assert "押金退了一半" in response.text
    assert await FollowUp.count().where(FollowUp.case == case_id) == 0

    response = await post_form(
        client,
        f"/cases/{case_id}/follow-ups",
        {"visited_on": services.today().isoformat(), "performance": "partly", "note": "退了一半"},
    )
    assert response.status_code == 303
    visit = await FollowUp.select().where(FollowUp.case == case_id).first()
    record = pdf_text(
        (await client.get(f"/cases/{case_id}/follow-ups/{visit['id']}/record.pdf")).content
    )
    assert "协议履行情况：部分履行" in record


async def test_a_breached_agreement_terminated_afterwards_still_has_its_performance_recorded(
    new_key,
):
    case_id, _agreement = await _effective_agreement(new_key)
    mediator1 = await user("mediator1")
    await services.transition_case(mediator1, case_id, "record_breach", {})
    await services.transition_case(
        mediator1,
        case_id,
        "terminate",
        {"termination_reason": "party_refuses", "referral_advice": "litigation"},
    )
    assert (await followups.visit_rules(case_id)).performance
    with pytest.raises(services.CaseError) as refused:
        await followups.record_follow_up(mediator1, case_id, services.today(), "", "", "")
    assert refused.value.field == "performance"
    await followups.record_follow_up(mediator1, case_id, services.today(), "not", "", "")


# --- A visit comes after the end of mediation, in Beijing dates (finding 5) ---


async def test_a_visit_before_the_mediation_ended_is_refused_in_beijing_dates(client, new_key):
    # 22:30 UTC is 06:30 the next day in Beijing: the case ends on the Beijing date.
    instant = datetime(2026, 11, 30, 22, 30, tzinfo=UTC)
    beijing_day, utc_day = date(2026, 12, 1), date(2026, 11, 30)
    with time_machine.travel(instant, tick=False):
        case_id = await _terminated(new_key)
        row = await Case.select(Case.registered_on, Case.concluded_on).where(Case.id == case_id)
        assert row[0]["registered_on"] == row[0]["concluded_on"] == beijing_day
        await login(client, "mediator1")
        response = await post_form(
            client,
            f"/cases/{case_id}/follow-ups",
            {"visited_on": utc_day.isoformat(), "satisfaction": "", "note": "电话回访"},
        )
        assert response.status_code == 422
        error = re.search(r'<p class="error" id="fu-visited_on-error">(.*?)</p>', response.text)
        assert error, "the message is beside the date field"
        assert error.group(1) == f"回访日期不能早于调解结束之日（{_zh(beijing_day)}）。"
        assert f'value="{utc_day.isoformat()}"' in response.text and "电话回访" in response.text
        assert await FollowUp.count().where(FollowUp.case == case_id) == 0

        response = await post_form(
            client,
            f"/cases/{case_id}/follow-ups",
            {"visited_on": beijing_day.isoformat(), "satisfaction": "", "note": "电话回访"},
        )
        assert response.status_code == 303
        assert await FollowUp.count().where(FollowUp.case == case_id) == 1


async def test_a_visit_before_the_agreement_took_effect_is_refused(new_key):
    case_id, _agreement = await _effective_agreement(new_key)
    mediator1 = await user("mediator1")
    with pytest.raises(services.CaseError) as refused:
        await followups.record_follow_up(
            mediator1, case_id, services.today() - timedelta(days=1), "partly", "", ""
        )
    assert refused.value.field == "visited_on"
    assert refused.value.message == (f"回访日期不能早于调解结束之日（{_zh(services.today())}）。")


async def test_a_visit_before_the_case_was_registered_is_refused(new_key):
    """A case ended before the end date was recorded has only its registration to go by."""
    case_id = await _terminated(new_key)
    registered = services.today() - timedelta(days=10)
    await Case.update({Case.registered_on: registered, Case.concluded_on: None}).where(
        Case.id == case_id
    )
    mediator1 = await user("mediator1")
    with pytest.raises(services.CaseError) as refused:
        await followups.record_follow_up(mediator1, case_id, date(2025, 1, 1), "", "", "")
    assert refused.value.field == "visited_on"
    assert refused.value.message == f"回访日期不能早于纠纷登记之日（{_zh(registered)}）。"
    await followups.record_follow_up(mediator1, case_id, registered, "", "", "")


# --- What a termination keeps of what was typed (finding 6) ---


async def test_the_termination_explanation_reaches_the_timeline_and_the_notice(client, new_key):
    case_id = await _case_in_mediation(new_key)
    case = await Case.select(Case.version).where(Case.id == case_id).first()
    await login(client, "mediator1")
    response = await post_form(
        client,
        f"/cases/{case_id}/move",
        {
            "action": "terminate",
            "version": str(case["version"]),
            "termination_reason": "positions_too_far",
            "termination_text": "说明文字ABC",
            "referral_advice": "litigation",
            "note": "备注文字XYZ",
        },
    )
    assert response.status_code == 303, text_of(response.text)[:300]
    page = (await client.get(f"/cases/{case_id}")).text
    timeline = text_of(page[page.index('class="timeline"') :])
    assert "说明文字ABC" in timeline and "备注文字XYZ" in timeline
    notice = pdf_text((await client.get(f"/cases/{case_id}/termination.pdf")).content)
    assert "双方分歧过大，难以达成协议（说明文字ABC）" in notice
    case_file = pdf_text((await client.get(f"/cases/{case_id}/file.pdf")).content)
    assert "说明文字ABC" in case_file


async def test_an_other_reason_prints_the_mediators_own_wording_alone(client, new_key):
    case_id = await _terminated(new_key, termination_reason="other", termination_text="当事人去世")
    await login(client, "mediator1")
    notice = pdf_text((await client.get(f"/cases/{case_id}/termination.pdf")).content)
    assert "因当事人去世，本委员会决定终止调解。" in notice


# --- The timeline's own notes in the reader's language (finding 12) ---


async def test_the_english_timeline_shows_the_apps_notes_in_english(client, new_key):
    case_id = await _case_in_mediation(new_key)
    for note in ("达成协议", "打印了完整的身份证号码和电话号码", "当事人自己写的备注"):
        await CaseEvent(case=case_id, action="session_closed", note=note).save()
    await login(client, "mediator1")
    client.cookies.set("lang", "en")
    page = (await client.get(f"/cases/{case_id}")).text
    timeline = text_of(page[page.index('class="timeline"') :])
    assert "Agreement reached" in timeline
    assert "Printed with full ID numbers and phone numbers" in timeline
    assert "当事人自己写的备注" in timeline
    assert "达成协议" not in timeline and "打印了完整的身份证号码" not in timeline
    client.cookies.set("lang", "zh_CN")
    page = (await client.get(f"/cases/{case_id}")).text
    timeline = text_of(page[page.index('class="timeline"') :])
    assert "达成协议" in timeline and "打印了完整的身份证号码和电话号码" in timeline
