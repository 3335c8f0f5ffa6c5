"""The printing processes: their number and priority come from the settings, and a document
printed there reads exactly like one printed in the app process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from mediation import i18n
from mediation.documents import pdf
from mediation.documents.samples import long_agreement_context, sample_agreement_context

AGREEMENT = "documents/agreement.html"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def fresh_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Settings changed by the test apply to a new pool; the suite's pool comes back after."""
    pdf.shutdown_pool()
    yield monkeypatch
    monkeypatch.undo()
    pdf.shutdown_pool()


def pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def test_pdf_workers_setting(fresh_pool: pytest.MonkeyPatch):
    fresh_pool.setenv("PDF_WORKERS", "3")
    assert pdf.print_workers() == 3
    pool = pdf.print_pool()
    assert pool is not None
    assert pool._max_workers == 3  # noqa: SLF001
    pids = {pool.submit(os.getpid).result(timeout=120) for _ in range(3)}
    assert os.getpid() not in pids

    pdf.shutdown_pool()
    fresh_pool.setenv("PDF_WORKERS", "0")
    assert pdf.print_pool() is None


@pytest.mark.parametrize("value", ["", "many", "  "])
def test_pdf_workers_default(fresh_pool: pytest.MonkeyPatch, value: str):
    fresh_pool.setenv("PDF_WORKERS", value)
    expected = max(1, min(2, len(os.sched_getaffinity(0))))
    assert pdf.default_print_workers() == expected
    assert pdf.print_workers() == expected


def test_negative_pdf_workers_prints_in_the_app_process(fresh_pool: pytest.MonkeyPatch):
    fresh_pool.setenv("PDF_WORKERS", "-1")
    assert pdf.print_workers() == 0
    assert pdf.print_pool() is None


def test_idle_priority_is_sched_idle(fresh_pool: pytest.MonkeyPatch):
    fresh_pool.setenv("PDF_PRIORITY", "idle")
    fresh_pool.setenv("PDF_WORKERS", "1")
    pool = pdf.print_pool()
    assert pool is not None
    assert pool.submit(os.sched_getscheduler, 0).result(timeout=120) == os.SCHED_IDLE
    # The app process itself keeps its ordinary priority.
    assert os.sched_getscheduler(0) == os.SCHED_OTHER


def test_printing_processes_run_at_nice_19_by_default(fresh_pool: pytest.MonkeyPatch):
    fresh_pool.delenv("PDF_PRIORITY", raising=False)
    fresh_pool.setenv("PDF_WORKERS", "1")
    assert pdf.print_priority() == "low"
    pool = pdf.print_pool()
    assert pool is not None
    assert pool.submit(os.nice, 0).result(timeout=120) == 19
    assert pool.submit(os.sched_getscheduler, 0).result(timeout=120) == os.SCHED_OTHER


def test_normal_priority_and_unknown_values(fresh_pool: pytest.MonkeyPatch):
    fresh_pool.setenv("PDF_PRIORITY", "normal")
    fresh_pool.setenv("PDF_WORKERS", "1")
    pool = pdf.print_pool()
    assert pool is not None
    assert pool.submit(os.nice, 0).result(timeout=120) == os.nice(0)
    fresh_pool.setenv("PDF_PRIORITY", "realtime")
    assert pdf.print_priority() == "low"
    fresh_pool.setenv("PDF_PRIORITY", " IDLE ")
    assert pdf.print_priority() == "idle"


def _words(text: str) -> list[str]:
    # pdftotext writes the same words; only the creation date differs between two prints.
    return re.findall(r"\S+", text)


@pytest.mark.anyio
@pytest.mark.parametrize("context", [sample_agreement_context, long_agreement_context])
async def test_a_pdf_from_the_pool_reads_like_one_printed_in_process(context):
    assert pdf.print_pool() is not None
    from_pool = await pdf.render_pdf_async(AGREEMENT, context())
    in_process = pdf.render_pdf(AGREEMENT, context())
    text = pdf_text(from_pool)
    assert "人民调解协议书" in "".join(text.split())
    assert _words(text) == _words(pdf_text(in_process))


@pytest.mark.anyio
async def test_a_context_that_cannot_be_pickled_still_prints():
    context = sample_agreement_context()
    context["unused_callback"] = lambda: None  # not picklable; the template never uses it
    printed = await pdf.render_pdf_async(AGREEMENT, context)
    del context["unused_callback"]
    assert _words(pdf_text(printed)) == _words(pdf_text(pdf.render_pdf(AGREEMENT, context)))


def locale_and_date(day: date) -> tuple[str, str]:
    return i18n.get_locale(), pdf.print_date(day)


@pytest.mark.anyio
async def test_work_off_the_loop_runs_in_the_callers_locale():
    day = date(2026, 3, 20)
    assert pdf.print_pool() is not None
    token = i18n.set_locale("en")
    try:
        assert await pdf.run_off_loop(locale_and_date, day) == ("en", "March 20, 2026")
    finally:
        token.var.reset(token)
    token = i18n.set_locale("zh_CN")
    try:
        assert await pdf.run_off_loop(locale_and_date, day) == ("zh_CN", "2026年3月20日")
    finally:
        token.var.reset(token)


def category_name(code: str) -> str:
    from mediation.cases.categories import category_label

    return category_label(code)


@pytest.mark.anyio
async def test_printing_processes_name_the_categories_the_app_has_loaded():
    """Categories live in a table the app process reads; a printing process never reads the
    database, so each job brings the app's list: an added category prints by its name, a
    renamed one by its new name."""
    from mediation.cases import categories

    assert pdf.print_pool() is not None
    loaded = categories.current()
    custom = categories.CategoryList(
        [
            *loaded.all,
            categories.Category("kiosk_noise", "直报点噪声", "Kiosk noise", True, 99),
        ]
    )
    categories.set_current(custom)
    token = i18n.set_locale("zh_CN")
    try:
        assert await pdf.run_off_loop(category_name, "kiosk_noise") == "直报点噪声"
    finally:
        token.var.reset(token)
        categories.set_current(loaded)
    assert await pdf.run_off_loop(category_name, "kiosk_noise") == "kiosk_noise"


_ORPHAN_PROBE = """
import os, signal, sys
os.environ["PDF_WORKERS"] = "1"
from mediation.documents import pdf
pool = pdf.print_pool()
print(pool.submit(os.getpid).result(timeout=120), flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no clean-up of any kind, as after a crash or kill -9
"""


def test_printing_processes_end_with_the_app_process():
    """However the app process ends (here SIGKILL; uvicorn ends on SIGTERM by raising it
    again, which skips every clean-up too), its printing processes do not stay behind."""
    probe = subprocess.run(
        [sys.executable, "-c", _ORPHAN_PROBE], capture_output=True, text=True, timeout=180
    )
    assert probe.returncode == -signal.SIGKILL, probe.stderr
    printer = int(probe.stdout.split()[0])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(printer):
        time.sleep(0.2)
    assert not _alive(printer)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.split(") ", 1)[1][0] != "Z"  # a zombie has ended
