"""The case pages: the intake form, the list and its fragment, the detail page and its moves.

grid1 registers disputes in 东湖社区第1网格, whose team includes police1. grid4 works 西门社区
in the same town and must never see grid1's cases. mediator1 reads cases but may not log them;
handler1 only handles suggestions.
"""

from __future__ import annotations

import html
import struct
import uuid
import zlib

import pytest

from mediation import files
from mediation.cases import services
from mediation.cases.tables import Attachment, Case, CaseEvent, Party
from tests.cases.conftest import STUDENT_ID, deposit_case, grid_id, user
from tests.helpers import ensure_csrf, login, post_form, text_of

pytestmark = pytest.mark.anyio

PHONE = "13812345678"
BAD_ID = STUDENT_ID[:-1] + "8"  # one wrong check digit


def tiny_png() -> bytes:
    """A real 1×1 PNG: signature, IHDR, IDAT and IEND chunks with their CRCs."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


async def intake_form(grid: int, **overrides) -> dict:
    """What the intake form posts for the deposit story, with a fresh idempotency key."""
    data = {
        "idempotency_key": uuid.uuid4().hex,
        "category": "housing_land",
        "summary": f"学生提前退租，二房东扣押押金 {uuid.uuid4().hex[:6]}",
        "facts": "租客提前一个月退租，二房东以违约为由不退还押金3000元。",
        "grid": str(grid),
        "source": "walk_in",
        "colour": "green",
        "parties_consent": "yes",
        "amount": "3000",
        "location": "当湖街道东湖社区梅园小区3幢",
        "parties-0-role": "applicant",
        "parties-0-kind": "person",
        "parties-0-name": "王堃",
        "parties-0-id_number": STUDENT_ID,
        "parties-0-phone": PHONE,
        "parties-1-role": "respondent",
        "parties-1-kind": "person",
        "parties-1-name": "李二房东",
        "parties-1-phone": "13900001111",
    }
    data.update(overrides)
    return data


async def post_intake(client, data: dict, files: list | None = None):
    """The form as a browser sends it: multipart (it carries photos), CSRF header set."""
    token = await ensure_csrf(client)
    return await client.post(
        "/cases/new",
        data=data,
        files=files or [("attachments", ("", b"", "application/octet-stream"))],
        headers={"x-csrftoken": token},
        follow_redirects=False,
    )


def case_id_from(response) -> int:
    location = response.headers["location"]
    assert location.startswith("/cases/") and location.endswith("?registered=1"), location
    return int(location.removeprefix("/cases/").removesuffix("?registered=1"))


async def new_case(**overrides) -> int:
    """A case grid1 registered, made through the service (the form is tested on its own)."""
    grid1 = await user("grid1")
    return await services.register_case(
        deposit_case(await grid_id(), **overrides), grid1, uuid.uuid4().hex
    )


async def number_of(case_id: int) -> str:
    return (await Case.select(Case.number).where(Case.id == case_id).first())["number"]


# ---------------------------------------------------------------- the intake form


async def test_the_intake_form_renders_for_a_grid_worker(client):
    await login(client, "grid1")
    response = await client.get("/cases/new")
    assert response.status_code == 200
    assert 'id="intake-form"' in response.text
    assert 'name="idempotency_key"' in response.text
    assert "东湖社区第1网格" in response.text


@pytest.mark.parametrize("username", ["mediator1", "handler1"])
async def test_the_intake_form_is_forbidden_to_people_who_do_not_log_disputes(client, username):
    await login(client, username)
    assert (await client.get("/cases/new")).status_code == 403


async def test_a_wrong_id_checksum_comes_back_beside_the_field_with_everything_kept(client):
    await login(client, "grid1")
    before = await Case.count()
    data = await intake_form(await grid_id(), **{"parties-0-id_number": BAD_ID})
    response = await post_intake(client, data)
    assert response.status_code == 422
    page = response.text
    # The message sits in the error element tied to the ID number input.
    assert 'id="parties-0-id_number-error"' in page
    error = page.split('id="parties-0-id_number-error">', 1)[1].split("</p>", 1)[0]
    assert "身份证" in html.unescape(error)
    assert 'aria-describedby="parties-0-id_number-error"' in page
    # Nothing the worker typed is lost.
    for value in (data["summary"], data["facts"], "王堃", "李二房东", PHONE, "13900001111", BAD_ID):
        assert html.escape(value) in page or value in page, value
    assert f'value="{data["idempotency_key"]}"' in page
    assert await Case.count() == before


async def test_a_valid_form_registers_the_case_and_redirects_to_it(client):
    await login(client, "grid1")
    data = await intake_form(await grid_id())
    response = await post_intake(client, data)
    assert response.status_code == 303
    case_id = case_id_from(response)
    case = await Case.select().where(Case.id == case_id).first()
    assert case["summary"] == data["summary"] and case["status"] == "registered"
    assert await Party.count().where(Party.case == case_id) == 2
    page = await client.get(response.headers["location"])
    assert page.status_code == 200
    assert case["number"] in page.text


async def test_the_same_submission_posted_twice_makes_one_case(client):
    await login(client, "grid1")
    data = await intake_form(await grid_id())
    first = await post_intake(client, data)
    second = await post_intake(client, data)
    assert first.status_code == second.status_code == 303
    assert case_id_from(first) == case_id_from(second)
    assert await Case.count().where(Case.summary == data["summary"]) == 1


async def test_a_text_file_renamed_jpg_is_refused_with_a_message(client, settings):
    await login(client, "grid1")
    data = await intake_form(await grid_id())
    files = [("attachments", ("photo.jpg", b"just some text, not a photo", "image/jpeg"))]
    response = await post_intake(client, data, files)
    assert response.status_code == 422
    assert "photo.jpg" in response.text
    assert "JPEG" in response.text  # the message names the accepted types
    assert await Case.count().where(Case.summary == data["summary"]) == 0


async def test_a_real_png_is_accepted_and_stored_as_a_clean_jpeg(client, settings):
    await login(client, "grid1")
    png = tiny_png()
    data = await intake_form(await grid_id())
    response = await post_intake(client, data, [("attachments", ("门口.png", png, "image/png"))])
    assert response.status_code == 303
    case_id = case_id_from(response)
    stored = await Attachment.select().where(Attachment.case == case_id)
    assert len(stored) == 1
    # Re-encoded like every photo of a case, so no metadata of the original survives.
    assert stored[0]["content_type"] == "image/jpeg" and stored[0]["metadata_removed"]
    assert stored[0]["filename"] == "门口.png" and stored[0]["kind"] == "photo"
    content = await files.read(settings.data_dir, files.ATTACHMENTS, stored[0]["stored_as"])
    assert content is not None and content.startswith(b"\xff\xd8\xff")
    assert stored[0]["size"] == len(content)


# ---------------------------------------------------------------- the list


async def test_the_list_shows_a_grid_worker_their_case_and_not_another_communitys(client):
    case_id = await new_case(summary=f"列表可见 {uuid.uuid4().hex[:6]}")
    number = await number_of(case_id)
    await login(client, "grid1")
    assert number in (await client.get("/cases", params={"q": number})).text
    assert f'href="/cases/{case_id}"' in (await client.get("/cases")).text
    await login(client, "grid4")
    assert number not in (await client.get("/cases")).text
    searched = await client.get("/cases", params={"q": number}, headers={"HX-Request": "true"})
    assert f'href="/cases/{case_id}"' not in searched.text
    assert "没有符合条件的案件" in searched.text


async def test_an_htmx_list_request_gets_only_the_rows_the_full_page_includes(client):
    case_id = await new_case()
    number = await number_of(case_id)
    await login(client, "grid1")
    fragment = await client.get("/cases", params={"q": number}, headers={"HX-Request": "true"})
    full = await client.get("/cases", params={"q": number})
    assert fragment.status_code == full.status_code == 200
    assert "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="case-rows">')
    assert number in fragment.text
    assert "<html" in full.text
    # The page includes the very fragment the htmx request receives.
    assert fragment.text.strip() in full.text


# ---------------------------------------------------------------- the detail page


async def test_another_communitys_worker_gets_404_for_the_case(client):
    case_id = await new_case()
    await login(client, "grid4")
    assert (await client.get(f"/cases/{case_id}")).status_code == 404
    assert (await client.get("/cases/99999999")).status_code == 404


async def test_the_detail_page_shows_the_id_number_masked(client):
    case_id = await new_case()
    await login(client, "grid1")
    page = (await client.get(f"/cases/{case_id}")).text
    assert "330*************19" in page
    assert "138****5678" in page
    assert STUDENT_ID not in page
    assert PHONE not in page


async def test_revealing_an_id_number_shows_it_and_records_who_looked(client):
    case_id = await new_case()
    party = (
        await Party.select(Party.id).where(Party.case == case_id, Party.role == "applicant").first()
    )
    await login(client, "grid1")
    response = await post_form(
        client,
        f"/cases/{case_id}/parties/{party['id']}/reveal/id_number",
        {},
        headers={"HX-Request": "true"},
    )
    assert response.status_code in (200, 201)
    assert STUDENT_ID in response.text
    assert "<html" not in response.text
    event = (
        await CaseEvent.select()
        .where(CaseEvent.case == case_id, CaseEvent.action == "revealed")
        .output(load_json=True)
        .first()
    )
    assert event is not None
    assert event["actor"] == (await user("grid1")).id
    assert event["changes"]["field"] == [None, "id_number"]
    # And the timeline on the page says so.
    page = (await client.get(f"/cases/{case_id}")).text
    assert (await user("grid1")).display_name in page


async def test_revealing_needs_the_csrf_token(client):
    case_id = await new_case()
    party = await Party.select(Party.id).where(Party.case == case_id).first()
    await login(client, "grid1")
    response = await client.post(f"/cases/{case_id}/parties/{party['id']}/reveal/id_number")
    assert response.status_code == 403
    assert not await CaseEvent.exists().where(
        CaseEvent.case == case_id, CaseEvent.action == "revealed"
    )


async def test_a_move_with_a_stale_version_is_refused_and_changes_nothing(client):
    case_id = await new_case()
    case = await Case.select(Case.version).where(Case.id == case_id).first()
    stale = case["version"]
    grid1 = await user("grid1")
    await services.change_colour(grid1, case_id, "yellow", "另一位同事刚改了颜色")
    await login(client, "grid1")
    response = await post_form(
        client, f"/cases/{case_id}/move", {"action": "accept", "version": str(stale)}
    )
    assert response.status_code == 422
    assert "其他人刚刚修改了此案件" in response.text
    after = await Case.select(Case.status, Case.version).where(Case.id == case_id).first()
    assert after == {"status": "registered", "version": stale + 1}
    assert not await CaseEvent.exists().where(
        CaseEvent.case == case_id, CaseEvent.action == "accept"
    )


async def test_a_move_with_the_current_version_goes_through(client):
    case_id = await new_case()
    case = await Case.select(Case.version).where(Case.id == case_id).first()
    await login(client, "grid1")
    response = await post_form(
        client, f"/cases/{case_id}/move", {"action": "accept", "version": str(case["version"])}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/cases/{case_id}"
    status = await Case.select(Case.status).where(Case.id == case_id).first()
    assert status["status"] == "accepted"


async def test_an_illegal_move_is_refused_with_a_clear_message(client):
    case_id = await new_case()
    await login(client, "grid1")
    response = await post_form(
        client, f"/cases/{case_id}/move", {"action": "close", "follow_up_recorded": "1"}
    )
    assert response.status_code == 422
    assert "处于“登记”状态的案件不能执行“结案”。" in text_of(response.text)
    status = await Case.select(Case.status).where(Case.id == case_id).first()
    assert status["status"] == "registered"


# ---------------------------------------------------------------- the police officer's view


async def unread(client) -> int:
    fragment = (await client.get("/notifications/count")).text
    digits = text_of(fragment).strip()
    return int(digits) if digits else 0


async def test_the_teams_police_officer_sees_a_new_case_and_is_notified(client):
    await login(client, "police1")
    before = await unread(client)
    await login(client, "grid1")
    response = await post_intake(client, await intake_form(await grid_id()))
    case_id = case_id_from(response)
    number = await number_of(case_id)
    await login(client, "police1")
    assert f'href="/cases/{case_id}"' in (await client.get("/cases/mine")).text
    inbox = (await client.get("/notifications")).text
    assert number in inbox and f'href="/cases/{case_id}"' in inbox
    count = await client.get("/notifications/count")
    assert "<html" not in count.text
    assert await unread(client) == before + 1


# ---------------------------------------------------------------- known bugs (see reasons)


async def test_a_link_to_a_case_that_does_not_exist_does_not_break_registration(client):
    await login(client, "grid1")
    response = await post_intake(client, await intake_form(await grid_id(), linked_case="99999999"))
    assert response.status_code in (303, 422)


async def test_a_case_cannot_be_linked_to_another_communitys_case(client):
    grid4 = await user("grid4")
    other = await services.register_case(
        deposit_case(await grid_id("330482001002-01"), summary="西门社区的纠纷"),
        grid4,
        uuid.uuid4().hex,
    )
    number = await number_of(other)
    await login(client, "grid1")
    response = await post_intake(client, await intake_form(await grid_id(), linked_case=str(other)))
    assert not await Case.exists().where(Case.linked_case == other)
    if response.status_code == 303:
        assert number not in (await client.get(response.headers["location"])).text


async def test_an_organisations_code_of_the_wrong_length_is_refused_beside_the_field(client):
    await login(client, "grid1")
    data = await intake_form(
        await grid_id(), **{"parties-1-kind": "organisation", "parties-1-id_number": "9" * 40}
    )
    response = await post_intake(client, data)
    assert response.status_code == 422
    assert 'id="parties-1-id_number-error"' in response.text


async def test_a_form_sent_back_for_a_typo_keeps_the_chosen_duplicate(client):
    earlier = await new_case()
    await login(client, "grid1")
    data = await intake_form(
        await grid_id(), linked_case=str(earlier), **{"parties-0-id_number": BAD_ID}
    )
    response = await post_intake(client, data)
    assert response.status_code == 422
    assert f'name="linked_case" value="{earlier}"' in response.text
