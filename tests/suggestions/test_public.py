"""The citizen's side of suggestions, no account: kiosk, web form, receipt, tracking, board.

A kiosk is a tablet at a direct-report point (直报点), bound by a device token that staff
issue; the citizen gets a tracking code and a secret, shown once, and rates the reply.
"""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
import uuid

import pytest
from litestar.testing import AsyncTestClient
from PIL import Image

from mediation.app import create_app
from mediation.grid.tables import Department, Region
from mediation.suggestions import photos, public_controllers, services
from mediation.suggestions.tables import DirectReportPoint, Suggestion, SuggestionPhoto
from tests.cases.conftest import user
from tests.helpers import ensure_csrf, login, post_form, text_of

pytestmark = pytest.mark.anyio

GOOD = {
    "topic": "梅园小区东门增设电动自行车充电棚",
    "reason": "小区居民电动车多，楼道私拉电线充电存在火灾隐患。",
    "measures": "在小区东门空地建设集中充电棚，由物业统一管理。",
    "name": "周玥",
    "phone": "13812340000",
    "reply_by_phone": "1",
    "consent_to_publish": "1",
}
REQUIRED = "此项为必填项。"
WRONG = "查询码或密码不正确"


def _unique(topic: str = GOOD["topic"]) -> str:
    return f"{topic}（{uuid.uuid4().hex[:6]}）"


