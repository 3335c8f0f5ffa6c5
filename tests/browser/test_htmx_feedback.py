"""Centre staff filter the case list on a desk PC: Back shows the full page with the filters as
they were, a slow request shows that it is loading, a failed one says so and can be retried."""

from __future__ import annotations

import pytest

from tests.browser.conftest import shot, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def _filter(page, field: str, value: str) -> None:
    page.select_option(f"#f-{field}", value)
    page.wait_for_url(f"**{field}={value}**")


def test_back_shows_the_filters_the_rows_were_filtered_by(live_server, desk):
    sign_in(desk, live_server, "centre1")
    desk.goto(live_server + "/cases")
    _filter(desk, "status", "registered")
    _filter(desk, "colour", "red")
    with desk.expect_response(lambda r: r.request.headers.get("hx-history-restore-request")):
        desk.go_back()
    desk.wait_for_url(lambda url: "colour=red" not in url)
    desk.wait_for_function("document.querySelector('#f-colour').value === ''")
    assert desk.input_value("#f-status") == "registered"
    assert desk.locator("header.top nav a").count() > 3


def test_back_after_a_history_cache_miss_shows_the_whole_page(live_server, desk):
    sign_in(desk, live_server, "centre1")
    desk.goto(live_server + "/cases")
    _filter(desk, "status", "registered")
    _filter(desk, "colour", "red")
    desk.evaluate("localStorage.clear(); sessionStorage.clear()")
    desk.go_back()
    desk.wait_for_url(lambda url: "colour=red" not in url)
    desk.wait_for_selector("form.filters")
    assert desk.locator("header.top nav a").count() > 3
    assert desk.input_value("#f-status") == "registered"
    shot(desk, "cases-back-after-cache-miss")


def test_a_slow_request_shows_loading_and_a_failed_one_offers_a_retry(live_server, desk):
    sign_in(desk, live_server, "centre1")
    desk.goto(live_server + "/cases")
    status = desk.locator("#net-status")
    assert status.is_hidden()

    cdp = desk.context.new_cdp_session(desk)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 4000, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    desk.select_option("#f-status", "registered")
    desk.wait_for_selector("#net-status.loading", state="visible", timeout=3000)
    assert "正在加载" in status.inner_text()
    desk.wait_for_selector("#net-status", state="hidden", timeout=15000)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )

    desk.route("**/cases?*", lambda route: route.abort())
    desk.select_option("#f-colour", "red")
    desk.wait_for_selector("#net-status.offline", state="visible")
    assert "无法连接服务器" in status.inner_text()
    shot(desk, "cases-request-failed")
    desk.unroute("**/cases?*")
    with desk.expect_response(lambda r: "colour=red" in r.url):
        desk.click("#net-status .net-retry")
    desk.wait_for_selector("#net-status", state="hidden")


def test_typing_a_search_replaces_the_history_entry_instead_of_adding_one(live_server, desk):
    sign_in(desk, live_server, "centre1")
    desk.goto(live_server + "/cases")
    _filter(desk, "status", "registered")
    entries = desk.evaluate("history.length")
    # Two pauses longer than the search's delay: two requests, and still one history entry.
    desk.locator("#f-q").press_sequentially("20", delay=700)
    desk.wait_for_url("**q=20**")
    desk.locator("#f-q").press_sequentially("26", delay=700)
    desk.wait_for_url("**q=2026**")
    assert desk.evaluate("history.length") == entries
    desk.go_back()
    desk.wait_for_url(lambda url: "status=registered" not in url)
