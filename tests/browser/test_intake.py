"""grid1 logs the deposit dispute on a tablet, fixes a typo in an ID number; police1 sees it."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import shot, sign_in

pytestmark = pytest.mark.browser

WRONG_ID = "330482200305170018"  # last digit mistyped: checksum fails
RIGHT_ID = "330482200305170019"


def test_grid1_logs_the_deposit_dispute_and_police1_sees_it(live_server, browser):
    context = browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True)
    page = context.new_page()
    sign_in(page, live_server, "grid1")
    page.click("nav >> text=登记纠纷")
    page.select_option("#f-category", "housing_land")
    page.fill("#f-summary", "大学生提前退租，二房东扣押押金不退（浏览器测试）")
    page.fill("#f-facts", "租客提前一个月退租，二房东以违约为由扣押押金3000元。")
    page.fill("#f-location", "当湖街道东湖社区梅园小区3幢")
    page.check("input[name=colour][value=yellow]")
    page.fill("#f-amount", "3000")
    page.fill("#parties-0-name", "王堃")
    page.fill("#parties-0-id_number", WRONG_ID)
    page.fill("#parties-0-phone", "138 1234 5678")
    page.fill("#parties-1-name", "李某（二房东）")
    page.fill("#parties-1-phone", "13900001111")
    page.click("#submit-case")

    # The error sits beside the field and everything typed is still there.
    error = page.locator("#parties-0-id_number-error")
    assert "校验位" in error.inner_text()
    assert page.input_value("#f-summary").startswith("大学生提前退租")
    assert page.input_value("#parties-1-name") == "李某（二房东）"
    shot(page, "intake-validation-error")

    page.fill("#parties-0-id_number", RIGHT_ID)
    page.click("#submit-case")
    page.wait_for_url(re.compile(r"/cases/\d+\?registered=1"))
    number = page.locator("h1").inner_text().split()[0]
    assert number.startswith("平湖-")
    # Masked on the page, never the full number.
    assert "330*************19" in page.content()
    assert RIGHT_ID not in page.content()
    shot(page, "intake-registered")
    context.close()

    police = browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True)
    page = police.new_page()
    sign_in(page, live_server, "police1")
    page.click("nav >> text=我的待办")
    assert page.locator(f"text={number}").is_visible()
    page.click(f"text={number}")
    assert "大学生提前退租" in page.locator(".lead").inner_text()
    shot(page, "police1-queue-case")
    police.close()


def test_the_intake_draft_survives_a_reload_but_never_keeps_an_id_number(live_server, browser):
    context = browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True)
    page = context.new_page()
    sign_in(page, live_server, "grid2")
    page.goto(f"{live_server}/cases/new")
    page.fill("#f-summary", "楼上漏水浸泡楼下吊顶（草稿测试）")
    page.fill("#parties-0-name", "周玥")
    page.fill("#parties-0-id_number", RIGHT_ID)
    page.fill("#parties-0-phone", "13800002222")
    stored = page.evaluate("JSON.stringify(Object.entries(localStorage))")
    assert "楼上漏水浸泡楼下吊顶" in stored and "13800002222" in stored
    assert RIGHT_ID not in stored and RIGHT_ID[-6:] not in stored

    # A reload (or a dropped connection) brings the text back; the ID number is typed again.
    page.reload()
    page.wait_for_function(
        "() => document.querySelector('#f-summary').value.startsWith('楼上漏水')"
    )
    assert page.input_value("#parties-0-name") == "周玥"
    assert page.input_value("#parties-0-id_number") == ""
    notice = page.locator("#intake-draft-notice")
    assert notice.is_visible() and "身份证号不会保存在本设备上" in notice.inner_text()
    # One element per id: the page's own notice, not the template of other forms' drafts.
    assert page.locator("[id=intake-draft-notice]").count() == 1
    assert page.evaluate("new Set([...document.querySelectorAll('[id]')].map(e => e.id)).size") == (
        page.locator("[id]").count()
    )
    shot(page, "intake-draft-restored")
    page.click("#draft-discard")
    page.wait_for_load_state()
    page.wait_for_function("() => document.querySelector('#f-summary').value === ''")
    assert "楼上漏水" not in page.evaluate("JSON.stringify(Object.entries(localStorage))")
    shot(page, "intake-draft-discarded")
    context.close()
