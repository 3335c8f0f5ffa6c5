"""Daily use that must not strand anyone: a session that ends warns first and typed minutes
survive signing in again; a bound kiosk clears itself on every citizen page; irreversible
actions ask first in a real dialog, where Cancel changes nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from mediation.clock import local_now
from tests.browser.conftest import ARTIFACTS, _free_port, run_async, shot, sign_in
from tests.browser.test_kiosk import _bound_point, _run
from tests.browser.test_session_agreement import _deposit_case_in_mediation

pytestmark = pytest.mark.browser

SHORT_IDLE = 20  # seconds; pages warn 5 s before the end (a quarter of the idle time)


@pytest.fixture(scope="module")
def short_session_server(database):
    """The app with sessions that end after 20 s without activity."""
    port = _free_port()
    env = {**os.environ, "RUN_BACKGROUND_TASKS": "0", "SESSION_IDLE": str(SHORT_IDLE)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "mediation.asgi:app", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            break
        except OSError:
            assert proc.poll() is None, "the app did not start"
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def tablet_context(browser):
    context = browser.new_context(
        viewport={"width": 768, "height": 1024}, has_touch=True, locale="zh-CN"
    )
    yield context
    context.close()


def _viewport_shot(page, name: str) -> None:
    """What the 768 × 1024 screen shows (a fixed notice or a modal dialog sits in it)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _schedule_session(page, base: str, case_id: int) -> str:
    page.goto(f"{base}/cases/{case_id}")
    page.click("text=安排调解会")
    # A time of its own: the mediator's other sessions in these tests do not clash with it.
    pick = uuid.uuid4().int
    year, month, day, hour = (
        2031 + pick % 9,
        1 + pick // 9 % 12,
        1 + pick // 108 % 28,
        8 + pick // 3024 % 9,
    )
    page.fill("#f-starts_at", f"{year}-{month:02d}-{day:02d}T{hour:02d}:30")
    page.fill("#f-room", f"东湖社区调解室{pick % 1000}")
    page.select_option("#f-mode", "in_person")
    page.click("button:has-text('安排')")
    page.wait_for_url(re.compile(rf"/cases/{case_id}/sessions/\d+"))
    return page.url.split("?")[0]


def _an_hour_ago() -> str:
    """An actual start for a session booked in the future and held now (parties came early):
    a session cannot end before it starts."""
    return f"{local_now() - timedelta(hours=1):%Y-%m-%dT%H:%M}"


def _sign_in_form(page, username: str = "mediator1") -> None:
    page.fill("#f-username", username)
    page.fill("#f-password", "mediation-demo")
    page.click("button[type=submit] >> text=登录")


# ---------------------------------------------------------------- the session's end


def test_minutes_typed_when_the_session_ends_are_there_after_signing_in(
    short_session_server, tablet_context
):
    base = short_session_server
    case_id = run_async(_deposit_case_in_mediation())
    page = tablet_context.new_page()
    sign_in(page, base, "mediator1")
    session_url = _schedule_session(page, base, case_id)
    statement = f"我提前一个月通知退租，押金应当退还。{uuid.uuid4().hex[:6]}"
    page.fill("#speaker", "王堃")
    page.fill("#statement", statement)

    # A few seconds before the end the page warns, and "stay signed in" extends the session.
    warning = page.locator("#session-warning")
    warning.wait_for(state="visible", timeout=SHORT_IDLE * 1000)
    assert "保持登录" in warning.inner_text() and "登录将在" in warning.inner_text()
    _viewport_shot(page, "session-expiry-warning-768")
    with page.expect_response(lambda r: r.url.endswith("/session/ping")) as ping:
        page.click("#stay-signed-in")
    assert ping.value.status == 200
    warning.wait_for(state="hidden")

    # Nobody touches the page: the session ends and the page says so, keeping the text.
    signin = page.locator("#net-status .net-signin")
    signin.wait_for(state="visible", timeout=2 * SHORT_IDLE * 1000)
    assert page.input_value("#statement") == statement
    response = page.request.get(session_url, max_redirects=0)
    assert response.status in (302, 303)  # the server agrees: the session is over

    # Sign in again (a new tab): it returns to the session page with the minutes still typed.
    with tablet_context.expect_page() as new_tab:
        signin.click()
    again = new_tab.value
    again.wait_for_load_state()
    assert "/login?next=" in again.url
    _sign_in_form(again)
    again.wait_for_url(session_url)
    again.wait_for_function(
        "text => document.querySelector('#statement').value === text", arg=statement
    )
    assert again.input_value("#speaker") == "王堃"
    assert again.locator(".draft-notice").is_visible()

    # Saved: the draft is gone, a reload shows an empty form.
    again.click("#minute-form button[type=submit]")
    again.wait_for_selector(f"#minutes-list li:has-text('{statement[:12]}')")
    again.reload()
    assert again.input_value("#statement") == ""


