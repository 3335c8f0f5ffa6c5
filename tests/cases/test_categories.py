"""Dispute categories come from the table the administrator edits at /admin/categories.

An added category is accepted at intake and appears in the list filter and as the case's label;
a retired one is refused at intake while older cases keep their label; a used category cannot
be deleted.
"""

from __future__ import annotations

import html
import uuid

import pytest
from litestar.testing import AsyncTestClient

from mediation.cases import categories, services
from mediation.cases.tables import Case
from mediation.grid.tables import DisputeCategory
from tests.cases.conftest import deposit_case, grid_id, user
from tests.cases.test_controllers import case_id_from, intake_form, post_intake
from tests.helpers import login, post_form

pytestmark = pytest.mark.anyio


async def add_category(admin_client, name_zh: str, active: bool = True) -> str:
    code = "c_" + uuid.uuid4().hex[:12]
    data = {"code": code, "name_zh": name_zh, "name_en": f"Added {code}", "sort_order": "50"}
    if active:
        data["active"] = "1"
    response = await post_form(admin_client, "/admin/categories/new", data)
    assert response.status_code == 303, response.text
    return code


async def category_id(code: str) -> int:
    row = await DisputeCategory.select(DisputeCategory.id).where(DisputeCategory.code == code)
    return row[0]["id"]


async def retire(admin_client, code: str, name_zh: str) -> None:
    response = await post_form(
        admin_client,
        f"/admin/categories/{await category_id(code)}",
        {"code": code, "name_zh": name_zh, "name_en": f"Added {code}", "sort_order": "50"},
    )
    assert response.status_code == 303, response.text


async def test_an_added_category_is_accepted_at_intake_and_shown_in_filter_and_label(client, app):
    await login(client, "admin")
    name = "宠物纠纷" + uuid.uuid4().hex[:4]
    code = await add_category(client, name)
    async with AsyncTestClient(app) as worker:
        await login(worker, "grid1")
        form_page = await worker.get("/cases/new")
        assert f'value="{code}"' in form_page.text
        response = await post_intake(worker, await intake_form(await grid_id(), category=code))
        assert response.status_code == 303, response.text
        case_id = case_id_from(response)
        stored = await Case.select(Case.category).where(Case.id == case_id).first()
        assert stored["category"] == code
        listing = await worker.get("/cases", params={"category": code})
        assert f'value="{code}"' in listing.text and name in html.unescape(listing.text)
        assert f"/cases/{case_id}" in listing.text
        detail = await worker.get(f"/cases/{case_id}")
        assert name in html.unescape(detail.text)


async def test_a_retired_category_is_refused_at_intake_but_old_cases_keep_its_label(client, app):
    await login(client, "admin")
    name = "旧类别" + uuid.uuid4().hex[:4]
    code = await add_category(client, name)
    old_case = await services.register_case(
        deposit_case(await grid_id(), category=code), await user("grid1"), uuid.uuid4().hex
    )
    await retire(client, code, name)
    assert code not in categories.current().intake_codes
    async with AsyncTestClient(app) as worker:
        await login(worker, "grid1")
        form_page = await worker.get("/cases/new")
        assert f'value="{code}"' not in form_page.text
        before = await Case.count().where(Case.category == code)
        response = await post_intake(worker, await intake_form(await grid_id(), category=code))
        assert response.status_code == 422
        assert await Case.count().where(Case.category == code) == before
        detail = await worker.get(f"/cases/{old_case}")
        assert name in html.unescape(detail.text)
        listing = await worker.get("/cases", params={"category": code})
        assert f'value="{code}"' in listing.text
        assert f"/cases/{old_case}" in listing.text


