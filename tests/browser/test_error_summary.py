"""The error summary atop a refused form reads as a sentence per field."""

from __future__ import annotations

import pytest

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
