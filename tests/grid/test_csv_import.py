"""CSV import: good files import whole; a single bad row imports nothing and says why."""

from __future__ import annotations

import pytest

from mediation.grid.csv_import import import_csv
from mediation.grid.tables import Grid, Region, Staff, TeamMember
from tests.helpers import ensure_csrf, login

pytestmark = pytest.mark.anyio

REGIONS = """code,name,level,parent_code
330482201,广陈镇,镇,330482
330482201001,广陈社区,社区,330482201
330482201201,山塘村,村,330482201
"""


async def test_it_imports_regions_grids_and_staff_in_order():
    report = await import_csv("regions", REGIONS.encode(), None)
    assert report.ok, report.errors
    assert report.created == 3
    village = await Region.select().where(Region.code == "330482201201").first()
    assert village["level"] == "community"
    assert village["path"] == "/330482/330482201/330482201201/"

    grids = (
        "code,name,community_code,police_beat,boundary\n"
        "GC-01,广陈社区第1网格,330482201001,广陈警格1,1-5幢\n"
    )
    report = await import_csv("grids", grids.encode(), None)
    assert report.ok and report.created == 1

    staff = (
        "username,display_name,roles,region_code,phone,password,grid_code,team_role\n"
        "gc_worker,广陈网格员,grid_worker,330482201001,13800000001,,GC-01,grid_worker\n"
        "gc_police,广陈民警,police;grid_worker,330482201001,,long-enough-pw,GC-01,police\n"
    )
    report = await import_csv("staff", staff.encode(), None)
    assert report.ok, report.errors
    officer = await Staff.select().where(Staff.username == "gc_police").first()
    assert set(officer["roles"]) == {"police", "grid_worker"}
    assert await TeamMember.count().where(TeamMember.grid.code == "GC-01") == 2


async def test_a_bad_row_imports_nothing_and_reports_every_problem_by_line():
    before = await Grid.count()
    grids = (
        "code,name,community_code\n"
        "BAD-01,好的网格,330482001001\n"  # fine on its own
        "BAD-02,,330482001001\n"  # line 3: no name
        "BAD-03,不存在的社区,999\n"  # line 4: unknown community
        "330482001001-01,重复编码,330482001001\n"  # line 5: code in use
        "BAD-01,文件内重复,330482001001\n"  # line 6: duplicate within the file
    )
    report = await import_csv("grids", grids.encode(), None)
    assert not report.ok
    problems = {(e.line, e.column) for e in report.errors}
    assert problems == {(3, "name"), (4, "community_code"), (5, "code"), (6, "code")}
    assert await Grid.count() == before
    assert not await Grid.exists().where(Grid.code == "BAD-01")


async def test_a_file_from_chinese_spreadsheet_software_in_gb18030_is_read():
    content = "code,name,level,parent_code\n330482202,林埭镇,镇,330482\n".encode("gb18030")
    report = await import_csv("regions", content, None)
    assert report.ok, report.errors
    assert (await Region.select(Region.name).where(Region.code == "330482202").first())[
        "name"
    ] == "林埭镇"


async def test_missing_header_columns_and_empty_files_are_explained():
    report = await import_csv("staff", b"username,display_name\nx,y\n", None)
    assert not report.ok and report.errors[0].line == 1
    assert "roles" in report.errors[0].column
    report = await import_csv("regions", b"", None)
    assert not report.ok
    report = await import_csv("regions", b"code,name,level\n", None)
    assert not report.ok


async def test_staff_rows_with_unknown_roles_or_weak_passwords_are_refused():
    content = (
        "username,display_name,roles,region_code,password\n"
        "weak1,弱密码,grid_worker,330482001001,short\n"
        "boss1,老板,boss,330482001001,\n"
    )
    report = await import_csv("staff", content.encode(), None)
    assert {(e.line, e.column) for e in report.errors} == {(2, "password"), (3, "roles")}
    assert not await Staff.exists().where(Staff.username.is_in(["weak1", "boss1"]))


async def test_the_upload_page_shows_the_report(client):
    await login(client, "admin")
    token = await ensure_csrf(client)
    response = await client.post(
        "/admin/import",
        data={"kind": "grids"},
        files={
            "file": (
                "grids.csv",
                b"code,name,community_code\nX-1,,330482001001\n",
                "text/csv",
            )
        },
        headers={"x-csrftoken": token},
    )
    assert response.status_code == 422
    assert "未导入任何数据" in response.text
    assert "此项为必填项" in response.text


async def test_staff_phones_are_checked_and_a_handler_needs_a_department():
    from mediation.grid.tables import Department

    department = await Department.select(Department.code, Department.id).first()
    header = "username,display_name,roles,region_code,phone,department_code\n"
    bad = (
        header + "csv_w1,网格员甲,grid_worker,330482001003,12345,\n"  # line 2: phone
        "csv_h1,经办人甲,handler,330482,,\n"  # line 3: no department
        "csv_h2,经办人乙,handler,330482,,NO-SUCH\n"  # line 4: unknown department
    )
    report = await import_csv("staff", bad.encode(), None)
    assert {(e.line, e.column) for e in report.errors} == {
        (2, "phone"),
        (3, "department_code"),
        (4, "department_code"),
    }
    assert not await Staff.exists().where(Staff.username.like("csv_%"))
    good = (
        header + "csv_w1,网格员甲,grid_worker,330482001003,+86 138-1234-5678,\n"
        f"csv_h1,经办人甲,handler,330482,,{department['code']}\n"
    )
    report = await import_csv("staff", good.encode(), None)
    assert report.ok, report.errors
    worker = await Staff.select(Staff.phone).where(Staff.username == "csv_w1").first()
    assert worker["phone"] == "13812345678"
    handler = await Staff.select(Staff.department).where(Staff.username == "csv_h1").first()
    assert handler["department"] == department["id"]
