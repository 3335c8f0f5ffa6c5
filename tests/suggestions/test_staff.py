"""Suggestion pages for the suggestion office and the departments.

Personas (demo county): centre1 staffs the 当湖街道 centre and sees that town plus suggestions
with no area; handler1 handles for 住建局 (zjj) and sees only what is transferred there;
handler2 is another department (rsj). admin sees everything.
"""

from __future__ import annotations

import io
import re
import uuid

import pytest

from mediation.cases.tables import Case
from mediation.grid.tables import AuditEvent, Department, Region
from mediation.suggestions import services
from mediation.suggestions.tables import Suggestion, SuggestionTopic
from tests.cases.conftest import grid_id, user
from tests.helpers import login, post_form, text_of

pytestmark = pytest.mark.anyio

SECRET_NAME = "欧阳玥"
SECRET_PHONE = "13955557777"


async def _region(code: str) -> str:
    return str((await Region.select(Region.id).where(Region.code == code).first())["id"])


async def _department(code: str) -> str:
    return str(
        (await Department.select(Department.id).where(Department.code == code).first())["id"]
    )


async def _submit(title: str = "", **overrides) -> int:
    """A suggestion as a citizen files it; a unique topic keeps tests apart."""
    values = {
        "topic": title or f"东湖路增设公交站台 {uuid.uuid4().hex[:6]}",
        "reason": "东湖路沿线小区多，最近的公交站要走一公里。",
        "measures": "在东湖路与梅园路口增设公交站台。",
        "name": "周玥",
        "phone": "13812340000",
        "reply_by_phone": "1",
        **overrides,
    }
    _cleaned, errors, receipt = await services.submit_suggestion(values, "web")
    assert errors == {}, errors
    code = receipt[0]
    row = await Suggestion.select(Suggestion.id).where(Suggestion.tracking_code == code).first()
    return row["id"]


async def _transferred(sid: int, department: str = "zjj") -> None:
    admin = await user("admin")
    await services.move(admin, sid, "register", {})
    await services.move(admin, sid, "transfer", {"department": await _department(department)})


async def _status(sid: int) -> dict:
    return await Suggestion.select().where(Suggestion.id == sid).first()


# ---------------------------------------------------------------- staff entry


