"""A document whose context comes from the database is read and rendered in a printing
process (``print_from_database``): the app process only hands over the arguments."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest
import time_machine

from mediation.cases.common import CaseError
from mediation.cases.tables import Case
from mediation.clock import local_today
from mediation.documents import pdf

TEMPLATE = "documents/_clause_preview.html"


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def context_from_database(case_id: int) -> dict:
    """Reads a case's number where it runs, and says which process that was."""
    row = await Case.select(Case.number).where(Case.id == case_id).first()
    if row is None:
        raise CaseError("no such case")
    clause = {"obligor": "甲", "obligation": row["number"]}
    return {
        "c": clause,
        "pid": os.getpid(),
        "number": row["number"],
        "today": local_today().isoformat(),
    }


def report(printed: bytes, context: dict) -> bytes:
    """Instead of the file: who read the context, what it read, and that a PDF was made."""
    return json.dumps(
        {
            "pid": context["pid"],
            "number": context["number"],
            "today": context["today"],
            "pdf": printed[:5].decode(),
        }
    ).encode()


@pytest.mark.anyio
async def test_the_context_is_read_in_a_printing_process_from_the_apps_database():
    assert pdf.print_pool() is not None
    case = await Case.select(Case.id, Case.number).order_by(Case.id).first()
    assert case is not None
    # A value only this test's database holds: the printing process must read the database
    # the app process uses now (the suite moves SQLite to a fresh copy per test).
    marked = f"{case['number']}-P"
    await Case.update({Case.number: marked}).where(Case.id == case["id"])
    try:
        answer = json.loads(
            await pdf.print_from_database(TEMPLATE, context_from_database, case["id"], after=report)
        )
    finally:
        await Case.update({Case.number: case["number"]}).where(Case.id == case["id"])
    assert answer["number"] == marked
    assert answer["pdf"] == "%PDF-"
    assert answer["pid"] != os.getpid()


@pytest.mark.anyio
async def test_a_refusal_in_the_printing_process_reaches_the_caller():
    assert pdf.print_pool() is not None
    with pytest.raises(CaseError) as refused:
        await pdf.print_from_database(TEMPLATE, context_from_database, -1)
    assert refused.value.message == "no such case"


@pytest.mark.anyio
async def test_without_printing_processes_the_context_is_read_here(
    monkeypatch: pytest.MonkeyPatch,
):
    pdf.shutdown_pool()
    monkeypatch.setenv("PDF_WORKERS", "0")
    try:
        case = await Case.select(Case.id, Case.number).order_by(Case.id).first()
        assert case is not None
        answer = json.loads(
            await pdf.print_from_database(TEMPLATE, context_from_database, case["id"], after=report)
        )
    finally:
        monkeypatch.undo()
        pdf.shutdown_pool()
    assert answer["pid"] == os.getpid()
    assert answer["number"] == case["number"]
    assert answer["pdf"] == "%PDF-"


@pytest.mark.anyio
async def test_a_print_job_runs_at_the_instant_it_was_asked_for():
    """The printing process has its own clock; a job takes the app process's "now" with it
    (here frozen at 06:30 Beijing time, 22:30 UTC the day before)."""
    assert pdf.print_pool() is not None
    case = await Case.select(Case.id).order_by(Case.id).first()
    assert case is not None
    with time_machine.travel(datetime(2031, 5, 31, 22, 30, tzinfo=UTC), tick=False):
        answer = json.loads(
            await pdf.print_from_database(TEMPLATE, context_from_database, case["id"], after=report)
        )
    assert answer["pid"] != os.getpid()
    assert answer["today"] == "2031-06-01"