def test_an_agreement_draft_keeps_its_added_clauses(live_server, tablet_context):
    case_id = run_async(_deposit_case_in_mediation())
    page = tablet_context.new_page()
    sign_in(page, live_server, "mediator1")
    page.goto(f"{live_server}/cases/{case_id}")
    page.select_option("#agreement-kind", "written")
    page.click("text=起草调解协议")
    page.wait_for_url(re.compile(r"/agreements/\d+$"))
    page.fill("#f-main_facts", "双方因押金退还发生纠纷。")
    rows = page.locator("fieldset.clause-row")
    count = rows.count() + 1
    page.click("#add-clause")
    expect(rows).to_have_count(count)
    rows.last.locator("input[name$='-obligation']").fill("向王堃退还押金")
    rows.last.locator("input[name$='-obligor']").fill("李二房东")
    stored = page.evaluate("JSON.stringify(Object.entries(localStorage))")
    assert "向王堃退还押金" in stored
    page.reload()
    page.wait_for_function(
        "() => [...document.querySelectorAll('input[name$=\"-obligation\"]')]"
        ".some(i => i.value === '向王堃退还押金')"
    )
    assert page.locator("fieldset.clause-row").count() == count
    assert page.input_value("#f-main_facts") == "双方因押金退还发生纠纷。"


def test_each_clause_preview_shows_its_own_clause(live_server, tablet_context):
    """The "prints as" line under a clause is that clause's sentence, also under a clause
    added with "add a clause" (the preview request carries the whole draft form)."""
    case_id = run_async(_deposit_case_in_mediation())
    page = tablet_context.new_page()
    sign_in(page, live_server, "mediator1")
    page.goto(f"{live_server}/cases/{case_id}")
    page.select_option("#agreement-kind", "written")
    page.click("text=起草调解协议")
    page.wait_for_url(re.compile(r"/agreements/\d+$"))
    rows = page.locator("fieldset.clause-row")
    first = rows.first
    first.locator("input[name$='-obligor']").fill("李二房东")
    first.locator("input[name$='-obligee']").fill("王堃")
    first.locator("input[name$='-obligation']").fill("退还押金")
    first.locator("input[name$='-amount']").fill("2000")
    expect(first.locator(".clause-preview")).to_contain_text("李二房东向王堃退还押金")

    count = rows.count() + 1
    page.click("#add-clause")
    expect(rows).to_have_count(count)
    added = rows.last
    added.locator("input[name$='-obligor']").fill("王堃")
    added.locator("input[name$='-obligee']").fill("李二房东")
    added.locator("input[name$='-obligation']").fill("赔礼道歉")
    expect(added.locator(".clause-preview")).to_contain_text("王堃向李二房东赔礼道歉")
    expect(added.locator(".clause-preview")).not_to_contain_text("退还押金")

    # Editing the first clause again changes its own preview, not the added one's.
    first.locator("input[name$='-method']").fill("银行转账")
    expect(first.locator(".clause-preview")).to_contain_text("银行转账")
    expect(added.locator(".clause-preview")).not_to_contain_text("银行转账")
    shot(page, "agreement-clause-previews")


