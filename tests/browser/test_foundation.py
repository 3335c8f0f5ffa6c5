"""A grid worker signs in on a tablet, sees the home page in Chinese and switches to English."""

from __future__ import annotations

import pytest

from tests.browser.conftest import shot, sign_in

pytestmark = pytest.mark.browser


def test_grid1_signs_in_sees_chinese_and_switches_to_english(live_server, tablet):
    page = tablet
    page.goto(live_server + "/login")
    # A wrong password first: the message is beside the form and the user name is kept.
    page.fill("#f-username", "grid1")
    page.fill("#f-password", "wrong-password")
    page.click("button[type=submit] >> text=登录")
    assert page.locator(".alert.error").inner_text() == "用户名或密码不正确。"
    assert page.input_value("#f-username") == "grid1"

    sign_in(page, live_server, "grid1")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text().startswith("您好")
    assert page.locator("text=东湖社区第1网格").first.is_visible()
    # Touch targets: every button and nav link is at least 44 px tall.
    for element in page.locator("header button, header nav a, main .tile").all():
        assert element.bounding_box()["height"] >= 44
    shot(page, "foundation-home-zh")

    page.click("button:has-text('English')")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text().startswith("Hello")
    assert page.locator("nav >> text=Grids").is_visible()
    shot(page, "foundation-home-en")

    # The choice sticks while navigating.
    page.click("nav >> text=Grids")
    assert page.locator("h1").inner_text() == "Grids"
    page.click("button:has-text('中文')")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "网格"
