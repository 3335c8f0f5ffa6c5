"""Administration of the organisation model: forms keep input, rules hold, changes are recorded."""

from __future__ import annotations

import re

import pytest

from mediation.grid.tables import AuditEvent, Grid, Region, Staff, TeamMember
from tests.helpers import login, post_form, text_of

pytestmark = pytest.mark.anyio


async def region_id(code: str) -> int:
    return (await Region.select(Region.id).where(Region.code == code).first())["id"]


async def test_admin_adds_a_community_under_a_town_with_its_path(client):
    await login(client, "admin")
    town = await region_id("330482002")
    response = await post_form(
        client,
        "/admin/regions/new",
        {"code": "330482002099", "name": "测试新村", "level": "community", "parent": str(town)},
    )
    assert response.status_code == 303
    row = await Region.select().where(Region.code == "330482002099").first()
    assert row["path"] == "/330482/330482002/330482002099/"
    assert await AuditEvent.exists().where(
        AuditEvent.entity == "regions",
        AuditEvent.entity_id == str(row["id"]),
        AuditEvent.action == "create",
    )


async def test_a_community_cannot_hang_directly_under_the_county(client):
    await login(client, "admin")
    county = await region_id("330482")
    response = await post_form(
        client,
        "/admin/regions/new",
        {"code": "330482009999", "name": "错位社区", "level": "community", "parent": str(county)},
    )
    assert response.status_code == 422
    assert "村（社区）属于镇（街道）" in response.text
    # What the admin typed is still there.
    assert 'value="错位社区"' in response.text
    assert not await Region.exists().where(Region.code == "330482009999")


async def test_duplicate_codes_and_missing_fields_are_shown_beside_the_field(client):
    await login(client, "admin")
    response = await post_form(
        client, "/admin/grids/new", {"code": "330482001001-01", "name": "", "region": ""}
    )
    assert response.status_code == 422
    page = text_of(response.text)
    assert "此编码已被使用" in page or "已被使用" in page
    assert "此项为必填项" in page


async def test_admin_creates_a_staff_account_that_can_sign_in(client):
    await login(client, "admin")
    community = await region_id("330482001003")
    response = await post_form(
        client,
        "/admin/staff/new",
        {
            "username": "newworker",
            "display_name": "新网格员",
            "roles": ["grid_worker"],
            "region": str(community),
            "phone": "13812345678",
            "active": "1",
            "password": "a-long-password",
        },
    )
    assert response.status_code == 303
    staff = await Staff.select().where(Staff.username == "newworker").first()
    assert staff["roles"] == ["grid_worker"]
    assert staff["password_hash"].startswith("$argon2")
    audit = (
        await AuditEvent.select()
        .where(AuditEvent.entity == "staff", AuditEvent.entity_id == str(staff["id"]))
        .output(load_json=True)
        .first()
    )
    assert audit["after"]["username"] == "newworker"
    assert "password_hash" not in audit["after"] and "password" not in audit["after"]
    client.cookies.clear()
    response = await post_form(
        client, "/login", {"username": "newworker", "password": "a-long-password"}
    )
    assert response.status_code == 303


async def test_a_short_password_and_an_unknown_role_are_refused(client):
    await login(client, "admin")
    response = await post_form(
        client,
        "/admin/staff/new",
        {
            "username": "x1",
            "display_name": "X",
            "roles": ["boss"],
            "region": "",
            "password": "short",
        },
    )
    assert response.status_code == 422
    page = text_of(response.text)
    assert "请从列表中选择" in page
    assert "至少 10 个字符" in page


async def test_admin_puts_a_police_officer_on_a_grid_team_and_takes_them_off(client):
    await login(client, "admin")
    grid = await Grid.select(Grid.id).where(Grid.code == "330482001003-02").first()
    officer = await Staff.select(Staff.id).where(Staff.username == "police1").first()
    response = await post_form(
        client, f"/admin/teams/{grid['id']}", {"staff": str(officer["id"]), "role": "police"}
    )
    assert response.status_code == 303
    member = (
        await TeamMember.select()
        .where(TeamMember.grid == grid["id"], TeamMember.staff == officer["id"])
        .first()
    )
    assert member is not None
    # The same person twice is refused with a message.
    response = await post_form(
        client, f"/admin/teams/{grid['id']}", {"staff": str(officer["id"]), "role": "police"}
    )
    assert response.status_code == 422
    assert "已在团队中" in response.text
    response = await post_form(client, f"/admin/teams/{grid['id']}/{member['id']}/remove", {})
    assert response.status_code == 303
    assert not await TeamMember.exists().where(TeamMember.id == member["id"])


