"""Evidence and materials on a case: who adds, sees and withdraws them; what the case file holds.

Personas: grid1 is on the team of 东湖社区第1网格 and registers the deposit case there;
centre1 staffs the town centre and sees every community of the town; mediator1 mediates in
the town; grid4 works 西门社区 and must see nothing of 东湖社区's case; handler1 handles
suggestions for a department and has no business with disputes.
"""

from __future__ import annotations

import io
import re
import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from weasyprint import HTML

from mediation import files
from mediation.cases import services, sessions
from mediation.cases.tables import Attachment, CaseEvent, Party
from mediation.grid.tables import Mediator, Staff
from tests.cases.conftest import deposit_case, grid_id, user
from tests.helpers import ensure_csrf, login, post_form, text_of

pytestmark = pytest.mark.anyio
TZ = ZoneInfo("Asia/Shanghai")
PDF = "application/pdf"


def photo_with_gps(colour: str = "red", size: tuple[int, int] = (640, 480)) -> bytes:
    """A JPEG as a phone writes it: EXIF with the camera owner and a GPS position."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x013B] = "Owner Zhang San"  # Artist
    exif[0x8825] = {1: "N", 2: (30.0, 42.0, 1.0), 3: "E", 4: (121.0, 1.0, 2.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    content = out.getvalue()
    assert b"Owner Zhang San" in content
    return content


def text_pdf(*pages: str) -> bytes:
    html = "".join(f'<p style="page-break-after: always">{p}</p>' for p in pages)
    return HTML(string=f"<html><body>{html}</body></html>").write_pdf()


async def new_case(new_key) -> int:
    grid1 = await user("grid1")
    return await services.register_case(deposit_case(await grid_id()), grid1, new_key())


async def add(client, case_id: int, files: list, **fields):
    token = await ensure_csrf(client)
    return await client.post(
        f"/cases/{case_id}/materials/",
        data={"kind": "photo", "description": "", "party": "", **fields},
        files=files,
        headers={"x-csrftoken": token},
        follow_redirects=False,
    )


async def events(case_id: int, action: str) -> list[dict]:
    return (
        await CaseEvent.select(CaseEvent.all_columns(), CaseEvent.actor.username)
        .where(CaseEvent.case == case_id, CaseEvent.action == action)
        .order_by(CaseEvent.id)
        .output(load_json=True)
    )


async def material_of(case_id: int) -> dict:
    return await Attachment.select().where(Attachment.case == case_id).first()


async def test_a_photo_is_stored_without_exif_and_listed_with_who_what_and_which_party(
    client, settings, new_key
):
    case_id = await new_case(new_key)
    applicant = await Party.select(Party.id).where(Party.case == case_id).first()
    await login(client, "grid1")
    response = await add(
        client,
        case_id,
        [("files", ("墙面裂缝.jpg", photo_with_gps(), "image/jpeg"))],
        kind="photo",
        description="被损坏的墙面",
        party=str(applicant["id"]),
    )
    assert response.status_code == 303
    row = await material_of(case_id)
    stored = await files.read(settings.data_dir, files.ATTACHMENTS, row["stored_as"])
    assert stored is not None
    assert b"Owner Zhang San" not in stored and b"PhoneMaker" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif() and image.size == (640, 480)
    page = await client.get(f"/cases/{case_id}")
    text = text_of(page.text)
    assert "1. 被损坏的墙面" in text and "照片" in text
    assert "提供人： 申请人 王堃" in text  # the full-width colon of Chinese text
    assert "陈建国于" in text and "添加" in text  # grid1 added it
    assert f'src="/cases/{case_id}/materials/{row["id"]}/thumbnail"' in page.text
    assert f'href="/cases/{case_id}/materials/{row["id"]}" target="_blank"' in page.text
    [added] = await events(case_id, "material_added")
    assert added["actor.username"] == "grid1"
    assert added["changes"]["material"][1] == "1. 被损坏的墙面"
    assert "添加材料" in text  # on the timeline


async def test_the_same_photo_sent_twice_is_kept_once(client, new_key):
    case_id = await new_case(new_key)
    await login(client, "grid1")
    photo = photo_with_gps("blue")
    response = await add(client, case_id, [("files", ("a.jpg", photo, "image/jpeg"))])
    assert response.status_code == 303
    # A double tap sends it again: it is not stored twice, and the page says where it is.
    again = await add(client, case_id, [("files", ("a.jpg", photo, "image/jpeg"))])
    assert again.status_code == 422 and "“a.jpg”已在案件材料中（第1号）" in again.text
    assert await Attachment.count().where(Attachment.case == case_id) == 1


async def test_a_file_already_on_the_case_is_named_with_its_number_and_nothing_is_lost(
    client, new_key
):
    """The same contract sent again under another name was answered "材料已添加到案件。" while
    nothing was added: the worker believed a second document was on file."""
    case_id = await new_case(new_key)
    await login(client, "grid1")
    photo = photo_with_gps("green")
    contract = text_pdf("租赁合同")
    for name, content, kind in (("现场.jpg", photo, "image/jpeg"), ("租赁合同.pdf", contract, PDF)):
        assert (await add(client, case_id, [("files", (name, content, kind))])).status_code == 303
    response = await add(
        client,
        case_id,
        [("files", ("contract_as.png", contract, "image/png"))],
        kind="contract",
        description="PDF冒充PNG",
    )
    assert response.status_code == 422
    assert 'id="material-files-error"' in response.text
    assert "“contract_as.png”已在案件材料中（第2号），未重复添加。" in text_of(response.text)
    assert "材料已添加到案件" not in response.text
    assert 'value="PDF冒充PNG"' in response.text  # what was typed is kept
    assert '<option value="contract" selected>' in response.text
    assert await Attachment.count().where(Attachment.case == case_id) == 2

    # With a new file beside it, nothing is added either, and the page says so.
    response = await add(
        client,
        case_id,
        [
            ("files", ("新照片.jpg", photo_with_gps("white"), "image/jpeg")),
            ("files", ("现场2.jpg", photo, "image/jpeg")),
        ],
        description="补充照片",
    )
    assert response.status_code == 422
    page = text_of(response.text)
    assert "“现场2.jpg”已在案件材料中（第1号）" in page and "其他文件也未添加" in page
    assert await Attachment.count().where(Attachment.case == case_id) == 2


async def test_a_renamed_text_file_is_refused_beside_the_field_and_nothing_is_stored(
    client, new_key
):
    case_id = await new_case(new_key)
    await login(client, "grid1")
    response = await add(
        client,
        case_id,
        [("files", ("收据.jpg", b"not a photo at all", "image/jpeg"))],
        description="押金收据",
    )
    assert response.status_code == 422
    assert 'id="material-files-error"' in response.text and "收据.jpg" in response.text
    assert 'value="押金收据"' in response.text  # what was typed is kept
    assert await Attachment.count().where(Attachment.case == case_id) == 0
    empty = await add(client, case_id, [("files", ("", b"", "application/octet-stream"))])
    assert empty.status_code == 422 and "拍照或选择文件" in empty.text


async def test_a_password_protected_pdf_is_refused(client, new_key):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf("SECRET"))))
    writer.encrypt("pw")
    out = io.BytesIO()
    writer.write(out)
    case_id = await new_case(new_key)
    await login(client, "grid1")
    response = await add(
        client, case_id, [("files", ("合同.pdf", out.getvalue(), "application/pdf"))]
    )
    assert response.status_code == 422 and "密码" in response.text


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("grid1", True),  # on the grid's team
        ("police1", True),  # the community officer of the same team
        ("centre1", True),  # the town centre sees every community of the town
        ("grid4", False),  # another community of the town
    ],
)
async def test_only_people_entitled_to_the_case_open_its_materials_and_each_access_is_logged(
    client, new_key, who, allowed
):
    case_id = await new_case(new_key)
    await login(client, "grid1")
    await add(client, case_id, [("files", ("p.jpg", photo_with_gps("green"), "image/jpeg"))])
    row = await material_of(case_id)
    base = f"/cases/{case_id}/materials/{row['id']}"
    await login(client, who)
    view = await client.get(base)
    download = await client.get(base + "/download")
    thumbnail = await client.get(base + "/thumbnail")
    page = await client.get(f"/cases/{case_id}")
    if not allowed:
        assert [view.status_code, download.status_code, thumbnail.status_code] == [404] * 3
        assert page.status_code == 404
        assert await events(case_id, "material_viewed") == []
        assert await events(case_id, "material_downloaded") == []
        assert await events(case_id, "materials_previewed") == []
        return
    assert view.status_code == download.status_code == thumbnail.status_code == 200
    assert view.headers["content-type"] == "image/jpeg"
    assert view.headers["content-disposition"].startswith("inline")
    assert download.headers["content-disposition"].startswith("attachment")
    assert "no-store" in view.headers["cache-control"]
    assert view.content.startswith(b"\xff\xd8\xff") and b"Owner Zhang San" not in view.content
    with Image.open(io.BytesIO(thumbnail.content)) as image:
        assert max(image.size) <= 320
    [viewed] = await events(case_id, "material_viewed")
    [downloaded] = await events(case_id, "material_downloaded")
    assert viewed["actor.username"] == downloaded["actor.username"] == who
    assert viewed["changes"]["material"][1] == "1. 照片"
    # Previews are recorded once a day per person, not once per thumbnail shown.
    await client.get(base + "/thumbnail")
    [previewed] = await events(case_id, "materials_previewed")
    assert previewed["actor.username"] == who
    timeline = text_of(page.text)
    assert "打开材料" in timeline and "下载材料" in timeline


async def test_staff_outside_dispute_work_cannot_open_materials(client, new_key):
    case_id = await new_case(new_key)
    await login(client, "grid1")
    await add(client, case_id, [("files", ("p.jpg", photo_with_gps("gray"), "image/jpeg"))])
    row = await material_of(case_id)
    for who in ("handler1", "admin"):
        await login(client, who)
        response = await client.get(f"/cases/{case_id}/materials/{row['id']}")
        assert response.status_code in (403, 404)
        assert not response.content.startswith(b"\xff\xd8\xff")
    assert await events(case_id, "material_viewed") == []


async def test_a_material_of_another_case_is_not_found_through_this_case(client, new_key):
    mine = await new_case(new_key)
    other = await new_case(new_key)
    await login(client, "grid1")
    await add(client, other, [("files", ("p.jpg", photo_with_gps("olive"), "image/jpeg"))])
    row = await material_of(other)
    assert (await client.get(f"/cases/{mine}/materials/{row['id']}")).status_code == 404


async def case_of_mediator1(new_key) -> int:
    """The deposit case in mediation with mediator1 assigned to it."""
    grid1, centre1 = await user("grid1"), await user("centre1")
    case_id = await new_case(new_key)
    await services.transition_case(grid1, case_id, "accept", {})
    staff = await Staff.select(Staff.id).where(Staff.username == "mediator1").first()
    mediator = await Mediator.select(Mediator.id).where(Mediator.staff == staff["id"]).first()
    # The demo gives mediator1 a full load; make room so this case can be theirs.
    await Mediator.update({Mediator.max_cases: 99}).where(Mediator.id == mediator["id"])
    await services.assign_mediator(centre1, case_id, mediator["id"])
    await services.transition_case(grid1, case_id, "start_mediation", {})
    return case_id


async def test_a_receipt_photographed_during_a_session_lands_on_the_timeline(client, new_key):
    mediator1 = await user("mediator1")
    case_id = await case_of_mediator1(new_key)
    session_id, _ = await sessions.schedule_session(
        mediator1, case_id, datetime(2031, 6, 2, 9, 30, tzinfo=TZ), 60, "调解室", "in_person", None
    )
    await login(client, "mediator1")
    session_page = await client.get(f"/cases/{case_id}/sessions/{session_id}")
    assert 'capture="environment"' in session_page.text
    assert f'name="session" value="{session_id}"' in session_page.text
    response = await add(
        client,
        case_id,
        [("files", ("receipt.png", _png(), "image/png"))],
        kind="receipt",
        description="押金收据",
        session=str(session_id),
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/cases/{case_id}/sessions/{session_id}")
    row = await material_of(case_id)
    assert row["session"] == session_id and row["kind"] == "receipt"
    [added] = await events(case_id, "material_added")
    assert added["actor.username"] == "mediator1"
    assert added["changes"]["session"][1] == "2031-06-02T09:30+08:00"
    page = text_of((await client.get(f"/cases/{case_id}")).text)
    assert "1. 押金收据" in page and "收据" in page
    # The timeline gives the session's county time in Chinese, never an ISO stamp.
    assert "2031年6月2日 09:30" in page and "2031-06-02" not in page


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), "white").save(out, format="PNG")
    return out.getvalue()


async def test_a_withdrawal_needs_a_reason_and_keeps_the_material(client, settings, new_key):
    case_id = await new_case(new_key)
    await login(client, "grid1")
    await add(client, case_id, [("files", ("p.jpg", photo_with_gps("navy"), "image/jpeg"))])
    row = await material_of(case_id)
    url = f"/cases/{case_id}/materials/{row['id']}/withdraw"
    refused = await post_form(client, url, {"reason": "   "})
    assert refused.status_code == 422 and f'id="withdraw-{row["id"]}-error"' in refused.text
    assert (await material_of(case_id))["withdrawn_at"] is None
    done = await post_form(client, url, {"reason": "当事人要求撤回"})
    assert done.status_code == 303
    after = await material_of(case_id)
    assert after["withdrawn_at"] is not None and after["withdrawn_reason"] == "当事人要求撤回"
    assert await files.read(settings.data_dir, files.ATTACHMENTS, after["stored_as"])
    [withdrawn] = await events(case_id, "material_withdrawn")
    assert withdrawn["note"] == "当事人要求撤回"
    page = text_of((await client.get(f"/cases/{case_id}")).text)
    assert "已撤回" in page and "当事人要求撤回" in page
    again = await post_form(client, url, {"reason": "再次"})
    assert again.status_code == 422
    # No route deletes a material.
    assert (await client.delete(f"/cases/{case_id}/materials/{row['id']}")).status_code in (
        404,
        405,
    )


async def test_the_case_file_lists_materials_and_appends_photos_and_pdfs(
    client, settings, new_key, tmp_path
):
    case_id = await new_case(new_key)
    await login(client, "grid1")
    await add(
        client,
        case_id,
        [("files", ("wall.jpg", photo_with_gps("red", (800, 600)), "image/jpeg"))],
        description="墙面照片",
    )
    contract = text_pdf("TENANCY-CONTRACT-PAGE-ONE", "TENANCY-CONTRACT-PAGE-TWO")
    await add(
        client,
        case_id,
        [("files", ("租赁合同.pdf", contract, "application/pdf"))],
        kind="contract",
        description="房屋租赁合同",
    )
    await add(
        client,
        case_id,
        [("files", ("old.jpg", photo_with_gps("yellow", (500, 500)), "image/jpeg"))],
        description="撤回的照片",
    )
    rows = await Attachment.select().where(Attachment.case == case_id).order_by(Attachment.id)
    assert rows[1]["pages"] == 2
    await post_form(
        client, f"/cases/{case_id}/materials/{rows[2]['id']}/withdraw", {"reason": "拍错了"}
    )
    response = await client.get(f"/cases/{case_id}/file.pdf")
    assert response.status_code == 200
    pdf = tmp_path / "file.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True)
    body = re.sub(r"[ \t]+", " ", text.stdout)
    assert "证据材料目录" in body
    assert "墙面照片" in body and "房屋租赁合同" in body and "撤回的照片" in body
    assert "2页" in body and "1张照片" in body
    assert "已撤回" in body and "拍错了" in body
    # The PDF's own pages follow its heading page, text intact, in order.
    assert body.index("附件2") < body.index("TENANCY-CONTRACT-PAGE-ONE")
    assert body.index("TENANCY-CONTRACT-PAGE-ONE") < body.index("TENANCY-CONTRACT-PAGE-TWO")
    # The original pages are numbered with the rest: every footer counts them.
    from pypdf import PdfReader

    total = len(PdfReader(pdf).pages)
    assert re.search(rf"第\s*{total}\s*页\s*共\s*{total}\s*页", body)
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True)
    sizes = {tuple(line.split()[3:5]) for line in images.stdout.splitlines()[2:]}
    assert ("800", "600") in sizes  # the photo itself, as an appendix page
    assert ("500", "500") not in sizes  # the withdrawn one is listed, not appended
    [printed] = await events(case_id, "materials_printed")
    assert printed["actor.username"] == "grid1"


async def test_the_case_file_appends_photos_and_pdfs_in_the_order_of_its_list(client, new_key):
    """Photos and PDFs interleaved (photo, PDF, photo, PDF) print as 附件1, 2, 3, 4, not the
    photos first; and the cover of a case still open states no result."""
    case_id = await new_case(new_key)
    await login(client, "grid1")
    for n, (name, content, kind) in enumerate(
        (
            ("1.jpg", photo_with_gps("red", (400, 300)), "image/jpeg"),
            ("2.pdf", text_pdf("SECOND-MATERIAL"), PDF),
            ("3.jpg", photo_with_gps("blue", (300, 400)), "image/jpeg"),
            ("4.pdf", text_pdf("FOURTH-MATERIAL"), PDF),
        ),
        start=1,
    ):
        response = await add(
            client, case_id, [("files", (name, content, kind))], description=f"材料{n}"
        )
        assert response.status_code == 303
    response = await client.get(f"/cases/{case_id}/file.pdf")
    assert response.status_code == 200
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    compact = "".join(text.split())
    headings = [compact.index(f"附件{n}：材料{n}") for n in range(1, 5)]
    assert headings == sorted(headings)
    assert compact.index("附件2：材料2") < compact.index("SECOND-MATERIAL") < headings[2]
    assert headings[3] < compact.index("FOURTH-MATERIAL")
    assert "调解结果尚未办结" in compact and "调解结果登记" not in compact


async def test_a_photo_attached_before_materials_existed_loses_its_exif_when_opened(
    client, settings, new_key
):
    case_id = await new_case(new_key)
    original = photo_with_gps("purple")
    await files.save(settings.data_dir, files.ATTACHMENTS, "legacy-test.jpg", original)
    grid1 = await user("grid1")
    await Attachment(
        case=case_id,
        filename="legacy.jpg",
        content_type="image/jpeg",
        size=len(original),
        sha256="0" * 64,
        stored_as="legacy-test.jpg",
        uploaded_by=grid1.id,
    ).save()
    await login(client, "grid1")
    row = await material_of(case_id)
    assert not row["metadata_removed"]
    response = await client.get(f"/cases/{case_id}/materials/{row['id']}")
    assert response.status_code == 200 and b"Owner Zhang San" not in response.content
    after = await material_of(case_id)
    assert after["metadata_removed"] and after["thumbnail_as"]
    assert await files.read(settings.data_dir, files.ATTACHMENTS, "legacy-test.jpg") is None


async def test_a_pdfs_pages_are_drawn_onto_its_numbered_appendix_pages(tmp_path):
    from mediation.cases.materials import append_pdf_appendices

    case_file = HTML(
        string="<p>COVER</p>"
        '<div style="page-break-before: always" id="appendix-pdf-5">HEADING-FIVE</div>'
        '<div style="page-break-before: always; height: 1mm" id="appendix-pdf-5-1"></div>'
        '<div style="page-break-before: always; height: 1mm" id="appendix-pdf-5-2"></div>'
        '<div style="page-break-before: always">BACK-PAGE</div>'
    ).write_pdf()
    material = tmp_path / "m.pdf"
    material.write_bytes(text_pdf("ORIGINAL-ONE", "ORIGINAL-TWO"))
    merged = append_pdf_appendices(case_file, [(5, material)])
    out = tmp_path / "merged.pdf"
    out.write_bytes(merged)
    pages = [
        subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), str(out), "-"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        for n in range(1, 6)
    ]
    assert pages == ["COVER", "HEADING-FIVE", "ORIGINAL-ONE", "ORIGINAL-TWO", "BACK-PAGE"]
