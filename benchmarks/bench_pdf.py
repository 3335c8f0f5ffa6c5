"""Benchmark of PDF rendering: cold first render, warm median/p95, size and pages.

    python benchmarks/bench_pdf.py [--runs N] [--font derived|system|both]
    python benchmarks/bench_pdf.py --server [--workers 2] [--requests 300]

Each font mode is measured in a fresh child process, so "cold" is a real first render in a
new process (font configuration, stylesheet parsing and the first font load included; the
Python imports are reported separately). Documents:

* one page: the sample 人民调解协议书 (mediation.documents.samples.sample_agreement_context);
* rare char: the same with a party named 李𪚥 (U+2A6A5, only in HanaMinA: a second face);
* 10 pages: the agreement with 125 clauses (long_agreement_context).

Modes: "derived" uses the TrueType print face built by
``python -m mediation.documents.pdf build-font`` (skipped if it has not been built);
"system" uses the installed Noto Serif CJK SC (CFF) directly.

``--server`` measures the app itself (``uvicorn mediation.asgi:app`` on an SQLite demo county
under /tmp/mediation-bench-pdf, created on first use; ``PDF_WORKERS`` printing processes):
``GET /login`` p50/p99 idle, then the same while 4 clients fetch agreement PDFs without pause
(aim: p99 within 1.2x of idle); the agreement's median and size as served; the 卷宗 (case
file) of the demo case with the most pages, median and pages (aim: 33 pages in 1 s); the
statutory XLSX export (built in a worker thread) and /login meanwhile.

Times are wall-clock (plus the CPU time of the warm one-page renders, which other load on a
shared machine disturbs less): compare medians, and rerun if p95 looks noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 0.15
TARGET_BYTES = 150_000


def page_count(pdf: bytes) -> int | None:
    if not shutil.which("pdfinfo"):
        return None
    out = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=False).stdout
    for line in out.decode(errors="replace").splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return None


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def child(runs: int) -> dict:
    """Measurements in this (fresh) process; printed as JSON for the parent."""
    sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    from mediation.documents import pdf
    from mediation.documents.samples import long_agreement_context, sample_agreement_context

    imported = time.perf_counter()
    name = "documents/agreement.html"
    context = sample_agreement_context()

    first_started = time.perf_counter()
    one_page = pdf.render_pdf(name, context)
    cold = time.perf_counter() - first_started

    warm, warm_cpu = [], []
    for _ in range(runs):
        run_started, cpu_started = time.perf_counter(), time.process_time()
        one_page = pdf.render_pdf(name, context)
        warm.append(time.perf_counter() - run_started)
        warm_cpu.append(time.process_time() - cpu_started)

    rare_context = sample_agreement_context()
    rare_context["agreement"]["parties"][2]["name"] = "李𪚥"
    rare = []
    for _ in range(max(3, runs // 4)):
        run_started = time.perf_counter()
        rare_pdf = pdf.render_pdf(name, rare_context)
        rare.append(time.perf_counter() - run_started)

    long_context = long_agreement_context()
    long_pdf = pdf.render_pdf(name, long_context)
    long_runs = []
    for _ in range(max(3, runs // 10)):
        run_started = time.perf_counter()
        long_pdf = pdf.render_pdf(name, long_context)
        long_runs.append(time.perf_counter() - run_started)

    font = pdf.print_font_path()
    return {
        "font": pdf.PRINT_FAMILY if font and font.is_file() else pdf.SOURCE_FAMILY,
        "import_s": imported - started,
        "cold_s": cold,
        "warm_median_s": statistics.median(warm),
        "warm_p95_s": percentile(warm, 0.95),
        "warm_min_s": min(warm),
        "warm_cpu_median_s": statistics.median(warm_cpu),
        "bytes": len(one_page),
        "pages": page_count(one_page),
        "rare_median_s": statistics.median(rare),
        "rare_bytes": len(rare_pdf),
        "long_median_s": statistics.median(long_runs),
        "long_bytes": len(long_pdf),
        "long_pages": page_count(long_pdf),
        "runs": runs,
    }


def run_mode(mode: str, runs: int) -> dict | None:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as empty:
        if mode == "system":
            env["MEDIATION_FONT_DIR"] = empty  # no derived face there
        else:
            sys.path.insert(0, str(ROOT))
            from mediation.documents.pdf import print_font_path

            font = print_font_path()
            if font is None or not font.is_file():
                print(
                    "derived print face not built: python -m mediation.documents.pdf build-font",
                    file=sys.stderr,
                )
                return None
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--runs", str(runs)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
    return json.loads(out.strip().splitlines()[-1])


# ---------------------------------------------------------------- the app, served

SERVER_DATA = Path("/tmp/mediation-bench-pdf")


def _server_env(workers: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{SERVER_DATA / 'bench.sqlite3'}",
        "MEDIATION_DATA_DIR": str(SERVER_DATA),
        "RUN_BACKGROUND_TASKS": "0",
        "LOGIN_RATE_LIMIT": "1000000",
        "PDF_WORKERS": str(workers),
        "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
        "FIELD_KEY": "bench-field-key-not-for-production-0123456789abcdef",
    }


def _prepare_demo(env: dict[str, str]) -> None:
    """Migrate and load the demo county once (in a child, with the bench's environment)."""
    if (SERVER_DATA / "bench.sqlite3").exists():
        return
    code = (
        "import asyncio\n"
        "from mediation import db\n"
        "from mediation.demo import load_demo\n"
        "async def main():\n"
        "    await db.start()\n"
        "    await db.migrate()\n"
        "    print(await load_demo())\n"
        "    await db.stop()\n"
        "asyncio.run(main())\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)


def _documents(env: dict[str, str]) -> tuple[list[tuple[int, int]], list[int]]:
    """(case, agreement) pairs and case ids, those with the most events first."""
    import sqlite3

    conn = sqlite3.connect(SERVER_DATA / "bench.sqlite3")
    try:
        agreements = conn.execute(
            "SELECT \"case\", id FROM agreement WHERE status <> 'draft' ORDER BY id"
        ).fetchall()
        cases = [
            r[0]
            for r in conn.execute(
                'SELECT "case", count(*) FROM case_event GROUP BY "case" ORDER BY 2 DESC LIMIT 20'
            )
        ]
    finally:
        conn.close()
    return agreements, cases


def _timed_get(client, url: str) -> tuple[float, int, bytes]:
    started = time.perf_counter()
    response = client.get(url)
    return time.perf_counter() - started, response.status_code, response.content


def server(workers: int, requests: int) -> int:
    import socket
    import threading

    import httpx

    from mediation.demo import DEMO_PASSWORD

    env = _server_env(workers)
    SERVER_DATA.mkdir(parents=True, exist_ok=True)
    _prepare_demo(env)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "mediation.asgi:app", "--port", str(port)],
        env={**env, "RUN_BACKGROUND_TASKS": "1"},  # warms the printing processes up
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(base + "/health", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("the app did not start") from None
                time.sleep(0.3)
        time.sleep(5)  # let the printing processes finish their warm-up
        return _measure(base, requests, DEMO_PASSWORD, threading)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _measure(base: str, requests: int, password: str, threading) -> int:
    import httpx

    agreements, cases = _documents({})
    client = httpx.Client(base_url=base, timeout=60)
    client.get("/login")
    token = client.cookies.get("csrftoken") or ""
    client.post(
        "/login",
        data={"username": "centre1", "password": password},
        headers={"x-csrftoken": token},
    )
    agreement_url = next(
        (
            f"/cases/{case}/agreements/{agreement}/agreement.pdf"
            for case, agreement in agreements
            if client.get(f"/cases/{case}/agreements/{agreement}/agreement.pdf").status_code == 200
        ),
        None,
    )
    if agreement_url is None:
        raise SystemExit("no agreement PDF that centre1 may print")
    plain = httpx.Client(base_url=base, timeout=60)

    def login_page_times(n: int) -> list[float]:
        return [_timed_get(plain, "/login")[0] for _ in range(n)]

    login_page_times(30)  # warm
    idle = login_page_times(requests)

    stop = threading.Event()
    pdf_times: list[float] = []

    def printer() -> None:
        with httpx.Client(base_url=base, timeout=120, cookies=client.cookies) as mine:
            while not stop.is_set():
                seconds, status, _body = _timed_get(mine, agreement_url)
                if status == 200:
                    pdf_times.append(seconds)

    threads = [threading.Thread(target=printer) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1)
    busy = login_page_times(requests)
    stop.set()
    for t in threads:
        t.join()

    agreement = [_timed_get(client, agreement_url) for _ in range(15)]
    case_files = []
    for case in cases:
        seconds, status, body = _timed_get(client, f"/cases/{case}/file.pdf")
        if status == 200:
            case_files.append((page_count(body) or 0, case, len(body)))
    case_files.sort(reverse=True)
    pages, case, size = case_files[0] if case_files else (0, 0, 0)
    file_times = (
        [_timed_get(client, f"/cases/{case}/file.pdf")[0] for _ in range(5)] if case else []
    )

    xlsx_url = "/reports/statutory.xlsx?kind=year&year=2026"
    xlsx_status = client.get(xlsx_url).status_code
    xlsx_times: list[float] = []
    done = threading.Event()

    def exporter() -> None:
        with httpx.Client(base_url=base, timeout=120, cookies=client.cookies) as mine:
            for _ in range(5):
                xlsx_times.append(_timed_get(mine, xlsx_url)[0])
        done.set()

    thread = threading.Thread(target=exporter)
    thread.start()
    during_xlsx = []
    while not done.is_set():
        during_xlsx.append(_timed_get(plain, "/login")[0])
    thread.join()

    def ms(v: float) -> str:
        return f"{v * 1000:.1f} ms"

    p99_idle, p99_busy = percentile(idle, 0.99), percentile(busy, 0.99)
    print(f"| measurement (PDF_WORKERS={os.environ.get('PDF_WORKERS', '2')}) | value |")
    print("| --- | ---: |")
    print(
        f"| GET /login idle, p50 / p99 ({requests}) | {ms(statistics.median(idle))} / "
        f"{ms(p99_idle)} |"
    )
    print(
        f"| GET /login while 4 agreement PDFs render, p50 / p99 | "
        f"{ms(statistics.median(busy))} / {ms(p99_busy)} |"
    )
    print(f"| p99 busy / idle (aim ≤ 1.2) | {p99_busy / p99_idle:.2f} |")
    if pdf_times:
        print(
            f"| agreement PDF under that load, median ({len(pdf_times)}) | "
            f"{ms(statistics.median(pdf_times))} |"
        )
    print(
        f"| agreement PDF served alone, median (aim ≤ 150 ms) | "
        f"{ms(statistics.median(a[0] for a in agreement))} |"
    )
    print(f"| agreement PDF size (aim ≤ 150 KB) | {len(agreement[0][2]) / 1000:.0f} KB |")
    if file_times:
        print(
            f"| 卷宗 of case {case}: {pages} pages, {size / 1000:.0f} KB, median | "
            f"{ms(statistics.median(file_times))} |"
        )
    if xlsx_times:
        print(
            f"| statutory XLSX (HTTP {xlsx_status}), median | {ms(statistics.median(xlsx_times))} |"
        )
        print(
            f"| GET /login while XLSX exports run, p99 ({len(during_xlsx)}) | "
            f"{ms(percentile(during_xlsx, 0.99))} |"
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="warm renders (default 30)")
    parser.add_argument("--font", choices=("derived", "system", "both"), default="both")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--server", action="store_true", help="measure the app as served")
    parser.add_argument("--workers", type=int, default=2, help="PDF_WORKERS for --server")
    parser.add_argument("--requests", type=int, default=300, help="GET /login per phase")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.runs)))
        return 0
    if args.server:
        os.environ["PDF_WORKERS"] = str(args.workers)
        return server(args.workers, args.requests)

    modes = ("derived", "system") if args.font == "both" else (args.font,)
    results = {mode: run_mode(mode, args.runs) for mode in modes}
    results = {mode: result for mode, result in results.items() if result}
    if not results:
        return 1

    def ms(value: float) -> str:
        return f"{value * 1000:.0f} ms"

    def kb(value: int) -> str:
        return f"{value / 1000:.0f} KB"

    rows = [
        ("face", lambda r: r["font"]),
        ("python imports", lambda r: ms(r["import_s"])),
        ("1 page: cold first render", lambda r: ms(r["cold_s"])),
        (f"1 page: warm median ({args.runs} runs)", lambda r: ms(r["warm_median_s"])),
        ("1 page: warm p95", lambda r: ms(r["warm_p95_s"])),
        ("1 page: warm min", lambda r: ms(r["warm_min_s"])),
        ("1 page: warm median CPU time", lambda r: ms(r["warm_cpu_median_s"])),
        ("1 page: size", lambda r: kb(r["bytes"])),
        ("1 page: pages", lambda r: str(r["pages"])),
        ("1 page + 𪚥 (fallback face): median", lambda r: ms(r["rare_median_s"])),
        ("1 page + 𪚥: size", lambda r: kb(r["rare_bytes"])),
        ("10 pages: warm median", lambda r: ms(r["long_median_s"])),
        ("10 pages: size", lambda r: kb(r["long_bytes"])),
        ("10 pages: pages", lambda r: str(r["long_pages"])),
    ]
    width = max(len(label) for label, _ in rows)
    print(f"{'':{width}}  " + "  ".join(f"{mode:>20}" for mode in results))
    for label, get in rows:
        print(f"{label:{width}}  " + "  ".join(f"{get(r):>20}" for r in results.values()))
    print(f"\naim: one page ≤ {ms(TARGET_SECONDS)} warm median and ≤ {kb(TARGET_BYTES)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