async def test_a_grid_worker_role_cannot_be_given_a_police_seat(client):
    await login(client, "admin")
    grid = await Grid.select(Grid.id).where(Grid.code == "330482001003-02").first()
    worker = await Staff.select(Staff.id).where(Staff.username == "grid2").first()
    response = await post_form(
        client, f"/admin/teams/{grid['id']}", {"staff": str(worker["id"]), "role": "police"}
    )
    assert response.status_code == 422
    assert "不具有该角色" in response.text


async def test_editing_a_category_records_before_and_after(client):
    await login(client, "admin")
    from mediation.grid.tables import DisputeCategory

    row = await DisputeCategory.select().where(DisputeCategory.code == "other").first()
    response = await post_form(
        client,
        f"/admin/categories/{row['id']}",
        {
            "code": "other",
            "name_zh": "其他纠纷",
            "name_en": "Other",
            "sort_order": "99",
            "active": "1",
        },
    )
    assert response.status_code == 303
    event = (
        await AuditEvent.select()
        .where(AuditEvent.entity == "categories", AuditEvent.entity_id == str(row["id"]))
        .order_by(AuditEvent.id, ascending=False)
        .output(load_json=True)
        .first()
    )
    assert event["before"]["name_zh"] == "其他" and event["after"]["name_zh"] == "其他纠纷"
    await DisputeCategory.update({DisputeCategory.name_zh: "其他"}).where(
        DisputeCategory.id == row["id"]
    )
    from mediation.cases.category_store import refresh_categories

    await refresh_categories(force=True)


async def test_a_region_holding_cases_keeps_its_code_and_parent(client):
    """Cases and figures are filed by the region path: moving a region with cases is refused."""
    from mediation.cases.tables import Case

    await login(client, "admin")
    community = await Region.select().where(Region.code == "330482001001").first()
    assert await Case.exists().where(Case.region_path.like(community["path"] + "%"))
    form = {
        "code": "330482001077",
        "name": community["name"],
        "level": "community",
        "parent": str(community["parent"]),
    }
    response = await post_form(client, f"/admin/regions/{community['id']}", form)
    assert response.status_code == 422
    assert "其代码和上级不能更改" in text_of(response.text)
    assert 'value="330482001077"' in response.text
    after = await Region.select().where(Region.id == community["id"]).first()
    assert (after["code"], after["path"]) == (community["code"], community["path"])

    # Its name can still change, and a new empty community can still be moved or recoded.
    renamed = await post_form(
        client, f"/admin/regions/{community['id']}", {**form, "code": community["code"]}
    )
    assert renamed.status_code == 303
    created = await post_form(
        client,
        "/admin/regions/new",
        {"code": "330482001098", "name": "空社区", "level": "community", "parent": form["parent"]},
    )
    assert created.status_code == 303
    empty = await Region.select().where(Region.code == "330482001098").first()
    recoded = await post_form(
        client,
        f"/admin/regions/{empty['id']}",
        {"code": "330482001099", "name": "空社区", "level": "community", "parent": form["parent"]},
    )
    assert recoded.status_code == 303
    assert (await Region.select().where(Region.id == empty["id"]).first())["path"].endswith(
        "/330482001099/"
    )
    await Region.delete().where(Region.id == empty["id"])


# ---------------------------------------------------------------- an administrator remains


async def staff_form(username: str, **changes) -> tuple[int, dict]:
    """The staff form of an account as it stands, with ``changes``: (its id, the form)."""
    row = await Staff.select().where(Staff.username == username).first()
    form = {
        "username": row["username"],
        "display_name": row["display_name"],
        "roles": list(row["roles"]),
        "region": str(row["region"] or ""),
        "department": str(row["department"] or ""),
        "phone": row["phone"],
        "active": "1" if row["active"] else "",
        "password": "",
    }
    form.update(changes)
    return row["id"], form


async def test_an_administrator_cannot_disable_their_own_account(client):
    await login(client, "admin")
    pk, form = await staff_form("admin", active="", display_name="管理员改名")
    response = await post_form(client, f"/admin/staff/{pk}", form)
    assert response.status_code == 422
    assert "不能停用自己的账号" in text_of(response.text)
    assert 'id="active-error"' in response.text
    # What was typed is kept, the box stays unticked as it was sent.
    assert 'value="管理员改名"' in response.text
    assert 'id="f-active" name="active" value="1" aria-invalid="true"' in response.text
    assert (await Staff.select(Staff.active).where(Staff.id == pk).first())["active"] is True
    # Still signed in as an administrator.
    assert (await client.get("/admin/")).status_code == 200


