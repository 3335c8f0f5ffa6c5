"""A party on a 390-px phone follows their own dispute from the slip's QR address: the next
session, the agreement once issued (downloaded as PDF), and a rating once the case is closed."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.browser.conftest import run_async, shot, sign_in

pytestmark = pytest.mark.browser


async def _case_in_mediation_with_a_session() -> tuple[int, int]:
    import uuid
    from datetime import datetime, timedelta

    from mediation.cases import services, sessions
    from mediation.cases.tables import CaseMediator, Party
    from mediation.clock import county_zone
    from mediation.grid.tables import Mediator
    from tests.cases.conftest import deposit_case, grid_id, user

    grid1, centre1, mediator1 = await user("grid1"), await user("centre1"), await user("mediator1")
    case_id = await services.register_case(deposit_case(await grid_id()), grid1, uuid.uuid4().hex)
    await services.transition_case(grid1, case_id, "accept", {})
    # mediator1 on the case directly: earlier tests may have filled every mediator's load.
    mediator = await Mediator.select(Mediator.id).where(Mediator.staff == mediator1.id).first()
    await CaseMediator(case=case_id, mediator=mediator["id"], assigned_by=centre1.id).save()
    await services.transition_case(grid1, case_id, "start_mediation", {})
    when = datetime.now(county_zone()).replace(microsecond=0) + timedelta(days=2)
    await sessions.schedule_session(
        mediator1, case_id, when, 60, "东湖社区调解室", "in_person", None
    )
    party = await Party.select(Party.id).where(Party.case == case_id, Party.name == "王堃").first()
    return case_id, party["id"]


async def _issue_agreement(case_id: int) -> None:
    from datetime import date
    from decimal import Decimal

    from mediation.cases.tables import Agreement, AgreementClause

    agreement = Agreement(
        case=case_id,
        kind="written",
        status="effective",
        committee="平湖市当湖街道人民调解委员会",
        committee_short="当湖",
        number=f"（2026）当湖调字第8{case_id}号",
        main_facts="租客提前退租，二房东扣押押金。",
        copies=3,
        issued_on=date(2026, 11, 20),
        effective_on=date(2026, 11, 21),
    )
    await agreement.save()
    await AgreementClause(
        agreement=agreement.id,
        seq=1,
        obligor="李二房东",
        obligation="向王堃退还押金",
        amount=Decimal("1500"),
    ).save()


async def _close(case_id: int) -> None:
    from mediation.cases.tables import Case

    await Case.update({Case.status: "closed"}).where(Case.id == case_id)


def _enter(page, secret: str) -> None:
    page.fill("#f-secret", secret)
    page.click("#my-case-submit")
    page.wait_for_selector("#case-heading")


def test_a_party_follows_the_case_from_the_slip_on_a_phone(live_server, browser, tmp_path):
    case_id, party_id = run_async(_case_in_mediation_with_a_session())

    # The grid worker prints the slip; its QR address and secret are what the party holds.
    staff = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")
    desk = staff.new_page()
    sign_in(desk, live_server, "grid1")
    slip = desk.request.get(f"{live_server}/cases/{case_id}/parties/{party_id}/slip.pdf")
    assert slip.status == 200
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=slip.body(), capture_output=True, check=True
    ).stdout.decode()
    compact = "".join(text.split())
    printed = re.search(r"https?://[^\s]+(/my-case\?code=JF-\d{4}-[0-9A-Z]{6})", compact)
    # The slip prints the public address (PUBLIC_BASE_URL); here the app runs on a test port.
    url = live_server + printed.group(1)
    secret = re.search(r"密码(\d{6})", compact).group(1)
    staff.close()

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, locale="zh-CN"
    )
    page = phone.new_page()
    page.goto(url)
    assert page.input_value("#f-code") == url.rsplit("=", 1)[1]
    _enter(page, secret)
    assert "东湖社区调解室" in page.locator(".next-session").inner_text()
    assert "王堃" in page.locator(".facts").inner_text()
    shot(page, "my-case-phone-session")
    # Nothing on the page is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    run_async(_issue_agreement(case_id))
    page.goto(url)
    _enter(page, secret)
    with page.expect_download() as download_info:
        page.click("#agreement-heading ~ form button")
    pdf_path = tmp_path / "agreement.pdf"
    download_info.value.save_as(pdf_path)
    agreement_text = subprocess.run(
        ["pdftotext", str(pdf_path), "-"], capture_output=True, check=True
    ).stdout.decode()
    assert "向王堃退还押金" in "".join(agreement_text.split())
    assert "13812345678" not in agreement_text

    run_async(_close(case_id))
    page.goto(url)
    _enter(page, secret)
    page.fill("#rate-comment", "调解员很耐心")
    page.tap("button[name=rating][value=satisfied]")
    page.wait_for_selector("text=感谢您的评价")
    shot(page, "my-case-phone-rated")
    phone.close()
