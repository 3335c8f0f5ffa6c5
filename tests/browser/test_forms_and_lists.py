"""Forms after a failed submit and lists on a tablet (issue 15, items 6 and 7): focus goes to the
first invalid field and the summary links each message to its field; the sticky submit bar
never hides the focused field; focus survives htmx swaps; every list row is a 44 px target."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, run_async, shot, sign_in
from tests.browser.test_session_agreement import _deposit_case_in_mediation

pytestmark = pytest.mark.browser

WRONG_ID = "330482200305170018"  # checksum digit mistyped


def shot_path(name: str):
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}.png"


def _in_view_above_bar(page, selector: str) -> None:
    box = page.evaluate(
        """(sel) => {
            const r = document.querySelector(sel).getBoundingClientRect();
            const bar = document.querySelector('.sticky-actions');
            const barTop = bar ? bar.getBoundingClientRect().top : window.innerHeight;
            return {top: r.top, bottom: r.bottom, barTop: barTop};
        }""",
        selector,
    )
    assert box["top"] >= 0, box
    assert box["bottom"] <= box["barTop"], box


def test_failed_intake_focuses_the_bad_id_far_down_and_summary_links_it(live_server, tablet):
    page = tablet
    sign_in(page, live_server, "grid1")
    page.goto(live_server + "/cases/new")
    page.select_option("#f-category", "housing_land")
    page.fill("#f-summary", "押金纠纷（表单焦点测试）")
    page.check("input[name=colour][value=green]")
    page.fill("#parties-0-name", "王堃")
    page.fill("#parties-0-id_number", WRONG_ID)
    page.fill("#parties-1-name", "李某")
    page.click("#submit-case")
    page.wait_for_selector("#parties-0-id_number[aria-invalid=true]")

    # The field with the error has the focus and is on screen, not under the submit bar.
    expect(page.locator("#parties-0-id_number")).to_be_focused()
    _in_view_above_bar(page, "#parties-0-id_number")
    field = page.locator("#parties-0-id_number")
    assert field.get_attribute("aria-describedby") == "parties-0-id_number-error"
    assert "校验位" in page.locator("#parties-0-id_number-error").inner_text()
    shot(page, "forms-intake-focus-768")

    # The summary at the top lists the message and its link leads back to the field.
    link = page.locator(".alert.error [data-error-list] a[href='#parties-0-id_number']")
    assert "校验位" in link.inner_text()
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("#f-summary").focus()
    link.click()
    assert page.evaluate("document.activeElement.id") == "parties-0-id_number"
    _in_view_above_bar(page, "#parties-0-id_number")

    # Textareas use the page's font, not the browser's monospace default.
    fonts = page.evaluate(
        "[getComputedStyle(document.querySelector('#f-facts')).fontFamily,"
        " getComputedStyle(document.body).fontFamily]"
    )
    assert fonts[0] == fonts[1]


def test_the_intake_summary_names_the_party_of_each_field(live_server, tablet):
    page = tablet
    sign_in(page, live_server, "grid1")
    page.goto(live_server + "/cases/new")
    page.select_option("#f-category", "housing_land")
    page.fill("#f-summary", "押金纠纷（错误摘要测试）")
    page.check("input[name=colour][value=green]")
    page.fill("#parties-0-name", "王堃")
    page.fill("#parties-0-id_number", WRONG_ID)
    page.fill("#parties-1-name", "李某")
    page.fill("#parties-1-phone", "12345")
    page.click("#submit-case")
    page.wait_for_selector("#parties-1-phone[aria-invalid=true]")

    summary = ".alert.error [data-error-list]"
    id_link = page.locator(f"{summary} a[href='#parties-0-id_number']")
    phone_link = page.locator(f"{summary} a[href='#parties-1-phone']")
    assert id_link.inner_text().startswith("当事人1：身份证号"), id_link.inner_text()
    assert phone_link.inner_text().startswith("当事人2：电话："), phone_link.inner_text()
    assert not page.locator(f"{summary} a[href='#f-summary']").count()

    # A long item wraps under its own bullet: each link is a block, so the bullet stays beside
    # its first line (an inline-block link puts it on the last).
    assert id_link.evaluate("a => getComputedStyle(a).display") == "block"
    page.locator(summary).scroll_into_view_if_needed()
    page.screenshot(path=str(shot_path("forms-intake-summary-768")))


def test_removing_a_party_keeps_the_focus_in_the_form(live_server, tablet):
    page = tablet
    sign_in(page, live_server, "grid1")
    page.goto(live_server + "/cases/new")
    count = page.locator("#parties .party").count()
    page.click("#add-party")
    expect(page.locator("#parties .party")).to_have_count(count + 1)
    page.locator("#parties .party").last.locator("[data-remove-party]").focus()
    page.keyboard.press("Enter")
    assert page.locator("#parties .party").count() == count
    focused = page.evaluate(
        "document.activeElement === document.body ? '' :"
        " (document.activeElement.id || document.activeElement.getAttribute('data-remove-party')"
        " !== null && 'remove')"
    )
    assert focused in ("remove", "add-party")


def test_the_representative_field_says_how_it_prints_for_the_kind_chosen(live_server, tablet):
    """A person's representative prints as 委托代理人, an organisation's as 法定代表人（负责人）:
    the label and its hint follow the kind select."""
    page = tablet
    sign_in(page, live_server, "grid1")
    page.goto(live_server + "/cases/new")
    label = page.locator("label[for='parties-1-representative']")
    hint = page.locator("#parties-1-representative-hint")
    expect(label).to_have_text("委托代理人")
    page.select_option("#parties-1-kind", "organisation")
    expect(label).to_have_text("法定代表人（负责人）")
    expect(hint).to_contain_text("当事人信息页")
    field = page.locator("#parties-1-representative")
    assert field.get_attribute("aria-describedby").split() == ["parties-1-representative-hint"]
    page.fill("#parties-1-representative", "赵经理")
    field.scroll_into_view_if_needed()
    shot(page, "intake-representative-organisation-768")
    page.select_option("#parties-1-kind", "person")
    expect(label).to_have_text("委托代理人")
    expect(page.locator("label[for='parties-0-representative']")).to_have_text("委托代理人")


def test_minutes_keep_focus_after_adding_and_errors_are_tied_to_fields(live_server, tablet):
    page = tablet
    case_id = run_async(_deposit_case_in_mediation())
    sign_in(page, live_server, "mediator1")
    page.goto(f"{live_server}/cases/{case_id}")
    page.click("text=安排调解会")
    page.fill("#f-starts_at", "2031-03-06T09:30")
    page.fill("#f-room", "东湖社区调解室")
    page.select_option("#f-mode", "in_person")
    page.click("button:has-text('安排')")
    page.wait_for_url(re.compile(rf"/cases/{case_id}/sessions/\d+"))
    # Empty statement: the message is tied to the field and the field takes the focus.
    page.fill("#speaker", "调解员")
    page.fill("#statement", "")
    page.click("#minute-form button[type=submit]")
    page.wait_for_selector("#statement[aria-invalid=true]")
    assert page.locator("#statement").get_attribute("aria-describedby") == "statement-error"
    assert page.locator("#statement-error").inner_text().strip()
    expect(page.locator("#statement")).to_be_focused()

    before = page.locator("#minutes-list li").count()
    page.fill("#statement", "双方同意下次再谈（焦点测试）")
    page.click("#minute-form button[type=submit]")
    expect(page.locator("#minutes-list li")).to_have_count(before + 1)
    expect(page.locator("#statement")).to_be_focused()
    assert page.input_value("#statement") == ""
    assert page.input_value("#speaker") == "调解员"
    # The session record opens in a new tab like the other PDFs.
    record = page.locator("a[href$='/record.pdf']")
    assert record.get_attribute("target") == "_blank"


@pytest.mark.parametrize(
    ("user", "path", "link"),
    [
        ("centre1", "/cases", "a.row-main[href^='/cases/']"),
        ("grid1", "/cases/mine", "a.row-main[href^='/cases/']"),
        ("centre1", "/suggestions", "a.row-main[href^='/suggestions/']"),
        ("admin", "/admin/staff", "a.row-main[href^='/admin/staff/']"),
    ],
)
def test_every_list_row_is_a_44px_target_that_is_a_real_link(live_server, tablet, user, path, link):
    page = tablet
    sign_in(page, live_server, user)
    page.goto(live_server + path)
    row = page.locator(f"tr:has({link})").first
    box = row.bounding_box()
    assert box is not None and box["height"] >= 44
    href = row.locator(link).get_attribute("href")
    # Points across the row (right edge, middle, another cell) hit the row's link.
    for fx in (0.5, 0.97):
        hit = page.evaluate(
            """([x, y]) => {
                const a = document.elementFromPoint(x, y)?.closest('a');
                return a && a.getAttribute('href');
            }""",
            [box["x"] + box["width"] * fx, box["y"] + box["height"] / 2],
        )
        assert hit == href, (fx, hit, href)
    # Keyboard: the link is focusable and Enter follows it.
    row.locator(link).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(live_server + href)
    if path == "/cases":
        page.go_back()
        shot(page, "lists-cases-768")


def test_party_names_do_not_wrap_one_character_per_line(live_server, tablet):
    page = tablet
    sign_in(page, live_server, "centre1")
    page.goto(live_server + "/cases")
    page.locator("a.row-main").first.click()
    name_cell = page.locator("#parties td.names").nth(1)
    width = name_cell.bounding_box()["width"]
    size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert width >= 4 * size
    page.set_viewport_size({"width": 390, "height": 844})
    width = name_cell.bounding_box()["width"]
    assert width >= 4 * size
    shot(page, "lists-case-parties-390")


def test_phone_header_does_not_repeat_the_citizen_links(live_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server + "/board")
    visible = page.evaluate(
        """() => [...document.querySelectorAll('a[href="/track"]')]
                 .filter(a => a.getClientRects().length > 0).length"""
    )
    assert visible == 1
    shot(page, "board-390")
    context.close()
