"""Dates are the county's dates, whatever the server's (UTC) clock says.

The clock is frozen at instants where the UTC date and the Beijing date differ, or on either
side of Beijing midnight: 2026-11-29T22:30Z (06:30 on 30 Nov), 2026-11-29T16:01Z (00:01 on
30 Nov) and 2026-11-29T15:59Z (23:59 on 29 Nov). A case is registered, a session held and the
case terminated, a suggestion answered, all through HTTP; every date on the case page, the
termination notice, the case file (卷宗), /track, /board, Open311, the API and the spreadsheet
export must read the Beijing date: 30 November, or 29 November one minute before midnight.
(No instant is later than the real clock: the tests leave nothing dated in the future.)
"""

from __future__ import annotations

import io
import re
import subprocess
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from mediation.cases import services
from mediation.cases.tables import Case, CaseMediator
from mediation.clock import local_now
from mediation.grid.tables import Department
from mediation.suggestions.tables import Suggestion
from tests.cases.conftest import grid_id, user
from tests.cases.test_controllers import case_id_from, intake_form, post_intake
from tests.helpers import login, post_form, text_of

pytestmark = pytest.mark.anyio

# (frozen instant, the Beijing date everything must show)
INSTANTS = [
    (datetime(2026, 11, 29, 22, 30, tzinfo=UTC), date(2026, 11, 30)),
    (datetime(2026, 11, 29, 16, 1, tzinfo=UTC), date(2026, 11, 30)),
    (datetime(2026, 11, 29, 15, 59, tzinfo=UTC), date(2026, 11, 29)),
]


def zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def wrong_days(day: date) -> tuple[str, ...]:
    """How the neighbouring days would read if a UTC date leaked through."""
    out: list[str] = []
    for other in (day - timedelta(days=1), day + timedelta(days=1)):
        out += [f"{other.month}月{other.day}日", f"{other:%Y}/{other.month}/{other.day}"]
        out.append(other.isoformat())
    return tuple(out)


@pytest.fixture
async def free_mediators():
    """Earlier tests leave deposit cases open with mediators at full load: free them."""

    async def free() -> None:
        await CaseMediator.update({CaseMediator.active: False}).where(
            CaseMediator.case.is_in(Case.select(Case.id).where(Case.summary.like("学生提前退租%")))
        )

    await free()
    yield
    await free()


@pytest.fixture(params=INSTANTS, ids=lambda t: t[0].strftime("%d-%H%MZ"))
def frozen(request):
    """The Beijing date that every date shown must read, with the clock frozen."""
    instant, day = request.param
    with time_machine.travel(instant, tick=False):
        yield day


def pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    out = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return re.sub(r"\s+", "", out)


def no_wrong_day(text: str, where: str, day: date) -> None:
    for wrong in wrong_days(day):
        assert wrong not in text, f"{where} shows {wrong}"


async def _terminated_case_through_http(client, day: date) -> int:
    await login(client, "grid1")
    response = await post_intake(client, await intake_form(await grid_id()))
    case_id = case_id_from(response)
    for action in ("accept",):
        response = await post_form(client, f"/cases/{case_id}/move", {"action": action})
        assert response.status_code == 303, text_of(response.text)[:300]
    client.cookies.clear()
    await login(client, "centre1")
    choice = (await services.suggest_mediators(await user("centre1"), case_id))[0]
    response = await post_form(
        client, f"/cases/{case_id}/mediators", {"mediator": str(choice.mediator.id)}
    )
    assert response.status_code == 303, text_of(response.text)[:300]
    response = await post_form(client, f"/cases/{case_id}/move", {"action": "start_mediation"})
    assert response.status_code == 303, text_of(response.text)[:300]
    client.cookies.clear()
    await login(client, "mediator1")
    response = await post_form(
        client,
        f"/cases/{case_id}/sessions/new",
        {
            "starts_at": f"{day.isoformat()}T07:00",
            "minutes": "60",
            "room": "东湖社区调解室",
            "mode": "in_person",
        },
    )
    assert response.status_code == 303, text_of(response.text)[:300]
    session_url = response.headers["location"].split("?")[0]
    response = await post_form(
        client, f"{session_url}/minutes", {"speaker": "调解员", "statement": "双方分歧较大。"}
    )
    assert response.status_code in (200, 303)
    # Before 07:00 the parties came early: the session started when the clock says.
    close = {"outcome": "failed"}
    if local_now().time() < time(7):
        close["started_at"] = f"{local_now():%Y-%m-%dT%H:%M}"
    response = await post_form(client, f"{session_url}/close", close)
    assert response.status_code == 303, text_of(response.text)[:300]
    response = await post_form(
        client,
        f"/cases/{case_id}/move",
        {
            "action": "terminate",
            "termination_reason": "positions_too_far",
            "referral_advice": "litigation",
        },
    )
    assert response.status_code == 303, text_of(response.text)[:300]
    return case_id


async def test_a_case_registered_heard_and_terminated_is_dated_in_beijing_time(
    client, free_mediators, frozen
):
    case_id = await _terminated_case_through_http(client, frozen)

    page = text_of((await client.get(f"/cases/{case_id}")).text)
    assert zh(frozen) in page
    no_wrong_day(page, "the case page", frozen)

    notice = pdf_text((await client.get(f"/cases/{case_id}/termination.pdf")).content)
    assert "终止调解通知书" in notice and zh(frozen) in notice
    no_wrong_day(notice, "the termination notice", frozen)

    file = pdf_text((await client.get(f"/cases/{case_id}/file.pdf")).content)
    # The contents list dates the session record; the heading gives its time, without +0800.
    assert "调解笔录" + zh(frozen) in file
    assert "+0800" not in file and "UTC" not in file
    no_wrong_day(file, "the case file", frozen)

    api = (await client.get(f"/api/cases/{case_id}")).json()
    assert api["registered_on"] == frozen.isoformat()
    assert api["registered_at"].startswith(f"{frozen.isoformat()}T") and api[
        "registered_at"
    ].endswith("+08:00")
    assert all(e["at"].startswith(f"{frozen.isoformat()}T") for e in api["events"])
    assert all(e["at"].endswith("+08:00") for e in api["events"])