def _error_beside(html: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
    return match.group(1) if match else ""


def _secret_in(html: str) -> str | None:
    match = re.search(r'id="receipt-secret"[^>]*>(\d{6})<', html)
    return match.group(1) if match else None


async def _bound_point(name: str = "东湖社区直报点") -> tuple[int, str]:
    region = await Region.select(Region.id).where(Region.level == "community").first()
    point = DirectReportPoint(code=f"T-{uuid.uuid4().hex[:8]}", name=name, region=region["id"])
    await point.save()
    token = await services.bind_device(await user("admin"), point.id)
    return point.id, token


async def _bind(client, token: str):
    # Opening the link asks to confirm (a link preview must not spend it); the button binds.
    page = await client.get(f"/kiosk/bind/{token}", follow_redirects=False)
    assert page.status_code == 200 and f'action="/kiosk/bind/{token}"' in page.text
    response = await post_form(client, f"/kiosk/bind/{token}", {})
    assert response.status_code == 303 and response.headers["location"] == "/kiosk"
    return response


async def kiosk_form(client, data: dict) -> dict:
    """``data`` as the kiosk's form sends it: opened for this visit (its hidden visit field)."""
    page = await client.get("/kiosk")
    assert page.status_code == 200, page.status_code
    visit = re.search(r'name="visit" value="([^"]+)"', page.text)
    assert visit, "the kiosk's form carries its visit"
    return {**data, "visit": visit.group(1)}


async def _file(client, url: str = "/suggest", **overrides) -> tuple[str, str]:
    """Send the form and open the receipt: (tracking code, secret)."""
    data = {**GOOD, **overrides}
    if url == "/kiosk":
        data = await kiosk_form(client, data)
    response = await post_form(client, url, data)
    assert response.status_code == 303, text_of(response.text)[:500]
    receipt = await client.get(response.headers["location"])
    assert receipt.status_code == 200
    code = response.headers["location"].rsplit("/", 1)[1]
    secret = _secret_in(receipt.text)
    assert secret, "the first view of the receipt shows the secret"
    return code, secret


async def _reply(code: str, outcome: str = "adopted", text: str = "已纳入明年改造计划。") -> int:
    """Staff register and transfer it to the housing bureau; handler1 handles and replies."""
    admin = await user("admin")
    sid = (await Suggestion.select(Suggestion.id).where(Suggestion.tracking_code == code).first())[
        "id"
    ]
    dept = (await Department.select(Department.id).where(Department.code == "zjj").first())["id"]
    await services.move(admin, sid, "register", {})
    await services.move(admin, sid, "transfer", {"department": str(dept)})
    handler = await user("handler1")
    await services.move(handler, sid, "start_handling", {})
    await services.move(handler, sid, "reply", {"outcome": outcome, "reply_text": text})
    return sid


# ---------------------------------------------------------------- the web form


async def test_the_form_is_open_to_anyone_and_hides_the_honeypot_from_people(client):
    page = await client.get("/suggest")
    assert page.status_code == 200
    assert "提建议" in page.text and 'name="topic"' in page.text
    honeypot = re.search(r'<div class="hp" aria-hidden="true">.*?</div>', page.text, re.S)
    assert honeypot, "the honeypot sits in a visually hidden, aria-hidden block"
    field = re.search(r'<input[^>]*name="website"[^>]*>', honeypot.group(0)).group(0)
    assert 'tabindex="-1"' in field and 'autocomplete="off"' in field


async def test_the_staff_pages_still_need_a_sign_in(client):
    # "/suggest" is public; "/suggestions" (the staff's) must not be caught by that pattern.
    response = await client.get("/suggestions", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login")


async def test_missing_elements_are_named_beside_each_field_and_nothing_typed_is_lost(client):
    response = await post_form(
        client, "/suggest", {**GOOD, "topic": "", "measures": "  ", "confidential": "1"}
    )
    assert response.status_code == 422
    html = response.text
    assert _error_beside(html, "topic") == REQUIRED
    assert _error_beside(html, "measures") == REQUIRED
    assert _error_beside(html, "reason") == ""
    assert GOOD["reason"] in html and 'value="周玥"' in html and 'value="13812340000"' in html
    assert re.search(r'name="confidential" value="1" autocomplete="off" checked', html)
    assert re.search(r'name="reply_by_phone" value="1" autocomplete="off" checked', html)


async def test_a_reply_by_phone_needs_a_phone_beside_the_phone_field(client):
    response = await post_form(client, "/suggest", {**GOOD, "phone": ""})
    assert response.status_code == 422
    assert _error_beside(response.text, "phone") == "需要电话答复的，请填写联系电话。"


async def test_the_honeypot_refuses_a_robot_and_stores_nothing(client):
    topic = _unique()
    response = await post_form(
        client, "/suggest", {**GOOD, "topic": topic, "website": "http://spam.example"}
    )
    assert response.status_code == 422
    assert "提交未被受理" in response.text
    assert 'name="website" value=""' in response.text  # a person who got here can send again
    assert not await Suggestion.exists().where(Suggestion.title == topic)


async def test_a_web_suggestion_is_stored_with_the_web_channel(client):
    topic = _unique()
    code, _secret = await _file(client, topic=topic)
    row = await Suggestion.select().where(Suggestion.tracking_code == code).first()
    assert row["title"] == topic and row["channel"] == "web" and row["point"] is None
    assert row["proposer_phone"] == "13812340000" and row["reply_by_phone"] is True


async def test_a_large_body_is_refused(client):
    # Room for three photos, but not for more than that.
    oversized = b"\xff\xd8\xff" + b"0" * (public_controllers.MAX_FORM_BODY + 1024)
    response = await post_form(
        client, "/suggest", GOOD, files=[("photos", ("big.jpg", oversized, "image/jpeg"))]
    )
    assert response.status_code == 413


async def test_an_overlong_reason_is_named_beside_the_field(client):
    response = await post_form(client, "/suggest", {**GOOD, "reason": "长" * 70_000})
    assert response.status_code == 422
    assert _error_beside(response.text, "reason")


# ---------------------------------------------------------------- category, area, photos


def _jpeg_with_metadata(colour: str = "red") -> bytes:
    """A phone photo: EXIF with the camera owner's name and a GPS position."""
    image = Image.new("RGB", (1200, 900), colour)
    exif = Image.Exif()
    exif[0x013B] = "周玥"  # Artist
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (30.0, 41.0, 52.0), 3: "E", 4: (121.0, 1.0, 4.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


async def test_category_area_and_photos_are_kept_and_photos_lose_their_metadata(client, settings):
    photo = _jpeg_with_metadata()
    assert b"SecretCam" in photo
    region = await Region.select(Region.id).where(Region.level == "community").first()
    topic = _unique()
    token = await ensure_csrf(client)
    response = await client.post(
        "/suggest",
        data={**GOOD, "topic": topic, "category": "transport", "region": str(region["id"])},
        files=[
            ("photos", ("IMG_0001.JPG", photo, "image/jpeg")),
            ("photos", ("IMG_0002.JPG", _jpeg_with_metadata("blue"), "image/jpeg")),
        ],
        headers={"x-csrftoken": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, text_of(response.text)[:300]
    row = await Suggestion.select().where(Suggestion.title == topic).first()
    assert row["category"] == "transport" and row["region"] == region["id"]
    stored = await SuggestionPhoto.select().where(SuggestionPhoto.suggestion == row["id"])
    assert len(stored) == 2
    for item in stored:
        content = await photos.read(settings.data_dir, item["stored_as"])
        assert content is not None
        assert content.startswith(b"\xff\xd8\xff")
        assert b"SecretCam" not in content and b"Exif" not in content
        assert "周玥".encode() not in content
        with Image.open(io.BytesIO(content)) as image:
            assert image.size == (1200, 900) and not image.getexif()

    # Staff see the photos; a department handler of an unrelated bureau, or nobody, cannot.
    await login(client, "admin")
    page = await client.get(f"/suggestions/{row['id']}")
    assert "交通出行" in page.text
    url = f"/suggestions/{row['id']}/photos/{stored[0]['id']}"
    assert url in page.text
    image = await client.get(url)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    client.cookies.clear()
    assert (await client.get(url, follow_redirects=False)).status_code in (302, 303, 401)


async def test_a_file_that_is_not_a_photo_is_named_beside_the_field(client):
    topic = _unique()
    token = await ensure_csrf(client)
    response = await client.post(
        "/suggest",
        data={**GOOD, "topic": topic},
        files=[("photos", ("photo.jpg", b"MZ\x90\x00 not really a photo", "image/jpeg"))],
        headers={"x-csrftoken": token},
    )
    assert response.status_code == 422
    assert "photo.jpg" in _error_beside(response.text, "photos")
    assert topic in response.text, "what was typed is kept"
    assert not await Suggestion.exists().where(Suggestion.title == topic)


async def test_at_most_three_photos_and_a_known_category(client):
    topic = _unique()
    token = await ensure_csrf(client)
    response = await client.post(
        "/suggest",
        data={**GOOD, "topic": topic, "category": "no-such-area"},
        files=[("photos", (f"{i}.jpg", _jpeg_with_metadata(), "image/jpeg")) for i in range(4)],
        headers={"x-csrftoken": token},
    )
    assert response.status_code == 422
    assert _error_beside(response.text, "photos") == (
        f"最多上传{photos.MAX_PHOTOS}张照片。 请重新选择照片。"
    )
    assert _error_beside(response.text, "category")
    assert not await Suggestion.exists().where(Suggestion.title == topic)


# ---------------------------------------------------------------- limits


async def test_submissions_are_limited_per_client_address(settings):
    app = create_app(dataclasses.replace(settings, public_rate_limit=2))
    async with AsyncTestClient(app) as client:
        for _ in range(2):
            assert (await post_form(client, "/suggest", GOOD)).status_code == 303
        topic = _unique()
        response = await post_form(client, "/suggest", {**GOOD, "topic": topic})
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) >= 1
        assert "过一分钟再提交" in response.text
        assert topic in response.text and GOOD["measures"] in response.text  # kept
        assert not await Suggestion.exists().where(Suggestion.title == topic)
        # Tracking has its own allowance: looking up is not blocked by filing.
        assert (await post_form(client, "/track", {"code": "x", "secret": "1"})).status_code == 422


async def test_submissions_are_limited_per_direct_report_point(settings):
    app = create_app(
        dataclasses.replace(settings, public_rate_limit=100, extra={"point_rate_limit": 2})
    )
    _point_id, token = await _bound_point()
    async with AsyncTestClient(app) as client:
        await _bind(client, token)
        for _ in range(2):
            assert (
                await post_form(client, "/kiosk", await kiosk_form(client, GOOD))
            ).status_code == 303
        third = await kiosk_form(client, {**GOOD, "topic": "第三条"})
        response = await post_form(client, "/kiosk", third)
        assert response.status_code == 429
        assert "这个直报点短时间内收到的建议太多了" in response.text
        assert "第三条" in response.text
    # The limit belongs to the point: the web form from the same address (another browser:
    # on the tablet /suggest is the kiosk's form) still works.
    async with AsyncTestClient(app) as other:
        assert (await post_form(other, "/suggest", GOOD)).status_code == 303


# ---------------------------------------------------------------- the kiosk


async def test_an_unbound_tablet_is_refused(client):
    page = await client.get("/kiosk")
    assert page.status_code == 403
    assert "这台平板没有绑定直报点" in page.text
    assert 'name="topic"' not in page.text
    response = await post_form(client, "/kiosk", {**GOOD, "topic": (topic := _unique())})
    assert response.status_code == 403
    assert not await Suggestion.exists().where(Suggestion.title == topic)


async def test_a_made_up_binding_link_is_refused(client):
    response = await client.get("/kiosk/bind/not-a-real-token", follow_redirects=False)
    assert response.status_code == 403
    assert "绑定链接无效" in response.text
    assert "kiosk_token" not in response.headers.get("set-cookie", "")


async def test_binding_opens_the_kiosk_and_files_for_the_point(client):
    point_id, token = await _bound_point("梅园社区直报点")
    response = await _bind(client, token)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("kiosk_token=") and "HttpOnly" in cookie and "Path=/;" in cookie
    page = await client.get("/kiosk")
    assert page.status_code == 200
    assert "梅园社区直报点" in page.text and 'data-reset-seconds="90"' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert '<form method="post" action="/kiosk" autocomplete="off"' in page.text
    topic = _unique()
    code, _secret = await _file(client, "/kiosk", topic=topic)
    row = await Suggestion.select().where(Suggestion.tracking_code == code).first()
    assert row["channel"] == "direct_report_point" and row["point"] == point_id
    point = await DirectReportPoint.select().where(DirectReportPoint.id == point_id).first()
    assert row["region"] == point["region"]  # the community the kiosk stands in


async def test_binding_signs_out_a_member_of_staff_on_that_tablet(client):
    await login(client, "centre1")
    _point_id, token = await _bound_point()
    await _bind(client, token)
    assert (await client.get("/", follow_redirects=False)).status_code in (302, 303)


async def test_a_revoked_tablet_is_refused_again(client):
    point_id, token = await _bound_point()
    await _bind(client, token)
    assert (await client.get("/kiosk")).status_code == 200
    await services.revoke_device(await user("admin"), point_id)
    assert (await client.get("/kiosk")).status_code == 403
    response = await post_form(client, "/kiosk", {**GOOD, "topic": (topic := _unique())})
    assert response.status_code == 403
    assert not await Suggestion.exists().where(Suggestion.title == topic)


async def test_a_shorter_reset_can_be_asked_for_but_never_a_longer_one(client):
    _point_id, token = await _bound_point()
    await _bind(client, token)
    assert 'data-reset-seconds="2"' in (await client.get("/kiosk?reset=2")).text
    assert 'data-reset-seconds="90"' in (await client.get("/kiosk?reset=100000")).text
    assert 'data-reset-seconds="90"' in (await client.get("/kiosk?reset=abc")).text


# ---------------------------------------------------------------- the receipt


async def test_the_receipt_shows_the_code_and_the_secret_only_once(client):
    response = await post_form(client, "/suggest", GOOD)
    location = response.headers["location"]
    code = location.rsplit("/", 1)[1]
    first = await client.get(location)
    secret = _secret_in(first.text)
    assert secret and code in first.text
    assert "data:image/svg+xml" in first.text  # the QR code to the tracking page
    assert "5 个工作日内" in first.text and "30 天内" in first.text
    assert f'href="{location}.pdf"' in first.text
    assert first.headers["cache-control"] == "no-store"
    second = await client.get(location)
    assert second.status_code == 200 and code in second.text
    assert _secret_in(second.text) is None and "print-receipt" not in second.text
    assert await services.track(code, secret) is not None


async def test_another_browser_never_sees_the_secret(client, app):
    code, _secret = await _file(client)
    async with AsyncTestClient(app) as stranger:
        page = await stranger.get(f"/suggest/receipt/{code}")
        assert _secret_in(page.text) is None and GOOD["topic"] not in page.text
        assert (await stranger.get(f"/suggest/receipt/{code}.pdf")).status_code == 404


async def test_the_receipt_prints_on_80_mm_paper_with_code_and_secret(client, tmp_path):
    response = await post_form(client, "/suggest", GOOD)
    location = response.headers["location"]
    code = location.rsplit("/", 1)[1]
    secret = _secret_in((await client.get(location)).text)
    pdf = await client.get(location + ".pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert code in text and secret in text and "人民建议回执" in text
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    width = float(re.search(r"Page size:\s+([\d.]+) x", info).group(1))
    assert abs(width - 80 / 25.4 * 72) < 1  # 80 mm
    assert re.search(r"Pages:\s+1\b", info)


async def test_done_starts_afresh_for_the_next_citizen_in_chinese(client):
    _point_id, token = await _bound_point()
    await _bind(client, token)
    await post_form(client, "/locale", {"locale": "en", "next": "/kiosk"})
    assert "Make a suggestion" in (await client.get("/kiosk")).text
    code, _secret = await _file(client, "/kiosk")
    page = await client.get(f"/kiosk/receipt/{code}")
    assert 'href="/kiosk/new" data-kiosk-done' in page.text
    assert 'data-countdown="always"' in page.text and 'data-reset-seconds="60"' in page.text
    response = await client.get("/kiosk/new", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/kiosk"
    # The next citizen gets the default language and cannot print the previous receipt.
    assert "提建议" in (await client.get("/kiosk")).text
    assert (await client.get(f"/kiosk/receipt/{code}.pdf")).status_code == 404


async def test_the_next_citizen_cannot_resend_the_previous_ones_form(client):
    """Back and Reload on a shared tablet resend an earlier POST with its name, phone and text:
    after the kiosk has reset, that POST gets a blank form, files nothing and shows nothing."""
    _point_id, token = await _bound_point()
    await _bind(client, token)
    name, phone, topic = "钱堃", "13700001234", _unique()
    first_try = await kiosk_form(client, {**GOOD, "topic": topic, "name": name, "phone": phone})
    first_try["measures"] = ""  # citizen A forgets a field, then fixes it and files
    refused = await post_form(client, "/kiosk", first_try)
    assert refused.status_code == 422 and name in refused.text  # A's own retry keeps A's text
    filed = await post_form(client, "/kiosk", {**first_try, "measures": GOOD["measures"]})
    assert filed.status_code == 303 and filed.headers["location"].startswith("/kiosk/receipt/")
    # A taps twice: the second tap files nothing more and leads to the same receipt.
    again = await post_form(client, "/kiosk", {**first_try, "measures": GOOD["measures"]})
    assert again.status_code == 303 and again.headers["location"] == filed.headers["location"]
    assert await Suggestion.count().where(Suggestion.title == topic) == 1
    # The kiosk resets (完成 or idle); the next citizen presses Back, then Reload.
    reset = await client.get("/kiosk/new", follow_redirects=False)
    assert reset.status_code == 303 and reset.headers["location"] == "/kiosk"
    assert (await client.get("/kiosk")).status_code == 200
    for replay in (first_try, {**first_try, "measures": GOOD["measures"]}):
        response = await post_form(client, "/kiosk", replay)
        assert response.status_code == 303 and response.headers["location"] == "/kiosk"
        assert name not in response.text and phone not in response.text
        blank = await client.get(response.headers["location"])
        assert blank.status_code == 200
        assert name not in blank.text and phone not in blank.text and topic not in blank.text
    assert await Suggestion.count().where(Suggestion.title == topic) == 1
    # A form of no visit at all (posted by hand) is not taken either.
    bare = await post_form(client, "/kiosk", {**GOOD, "topic": (other := _unique())})
    assert bare.status_code == 303 and bare.headers["location"] == "/kiosk"
    assert not await Suggestion.exists().where(Suggestion.title == other)


async def test_the_kiosk_receipt_is_only_for_the_bound_tablet(client):
    _point_id, token = await _bound_point()
    await _bind(client, token)
    code, _secret = await _file(client, "/kiosk")
    client.cookies.delete("kiosk_token", path="/")
    assert (await client.get(f"/kiosk/receipt/{code}")).status_code == 403


# ---------------------------------------------------------------- tracking and rating


async def test_the_tracking_link_of_the_qr_code_fills_in_the_code(client):
    page = await client.get("/track?code=JY-2026-ABCDEF")
    assert page.status_code == 200
    assert 'value="JY-2026-ABCDEF"' in page.text and 'name="secret" value=""' in page.text


async def test_a_wrong_secret_or_code_reveals_nothing(client):
    topic = _unique()
    code, secret = await _file(client, topic=topic)
    wrong = "000000" if secret != "000000" else "111111"
    answers = [
        await post_form(client, "/track", {"code": code, "secret": wrong}),
        await post_form(client, "/track", {"code": "JY-2000-AAAAAA", "secret": secret}),
        await post_form(client, "/track", {"code": "nonsense", "secret": ""}),
    ]
    for response in answers:
        assert response.status_code == 422
        assert WRONG in response.text
        assert topic not in response.text and "已收到" not in response.text
    # The same page whatever was wrong: nothing tells an existing code from a made-up one.
    assert text_of(answers[0].text).replace(code, "") == text_of(answers[1].text).replace(
        "JY-2000-AAAAAA", ""
    )


async def test_wrong_secrets_lock_the_code_for_a_while(settings):
    app = create_app(dataclasses.replace(settings, extra={"track_failure_limit": 2}))
    async with AsyncTestClient(app) as client:
        code, secret = await _file(client)
        for _ in range(2):
            response = await post_form(client, "/track", {"code": code, "secret": "999999x"})
            assert response.status_code == 422
        response = await post_form(client, "/track", {"code": code, "secret": secret})
        assert response.status_code == 429


async def test_tracking_shows_the_steps_the_department_and_its_reply(client):
    topic = _unique()
    code, secret = await _file(client, topic=topic)
    page = await post_form(client, "/track", {"code": code.lower(), "secret": secret})
    assert page.status_code == 200
    assert topic in page.text and "已收到" in page.text and "尚未转办" in page.text
    assert "您对答复满意吗" not in page.text
    await _reply(code, text="东门充电棚已纳入明年改造计划。")
    page = await post_form(client, "/track", {"code": code, "secret": secret})
    text = text_of(page.text)
    assert "平湖市住房和城乡建设局" in text and "东门充电棚已纳入明年改造计划。" in text
    assert "采纳" in text and "已转办" in text and "已答复" in text
    assert "您对答复满意吗" in text
    assert GOOD["name"] not in text and GOOD["phone"] not in text


async def test_not_satisfied_reopens_once_and_only_once(client):
    code, secret = await _file(client)
    sid = await _reply(code)
    page = await post_form(
        client, "/track/rate", {"code": code, "secret": secret, "rating": "not_satisfied"}
    )
    assert page.status_code == 200
    assert "您的评价“不满意”已记录" in page.text and "退回承办单位重新办理" in page.text
    assert "根据您的评价重新办理" in page.text
    row = await Suggestion.select().where(Suggestion.id == sid).first()
    assert row["status"] == "handling" and row["times_reopened"] == 1

    await services.move(
        await user("handler1"), sid, "reply", {"outcome": "partly_adopted", "reply_text": "再答复"}
    )
    # The rating form swaps its own fragment when htmx sends it.
    fragment = await post_form(
        client,
        "/track/rate",
        {"code": code, "secret": secret, "rating": "not_satisfied"},
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="tracking"')
    assert "不再重新办理" in fragment.text
    row = await Suggestion.select().where(Suggestion.id == sid).first()
    assert row["status"] == "replied" and row["rating"] == "not_satisfied"


async def test_a_rating_before_the_reply_or_twice_is_refused_beside_the_buttons(client):
    code, secret = await _file(client)
    early = await post_form(
        client, "/track/rate", {"code": code, "secret": secret, "rating": "satisfied"}
    )
    assert early.status_code == 422 and "建议答复后才能评价" in early.text
    await _reply(code)
    ok = await post_form(
        client, "/track/rate", {"code": code, "secret": secret, "rating": "satisfied"}
    )
    assert ok.status_code == 200 and "您的评价“满意”已记录" in ok.text
    again = await post_form(
        client, "/track/rate", {"code": code, "secret": secret, "rating": "not_satisfied"}
    )
    assert again.status_code == 422 and "此答复已评价过" in again.text


async def test_rating_with_a_wrong_secret_reveals_nothing(client):
    topic = _unique()
    code, secret = await _file(client, topic=topic)
    await _reply(code)
    wrong = "000000" if secret != "000000" else "111111"
    response = await post_form(
        client, "/track/rate", {"code": code, "secret": wrong, "rating": "satisfied"}
    )
    assert response.status_code == 422 and WRONG in response.text
    assert topic not in response.text
    row = await Suggestion.select(Suggestion.rating).where(Suggestion.tracking_code == code).first()
    assert row["rating"] == ""


# ---------------------------------------------------------------- the public board


async def test_the_board_shows_adopted_suggestions_with_consent_and_no_personal_data(client):
    published = _unique("东湖路增设夜间路灯")
    private = _unique("西门菜场改造")
    refused = _unique("南河滨步道加装护栏")
    code1, _ = await _file(client, topic=published, measures="在东湖路增设路灯，电话13812340000")
    code2, _ = await _file(client, topic=private, consent_to_publish="")
    code3, _ = await _file(client, topic=refused)
    await _reply(code1, "adopted")
    await _reply(code2, "adopted")
    await _reply(code3, "not_adopted")
    client.cookies.clear()
    page = await client.get("/board")
    assert page.status_code == 200
    text = text_of(page.text)
    assert published in text and "平湖市住房和城乡建设局" in text and "采纳" in text
    assert private not in text and refused not in text
    assert GOOD["name"] not in text and "13812340000" not in text


def test_a_decompression_bomb_is_refused_with_a_message():
    # A tiny PNG that claims 20,000 x 20,000 pixels.
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG")
    with pytest.raises(photos.PhotoError) as refused:
        photos.prepare("bomb.png", out.getvalue())
    assert "bomb.png" in refused.value.message


def test_a_photo_is_scaled_down_and_kept_upright():
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotated 90° clockwise
    Image.new("RGB", (4000, 3000), "green").save(out, format="JPEG", exif=exif.tobytes())
    photo = photos.prepare("IMG.JPG", out.getvalue())
    assert (photo.width, photo.height) == (1536, 2048)  # portrait once upright, longest 2048
    with Image.open(io.BytesIO(photo.content)) as image:
        assert image.size == (1536, 2048) and not image.getexif()
