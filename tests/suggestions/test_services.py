"""Suggestions against the database: intake, tracking, rating, routing, confidentiality."""

from __future__ import annotations

import pytest

from mediation.cases.tables import Case
from mediation.grid.tables import Department, Staff
from mediation.suggestions import services
from mediation.suggestions.tables import Suggestion
from tests.cases.conftest import grid_id, user

pytestmark = pytest.mark.anyio

GOOD = {
    "topic": "梅园小区门口增设电动自行车充电桩",
    "reason": "小区居民电动车多，楼道私拉电线充电存在火灾隐患。",
    "measures": "在小区东门空地建设集中充电棚，由物业统一管理。",
    "name": "周玥",
    "phone": "13812340000",
    "reply_by_phone": "1",
    "confidential": "",
    "consent_to_publish": "1",
}


async def _submit(**overrides):
    values = {**GOOD, **overrides}
    cleaned, errors, receipt = await services.submit_suggestion(values, "web")
    assert errors == {}, errors
    return receipt


async def test_a_suggestion_needs_its_three_elements_and_keeps_what_was_typed():
    cleaned, errors, receipt = await services.submit_suggestion(
        {**GOOD, "measures": "", "topic": ""}, "web"
    )
    assert receipt is None
    assert set(errors) == {"topic", "measures"}
    assert cleaned["reason"] == GOOD["reason"]


async def test_the_honeypot_silently_refuses_a_robot():
    _cleaned, errors, receipt = await services.submit_suggestion(
        {**GOOD, "website": "http://spam.example"}, "web"
    )
    assert receipt is None and "spam" in errors


async def test_tracking_needs_the_right_secret_and_reveals_nothing_otherwise():
    code, secret = await _submit()
    found = await services.track(code, secret)
    assert found.title == GOOD["topic"] and found.status == "received"
    assert await services.track(code, "000000" if secret != "000000" else "111111") is None
    assert await services.track("JY-2000-AAAAAA", secret) is None
    assert not hasattr(found, "proposer_name") and not hasattr(found, "proposer_phone")


async def _replied(code: str) -> int:
    admin = await user("admin")
    sid = (await Suggestion.select(Suggestion.id).where(Suggestion.tracking_code == code).first())[
        "id"
    ]
    dept = (await Department.select(Department.id).where(Department.code == "zjj").first())["id"]
    await services.move(admin, sid, "register", {})
    await services.move(admin, sid, "transfer", {"department": str(dept)})
    handler = await user("handler1")
    await services.move(handler, sid, "start_handling", {})
    await services.move(
        handler, sid, "reply", {"outcome": "adopted", "reply_text": "已纳入明年计划。"}
    )
    return sid


async def test_not_satisfied_reopens_once_and_only_once():
    code, secret = await _submit()
    sid = await _replied(code)
    assert await services.rate(code, secret, "not_satisfied") is True
    row = await Suggestion.select().where(Suggestion.id == sid).first()
    assert row["status"] == "handling" and row["times_reopened"] == 1
    handler = await user("handler1")
    await services.move(
        handler, sid, "reply", {"outcome": "partly_adopted", "reply_text": "再次答复。"}
    )
    assert await services.rate(code, secret, "not_satisfied") is False
    assert (await Suggestion.select(Suggestion.status).where(Suggestion.id == sid).first())[
        "status"
    ] == "replied"


async def test_a_department_never_sees_a_confidential_proposer():
    code, _secret = await _submit(confidential="1")
    sid = await _replied(code)
    handler = await user("handler1")
    row = await services.suggestion_for_staff(handler, sid)
    assert row.proposer_name == "" and row.proposer_phone == "" and row.identity_hidden
    assert GOOD["name"] not in str(row) and GOOD["phone"] not in str(row)
    admin = await user("admin")
    assert (await services.suggestion_for_staff(admin, sid)).proposer_name == GOOD["name"]


async def test_another_department_cannot_open_it():
    code, _secret = await _submit()
    sid = await _replied(code)
    handler2 = await user("handler2")  # a different department
    assert await services.suggestion_for_staff(handler2, sid) is None


async def test_a_grievance_becomes_a_linked_dispute_case_with_the_proposer():
    code, _secret = await _submit(topic="邻居装修噪音扰民", reason="楼上每天晚上十点后装修。")
    admin = await user("admin")
    sid = (await Suggestion.select(Suggestion.id).where(Suggestion.tracking_code == code).first())[
        "id"
    ]
    await services.move(admin, sid, "register", {})
    case_id = await services.reroute_to_case(admin, sid, await grid_id(), "neighbour")
    row = await Suggestion.select().where(Suggestion.id == sid).first()
    assert row["status"] == "rerouted" and row["case"] == case_id
    case = await Case.select().where(Case.id == case_id).first()
    assert case["source"] == "suggestion"
    from mediation.cases.tables import CaseEvent, Party

    party = await Party.select().where(Party.case == case_id).first()
    assert party["name"] == GOOD["name"] and party["phone"] == GOOD["phone"]
    event = (
        await CaseEvent.select()
        .where(CaseEvent.case == case_id, CaseEvent.action == "from_suggestion")
        .output(load_json=True)
        .first()
    )
    assert event["changes"]["suggestion"][1] == code


async def test_one_reply_reaches_every_proposer_of_a_group():
    first, _ = await _submit(topic="东湖路路灯不亮")
    second, secret2 = await _submit(topic="东湖路晚上太黑，路灯坏了")
    admin = await user("admin")
    ids = {}
    for code in (first, second):
        ids[code] = (
            await Suggestion.select(Suggestion.id).where(Suggestion.tracking_code == code).first()
        )["id"]
        await services.move(admin, ids[code], "register", {})
    await services.group_with(admin, ids[second], ids[first])
    dept = (await Department.select(Department.id).where(Department.code == "zfj").first())["id"]
    # Only the leader is routed and handled: the member follows it.
    await services.move(admin, ids[first], "transfer", {"department": str(dept)})
    await services.move(admin, ids[first], "start_handling", {})
    await services.move(
        admin, ids[first], "reply", {"outcome": "adopted", "reply_text": "已修复路灯。"}
    )
    tracked = await services.track(second, secret2)
    assert tracked.status == "replied" and tracked.reply_text == "已修复路灯。"


async def test_a_bound_device_opens_the_kiosk_and_revoking_closes_it():
    from mediation.suggestions.tables import DirectReportPoint

    point = DirectReportPoint(code="TEST-P1", name="测试直报点")
    await point.save()
    admin = await user("admin")
    link = await services.bind_device(admin, point.id)
    assert await services.point_for_token(link) is None  # the link itself opens nothing
    token = await services.exchange_bind_token(link)
    assert (await services.point_for_token(token)).id == point.id
    new_token = await services.exchange_bind_token(await services.bind_device(admin, point.id))
    assert await services.point_for_token(token) is None
    await services.revoke_device(admin, point.id)
    assert await services.point_for_token(new_token) is None
    assert await Staff.count() > 0
