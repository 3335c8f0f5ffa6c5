"""axe-core over the main pages of every role and the citizen pages at 768 × 1024: no serious
or critical violation. axe (vendored, pinned: tests/browser/vendor/README.md) is injected as a
script file; the context bypasses the Content-Security-Policy only so that the test's own
script may run (the CSP itself is checked in test_csp.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import shot, sign_in

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"

PAGES = {
    "admin": ["/", "/admin/", "/admin/staff"],
    "grid1": ["/", "/cases/new", "/cases/mine"],
    "police1": ["/", "/cases/mine"],
    "mediator1": ["/", "/cases/mine"],
    "centre1": ["/", "/cases", "/suggestions"],
    "handler1": ["/", "/suggestions"],
    None: ["/suggest", "/track", "/board"],
}


def _serious(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations
              .filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — '
                   + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
        }"""
    )
    return result


def _duplicate_ids(page) -> list[str]:
    """An id used twice: getElementById finds only the first, so a script acting on the second
    silently does nothing (the intake form's draft notice once stayed hidden that way)."""
    return page.evaluate(
        """() => {
            const seen = {};
            document.querySelectorAll('[id]').forEach(e => { seen[e.id] = (seen[e.id] || 0) + 1; });
            return Object.keys(seen).filter(k => seen[k] > 1).map(k => 'duplicate id: ' + k);
        }"""
    )


@pytest.mark.parametrize("user", list(PAGES), ids=lambda u: u or "citizen")
def test_no_serious_or_critical_axe_violations(live_server, browser, user):
    context = browser.new_context(
        viewport={"width": 768, "height": 1024}, has_touch=True, locale="zh-CN", bypass_csp=True
    )
    page = context.new_page()
    if user:
        sign_in(page, live_server, user)
    found = {}
    for path in PAGES[user]:
        page.goto(live_server + path)
        page.wait_for_load_state("networkidle")
        problems = _serious(page) + _duplicate_ids(page)
        if problems:
            found[path] = problems
            shot(page, f"axe-{user or 'citizen'}{path.replace('/', '_')}")
    context.close()
    assert found == {}


def test_the_check_finds_a_serious_violation_when_there_is_one(live_server, browser):
    # The same check over a page with an unlabelled field and an image without text: axe runs
    # for real and the filter keeps what it finds.
    context = browser.new_context(viewport={"width": 768, "height": 1024}, bypass_csp=True)
    page = context.new_page()
    page.goto(live_server + "/board")
    page.evaluate(
        """() => {
            const main = document.getElementById('main');
            main.appendChild(document.createElement('input'));
            const img = document.createElement('img');
            img.src = '/static/none.png';
            main.appendChild(img);
        }"""
    )
    problems = _serious(page)
    context.close()
    assert any(p.startswith("label ") for p in problems), problems
    assert any(p.startswith("image-alt ") for p in problems), problems
