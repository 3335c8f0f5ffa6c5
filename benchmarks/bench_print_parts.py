"""Where a print job's time goes, in-process (CPU time, which other load disturbs less).

    python benchmarks/bench_print_parts.py [--runs 5]

Uses the data directory of ``bench_pdf.py --server`` (/tmp/mediation-bench-pdf, with its long
case): run that once first. Prints, as CPU time (and wall time where it differs in kind):

* ``agreements.print_context`` of an issued agreement, with full ID numbers (decryption and the
  reveal event included) and masked: the app process's own part of an agreement request;
* the hop to a printing process and back (``run_off_loop`` of a function returning 50 KB);
* the agreement's render (``render_pdf``), warm;
* the 卷宗 of the long case: Jinja, HTML parsing, ``render_pdf`` and the pypdf appendix step,
  then variants of its HTML rendered interleaved with the original (no page-margin boxes, no
  page numbers in the contents, the photos left out) to show what cheaper CSS would buy.

Each 卷宗 context is built once (one "materials printed" line on its timeline).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_pdf  # noqa: E402


def fifty_kb(_context: dict) -> bytes:
    return b"x" * 50_000


def _median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f} ms (min {min(values) * 1000:.1f})"


T = TypeVar("T")


def _cpu(function: Callable[..., T], *args: Any) -> tuple[float, T]:
    started = time.process_time()
    result = function(*args)
    return time.process_time() - started, result


async def measure(runs: int) -> None:
    import sqlite3

    from mediation import db
    from mediation.accounts.services import load_user
    from mediation.cases import agreements, materials
    from mediation.cases.followups import case_file_context
    from mediation.documents import pdf
    from mediation.grid.tables import Staff
    from mediation.settings import get_settings

    long_case = bench_pdf._prepare_long_case(dict(os.environ))  # noqa: SLF001
    await db.start()
    try:
        staff = await Staff.select(Staff.id).where(Staff.username == "centre2").first()
        assert staff is not None, "the demo county has centre2"
        user = await load_user(staff["id"])
        assert user is not None
        conn = sqlite3.connect(bench_pdf.SERVER_DATA / "bench.sqlite3")
        agreement_id = conn.execute(
            "SELECT id FROM agreement WHERE status <> 'draft' AND \"case\" <> ? ORDER BY id",
            (long_case,),
        ).fetchone()[0]
        conn.close()
        for full in (True, False):
            walls, cpus = [], []
            for _ in range(runs * 2):
                wall, cpu = time.perf_counter(), time.process_time()
                await agreements.print_context(user, agreement_id, "http://x", full_ids=full)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
            label = "full ID numbers" if full else "masked"
            print(f"print_context ({label}): wall {_median_ms(walls)}, CPU {_median_ms(cpus)}")
        context = await agreements.print_context(user, agreement_id, "http://x", full_ids=False)
        file_context = await case_file_context(user, long_case, "http://x")
        file_context = replace(
            file_context,
            materials=await materials.case_file_context(user, long_case, get_settings().data_dir),
        )
    finally:
        await db.stop()

    os.environ["PDF_WORKERS"] = "1"
    await pdf.run_off_loop(fifty_kb, context)  # start the process
    await asyncio.sleep(2)  # and let it warm up
    hops = []
    for _ in range(runs * 6):
        started = time.perf_counter()
        await pdf.run_off_loop(fifty_kb, context)
        hops.append(time.perf_counter() - started)
    print(f"hop to a printing process and back, 50 KB result: wall {_median_ms(hops)}")
    pdf.shutdown_pool()

    pdf.warm_up()
    name = "documents/agreement.html"
    agreement_cpu = [_cpu(pdf.render_pdf, name, context)[0] for _ in range(runs * 3)]
    print(f"agreement render_pdf, warm: CPU {_median_ms(agreement_cpu)}")

    html_cpu, html = _cpu(pdf.render_html, "documents/case_file.html", file_context)
    html_cpu = min(html_cpu, _cpu(pdf.render_html, "documents/case_file.html", file_context)[0])
    from weasyprint import HTML

    base = pdf.DOCUMENTS_DIR.as_uri() + "/"
    parse = [_cpu(lambda: HTML(string=html, base_url=base))[0] for _ in range(runs)]
    pairs = [(m.id, m.appendix_pdf) for m in file_context.materials if m.appendix_pdf]
    variants = {
        "as printed": html,
        "no page-margin boxes": html.replace(
            "</head>",
            "<style>@page { @bottom-left { content: none } @bottom-center { content: none } "
            "@bottom-right { content: none } }</style></head>",
            1,
        ),
        "no page numbers in the contents": html.replace(
            "</head>", "<style>.toc a::after { content: none }</style></head>", 1
        ),
        "photos left out": re.sub(r'src="data:image/[^"]*"', 'src=""', html),
    }
    times: dict[str, list[float]] = {label: [] for label in variants}
    appended: list[float] = []
    pages = 0
    for _ in range(runs):
        for label, variant in variants.items():
            cpu, out = _cpu(pdf.html_to_pdf, variant)
            times[label].append(cpu)
            if label == "as printed":
                cpu, whole = _cpu(materials.append_pdf_appendices, out, pairs)
                appended.append(cpu)
                pages = bench_pdf.page_count(whole) or 0
    print(f"卷宗 of case {long_case} ({pages} pages): Jinja CPU {html_cpu * 1000:.1f} ms, ")
    print(f"  HTML parsing CPU {_median_ms(parse)}")
    for label, values in times.items():
        per_page = f", {statistics.median(values) / pages * 1000:.1f} ms a page" if pages else ""
        print(f"  render_pdf body, {label}: CPU {_median_ms(values)}{per_page}")
    print(f"  pypdf appendix step: CPU {_median_ms(appended)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not (bench_pdf.SERVER_DATA / "bench.sqlite3").exists():
        raise SystemExit("run benchmarks/bench_pdf.py --server once first")
    os.environ.update(bench_pdf._server_env(1))  # noqa: SLF001
    print(f"load average {os.getloadavg()[0]:.2f}")
    asyncio.run(measure(max(1, args.runs)))
    print(f"load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
