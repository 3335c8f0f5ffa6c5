"""mediator1 runs a session on a tablet, records minutes, issues and prints the agreement."""

from __future__ import annotations

import re
import subprocess
import uuid
from datetime import timedelta

import pytest

from mediation.clock import local_now
from mediation.grid.tables import Mediator, Staff
from tests.browser.conftest import ARTIFACTS, run_async, shot, sign_in

pytestmark = pytest.mark.browser


async def _deposit_case_in_mediation() -> int:
    from mediation.cases import services
    from tests.cases.conftest import deposit_case, grid_id, user

    grid1 = await user("grid1")
    centre1 = await user("centre1")
    case_id = await services.register_case(
        deposit_case(await grid_id(), summary="学生押金纠纷（调解会浏览器测试）"),
        grid1,
        uuid.uuid4().hex,
    )
    await services.transition_case(grid1, case_id, "accept", {})
    staff = await Staff.select(Staff.id).where(Staff.username == "mediator1").first()
    mediator = await Mediator.select(Mediator.id).where(Mediator.staff == staff["id"]).first()
    # The demo gives mediator1 a full load; make room so this case can be theirs.
    await Mediator.update({Mediator.max_cases: 99}).where(Mediator.id == mediator["id"])
    await services.assign_mediator(centre1, case_id, mediator["id"])
    await services.transition_case(grid1, case_id, "start_mediation", {})
    return case_id


def test_mediator1_runs_the_session_and_prints_the_agreement(live_server, browser):
    case_id = run_async(_deposit_case_in_mediation())
    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    page = context.new_page()
    sign_in(page, live_server, "mediator1")
    page.goto(f"{live_server}/cases/{case_id}")
    page.click("text=安排调解会")
    page.fill("#f-starts_at", "2031-03-05T09:30")
    page.fill("#f-room", "东湖社区调解室")
    page.select_option("#f-mode", "in_person")
    page.click("button:has-text('安排')")
    page.wait_for_url(re.compile(rf"/cases/{case_id}/sessions/\d+"))

    for name, role in (
        ("王堃", "party"),
        ("李二房东", "party"),
        ("陈建国", "grid_worker"),
        ("马伟", "police"),
    ):
        page.fill("#p-name", name)
        page.select_option("#p-role", role)
        page.click("form[action$='/participants'] button[type=submit]")
    minutes = [
        ("沈建华", "请双方陈述押金纠纷的经过。"),
        ("王堃", "我提前一个月通知退租，房间完好，押金3000元应退还。"),
        ("李二房东", "他提前退租属于违约，最多退一半。"),
        ("马伟", "经警务平台核实，房东身份与租赁合同一致。"),
    ]
    for speaker, statement in minutes:
        page.fill("#speaker", speaker)
        page.fill("#statement", statement)
        page.click("#minute-form button[type=submit]")
        # htmx appends the statement in place, without a page load.
        page.wait_for_selector(f"#minutes-list li:has-text('{statement[:8]}')")
    assert page.locator("#minutes-list li").count() == 4
    shot(page, "session-minutes")
    page.select_option("#outcome", "agreement")
    # Booked for 2031 and held now: the parties came early, the session started an hour ago.
    page.fill("#started_at", f"{local_now() - timedelta(hours=1):%Y-%m-%dT%H:%M}")
    page.click("text=结束调解会并锁定笔录")
    with page.expect_navigation():
        page.click("#confirm-ok")  # the dialog says the minutes will be locked
    assert page.locator("text=调解会已结束").first.is_visible()

    page.goto(f"{live_server}/cases/{case_id}")
    page.select_option("#agreement-kind", "written")
    page.click("text=起草调解协议")
    page.wait_for_url(re.compile(rf"/cases/{case_id}/agreements/\d+"))
    page.fill("#f-main_facts", "申请人王堃提前一个月退租，被申请人以违约为由扣押押金3000元。")
    page.fill("#f-issues", "押金是否应当退还及退还数额。")
    page.fill("#f-responsibilities", "双方对提前解约各负一定责任。")
    first = page.locator("fieldset.card").first
    first.locator("input[name$='-obligor']").fill("李二房东")
    first.locator("input[name$='-obligation']").fill("向王堃退还押金")
    first.locator("input[name$='-amount']").fill("1500")
    first.locator("input[name$='-method']").fill("微信转账")
    first.locator("input[name$='-deadline']").fill("2031-03-12")
    page.fill("#f-copies", "3")
    page.click("#issue-agreement")
    with page.expect_navigation():
        page.click("#confirm-ok")  # the dialog says it gets its number and is then final
    heading = page.locator("h1").inner_text()
    assert re.search(r"（\d{4}）当湖\S*调字第\d+号", heading), heading
    shot(page, "agreement-issued")

    with page.expect_response(re.compile(r"/agreement\.pdf$")) as response_info:
        page.evaluate(
            "url => fetch(url).then(r => r.arrayBuffer())",
            page.locator("#print-agreement").get_attribute("href"),
        )
    pdf = response_info.value.body()
    assert pdf.startswith(b"%PDF")
    pdf_path = ARTIFACTS / "agreement-from-browser.pdf"
    pdf_path.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "70",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf_path),
            str(ARTIFACTS / "agreement-from-browser"),
        ],
        check=True,
    )
    text = subprocess.run(
        ["pdftotext", str(pdf_path), "-"], capture_output=True, check=True
    ).stdout.decode()
    flat = re.sub(r"\s+", "", text)
    assert "王堃" in flat and "壹仟伍佰元整" in flat
    assert (ARTIFACTS / "agreement-from-browser.png").exists()
    context.close()