async def test_staff_enter_a_phoned_in_suggestion_and_get_a_code_and_secret_to_read_out(client):
    await login(client, "centre1")
    response = await post_form(
        client,
        "/suggestions/new",
        {
            "channel": "phone",
            "topic": "南市社区菜场门口早高峰拥堵",
            "reason": "早上七点菜场门口摊位占道。",
            "measures": "划定临时摊位区。",
            "name": "陆昇",
            "phone": "0573-85012345",
            "region": await _region("330482001003"),
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/suggestions/new/receipt"
    page = (await client.get("/suggestions/new/receipt")).text
    code = re.search(r'id="receipt-code">(JY-\d{4}-[A-Z0-9]{6})<', page).group(1)
    secret = re.search(r'id="receipt-secret">(\d{6})<', page).group(1)
    assert (await services.track(code, secret)).title == "南市社区菜场门口早高峰拥堵"
    row = await Suggestion.select().where(Suggestion.tracking_code == code).first()
    assert row["channel"] == "phone" and row["proposer_phone"] == "057385012345"
    # Shown once: the secret is not kept anywhere to be shown again.
    again = await client.get("/suggestions/new/receipt", follow_redirects=False)
    assert again.status_code == 303 and secret not in again.text


async def test_staff_entry_with_missing_elements_keeps_what_was_typed(client):
    await login(client, "centre1")
    response = await post_form(
        client,
        "/suggestions/new",
        {"channel": "hotline_12345", "topic": "路灯不亮", "reason": "", "measures": ""},
    )
    assert response.status_code == 422
    assert 'id="reason-error"' in response.text and 'id="measures-error"' in response.text
    assert 'value="路灯不亮"' in response.text


async def test_staff_entry_refuses_a_channel_that_is_not_typed_in_by_staff(client):
    await login(client, "centre1")
    response = await post_form(
        client,
        "/suggestions/new",
        {"channel": "web", "topic": "t", "reason": "r", "measures": "m"},
    )
    assert response.status_code == 422 and 'id="channel-error"' in response.text


async def test_a_department_cannot_enter_suggestions(client):
    await login(client, "handler1")
    assert (await client.get("/suggestions/new")).status_code == 403


# ---------------------------------------------------------------- list and scoping


async def test_each_sees_only_their_own_suggestions(client):
    tag = uuid.uuid4().hex[:6]
    in_town = await _submit(f"当湖 {tag}", region=await _region("330482001001"))
    other_town = await _submit(f"新埭 {tag}", region=await _region("330482101001"))
    nowhere = await _submit(f"无区域 {tag}")
    await _transferred(in_town, "zjj")
    await _transferred(other_town, "rsj")

    await login(client, "handler1")
    page = (await client.get("/suggestions")).text
    assert f"当湖 {tag}" in page
    assert f"新埭 {tag}" not in page and f"无区域 {tag}" not in page
    assert (await client.get(f"/suggestions/{other_town}")).status_code == 404

    client.cookies.clear()
    await login(client, "centre1")
    page = (await client.get("/suggestions")).text
    # centre1 works in 当湖街道: that town's suggestions and those with no area yet.
    assert f"当湖 {tag}" in page and f"无区域 {tag}" in page
    assert f"新埭 {tag}" not in page
    assert (await client.get(f"/suggestions/{nowhere}")).status_code == 200


async def test_the_list_shows_due_dates_and_overdue_marks(client):
    sid = await _submit()
    await Suggestion.update({Suggestion.overdue: True}).where(Suggestion.id == sid)
    await login(client, "admin")
    page = (await client.get("/suggestions?status=received")).text
    row = page[page.index(f'href="/suggestions/{sid}"') :].split("</tr>")[0]
    assert "超期" in row or "Overdue" in row
    assert "年" in row  # the due date, in Chinese date format


async def test_the_status_filter_answers_htmx_with_just_the_rows(client):
    await _submit()
    await login(client, "centre1")
    full = await client.get("/suggestions?status=received")
    assert full.status_code == 200 and "<html" in full.text and 'id="suggestion-rows"' in full.text
    fragment = await client.get("/suggestions?status=received", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and fragment.text.lstrip().startswith(
        '<div id="suggestion-rows">'
    )


# ---------------------------------------------------------------- confidentiality


async def test_a_department_never_sees_a_confidential_proposer_anywhere(client):
    sid = await _submit(name=SECRET_NAME, phone=SECRET_PHONE, confidential="1")
    await _transferred(sid)
    await login(client, "handler1")
    pages = [
        (await client.get(f"/suggestions/{sid}")).text,
        (await client.get("/suggestions")).text,
        (await post_form(client, f"/suggestions/{sid}/phone", {})).text,
        (
            await post_form(client, f"/suggestions/{sid}/phone", {}, headers={"HX-Request": "true"})
        ).text,
    ]
    for html in pages:
        assert SECRET_NAME not in html
        assert SECRET_PHONE not in html and SECRET_PHONE[-4:] not in html
    assert "应建议人要求，身份信息不予显示" in pages[0]

    client.cookies.clear()
    await login(client, "admin")
    page = (await client.get(f"/suggestions/{sid}")).text
    assert SECRET_NAME in page and SECRET_PHONE not in page  # masked until asked for


def _cells(xlsx: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(xlsx), read_only=True)
    return [
        ["" if v is None else str(v) for v in row]
        for row in book.active.iter_rows(values_only=True)
    ]


async def test_the_spreadsheet_export_keeps_the_scope_and_the_confidentiality(client):
    secret = await _submit(name=SECRET_NAME, phone=SECRET_PHONE, confidential="1")
    open_one = await _submit(name="周玥", phone="13811112222")
    elsewhere = await _submit(name="钱昇", phone="13833334444")
    for sid in (secret, open_one):
        await _transferred(sid)
    await _transferred(elsewhere, "jtj")  # another department
    codes = {
        r["id"]: r["tracking_code"]
        for r in await Suggestion.select(Suggestion.id, Suggestion.tracking_code).where(
            Suggestion.id.is_in([secret, open_one, elsewhere])
        )
    }

    await login(client, "handler1")
    response = await client.get("/suggestions/export.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    rows = _cells(response.content)
    assert rows[0][:2] == ["查询码", "收到日期"] and rows[0][10:12] == ["办理结果", "答复时间"]
    by_code = {r[0]: r for r in rows[1:]}
    assert codes[secret] in by_code and codes[open_one] in by_code
    assert codes[elsewhere] not in by_code, "another department's suggestion"
    flat = " ".join(" ".join(r) for r in rows)
    assert SECRET_NAME not in flat and SECRET_PHONE not in flat and "5555" not in flat
    assert by_code[codes[secret]][-2:] == ["（保密）", "（保密）"]
    assert by_code[codes[open_one]][-2:] == ["周玥", "138****2222"]  # phones stay masked
    assert "13811112222" not in flat

    client.cookies.clear()
    await login(client, "admin")
    rows = _cells((await client.get("/suggestions/export.xlsx?status=transferred")).content)
    by_code = {r[0]: r for r in rows[1:]}
    assert {codes[secret], codes[open_one], codes[elsewhere]} <= set(by_code)
    assert by_code[codes[secret]][-2:] == [SECRET_NAME, "139****7777"]
    assert all(r[8] == "已转办" for r in rows[1:]), "the status filter applies"
    assert await AuditEvent.exists().where(
        AuditEvent.action == "export", AuditEvent.entity == "suggestion"
    )


async def test_showing_the_phone_in_full_is_a_recorded_htmx_swap(client):
    sid = await _submit(phone=SECRET_PHONE)
    await login(client, "admin")
    page = (await client.get(f"/suggestions/{sid}")).text
    assert "139****7777" in page and SECRET_PHONE not in page
    fragment = await post_form(
        client, f"/suggestions/{sid}/phone", {}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert SECRET_PHONE in fragment.text
    full = await post_form(client, f"/suggestions/{sid}/phone", {})
    assert "<html" in full.text and SECRET_PHONE in full.text
    timeline = (await client.get(f"/suggestions/{sid}")).text
    assert timeline.count("查看了完整电话号码") == 2


# ---------------------------------------------------------------- the flow


async def test_register_transfer_handle_and_reply_reaches_the_grouped_suggestion(client):
    tag = uuid.uuid4().hex[:6]
    leader = await _submit(f"东湖路路灯不亮 {tag}")
    member = await _submit(f"东湖路晚上太黑 路灯坏了 {tag}")
    await login(client, "centre1")
    for sid in (leader, member):
        response = await post_form(client, f"/suggestions/{sid}/move", {"action": "register"})
        assert response.status_code == 303
    response = await post_form(client, f"/suggestions/{member}/group", {"leader": str(leader)})
    assert response.status_code == 303
    assert (await _status(member))["group_leader"] == leader
    dept = await _department("zjj")
    # Only the leader is routed: the member follows it.
    response = await post_form(
        client, f"/suggestions/{leader}/move", {"action": "transfer", "department": dept}
    )
    assert response.status_code == 303
    assert (await _status(member))["status"] == "transferred"

    client.cookies.clear()
    await login(client, "handler1")
    page = (await client.get(f"/suggestions/{leader}")).text
    assert 'value="start_handling"' in page and 'value="transfer"' not in page
    assert 'value="start_handling"' not in (await client.get(f"/suggestions/{member}")).text
    response = await post_form(client, f"/suggestions/{leader}/move", {"action": "start_handling"})
    assert response.status_code == 303
    response = await post_form(
        client,
        f"/suggestions/{leader}/move",
        {"action": "reply", "outcome": "adopted", "reply_text": "已列入年度路灯维修计划。"},
    )
    assert response.status_code == 303
    for sid in (leader, member):
        row = await _status(sid)
        assert row["status"] == "replied" and row["reply_text"] == "已列入年度路灯维修计划。"


async def test_the_similar_suggestion_is_offered_for_grouping(client):
    tag = uuid.uuid4().hex[:6]
    first = await _submit(f"梅园小区门口增设电动自行车充电桩 {tag}")
    second = await _submit(f"梅园小区门口增设电动自行车充电桩 {tag}")
    await login(client, "admin")
    page = (await client.get(f"/suggestions/{second}")).text
    assert f'name="leader" value="{first}"' in page


async def test_a_reply_without_outcome_shows_the_error_beside_the_field_and_keeps_the_text(
    client,
):
    sid = await _submit()
    await _transferred(sid)
    await services.move(await user("handler1"), sid, "start_handling", {})
    await login(client, "handler1")
    response = await post_form(
        client, f"/suggestions/{sid}/move", {"action": "reply", "reply_text": "正在研究。"}
    )
    assert response.status_code == 422
    assert 'id="outcome-error"' in response.text and "正在研究。" in response.text
    assert 'id="reply_text-error"' not in response.text
    # Both left empty: both are marked at once, not one per try.
    both = await post_form(client, f"/suggestions/{sid}/move", {"action": "reply"})
    assert both.status_code == 422
    assert 'id="outcome-error"' in both.text and 'id="reply_text-error"' in both.text
    assert "请填写给建议人的答复。" in both.text


async def test_staff_record_a_reward_tier_for_an_adopted_suggestion_only(client):
    sid = await _submit()
    await _transferred(sid)
    await services.move(await user("admin"), sid, "start_handling", {})
    await login(client, "admin")
    refused = await post_form(
        client,
        f"/suggestions/{sid}/move",
        {
            "action": "reply",
            "outcome": "not_adopted",
            "reply_text": "暂不具备条件。",
            "reward_tier": "first",
        },
    )
    assert refused.status_code == 422 and 'id="reward_tier-error"' in refused.text
    assert (await _status(sid))["status"] == "handling"  # nothing half-done
    done = await post_form(
        client,
        f"/suggestions/{sid}/move",
        {"action": "reply", "outcome": "adopted", "reply_text": "采纳。", "reward_tier": "third"},
    )
    assert done.status_code == 303
    row = await _status(sid)
    assert row["status"] == "replied" and row["reward_tier"] == "third"


async def test_a_grievance_is_rerouted_to_a_linked_dispute_case(client):
    sid = await _submit("楼上邻居深夜装修噪音", name="王堃", phone="13812345678")
    await login(client, "centre1")
    await post_form(client, f"/suggestions/{sid}/move", {"action": "register"})
    response = await post_form(
        client,
        f"/suggestions/{sid}/move",
        {
            "action": "reroute",
            "reroute_to": "dispute_case",
            "grid": str(await grid_id()),
            "case_category": "neighbour",
        },
    )
    assert response.status_code == 303
    row = await _status(sid)
    assert row["status"] == "rerouted" and row["case"]
    number = (await Case.select(Case.number).where(Case.id == row["case"]).first())["number"]
    page = (await client.get(f"/suggestions/{sid}")).text
    assert f'href="/cases/{row["case"]}"' in page and number in page
    assert (await client.get(f"/cases/{row['case']}")).status_code == 200


async def test_rerouting_with_advice_needs_the_advice(client):
    sid = await _submit()
    await login(client, "centre1")
    await post_form(client, f"/suggestions/{sid}/move", {"action": "register"})
    response = await post_form(
        client, f"/suggestions/{sid}/move", {"action": "reroute", "reroute_to": "advice"}
    )
    assert response.status_code == 422 and 'id="advice_text-error"' in response.text
    response = await post_form(
        client,
        f"/suggestions/{sid}/move",
        {"action": "reroute", "reroute_to": "advice", "advice_text": "请向平湖市人民法院起诉。"},
    )
    assert response.status_code == 303
    assert (await _status(sid))["status"] == "rerouted"


async def test_an_illegal_step_is_refused_with_a_clear_message(client):
    sid = await _submit()
    await login(client, "centre1")
    response = await post_form(client, f"/suggestions/{sid}/move", {"action": "conclude"})
    assert response.status_code == 422
    assert "处于“已收到”状态的建议不能执行“办结”。" in text_of(response.text)
    assert (await _status(sid))["status"] == "received"


async def test_a_department_cannot_transfer(client):
    sid = await _submit()
    await _transferred(sid)
    await login(client, "handler1")
    response = await post_form(
        client,
        f"/suggestions/{sid}/move",
        {"action": "transfer", "department": await _department("rsj")},
    )
    assert response.status_code == 422
    assert "承办单位负责办理和答复；其他步骤由工作人员办理。" in response.text
    assert (await _status(sid))["status"] == "transferred"


async def test_another_department_cannot_open_or_move_it(client):
    sid = await _submit()
    await _transferred(sid)
    await login(client, "handler2")
    assert (await client.get(f"/suggestions/{sid}")).status_code == 404
    response = await post_form(client, f"/suggestions/{sid}/move", {"action": "start_handling"})
    assert response.status_code == 404
    assert (await _status(sid))["status"] == "transferred"


# ---------------------------------------------------------------- topics and points


async def test_staff_publish_a_thematic_collection(client):
    title = f"老旧小区加装电梯 {uuid.uuid4().hex[:6]}"
    await login(client, "centre1")
    refused = await post_form(
        client,
        "/suggestions/topics",
        {"title": title, "opens_on": "2026-05-01", "closes_on": "2026-04-01"},
    )
    assert refused.status_code == 422 and 'id="closes_on-error"' in refused.text
    assert f'value="{title}"' in refused.text
    from mediation.cases.services import today

    response = await post_form(
        client,
        "/suggestions/topics",
        {
            "title": title,
            "description": "征集加装电梯的资金分摊办法。",
            "opens_on": today().isoformat(),
            "closes_on": today().replace(year=today().year + 1).isoformat(),
        },
    )
    assert response.status_code == 303
    assert title in {t.title for t in await services.open_topics()}
    assert title in (await client.get("/suggestions/topics")).text
    await SuggestionTopic.delete().where(SuggestionTopic.title == title)


async def test_a_point_is_created_bound_to_a_tablet_and_revoked(client):
    code = f"P-{uuid.uuid4().hex[:6]}"
    await login(client, "centre1")
    response = await post_form(
        client,
        "/suggestions/points",
        {
            "code": code,
            "name": "东湖社区党群服务中心",
            "region": await _region("330482001001"),
            "address": "东湖路1号",
            "opening_hours": "周一至周五 9:00–17:00",
            "host_organisation": "东湖社区居民委员会",
        },
    )
    assert response.status_code == 303
    page = (await client.get("/suggestions/points")).text
    assert code in page
    from mediation.suggestions.tables import DirectReportPoint

    point = await DirectReportPoint.select().where(DirectReportPoint.code == code).first()
    bound = await post_form(client, f"/suggestions/points/{point['id']}/bind", {})
    assert bound.status_code == 200 and "data:image/svg+xml" in bound.text
    token = re.search(r"/kiosk/bind/([A-Za-z0-9_\-]+)", bound.text).group(1)
    assert token not in (await client.get("/suggestions/points")).text
    device = await services.exchange_bind_token(token)
    assert (await services.point_for_token(device)).id == point["id"]

    revoked = await post_form(client, f"/suggestions/points/{point['id']}/revoke", {})
    assert revoked.status_code == 303
    assert await services.point_for_token(device) is None


async def test_a_point_needs_a_unique_code_and_a_name(client):
    await login(client, "centre1")
    response = await post_form(
        client, "/suggestions/points", {"code": "", "name": "", "address": "东湖路2号"}
    )
    assert response.status_code == 422
    assert 'id="code-error"' in response.text and 'id="name-error"' in response.text
    assert 'value="东湖路2号"' in response.text


async def test_departments_cannot_manage_points_or_topics(client):
    await login(client, "handler1")
    assert (await client.get("/suggestions/points")).status_code == 403
    assert (await client.get("/suggestions/topics")).status_code == 403


def topic_badge(page: str, title: str) -> str:
    """The status badge of the topic's row on the topics page."""
    row = page.split(title, 1)[1].split("</tr>", 1)[0]
    return text_of(re.findall(r'<span class="badge[^"]*">.*?</span>', row)[-1]).strip()


async def test_a_topic_past_its_closing_day_in_beijing_reads_closed(client):
    from datetime import UTC, date, datetime

    import time_machine

    tag = uuid.uuid4().hex[:6]
    titles = {
        "closed": f"昨天截止的征集 {tag}",
        "open": f"今天截止的征集 {tag}",
        "later": f"明天开始的征集 {tag}",
    }
    await SuggestionTopic.insert(
        SuggestionTopic(
            title=titles["closed"], opens_on=date(2026, 11, 1), closes_on=date(2026, 11, 30)
        ),
        SuggestionTopic(
            title=titles["open"], opens_on=date(2026, 11, 1), closes_on=date(2026, 12, 1)
        ),
        SuggestionTopic(
            title=titles["later"], opens_on=date(2026, 12, 2), closes_on=date(2026, 12, 31)
        ),
    )
    # 00:30 on 1 December in Beijing; still 30 November by the server's UTC clock.
    with time_machine.travel(datetime(2026, 11, 30, 16, 30, tzinfo=UTC), tick=False):
        await login(client, "centre1")
        page = (await client.get("/suggestions/topics")).text
    assert topic_badge(page, titles["closed"]) == "已截止"
    assert topic_badge(page, titles["open"]) == "征集中"
    assert topic_badge(page, titles["later"]) == "未开放"
    await SuggestionTopic.delete().where(SuggestionTopic.title.like(f"%{tag}"))


async def test_publishing_a_topic_says_it_was_published(client):
    from mediation.cases.services import today

    title = f"停车位征集 {uuid.uuid4().hex[:6]}"
    await login(client, "centre1")
    response = await post_form(
        client,
        "/suggestions/topics",
        {
            "title": title,
            "opens_on": today().isoformat(),
            "closes_on": today().replace(year=today().year + 1).isoformat(),
        },
    )
    assert response.status_code == 303
    page = await client.get(response.headers["location"])
    notice = text_of(re.search(r'<div class="alert ok"[^>]*>(.*?)</div>', page.text).group(1))
    assert notice.startswith(f"已发布：“{title}”")
    assert f"{today().year}年{today().month}月{today().day}日" in notice
    # The plain page (and a made-up id) says nothing of it.
    assert "已发布" not in (await client.get("/suggestions/topics")).text
    assert "已发布" not in (await client.get("/suggestions/topics?published=99999999")).text
    await SuggestionTopic.delete().where(SuggestionTopic.title == title)