# ---------------------------------------------------------------- the kiosk


def test_every_kiosk_page_clears_itself_and_stays_in_the_kiosk(live_server, tablet_context):
    token = _run(_bound_point)
    page = tablet_context.new_page()
    page.goto(f"{live_server}/kiosk/bind/{token}")
    # Opening the link did not spend it; the button does.
    assert page.locator("#bind-tablet").is_visible()
    page.click("#bind-tablet")
    page.wait_for_url(f"{live_server}/kiosk")

    page.goto(f"{live_server}/suggest")
    page.wait_for_url(f"{live_server}/kiosk")  # the web form is the kiosk's on this tablet

    for path, field, text in (
        ("/kiosk", "#f-name", "周玥"),
        ("/track", "#f-code", "JY-2026-ABC123"),
        ("/board", None, None),
    ):
        page.goto(f"{live_server}{path}?reset=3")
        hrefs = page.eval_on_selector_all(
            "header a, nav a", "els => els.map(e => e.getAttribute('href'))"
        )
        assert not [h for h in hrefs if "login" in h], (path, hrefs)
        assert set(hrefs) <= {"/kiosk", "/track", "/board", "#main", "#points"}, (path, hrefs)
        if field:
            page.fill(field, text)
        page.wait_for_url(f"{live_server}/kiosk", timeout=15000)
        page.wait_for_selector("#f-name")
        assert page.input_value("#f-name") == ""
    shot(page, "kiosk-after-idle-reset")


# ---------------------------------------------------------------- confirmation dialogs


def _dialog(page, expected: str):
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    assert expected in dialog.inner_text()
    return dialog


def test_closing_a_session_and_issuing_an_agreement_ask_first(live_server, tablet_context):
    case_id = run_async(_deposit_case_in_mediation())
    page = tablet_context.new_page()
    sign_in(page, live_server, "mediator1")
    _schedule_session(page, live_server, case_id)
    page.select_option("#outcome", "agreement")
    page.fill("#started_at", _an_hour_ago())

    page.click("text=结束调解会并锁定笔录")
    dialog = _dialog(page, "锁定")
    _viewport_shot(page, "confirm-dialog-close-session-768")
    page.click("#confirm-cancel")
    dialog.wait_for(state="hidden")
    page.reload()
    assert page.locator("#minute-form").is_visible()  # still open: nothing happened

    page.select_option("#outcome", "agreement")
    page.fill("#started_at", _an_hour_ago())
    page.click("text=结束调解会并锁定笔录")
    _dialog(page, "锁定")
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert page.locator("text=调解会已结束").first.is_visible()
    assert page.locator("#minute-form").count() == 0

    page.goto(f"{live_server}/cases/{case_id}")
    page.select_option("#agreement-kind", "written")
    page.click("text=起草调解协议")
    page.wait_for_url(re.compile(r"/agreements/\d+$"))
    first = page.locator("fieldset.clause-row").first
    first.locator("input[name$='-obligor']").fill("李二房东")
    first.locator("input[name$='-obligation']").fill("向王堃退还押金")
    first.locator("input[name$='-amount']").fill("1500")
    first.locator("input[name$='-method']").fill("微信转账")
    first.locator("input[name$='-deadline']").fill("2031-03-12")
    page.fill("#f-copies", "3")
    page.click("#issue-agreement")
    _dialog(page, "编号")
    page.keyboard.press("Escape")  # Escape is a cancel too
    page.locator("#confirm-dialog").wait_for(state="hidden")
    page.reload()
    assert page.locator("#issue-agreement").is_visible()  # still a draft
    page.click("#issue-agreement")
    _dialog(page, "编号")
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert re.search(r"调字第\d+号", page.locator("h1").inner_text())


