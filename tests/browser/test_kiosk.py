"""A citizen files a suggestion at a community-hall kiosk, the kiosk wipes itself for the next
person, the housing bureau replies, and the citizen checks progress and rates the reply."""

from __future__ import annotations

import asyncio
import io
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from mediation.web import LOCALE_COOKIE
from tests.browser.conftest import shot

pytestmark = pytest.mark.browser

TOPIC = "梅园小区东门增设电动自行车充电棚"
REPLY = "已将梅园小区东门充电棚纳入明年老旧小区改造计划，预计6月建成。"


def _photo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (640, 480), "orange").save(out, format="JPEG")
    return out.getvalue()


async def _stored(code: str) -> tuple[str, int]:
    """The suggestion's subject area and how many photos came with it."""
    from mediation.suggestions.tables import Suggestion, SuggestionPhoto

    row = (
        await Suggestion.select(Suggestion.id, Suggestion.category)
        .where(Suggestion.tracking_code == code)
        .first()
    )
    photos = await SuggestionPhoto.count().where(SuggestionPhoto.suggestion == row["id"])
    return row["category"], photos


def _run(coro_fn, *args):
    """Run a service coroutine on its own event loop, away from Playwright's."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro_fn(*args)).result()


async def _bound_point() -> str:
    from mediation.grid.tables import Region
    from mediation.suggestions import services
    from mediation.suggestions.tables import DirectReportPoint
    from tests.cases.conftest import user

    region = await Region.select(Region.id).where(Region.level == "community").first()
    point = DirectReportPoint(
        code=f"B-{uuid.uuid4().hex[:8]}", name="东湖社区人民建议直报点", region=region["id"]
    )
    await point.save()
    return await services.bind_device(await user("admin"), point.id)


async def _handler1_replies(code: str) -> None:
    """Staff route it to the housing bureau (zjj); handler1 handles it and replies."""
    from mediation.grid.tables import Department
    from mediation.suggestions import services
    from mediation.suggestions.tables import Suggestion
    from tests.cases.conftest import user

    admin = await user("admin")
    sid = (await Suggestion.select(Suggestion.id).where(Suggestion.tracking_code == code).first())[
        "id"
    ]
    dept = (await Department.select(Department.id).where(Department.code == "zjj").first())["id"]
    await services.move(admin, sid, "register", {})
    await services.move(admin, sid, "transfer", {"department": str(dept)})
    handler = await user("handler1")
    await services.move(handler, sid, "start_handling", {})
    await services.move(handler, sid, "reply", {"outcome": "adopted", "reply_text": REPLY})


def _tall_enough(page, selector: str) -> None:
    for element in page.locator(selector).all():
        if element.is_visible():
            box = element.bounding_box()
            assert box["height"] >= 44, f"{selector} is {box['height']} px tall"


def test_a_citizen_files_at_the_kiosk_gets_a_receipt_and_rates_the_reply(live_server, browser):
    token = _run(_bound_point)
    kiosk = browser.new_context(
        viewport={"width": 768, "height": 1024}, has_touch=True, locale="zh-CN"
    )
    page = kiosk.new_page()
    page.goto(f"{live_server}/kiosk/bind/{token}")
    page.click("#bind-tablet")  # opening the link only asks; the button binds
    page.wait_for_url(f"{live_server}/kiosk")
    assert page.locator("h1").inner_text() == "提建议"
    assert "东湖社区人民建议直报点" in page.locator(".point").inner_text()
    assert page.locator("header .brand").get_attribute("href") == "/kiosk"
    _tall_enough(page, "main input[type=text], main input[type=tel], main textarea, main button")
    _tall_enough(page, "main label.big-check")
    honeypot = page.locator("#f-website").bounding_box()
    assert honeypot["x"] + honeypot["width"] <= 0  # off screen: people never see it

    page.fill("#f-topic", TOPIC)
    page.fill("#f-reason", "小区居民电动车多，楼道私拉电线充电存在火灾隐患。")
    page.fill("#f-measures", "在小区东门空地建设集中充电棚，由物业统一管理。")
    page.fill("#f-phone", "138 1234 0000")
    # The point's community is chosen already; the citizen adds the subject and a photo.
    assert "东湖社区" in page.locator("#f-region option:checked").inner_text()
    page.select_option("#f-category", "urban_construction")
    page.set_input_files(
        "#f-photos",
        files=[{"name": "充电棚.jpg", "mimeType": "image/jpeg", "buffer": _photo()}],
    )
    page.tap("label[for=f-reply_by_phone]")
    page.tap("label[for=f-consent_to_publish]")
    assert page.is_checked("#f-reply_by_phone") and page.is_checked("#f-consent_to_publish")
    page.tap("#submit-suggestion")
    page.wait_for_url(re.compile(r"/kiosk/receipt/JY-\d{4}-[0-9A-Z]{6}$"))

    code = page.locator("#receipt-code").inner_text()
    assert _run(_stored, code) == ("urban_construction", 1)
    secret = page.locator("#receipt-secret").inner_text()
    assert re.fullmatch(r"\d{6}", secret)
    assert page.locator(".receipt-qr img").is_visible()
    assert page.locator("#kiosk-notice").is_visible()  # the countdown is on screen
    assert page.locator("#print-receipt").get_attribute("href") == f"/kiosk/receipt/{code}.pdf"
    pdf = page.request.get(f"{live_server}/kiosk/receipt/{code}.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    _tall_enough(page, "main .button, main button")
    shot(page, "kiosk-receipt")

    # "Done": the next citizen gets an empty form, and the receipt is gone for good.
    page.tap("#kiosk-done")
    page.wait_for_url(f"{live_server}/kiosk")
    assert page.input_value("#f-topic") == ""
    assert page.request.get(f"{live_server}/kiosk/receipt/{code}.pdf").status == 404
    page.goto(f"{live_server}/kiosk/receipt/{code}")
    assert page.locator("#receipt-secret").count() == 0

    # Someone starts typing and walks away: after the (here shortened) idle time the kiosk
    # shows the warning, then clears itself.
    page.goto(f"{live_server}/kiosk?reset=4")
    page.fill("#f-topic", "写了一半就走开了")
    page.fill("#f-name", "路人甲")
    page.locator("#kiosk-notice").wait_for(state="visible", timeout=8000)
    page.wait_for_url(f"{live_server}/kiosk", timeout=10000)
    page.wait_for_load_state()
    assert page.input_value("#f-topic") == ""
    assert page.input_value("#f-name") == ""
    assert "写了一半就走开了" not in page.content()
    shot(page, "kiosk-reset")
    kiosk.close()

    _run(_handler1_replies, code)

    # At home, the citizen scans the QR code of the receipt and types the secret.
    phone = browser.new_context(
        viewport={"width": 768, "height": 1024}, has_touch=True, locale="zh-CN"
    )
    page = phone.new_page()
    page.goto(f"{live_server}/track?code={code}")
    assert page.input_value("#f-code") == code
    page.fill("#f-secret", secret)
    page.tap("#track-submit")
    page.wait_for_selector("#tracking")
    tracking = page.locator("#tracking").inner_text()
    assert TOPIC in tracking and REPLY in tracking
    assert "平湖市住房和城乡建设局" in tracking and "采纳" in tracking
    _tall_enough(page, ".rating button")
    page.tap(".rating button[value=satisfied]")
    page.locator("#tracking .alert.ok").wait_for()
    assert "您的评价“满意”已记录" in page.locator("#tracking .alert.ok").inner_text()
    assert page.locator(".rating").count() == 0
    shot(page, "track-rated")
    phone.close()


def test_the_kiosk_countdown_says_one_second_in_english(live_server, browser):
    """The count changes every second in the browser; its sentence follows the count in the
    page's language ("1 second", "2 seconds"), not a fixed plural."""
    token = _run(_bound_point)
    kiosk = browser.new_context(
        viewport={"width": 768, "height": 1024}, has_touch=True, locale="en-US"
    )
    kiosk.add_cookies([{"name": LOCALE_COOKIE, "value": "en", "url": live_server}])
    page = kiosk.new_page()
    page.goto(f"{live_server}/kiosk/bind/{token}")
    page.click("#bind-tablet")
    page.wait_for_url(f"{live_server}/kiosk")
    # The page's timers run on a controlled clock: one tick at a time, whatever the load.
    page.clock.install()
    page.goto(f"{live_server}/kiosk?reset=3")
    message = page.locator("[data-kiosk-message]")
    assert "cleared in 3 seconds." in message.inner_text()
    page.clock.run_for(1000)
    assert "cleared in 2 seconds." in message.inner_text()
    page.clock.run_for(1000)
    assert "cleared in 1 second." in message.inner_text()
    assert message.locator("#kiosk-count").inner_text() == "1"
    kiosk.close()