async def test_an_administrator_cannot_take_their_own_admin_role_away(client):
    await login(client, "admin")
    pk, form = await staff_form("admin", roles=["centre_staff"])
    response = await post_form(client, f"/admin/staff/{pk}", form)
    assert response.status_code == 422
    assert "不能取消自己的系统管理员角色" in text_of(response.text)
    assert 'id="roles-error"' in response.text
    roles = (await Staff.select(Staff.roles).where(Staff.id == pk).first())["roles"]
    assert "admin" in roles


async def test_the_last_active_administrator_stays_one(client):
    from mediation import i18n
    from mediation.grid.services import staff_change_refusals

    i18n.set_locale("zh_CN")
    admins = [
        r
        for r in await Staff.select(Staff.id, Staff.roles).where(Staff.active.eq(True))
        if "admin" in r["roles"]
    ]
    assert len(admins) == 1
    pk = admins[0]["id"]
    # Someone else (say an administrator disabled a moment ago, still on the page) tries.
    refused = await staff_change_refusals(pk, {"active": False, "roles": ["admin"]}, None)
    assert refused == {"active": "至少需要保留一名启用的系统管理员。"}
    refused = await staff_change_refusals(pk, {"active": True, "roles": ["police"]}, None)
    assert refused == {"roles": "至少需要保留一名启用的系统管理员。"}
    # With a second active administrator, the first may be changed by the second.
    await login(client, "admin")
    community = await region_id("330482001003")
    created = await post_form(
        client,
        "/admin/staff/new",
        {
            "username": "admin2",
            "display_name": "第二管理员",
            "roles": ["admin"],
            "region": str(community),
            "active": "1",
            "password": "a-long-password",
        },
    )
    assert created.status_code == 303
    assert await staff_change_refusals(pk, {"active": False, "roles": ["admin"]}, None) == {}
    second = (await Staff.select(Staff.id).where(Staff.username == "admin2").first())["id"]
    pk, form = await staff_form("admin", active="")
    client.cookies.clear()
    await login(client, "admin2", "a-long-password")
    assert (await post_form(client, f"/admin/staff/{pk}", form)).status_code == 303
    # Now admin2 is the only one left, and cannot be disabled even by themselves.
    _pk, own = await staff_form("admin2", active="")
    response = await post_form(client, f"/admin/staff/{second}", own)
    assert response.status_code == 422
    assert "不能停用自己的账号" in text_of(response.text)


async def test_a_new_accounts_password_is_marked_required_with_its_length(client):
    await login(client, "admin")
    new = text_of((await client.get("/admin/staff/new")).text)
    assert "新账号必须设置密码，至少 10 个字符" in new
    assert "留空则保留当前密码" not in new
    refused = await post_form(
        client,
        "/admin/staff/new",
        {"username": "grid1", "display_name": "X", "region": "", "password": ""},
    )
    assert refused.status_code == 422
    assert "新账号必须设置密码" in text_of(refused.text)
    # Every role box can be linked to from the error summary (it needs an id) and says it is
    # invalid.
    boxes = re.findall(r'<input type="checkbox"[^>]*name="roles"[^>]*>', refused.text)
    assert boxes and all('id="f-roles-' in b and 'aria-invalid="true"' in b for b in boxes)
    # An existing account keeps its hint.
    pk, _form = await staff_form("grid1")
    edit = text_of((await client.get(f"/admin/staff/{pk}")).text)
    assert "留空则保留当前密码" in edit


# ---------------------------------------------------------------- phones and departments


def new_staff(**changes) -> dict:
    form = {
        "username": "rvgrid",
        "display_name": "新网格员",
        "roles": ["grid_worker"],
        "region": "",
        "active": "1",
        "password": "a-long-password",
    }
    form.update(changes)
    return form


async def test_a_staff_phone_is_checked_like_a_partys_and_stored_normalised(client):
    await login(client, "admin")
    community = str(await region_id("330482001003"))
    refused = await post_form(
        client, "/admin/staff/new", new_staff(region=community, phone="12345")
    )
    assert refused.status_code == 422
    assert 'id="phone-error"' in refused.text and "0573-85012345" in text_of(refused.text)
    assert 'value="12345"' in refused.text and 'value="rvgrid"' in refused.text
    assert not await Staff.exists().where(Staff.username == "rvgrid")
    saved = await post_form(
        client, "/admin/staff/new", new_staff(region=community, phone="138 1234 5678")
    )
    assert saved.status_code == 303
    row = await Staff.select(Staff.phone).where(Staff.username == "rvgrid").first()
    assert row["phone"] == "13812345678"