async def _point_and_case() -> tuple[int, int, int]:
    from mediation.cases import services
    from mediation.grid.tables import Grid, Region, Staff, TeamMember
    from mediation.suggestions import services as suggestion_services
    from mediation.suggestions.tables import DirectReportPoint
    from tests.cases.conftest import deposit_case, grid_id, user

    region = await Region.select(Region.id).where(Region.level == "community").first()
    point = DirectReportPoint(
        code=f"C-{uuid.uuid4().hex[:8]}", name="确认测试直报点", region=region["id"]
    )
    await point.save()
    link = await suggestion_services.bind_device(await user("admin"), point.id)
    await suggestion_services.exchange_bind_token(link)  # a tablet is bound and in use
    grid1 = await user("grid1")
    case_id = await services.register_case(deposit_case(await grid_id()), grid1, uuid.uuid4().hex)
    grid = await Grid.select(Grid.id).first()
    on_team = [
        r["staff"]
        for r in await TeamMember.select(TeamMember.staff).where(TeamMember.grid == grid["id"])
    ]
    staff = await Staff.select(Staff.id).where(Staff.id.not_in(on_team or [0])).first()
    member = TeamMember(grid=grid["id"], staff=staff["id"], role="grid_worker")
    await member.save()
    return point.id, case_id, grid["id"]


def test_kiosk_codes_and_team_changes_ask_first(live_server, tablet_context):
    point_id, case_id, grid = run_async(_point_and_case())
    page = tablet_context.new_page()
    sign_in(page, live_server, "admin")

    # Revoking the tablet: Cancel keeps it bound; Confirm revokes.
    page.goto(f"{live_server}/suggestions/points")
    row = page.locator(f"#point-{point_id}")
    row.locator("button:has-text('撤销')").click()
    _dialog(page, "立即停止")
    page.click("#confirm-cancel")
    page.reload()
    assert row.locator(".badge.green").is_visible()
    # Re-binding asks too (it unbinds the tablet in use).
    row.locator("button:has-text('重新绑定平板')").click()
    _dialog(page, "立即停止使用")
    page.click("#confirm-cancel")
    page.reload()
    assert row.locator(".badge.green").is_visible()
    row.locator("button:has-text('撤销')").click()
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert page.locator(f"#point-{point_id} .badge.green").count() == 0

    # Removing a team member.
    page.goto(f"{live_server}/admin/grids/{grid}")
    removes = page.locator("form[action*='/remove'] button")
    before = removes.count()
    removes.last.click()
    _dialog(page, "移出该团队")
    page.click("#confirm-cancel")
    page.reload()
    assert removes.count() == before
    removes.last.click()
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert page.locator("form[action*='/remove'] button").count() == before - 1


def test_reissuing_a_code_and_removing_a_typed_party_ask_first(live_server, tablet_context):
    _point_id, case_id, _grid = run_async(_point_and_case())
    page = tablet_context.new_page()
    sign_in(page, live_server, "grid1")
    page.goto(f"{live_server}/cases/{case_id}/parties")
    code = page.locator("td.nowrap code").first.inner_text()
    page.locator("button:has-text('重新发放')").first.click()
    _dialog(page, "重新发放解纷码")
    page.click("#confirm-cancel")
    page.reload()
    assert page.locator("td.nowrap code").first.inner_text() == code
    page.locator("button:has-text('重新发放')").first.click()
    _dialog(page, "重新发放解纷码")
    page.click("#confirm-ok")
    page.wait_for_function(
        "old => document.querySelector('td.nowrap code').textContent !== old", arg=code
    )

    page.goto(f"{live_server}/cases/new")
    count = page.locator("#parties .party").count()
    page.click("#add-party")
    expect(page.locator("#parties .party")).to_have_count(count + 1)
    page.locator("#parties .party").last.locator("input[name$='-name']").fill("赵六")
    page.locator("#parties .party").last.locator("[data-remove-party]").click()
    _dialog(page, "移除该当事人")
    _viewport_shot(page, "confirm-dialog-remove-party-768")
    page.click("#confirm-cancel")
    assert page.locator("#parties .party").count() == count + 1
    page.locator("#parties .party").last.locator("[data-remove-party]").click()
    page.click("#confirm-ok")
    expect(page.locator("#parties .party")).to_have_count(count)
