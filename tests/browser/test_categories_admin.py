"""An administrator adds a dispute category, tries to delete one in use, and retires it."""

from __future__ import annotations

import uuid

import pytest

from tests.browser.conftest import shot, sign_in

pytestmark = pytest.mark.browser


def test_a_category_in_use_is_refused_deletion_and_retired_instead(tablet, live_server):
    page = tablet
    sign_in(page, live_server, "admin")
    code = "b_" + uuid.uuid4().hex[:10]
    page.goto(live_server + "/admin/categories/new")
    page.fill("[name=code]", code)
    page.fill("[name=name_zh]", "浏览器类别")
    page.fill("[name=name_en]", "Browser category")
    page.click("button[type=submit] >> text=保存")
    page.wait_for_url("**/admin/categories/*?saved=1")
    edit_url = page.url.split("?")[0]
    # Deleting a standard category is refused with the reason beside the form.
    page.goto(live_server + "/admin/categories")
    page.click("a.row-main >> text=neighbour")
    page.click("button >> text=删除")
    assert "不能删除" in page.inner_text(".alert.error")
    shot(page, "category-delete-refused")
    # Retiring: the intake form stops offering it.
    page.goto(edit_url)
    page.uncheck("input[type=checkbox][name=active]")
    page.click("button[type=submit] >> text=保存")
    page.wait_for_url("**?saved=1")
    shot(page, "category-retired")
    sign_in(page, live_server, "grid1")
    page.goto(live_server + "/cases/new")
    assert page.locator(f"option[value={code}]").count() == 0
    assert page.locator("option[value=village_affairs]").count() == 1
