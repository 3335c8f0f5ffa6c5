"""mediator1 photographs a receipt during a session on a tablet; it shows on the case page and
in the case file's list of materials."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from tests.browser.conftest import ARTIFACTS, run_async, shot, sign_in
from tests.browser.test_session_agreement import _deposit_case_in_mediation

pytestmark = pytest.mark.browser
TZ = ZoneInfo("Asia/Shanghai")


async def _session_with_a_minute(case_id: int) -> int:
    from mediation.cases import sessions
    from tests.cases.conftest import user

    mediator1 = await user("mediator1")
    session_id, _ = await sessions.schedule_session(
        mediator1, case_id, datetime(2031, 7, 1, 9, 30, tzinfo=TZ), 60, "调解室", "in_person", None
    )
    await sessions.add_minute(mediator1, session_id, "调解员", "请申请人出示押金收据。")
    return session_id


def _receipt_photo() -> bytes:
    image = Image.new("RGB", (1200, 900), (250, 245, 230))
    for x in range(100, 1100):
        for y in (200, 400, 600):
            image.putpixel((x, y), (30, 30, 30))
    out = io.BytesIO()
    image.save(out, format="JPEG")
    return out.getvalue()


def test_a_photo_taken_during_a_session_is_on_the_case_page_and_in_the_case_file(
    live_server, tablet
):
    page = tablet
    case_id = run_async(_deposit_case_in_mediation())
    session_id = run_async(_session_with_a_minute(case_id))
    sign_in(page, live_server, "mediator1")
    page.goto(f"{live_server}/cases/{case_id}/sessions/{session_id}")

    # Minutes carry their own number once: the list adds none of its own.
    first = page.locator("#minutes-list li").first
    assert first.evaluate("li => getComputedStyle(li).listStyleType") == "none"
    assert re.match(r"^1\. 调解员", first.inner_text())

    page.click("#add-material summary")
    camera = page.locator("#material-camera")
    assert camera.get_attribute("capture") == "environment"
    camera.set_input_files(
        {"name": "receipt.jpg", "mimeType": "image/jpeg", "buffer": _receipt_photo()}
    )
    page.select_option("#material-kind", "receipt")
    page.fill("#material-description", "押金收据（调解会现场拍摄）")
    shot(page, "materials-session-form-768")
    page.click("#add-material button[type=submit]")
    page.wait_for_url(re.compile(rf"/cases/{case_id}/sessions/{session_id}\?material_added=1"))
    assert "材料已添加到案件" in page.inner_text("#materials")

    page.click("text=查看案件材料")
    page.wait_for_url(re.compile(rf"/cases/{case_id}"))
    materials = page.locator("#materials")
    text = materials.inner_text()
    assert "1. 押金收据（调解会现场拍摄）" in text and "收据" in text
    thumbnail = materials.locator("img").first
    thumbnail.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
    )
    box = thumbnail.bounding_box()
    assert box and box["width"] >= 44 and box["height"] >= 44  # a target a finger can hit
    materials.screenshot(path=str(ARTIFACTS / "materials-case-page-768.png"))
    timeline = page.inner_text(".timeline")
    assert "添加材料" in timeline and "押金收据（调解会现场拍摄）" in timeline

    response = page.request.get(f"{live_server}/cases/{case_id}/file.pdf")
    assert response.status == 200
    pdf = ARTIFACTS / "materials-case-file.pdf"
    pdf.write_bytes(response.body())
    body = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "证据材料目录" in body and "押金收据（调解会现场拍摄）" in body
    images = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    assert any(line.split()[3:5] == ["1200", "900"] for line in images.splitlines()[2:])
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(pdf), str(ARTIFACTS / "materials-case-file")],
        check=True,
    )
