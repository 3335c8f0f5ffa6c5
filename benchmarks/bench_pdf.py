"""Benchmark of PDF rendering: cold first render, warm median/p95, size and pages.

    python benchmarks/bench_pdf.py [--runs N] [--font derived|system|both]

Each font mode is measured in a fresh child process, so "cold" is a real first render in a
new process (font configuration, stylesheet parsing and the first font load included; the
Python imports are reported separately). Documents:

* one page: the sample 人民调解协议书 (mediation.documents.samples.sample_agreement_context);
* rare char: the same with a party named 李𪚥 (U+2A6A5, only in HanaMinA: a second face);
* 10 pages: the agreement with 125 clauses (long_agreement_context).

Modes: "derived" uses the TrueType print face built by
``python -m mediation.documents.pdf build-font`` (skipped if it has not been built);
"system" uses the installed Noto Serif CJK SC (CFF) directly.

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="warm renders (default 30)")
    parser.add_argument("--font", choices=("derived", "system", "both"), default="both")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.runs)))
        return 0

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