async def test_a_handler_without_a_department_is_refused_beside_the_department(client):
    from mediation.grid.tables import Department

    await login(client, "admin")
    county = str(await region_id("330482"))
    form = new_staff(username="rvhandler", roles=["handler"], region=county)
    refused = await post_form(client, "/admin/staff/new", form)
    assert refused.status_code == 422
    assert 'id="department-error"' in refused.text
    assert "承办单位经办人必须属于一个承办单位" in text_of(refused.text)
    assert not await Staff.exists().where(Staff.username == "rvhandler")
    department = await Department.select(Department.id).first()
    saved = await post_form(
        client, "/admin/staff/new", {**form, "department": str(department["id"])}
    )
    assert saved.status_code == 303


async def test_a_handler_left_without_a_department_is_told_why_the_inbox_is_empty(client):
    await Staff.update({Staff.department: None}).where(Staff.username == "handler1")
    await login(client, "handler1")
    page = text_of((await client.get("/suggestions")).text)
    assert "您的账号尚未关联承办单位" in page
    client.cookies.clear()
    await login(client, "handler2")
    assert "您的账号尚未关联承办单位" not in text_of((await client.get("/suggestions")).text)


async def test_the_audit_record_of_an_edit_says_the_password_was_reset_without_it(client):
    await login(client, "admin")
    pk, form = await staff_form("grid2", password="a-brand-new-password")
    assert (await post_form(client, f"/admin/staff/{pk}", form)).status_code == 303
    event = (
        await AuditEvent.select()
        .where(AuditEvent.entity == "staff", AuditEvent.entity_id == str(pk))
        .order_by(AuditEvent.id, ascending=False)
        .output(load_json=True)
        .first()
    )
    assert event["action"] == "update"
    assert event["after"]["password_reset"] is True
    assert event["before"]["password_reset"] is False
    stored = repr(event)
    assert "a-brand-new-password" not in stored and "argon2" not in stored
    # An edit that leaves the password alone says nothing of it.
    _pk, form = await staff_form("grid2", display_name="改个名字")
    assert (await post_form(client, f"/admin/staff/{pk}", form)).status_code == 303
    event = (
        await AuditEvent.select()
        .where(AuditEvent.entity == "staff", AuditEvent.entity_id == str(pk))
        .order_by(AuditEvent.id, ascending=False)
        .output(load_json=True)
        .first()
    )
    assert "password_reset" not in event["after"]


async def test_two_administrators_disabling_each_other_at_once_leave_one_active(monkeypatch):
    """Both edits are checked at the same moment (the check is held open for 50 ms, so the
    other arrives meanwhile); saved one at a time, the second finds its actor the last
    administrator: refused, and one active administrator remains."""
    import asyncio

    from mediation.accounts.services import load_user
    from mediation.grid import admin as grid_admin
    from mediation.grid import services as grid_services
    from mediation.grid.forms import parse_form

    community = await region_id("330482001003")
    second = Staff(
        username="admin3",
        display_name="第三管理员",
        roles=["admin"],
        region=community,
        active=True,
        password_hash="x",
    )
    await second.save()
    first = (await Staff.select(Staff.id).where(Staff.username == "admin").first())["id"]
    checked = grid_services.staff_change_refusals

    async def slow_check(*args, **kwargs):
        found = await checked(*args, **kwargs)
        await asyncio.sleep(0.05)
        return found

    monkeypatch.setattr(grid_services, "staff_change_refusals", slow_check)

    async def disable(actor_id: int, pk: int) -> dict[str, str]:
        _pk, form = await staff_form(
            (await Staff.select(Staff.username).where(Staff.id == pk).first())["username"],
            active="",
        )
        parsed = await parse_form(grid_admin.ENTITIES["staff"].fields, form, creating=False)
        assert parsed.errors == {}, parsed.errors
        errors: dict[str, str] = {}
        await grid_admin.check_and_save(
            "staff", parsed.values, pk, await load_user(actor_id), errors
        )
        return errors

    results = await asyncio.gather(disable(first, second.id), disable(second.id, first))
    assert sorted(bool(r) for r in results) == [False, True], results
    assert "至少需要保留一名启用的系统管理员。" in next(r for r in results if r).values()
    active_admins = [
        r
        for r in await Staff.select(Staff.roles).where(Staff.active.eq(True))
        if "admin" in r["roles"]
    ]
    assert len(active_admins) == 1
