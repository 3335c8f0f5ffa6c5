"""Under the strict Content-Security-Policy the pages still work in a real browser: htmx swaps,
adding and removing a party, styles of the citizen pages, and the browser reports no violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in

pytestmark = pytest.mark.browser


def _collect_violations(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    return violations


def test_intake_adds_and_removes_parties_with_htmx_and_no_csp_violation(live_server, tablet):
    page = tablet
    violations = _collect_violations(page)
    sign_in(page, live_server, "grid1")
    page.goto(live_server + "/cases/new")
    before = page.locator("#parties .party").count()
    page.click("#add-party")
    # A locator wait, not wait_for_function: a string predicate is evaluated with eval, which
    # the page's Content-Security-Policy refuses.
    expect(page.locator("#parties .party")).to_have_count(before + 1)
    page.locator("#parties .party").last.locator("[data-remove-party]").click()
    assert page.locator("#parties .party").count() == before
    # The app's stylesheet applies (a tablet-sized touch target on the submit button).
    height = page.evaluate("document.querySelector('#submit-case').getBoundingClientRect().height")
    assert height >= 44
    shot(page, "csp-intake")
    assert violations == []


def test_citizen_pages_keep_their_styles_without_inline_css(live_server, tablet):
    page = tablet
    violations = _collect_violations(page)
    page.goto(live_server + "/suggest")
    # .citizen is centred at 760 px by the stylesheet (it used to be an inline <style>).
    width = page.evaluate("document.querySelector('.citizen').getBoundingClientRect().width")
    assert width <= 760
    page.goto(live_server + "/track")
    shot(page, "csp-track")
    assert violations == []
