"""The error summary atop a refused form reads as a sentence per field."""

from __future__ import annotations

import pytest

from tests.browser.conftest import shot, sign_in

pytestmark = pytest.mark.browser


def test_a_label_ending_in_a_question_mark_gets_no_second_mark(live_server, tablet):
    page = tablet
    page.goto(f"{live_server}/suggest")
    page.click("#suggestion-form button[type=submit]")
    page.wait_for_selector("[data-error-list] a")
    items = page.locator("[data-error-list] a").all_inner_texts()
    reason = next(t for t in items if t.startswith("主要事由"))
    assert reason == "主要事由：遇到了什么问题？ 此项为必填项。", items
    assert not [t for t in items if "？：" in t or "?：" in t or "：：" in t], items
    # A label without its own mark is joined by one colon.
    assert any(t.startswith("建议主题：") and t.endswith("此项为必填项。") for t in items), items


def test_in_english_a_label_and_its_message_are_joined_by_an_english_colon(live_server, browser):
    from mediation.web import LOCALE_COOKIE

    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="en-US")
    context.add_cookies([{"name": LOCALE_COOKIE, "value": "en", "url": live_server}])
    page = context.new_page()
    try:
        page.goto(f"{live_server}/suggest")
        page.click("#suggestion-form button[type=submit]")
        page.wait_for_selector("[data-error-list] a")
        items = page.locator("[data-error-list] a").all_inner_texts()
        assert items and not [t for t in items if "：" in t], items
        assert any(": " in t for t in items), items
    finally:
        context.close()


def test_the_staff_forms_summary_names_every_refused_field_roles_too(live_server, tablet):
    page = tablet
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/staff/new")
    page.fill("#f-username", "grid1")
    page.fill("#f-display_name", "重名")
    page.fill("#f-password", "abc")
    page.click("form.card button[type=submit]")
    page.wait_for_selector("[data-error-list] a")
    items = page.locator("[data-error-list] a").all_inner_texts()
    shot(page, "admin-staff-error-summary")
    assert "角色：请至少选择一项。" in items, items
    assert any(t.startswith("用户名：") for t in items), items
    assert any(t.startswith("所属区域：") for t in items), items
    assert any(t.startswith("密码：") for t in items), items
    page.click("[data-error-list] a >> text=角色：请至少选择一项。")
    assert page.evaluate("document.activeElement.name") == "roles"