async def test_a_used_category_cannot_be_deleted_an_unused_one_can(client):
    await login(client, "admin")
    used = await add_category(client, "在用" + uuid.uuid4().hex[:4])

    await services.register_case(
        deposit_case(await grid_id(), category=used), await user("grid1"), uuid.uuid4().hex
    )
    refused = await post_form(client, f"/admin/categories/{await category_id(used)}/delete", {})
    assert refused.status_code == 409
    assert "停用" in html.unescape(refused.text)
    assert await DisputeCategory.exists().where(DisputeCategory.code == used)
    assert used in categories.current().codes

    standard = await post_form(
        client, f"/admin/categories/{await category_id('neighbour')}/delete", {}
    )
    assert standard.status_code == 409
    assert await DisputeCategory.exists().where(DisputeCategory.code == "neighbour")

    unused = await add_category(client, "未用" + uuid.uuid4().hex[:4])
    deleted = await post_form(client, f"/admin/categories/{await category_id(unused)}/delete", {})
    assert deleted.status_code == 303
    assert not await DisputeCategory.exists().where(DisputeCategory.code == unused)
    assert unused not in categories.current().codes


async def test_the_code_of_a_used_category_cannot_change(client):
    await login(client, "admin")
    name = "改码" + uuid.uuid4().hex[:4]
    code = await add_category(client, name)

    await services.register_case(
        deposit_case(await grid_id(), category=code), await user("grid1"), uuid.uuid4().hex
    )
    response = await post_form(
        client,
        f"/admin/categories/{await category_id(code)}",
        {"code": code + "x", "name_zh": name, "name_en": "x", "sort_order": "1", "active": "1"},
    )
    assert response.status_code == 422
    assert await DisputeCategory.exists().where(DisputeCategory.code == code)


async def test_two_categories_never_share_a_name_in_either_language(client):
    await login(client, "admin")
    code = "c_" + uuid.uuid4().hex[:12]
    form = {"code": code, "name_zh": "婚姻家庭", "name_en": "Education", "sort_order": "50"}
    refused = await post_form(client, "/admin/categories/new", form)
    assert refused.status_code == 422
    assert 'id="name_zh-error"' in refused.text and 'id="name_en-error"' not in refused.text
    assert "已有其他纠纷类别使用此名称" in html.unescape(refused.text)
    assert 'value="婚姻家庭"' in refused.text
    # The English name too, whatever its case and spacing.
    form = {**form, "name_zh": "教育纠纷", "name_en": "  marriage AND family "}
    refused = await post_form(client, "/admin/categories/new", form)
    assert refused.status_code == 422 and 'id="name_en-error"' in refused.text
    assert not await DisputeCategory.exists().where(DisputeCategory.code == code)
    saved = await post_form(client, "/admin/categories/new", {**form, "name_en": "Education"})
    assert saved.status_code == 303
    # A category keeps its own name when edited (and an empty sort order is 0, not a 500).
    resaved = await post_form(
        client,
        f"/admin/categories/{await category_id(code)}",
        {**form, "name_en": "Education", "active": "1", "sort_order": ""},
    )
    assert resaved.status_code == 303
    row = await DisputeCategory.select().where(DisputeCategory.code == code).first()
    assert row["sort_order"] == 0 and row["name_en"] == "Education"


@pytest.mark.parametrize(
    "code", ["教育 纠纷", "Education", "edu-cation", "edu cation", "9lives", "_x"]
)
async def test_a_category_code_is_lower_case_letters_digits_and_underscores(client, code):
    await login(client, "admin")
    name = uuid.uuid4().hex[:8]
    refused = await post_form(
        client,
        "/admin/categories/new",
        {"code": code, "name_zh": "类别" + name, "name_en": "Kind " + name, "sort_order": "5"},
    )
    assert refused.status_code == 422
    assert 'id="code-error"' in refused.text
    assert "只能使用小写字母 a-z、数字和下划线" in html.unescape(refused.text)
    assert not await DisputeCategory.exists().where(DisputeCategory.code == code)


async def test_an_old_code_outside_the_pattern_can_still_be_edited_unchanged(client):
    """A code saved before the pattern is kept (cases may be filed under it)."""
    await DisputeCategory(code="教育 纠纷", name_zh="教育", name_en="Schooling").save()
    await login(client, "admin")
    response = await post_form(
        client,
        f"/admin/categories/{await category_id('教育 纠纷')}",
        {"code": "教育 纠纷", "name_zh": "教育纠纷", "name_en": "Schooling", "active": "1"},
    )
    assert response.status_code == 303
    await DisputeCategory.delete().where(DisputeCategory.code == "教育 纠纷")