async def test_the_session_record_prints_the_local_time_without_an_offset(
    client, free_mediators, frozen
):
    case_id = await _terminated_case_through_http(client, frozen)
    session = (await client.get(f"/cases/{case_id}")).text
    session_url = re.search(rf'href="(/cases/{case_id}/sessions/\d+)"', session).group(1)
    record = pdf_text((await client.get(f"{session_url}/record.pdf")).content)
    started = min(local_now().time(), time(7))
    assert f"{zh(frozen)}{started:%H:%M}至{zh(frozen)}{local_now():%H:%M}" in record
    assert "+0800" not in record


async def test_a_reply_to_a_suggestion_is_dated_in_beijing_time(client, frozen):
    topic = f"东湖路增设夜间路灯（{uuid.uuid4().hex[:8]}）"
    response = await post_form(
        client,
        "/suggest",
        {
            "topic": topic,
            "reason": "东湖路晚上太黑，行人和电动车容易发生事故。",
            "measures": "在东湖路增设路灯。",
            "name": "周玥",
            "phone": "13812340000",
            "reply_by_phone": "1",
            "consent_to_publish": "1",
        },
    )
    assert response.status_code == 303, text_of(response.text)[:300]
    receipt = await client.get(response.headers["location"])
    code = response.headers["location"].rsplit("/", 1)[1]
    secret = re.search(r'id="receipt-secret"[^>]*>(\d{6})<', receipt.text).group(1)
    no_wrong_day(text_of(receipt.text), "the receipt", frozen)
    sid = (await Suggestion.select(Suggestion.id).where(Suggestion.tracking_code == code).first())[
        "id"
    ]
    dept = (await Department.select(Department.id).where(Department.code == "zjj").first())["id"]

    client.cookies.clear()
    await login(client, "admin")
    for data in ({"action": "register"}, {"action": "transfer", "department": str(dept)}):
        response = await post_form(client, f"/suggestions/{sid}/move", data)
        assert response.status_code == 303, text_of(response.text)[:300]
    client.cookies.clear()
    await login(client, "handler1")
    for data in (
        {"action": "start_handling"},
        {"action": "reply", "outcome": "adopted", "reply_text": "已列入年度路灯建设计划。"},
    ):
        response = await post_form(client, f"/suggestions/{sid}/move", data)
        assert response.status_code == 303, text_of(response.text)[:300]

    staff_page = text_of((await client.get(f"/suggestions/{sid}")).text)
    assert zh(frozen) in staff_page
    no_wrong_day(staff_page, "the suggestion page", frozen)

    from openpyxl import load_workbook

    xlsx = (await client.get("/suggestions/export.xlsx")).content
    rows = list(load_workbook(io.BytesIO(xlsx), read_only=True).active.iter_rows(values_only=True))
    mine = next(r for r in rows if r[0] == code)
    # Spreadsheet cells come back as datetimes; only the calendar day matters here.
    assert mine[1].date().isoformat() == frozen.isoformat(), "received on"
    assert mine[11].date().isoformat() == frozen.isoformat(), "replied on"

    client.cookies.clear()
    tracking = text_of((await post_form(client, "/track", {"code": code, "secret": secret})).text)
    assert zh(frozen) in tracking
    no_wrong_day(tracking, "/track", frozen)

    board = (await client.get("/board")).text
    entry = board[board.index(topic) :]
    entry = text_of(entry[: entry.index("</li>")] if "</li>" in entry else entry[:2000])
    assert zh(frozen) in entry, entry
    no_wrong_day(entry, "/board", frozen)

    open311 = (await client.get(f"/open311/v2/requests/{code}.json")).json()[0]
    assert open311["requested_datetime"].startswith(f"{frozen.isoformat()}T")
    assert open311["requested_datetime"].endswith("+08:00")
    assert open311["updated_datetime"].startswith(f"{frozen.isoformat()}T")


@pytest.mark.pure
def test_an_unknown_time_zone_is_refused_at_start_up():
    from mediation.settings import settings_from_env

    env = {"SECRET_KEY": "k" * 40, "FIELD_KEY": "f" * 40, "TIME_ZONE": "Asia/Beijing"}
    with pytest.raises(ValueError, match="Asia/Beijing"):
        settings_from_env(env)
    assert settings_from_env({**env, "TIME_ZONE": ""}).time_zone == "Asia/Shanghai"


@pytest.mark.pure
def test_date_times_print_to_the_minute_without_an_offset():
    from mediation import i18n

    token = i18n.set_locale("zh_CN")
    try:
        instant = datetime(2026, 2, 8, 3, 30, tzinfo=UTC)
        assert i18n.format_datetime(instant, "long") == "2026年2月8日 11:30"
        assert i18n.format_datetime(instant) == "2026年2月8日 11:30"
        assert i18n.format_date(datetime(2026, 11, 29, 16, 1, tzinfo=UTC)) == "2026年11月30日"
    finally:
        i18n.reset_locale(token)
