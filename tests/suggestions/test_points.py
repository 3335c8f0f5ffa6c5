"""Direct-report points as citizens find them, and a place given on the citizen's form.

A point (直报点) has an address, opening hours, the organisation that runs it and a contact;
staff keep those up to date, the public board lists the points with this year's figures.
"""

from __future__ import annotations

import uuid

import pytest

from mediation.grid.tables import AuditEvent, Region
from mediation.suggestions import services
from mediation.suggestions.tables import DirectReportPoint, Suggestion
from tests.helpers import login, post_form, text_of

pytestmark = pytest.mark.anyio

POINT = {
    "name": "梅园社区议事厅直报点",
    "address": "平湖市当湖街道梅园路12号社区议事厅",
    "opening_hours": "周一至周五 9:00–17:00",
    "host_organisation": "梅园社区居民委员会",
    "contact_name": "王堃",
    "contact_phone": "0573-85012345",
}


async def _community() -> str:
    row = await Region.select(Region.id).where(Region.code == "330482001001").first()
    return str(row["id"])


async def test_staff_add_a_point_with_its_particulars_and_the_board_lists_it(client):
    await login(client, "centre1")
    code = f"ZBD-T{uuid.uuid4().hex[:6]}"
    response = await post_form(
        client, "/suggestions/points", {**POINT, "code": code, "region": await _community()}
    )
    assert response.status_code == 303, text_of(response.text)[:400]
    row = await DirectReportPoint.select().where(DirectReportPoint.code == code).first()
    for field, value in POINT.items():
        assert row[field] == value, field
    page = await client.get("/suggestions/points")
    assert POINT["opening_hours"] in page.text and POINT["host_organisation"] in page.text
    # A point's address is where it stands (地址), not a person's home (住址).
    assert '<label for="f-address">地址' in page.text and "住址" not in page.text

    client.cookies.clear()
    board = await client.get("/board")
    assert board.status_code == 200
    section = board.text[board.text.index('id="points"') :]
    for value in POINT.values():
        assert value in section, value
    assert "<dt>地址</dt>" in section and "住址" not in section


async def test_a_point_without_its_required_particulars_is_refused_beside_the_fields(client):
    await login(client, "centre1")
    response = await post_form(
        client,
        "/suggestions/points",
        {
            "code": f"ZBD-T{uuid.uuid4().hex[:6]}",
            "name": "缺信息的直报点",
            "region": await _community(),
            "contact_phone": "call me",
        },
    )
    assert response.status_code == 422
    for field in ("address", "opening_hours", "host_organisation", "contact_phone"):
        assert f'id="{field}-error"' in response.text, field
    assert 'value="缺信息的直报点"' in response.text  # what was typed is kept


async def test_staff_edit_a_point_and_the_change_is_recorded(client):
    await login(client, "centre1")
    code = f"ZBD-T{uuid.uuid4().hex[:6]}"
    await post_form(
        client, "/suggestions/points", {**POINT, "code": code, "region": await _community()}
    )
    point = await DirectReportPoint.select().where(DirectReportPoint.code == code).first()
    page = await client.get(f"/suggestions/points/{point['id']}")
    assert page.status_code == 200 and POINT["opening_hours"] in page.text
    changed = {**POINT, "code": code, "region": await _community()}
    changed["opening_hours"] = "每天 8:00–20:00"
    response = await post_form(client, f"/suggestions/points/{point['id']}", changed)
    assert response.status_code == 303
    row = await DirectReportPoint.select().where(DirectReportPoint.id == point["id"]).first()
    assert row["opening_hours"] == "每天 8:00–20:00"
    audit = (
        await AuditEvent.select()
        .where(
            AuditEvent.action == "update",
            AuditEvent.entity == "direct_report_point",
            AuditEvent.entity_id == str(point["id"]),
        )
        .first()
    )
    assert audit is not None


async def test_the_figures_per_point_count_this_years_suggestions(client):
    code = f"ZBD-T{uuid.uuid4().hex[:6]}"
    point = DirectReportPoint(code=code, name="统计直报点", address="某地")
    await point.save()
    for _ in range(2):
        _cleaned, errors, receipt = await services.submit_suggestion(
            {"topic": "路灯", "reason": "路灯坏了", "measures": "请修理"},
            "direct_report_point",
            point.id,
        )
        assert receipt is not None, errors
    figures = await services.point_figures()
    assert figures[point.id] == {"received": 2, "replied": 0}
    listed = {p.id: p for p in await services.public_points()}
    assert listed[point.id].figures["received"] == 2


# ---------------------------------------------------------------- the citizen's form


FORM = {
    "topic": "胜利路口增设左转信号",
    "reason": "早晚高峰左转车辆排队过长。",
    "measures": "增设左转专用相位。",
}


async def test_the_citizen_gives_an_address_and_coordinates(client):
    from tests.suggestions.test_public import _file

    topic = f"{FORM['topic']}（{uuid.uuid4().hex[:6]}）"
    code, _secret = await _file(
        client,
        topic=topic,
        address="东湖路与胜利路交叉口",
        lat="30.6985",
        long="121.0153",
    )
    row = await Suggestion.select().where(Suggestion.tracking_code == code).first()
    assert row["address"] == "东湖路与胜利路交叉口"
    assert (row["lat"], row["long"]) == (30.6985, 121.0153)
    await login(client, "admin")
    detail = await client.get(f"/suggestions/{row['id']}")
    assert "东湖路与胜利路交叉口" in detail.text and "30.6985, 121.0153" in detail.text


async def test_a_wrong_coordinate_is_refused_beside_the_field_and_the_text_is_kept(client):
    response = await post_form(
        client,
        "/suggest",
        {**FORM, "address": "东湖路口", "lat": "300", "long": ""},
    )
    assert response.status_code == 422
    assert 'id="lat-error"' in response.text and 'id="long-error"' in response.text
    assert 'value="东湖路口"' in response.text and 'value="300"' in response.text
    assert FORM["reason"] in response.text


def _row_of(html: str, point_id: int) -> str:
    start = html.index(f'id="point-{point_id}"')
    return html[start : html.index("</tr>", start)]


async def test_an_unused_binding_link_shows_on_the_list_and_can_be_cancelled_there(client):
    """A link someone left lying around ("do not send it to a chat group") is seen on the
    points list, with until when it binds, and is cancelled there without binding anything."""
    from tests.suggestions.test_public import _bind, _bound_point

    point_id, link = await _bound_point("竹林社区直报点")
    await login(client, "admin")
    row = _row_of((await client.get("/suggestions/points")).text, point_id)
    assert "绑定链接尚未使用" in row and "有效期至" in row
    assert f'action="/suggestions/points/{point_id}/revoke"' in row and "作废链接" in row
    response = await post_form(client, f"/suggestions/points/{point_id}/revoke", {})
    assert response.status_code == 303
    assert await services.point_for_bind_token(link) is None
    row = _row_of((await client.get("/suggestions/points")).text, point_id)
    assert "绑定链接尚未使用" not in row and "/revoke" not in row
    # A link that was used is no longer outstanding: the tablet is bound instead.
    point_id, link = await _bound_point("竹林社区第二直报点")
    client.cookies.clear()
    await _bind(client, link)
    client.cookies.clear()
    await login(client, "admin")
    row = _row_of((await client.get("/suggestions/points")).text, point_id)
    assert "绑定链接尚未使用" not in row and "已绑定" in row
