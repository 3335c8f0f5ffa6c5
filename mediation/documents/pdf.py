"""HTML templates → PDF with WeasyPrint, in zh_CN, with one embedded Chinese face.

``render_pdf`` is synchronous and CPU-bound (≈0.1 s for a one-page agreement once warm,
≈0.17 s without the derived face below): from async code ``await render_pdf_async(...)``,
which runs the whole job (Jinja and layout) in a pool of printing processes (``PDF_WORKERS``)
at a low CPU priority (``PDF_PRIORITY``), so a print job neither holds the app process's
GIL nor takes the CPU a page request needs. ``run_off_loop`` does the same for other heavy
work (XLSX exports).

Speed and size (measured by benchmarks/bench_pdf.py):

* One ``FontConfiguration`` and the pre-parsed print stylesheet (templates/documents/
  print.css) are built once per process and reused; only the first render pays for
  fontconfig/Pango set-up. ``warm_up()`` does that ahead of the first print job.
* All text uses ONE face (no bold: a second face is a second embedded subset). Fonts are
  subset by HarfBuzz (libharfbuzz-subset0 must be installed, or WeasyPrint falls back to
  fontTools and takes seconds).
* The face is Noto Serif CJK SC. Installed as a CFF (PostScript-outline) collection, it costs
  about 200 KB per PDF whatever the text: WeasyPrint keeps glyph ids when subsetting, and the
  SC punctuation sits near glyph 63,000, so every subset carries a ~63,000-entry CFF glyph
  index that compresses badly (~135 KB). ``build_print_font()`` therefore derives, once, a
  TrueType-outline copy, "Mediation Serif SC": same glyphs, metrics and SC forms, converted
  with cu2qu (error ≤ 1/1000 em, invisible), with the glyphs reordered so punctuation and the
  GB 2312 characters come first. Empty TrueType glyphs cost nothing, so a one-page agreement
  drops from ~208 KB to ~70 KB and subsetting gets 2–3× faster. Build it at deploy time with
  ``python -m mediation.documents.pdf build-font`` (about 80 s, 22 MB under
  ``<data dir>/fonts``); without it, rendering uses the installed Noto face and still works.
  (WeasyPrint copies an @font-face file into a temporary directory once per process.)
* Characters neither face has (rare CJK Extension B+ such as 𪚥 U+2A6A5) fall back per
  character to HanaMinA/HanaMinB (fonts-hanazono), embedded only in documents that need them.

Printed documents declare ``lang="zh-CN"`` and name the SC face first, so the font matcher
never picks Japanese glyph forms.

WeasyPrint shares Pango/fontconfig objects through the cached ``FontConfiguration``; they are
not safe to use from several threads at once, so layout and PDF writing are serialised by a
lock (Jinja rendering is not). That matters only with ``PDF_WORKERS=0`` (printing in threads
of the app process); a printing process runs one job at a time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import logging
import multiprocessing
import os
import pickle
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar
from urllib import request

import anyio
import anyio.to_thread
from babel import Locale, dates
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from mediation import i18n
from mediation.cases import labels as case_labels
from mediation.cases.categories import CategoryList
from mediation.cases.categories import current as current_categories
from mediation.cases.categories import set_current as set_categories
from mediation.clock import local_date, pinned_at, utc_now
from mediation.documents.numerals import format_amount, money_in_capitals
from mediation.documents.qr import qr_png_data_uri
from mediation.settings import PROJECT_ROOT
from mediation.templating import TEMPLATE_DIR, install_globals

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    # What a print template is rendered with: a frozen dataclass whose fields are the
    # template's variables (the services' print contexts), or a plain mapping.
    PrintContext: TypeAlias = DataclassInstance | Mapping[str, Any]

logger = logging.getLogger(__name__)

PRINT_LOCALE = "zh_CN"
DOCUMENTS_DIR = TEMPLATE_DIR / "documents"
PRINT_CSS = DOCUMENTS_DIR / "print.css"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

# The font stack of print.css; the derived face goes in front of it when it has been built.
SOURCE_FAMILY = "Noto Serif CJK SC"
PRINT_FAMILY = "Mediation Serif SC"
FALLBACK_FAMILIES = ("HanaMinA", "HanaMinB")
PRINT_FONT_VERSION = "1"  # bump when build_print_font changes what it writes

_render_lock = threading.Lock()

T = TypeVar("T")

_CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """Counts and ordinals in Chinese numerals for the print locale: 3 → 三, 12 → 十二,
    101 → 一百零一, 110 → 一百一十.

    Used for clause numbers (一、二、三) and copy counts (一式三份). Outside zh_CN, or from
    10,000 on, it returns the Arabic figure.
    """
    if i18n.get_locale() != "zh_CN" or not 0 <= n < 10000:
        return str(n)
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:  # 十, 十一 … 十九: no leading 一
        return "十" + (_CN_DIGITS[n - 10] if n > 10 else "")
    parts: list[str] = []
    pending_zero = False
    for size, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // size % 10
        if digit == 0:
            pending_zero = bool(parts)
            continue
        if pending_zero:
            parts.append("零")
            pending_zero = False
        parts.append(_CN_DIGITS[digit] + unit)
    return "".join(parts)


@cache
def _babel_locale(name: str) -> Locale:
    return Locale.parse(name)


def print_date(value: date | datetime | None) -> str:
    """A date in the long form of the current locale: 2026年3月20日 in zh_CN.

    Same output as the shared ``date("long")`` filter, with the Babel locale parsed once
    (parsing it per call costs ~1 ms, which adds up over a long agreement's clauses).
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_date(value)
    return dates.format_date(value, format="long", locale=_babel_locale(i18n.get_locale()))


# Callables every print template can use, besides the shared environment's filters.
TEMPLATE_HELPERS: dict[str, Any] = {
    "capitals": money_in_capitals,
    "figures": format_amount,
    "cn_number": cn_number,
    "print_date": print_date,
    "qr_data_uri": qr_png_data_uri,
}


# ---------------------------------------------------------------------------------------
# The derived TrueType print face
# ---------------------------------------------------------------------------------------


def fonts_dir() -> Path:
    """Where the derived face is kept: $MEDIATION_FONT_DIR, else <data dir>/fonts."""
    if configured := os.environ.get("MEDIATION_FONT_DIR"):
        return Path(configured)
    data_dir = os.environ.get("MEDIATION_DATA_DIR") or PROJECT_ROOT / "data"
    return Path(data_dir) / "fonts"


@cache
def source_font() -> tuple[Path, int] | None:
    """File and collection index of the installed Noto Serif CJK SC Regular, via fontconfig."""
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{family}|%{file}|%{index}", f"{SOURCE_FAMILY}:style=Regular"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    families, file, index = out.rsplit("|", 2)
    if SOURCE_FAMILY not in families.split(","):
        return None
    return Path(file), int(index or 0)


def print_font_path() -> Path | None:
    """The derived face for the installed source font, named after the source's identity.

    A new Noto package (other size or mtime) or a new builder version gives a new name, so a
    stale build is never used. None when the source font is not installed.
    """
    source = source_font()
    if source is None:
        return None
    path, index = source
    stat = path.stat()
    key = f"{PRINT_FONT_VERSION}:{path}:{index}:{stat.st_size}:{stat.st_mtime_ns}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return fonts_dir() / f"mediation-serif-sc-{digest}.ttf"


def _gb2312_hanzi() -> list[str]:
    """The 6,763 GB 2312 characters in code order (level 1, the most common, first)."""
    chars = []
    for high in range(0xB0, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.append(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def _glyph_order(cmap: dict[int, str], notdef: str) -> list[str]:
    """Glyph names with the ones ordinary Chinese text uses first.

    WeasyPrint keeps glyph ids when subsetting, so what a subset costs to build grows with
    the highest glyph id a document uses: ASCII, punctuation and GB 2312 first keeps that low.
    """
    order: dict[str, None] = {notdef: None}

    def add(codepoint: int) -> None:
        if (name := cmap.get(codepoint)) is not None:
            order.setdefault(name)

    for low, high in ((0x20, 0x7E), (0x3000, 0x303F), (0xFF00, 0xFFEF), (0x2000, 0x206F)):
        for codepoint in range(low, high + 1):
            add(codepoint)
    for codepoint in range(0xA0, 0x2000):
        add(codepoint)
    for char in _gb2312_hanzi():
        add(ord(char))
    for codepoint in sorted(cmap):
        add(codepoint)
    return list(order)


def build_print_font(
    dest: Path | None = None,
    *,
    source: tuple[Path, int] | None = None,
    chars: str | None = None,
) -> Path:
    """Write the TrueType-outline copy of Noto Serif CJK SC Regular used for printing.

    Every character the SC face maps (about 44,700) is converted with cu2qu; glyph metrics,
    vertical font metrics (so line boxes are identical), names and licence are kept; layout
    tables (GSUB/GPOS: vertical forms, other regions' locl forms, Latin kerning) are dropped —
    printed documents are horizontal Simplified Chinese. ``chars`` limits the copy to those
    characters plus ASCII (used by the tests). Written atomically; returns the path.
    """
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont

    source = source or source_font()
    if source is None:
        raise RuntimeError(f"{SOURCE_FAMILY} is not installed (Debian: fonts-noto-cjk)")
    dest = dest or print_font_path()
    assert dest is not None
    src = TTFont(str(source[0]), fontNumber=source[1], lazy=True)
    cmap = src.getBestCmap()
    if chars is not None:
        wanted = {ord(c) for c in chars} | set(range(0x20, 0x7F))
        cmap = {cp: name for cp, name in cmap.items() if cp in wanted}
    order = _glyph_order(cmap, src.getGlyphOrder()[0])

    glyph_set = src.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(None)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()

    builder = FontBuilder(src["head"].unitsPerEm, isTTF=True)
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap(cmap)
    builder.setupGlyf(glyphs)
    glyf = builder.font["glyf"]
    advances = src["hmtx"].metrics
    builder.setupHorizontalMetrics(
        {name: (advances[name][0], getattr(glyf[name], "xMin", 0)) for name in order}
    )
    hhea = src["hhea"]
    builder.setupHorizontalHeader(ascent=hhea.ascent, descent=hhea.descent, lineGap=hhea.lineGap)
    os2 = src["OS/2"]
    builder.setupOS2(
        **{
            field: getattr(os2, field)
            for field in (
                "usWeightClass usWidthClass fsType ySubscriptXSize ySubscriptYSize "
                "ySubscriptXOffset ySubscriptYOffset ySuperscriptXSize ySuperscriptYSize "
                "ySuperscriptXOffset ySuperscriptYOffset yStrikeoutSize yStrikeoutPosition "
                "sFamilyClass ulUnicodeRange1 ulUnicodeRange2 ulUnicodeRange3 ulUnicodeRange4 "
                "achVendID fsSelection sTypoAscender sTypoDescender sTypoLineGap usWinAscent "
                "usWinDescent ulCodePageRange1 ulCodePageRange2 sxHeight sCapHeight"
            ).split()
        }
    )
    names = src["name"]
    source_version = names.getDebugName(5) or ""
    builder.setupNameTable(
        {
            "copyright": names.getDebugName(0) or "",
            "familyName": PRINT_FAMILY,
            "styleName": "Regular",
            "uniqueFontIdentifier": f"{PRINT_FAMILY} {PRINT_FONT_VERSION}; {source_version}",
            "fullName": f"{PRINT_FAMILY} Regular",
            "psName": PRINT_FAMILY.replace(" ", "") + "-Regular",
            "version": f"Version {PRINT_FONT_VERSION}; from {SOURCE_FAMILY} {source_version}",
            "manufacturer": names.getDebugName(8) or "",
            "description": (
                f"Derived from {SOURCE_FAMILY} ({source_version}) with TrueType outlines, for "
                "fast PDF subsetting. Same licence as the original."
            ),
            "licenseDescription": names.getDebugName(13) or "",
            "licenseInfoURL": names.getDebugName(14) or "",
        },
        mac=False,
    )
    post = src["post"]
    builder.setupPost(
        underlinePosition=post.underlinePosition, underlineThickness=post.underlineThickness
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        builder.save(str(partial))
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return dest


# ---------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------


@cache
def font_config() -> FontConfiguration:
    """The process-wide WeasyPrint font configuration (Pango font map + @font-face cache)."""
    return FontConfiguration()


@cache
def stylesheets() -> tuple[CSS, ...]:
    """The print stylesheet, parsed once, plus the derived face when it has been built.

    Restart the process (or call ``stylesheets.cache_clear()``) to pick up CSS edits or a
    newly built font.
    """
    sheets = [CSS(filename=str(PRINT_CSS), font_config=font_config())]
    font = print_font_path()
    if font is not None and font.is_file():
        stack = ", ".join(
            f'"{family}"' for family in (PRINT_FAMILY, SOURCE_FAMILY, *FALLBACK_FAMILIES)
        )
        css = (
            f'@font-face {{ font-family: "{PRINT_FAMILY}"; src: url("{font.as_uri()}"); }}\n'
            f"html {{ font-family: {stack}, serif; }}\n"
        )
        sheets.append(CSS(string=css, font_config=font_config()))
    else:
        logger.info(
            "printing with the installed %s face (PDFs ~130 KB larger); build the faster "
            "print face with: python -m mediation.documents.pdf build-font",
            SOURCE_FAMILY,
        )
    return tuple(sheets)


class PrintURLFetcher(URLFetcher):
    """Resources a print template may load: data: URIs and files under templates/ or static/.

    Never the network: a document must render the same offline, and nothing typed into a
    form can make the server fetch a URL.
    """

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)

    def fetch(self, url: str, headers: dict | None = None) -> Any:
        if url[:5].lower() == "file:":
            path = Path(request.url2pathname(url.split("?")[0].removeprefix("file:"))).resolve()
            if not (path.is_relative_to(TEMPLATE_DIR) or path.is_relative_to(STATIC_DIR)):
                raise ValueError(f"print templates may not load {url[:100]!r}")
        return super().fetch(url, headers)


def template_variables(context: PrintContext) -> dict[str, Any]:
    """A print context as the template's variables: a dataclass's fields taken as they are
    (shallow: ``dataclasses.asdict`` would copy every nested record), or a mapping's items."""
    if isinstance(context, Mapping):
        return dict(context)
    return {field.name: getattr(context, field.name) for field in dataclasses.fields(context)}


def render_html(template_name: str, context: PrintContext) -> str:
    """The template rendered to an HTML string in the print locale (zh_CN)."""
    token = i18n.set_locale(PRINT_LOCALE)
    try:
        template = install_globals(**case_labels.template_globals()).get_template(template_name)
        return template.render({**TEMPLATE_HELPERS, **template_variables(context)})
    finally:
        token.var.reset(token)


def html_to_pdf(html: str) -> bytes:
    """An HTML string (as made by ``render_html``) to PDF bytes."""
    document = HTML(
        string=html, base_url=DOCUMENTS_DIR.as_uri() + "/", url_fetcher=PrintURLFetcher()
    )
    with _render_lock:
        pdf = document.write_pdf(
            stylesheets=list(stylesheets()),
            font_config=font_config(),
            uncompressed_pdf=False,
            pdf_tags=False,
        )
    assert pdf is not None
    return pdf


def render_pdf(template_name: str, context: PrintContext) -> bytes:
    """Render ``templates/<template_name>`` with ``context`` to PDF bytes, in zh_CN.

    Synchronous and CPU-bound: from async code use ``render_pdf_async``.
    """
    return html_to_pdf(render_html(template_name, context))


_limiters: weakref.WeakKeyDictionary[Any, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()


def _print_limiter() -> anyio.CapacityLimiter | None:
    """Two worker threads per event loop for printing in the app process (``PDF_WORKERS=0``):
    one renders (layout is serialised by ``_render_lock``), one prepares the next document's
    HTML. Queued print jobs therefore never occupy the default thread pool other blocking work
    needs."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not asyncio (trio): anyio's default limiter
        return None
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(2)
    return limiter


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()

DEFAULT_PRIORITY = "low"
PRIORITIES = ("idle", "low", "normal")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_print_workers() -> int:
    """Two printing processes, or one on a single-core machine."""
    return max(1, min(2, _cores()))


def print_workers() -> int:
    """How many printing processes (setting ``PDF_WORKERS``; 0 prints in a thread instead).

    Unset or not a number: ``default_print_workers()``.
    """
    value = os.environ.get("PDF_WORKERS", "").strip()
    if not value:
        return default_print_workers()
    try:
        return max(int(value), 0)
    except ValueError:
        logger.warning("PDF_WORKERS=%r is not a number; using the default", value)
        return default_print_workers()


def print_priority() -> str:
    """CPU priority of the printing processes (setting ``PDF_PRIORITY``).

    ``low`` (default): nice 19, so a page request waking up takes the CPU from a print job at
    once; ``idle``: Linux ``SCHED_IDLE``, only CPU time nothing else wants; ``normal``: as the
    app. On a machine whose CPU is kept busy, ``low`` and even more ``idle`` make print jobs
    wait for everything else (on a shared test machine at load 15, ``idle`` starved them for
    minutes): the price of never stalling pages.
    """
    value = os.environ.get("PDF_PRIORITY", "").strip().lower() or DEFAULT_PRIORITY
    if value not in PRIORITIES:
        logger.warning("PDF_PRIORITY=%r is not one of %s; using low", value, PRIORITIES)
        return DEFAULT_PRIORITY
    return value


def lower_priority(priority: str) -> str:
    """Put the calling process at ``priority``; returns what it got (``idle`` falls back to
    ``low`` where SCHED_IDLE is missing or refused)."""
    if priority == "idle":
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return "idle"
        except (AttributeError, OSError):
            priority = "low"
    if priority == "low":
        try:
            os.nice(19 - os.nice(0))
        except OSError:
            return "normal"
        return "low"
    return "normal"


def _start_worker(priority: str) -> None:
    # A printing process ends with the app process that started it. However that one ends:
    # uvicorn stops on SIGTERM by raising the signal again once it has shut down, so neither
    # the pool's own clean-up nor atexit runs, and the printing processes used to stay, idle,
    # for ever (two more after each restart).
    threading.Thread(
        target=_exit_with_parent, args=(os.getppid(),), name="exit-with-parent", daemon=True
    ).start()
    lower_priority(priority)
    # Each printing process pays the cold start once, before its first real job.
    try:
        warm_up()
    except Exception:
        logger.exception("print worker warm-up failed")


def _exit_with_parent(parent: int, every: float = 1.0) -> None:
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(0)


def print_pool() -> ProcessPoolExecutor | None:
    """The process pool that prints (Jinja and layout), or None when ``PDF_WORKERS`` is 0.

    Rendering is CPU-bound Python: in a thread it holds the GIL, and every other request of
    the process waits behind it. In separate processes at a low CPU priority it neither
    holds the app's GIL nor takes the CPU a page request needs. "spawn" starts clean
    interpreters: forking a process that runs an event loop and threads is not safe.
    """
    global _pool
    workers = print_workers()
    if workers == 0:
        return None
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(print_priority(),),
            )
        return _pool


def _discard_pool(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


def shutdown_pool() -> None:
    """Stop the printing processes (the app's shutdown; tests that change the settings)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _in_locale(
    locale: str,
    categories: CategoryList | None,
    now: datetime,
    function: Callable[..., T],
    args: tuple,
) -> T:
    """In a printing process: the caller's locale, the dispute categories the app process
    has loaded from its table (the labels a document prints are the app's, even where the
    printing process reads the document's rows itself: ``print_from_database``), and the
    caller's clock (a document is dated when it was asked for)."""
    if categories is not None:
        set_categories(categories)
    token = i18n.set_locale(locale)
    try:
        with pinned_at(now):
            return function(*args)
    finally:
        token.var.reset(token)


async def run_off_loop(function: Callable[..., T], *args: Any) -> T:
    """Run CPU-heavy ``function(*args)`` (a PDF, an XLSX export) in a printing process, in
    the caller's locale; in a worker thread when ``PDF_WORKERS`` is 0.

    ``function`` must be a module-level function and its arguments and result picklable.
    """
    pool = print_pool()
    if pool is None:
        return await anyio.to_thread.run_sync(
            functools.partial(function, *args), limiter=_print_limiter()
        )
    job = functools.partial(
        _in_locale, i18n.get_locale(), current_categories(), utc_now(), function, args
    )
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(pool, job)
    except BrokenProcessPool:
        # A printing process died (killed, out of memory): start a new pool and try once more.
        logger.warning("a printing process died; starting a new pool")
        _discard_pool(pool)
        pool = print_pool()
        assert pool is not None
        return await loop.run_in_executor(pool, job)


async def render_pdf_async(template_name: str, context: PrintContext) -> bytes:
    """Render a document without stalling the event loop or the app's CPU: HTML and layout
    both in a printing process (the context travels pickled). A context that cannot be
    pickled is rendered to HTML in a worker thread here and laid out there."""
    try:
        return await run_off_loop(render_pdf, template_name, context)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        if print_pool() is None or not _unpicklable(context):
            raise
        logger.warning("print context of %s cannot be pickled (%s)", template_name, exc)
    html = await anyio.to_thread.run_sync(
        render_html, template_name, context, limiter=_print_limiter()
    )
    return await run_off_loop(html_to_pdf, html)


async def print_from_database(
    template_name: str,
    build: Callable[..., Awaitable[Any]],
    *args: Any,
    after: Callable[[bytes, Any], bytes] | None = None,
) -> bytes:
    """A document whose context comes from the database: ``build(*args)`` reads it, the
    template renders it, ``after(pdf, context)`` (optional) finishes the file.

    With printing processes all three run there, the reads included (``run_from_database``):
    a page served meanwhile waits neither for the reads (an agreement's are seven queries and
    the decryption of its parties' ID numbers) nor for the layout. An exception ``build``
    raises (say, the case is not the user's) reaches the caller as it was raised.

    The whole job runs in the print language (zh_CN) whatever the user's: the labels,
    categories and sentences ``build`` writes into the context end up in a Chinese document,
    and so does a note it records on the case's timeline.
    """
    token = i18n.set_locale(PRINT_LOCALE)
    try:
        return await run_from_database(
            build, functools.partial(_render_then, template_name, after), *args
        )
    finally:
        i18n.reset_locale(token)


def _render_then(
    template_name: str, after: Callable[[bytes, Any], bytes] | None, context: Any
) -> bytes:
    pdf = render_pdf(template_name, context)
    return after(pdf, context) if after is not None else pdf


async def run_from_database(
    read: Callable[..., Awaitable[Any]], finish: Callable[[Any], T], *args: Any
) -> T:
    """``finish(await read(*args))``: database reads, then CPU-heavy work on what they
    returned (a PDF, a workbook), both in a printing process, which reads the database the
    app process uses now through a connection of its own. The app process only hands over
    the arguments and gets the result back. ``read`` and ``finish`` must be module-level
    functions (or partials of them), the arguments and the result picklable. Without
    printing processes (``PDF_WORKERS=0``) ``read`` runs here and ``finish`` in a worker
    thread.

    When a printing process dies during a job (killed, out of memory), the job runs again
    whole in a new one (``run_off_loop``): what ``read`` wrote before the process died stays
    written, so a print that records a reveal of ID numbers records it twice, once for the
    attempt that never reached the user. The timeline errs on the side of saying too much.
    """
    if print_pool() is None:
        data = await read(*args)
        return await anyio.to_thread.run_sync(finish, data, limiter=_print_limiter())
    return await run_off_loop(_read_then_finish, _database_location(), read, args, finish)


def _database_location() -> str:
    """Where this process's engine points now (the tests move it to a fresh copy per test)."""
    from piccolo.engine.sqlite import SQLiteEngine

    from mediation import db

    engine = db.engine()
    if isinstance(engine, SQLiteEngine):
        return f"sqlite:///{engine.path}"
    return str(engine.config["dsn"])


_job_loop: asyncio.AbstractEventLoop | None = None


def _read_then_finish(
    database_url: str,
    read: Callable[..., Awaitable[Any]],
    args: tuple,
    finish: Callable[[Any], T],
) -> T:
    """In a printing process: the reads on this process's event loop (kept, with its
    connections, from one job to the next), then the work on their result."""
    global _job_loop
    if _job_loop is None:
        _job_loop = asyncio.new_event_loop()
    _job_loop.run_until_complete(_follow_database(database_url))
    return finish(_job_loop.run_until_complete(read(*args)))


async def _follow_database(database_url: str) -> None:
    """A printing process reads the database the app process names with each job; on
    PostgreSQL with a pool (``DB_POOL_SIZE``) through a pool of its own of at most two
    connections, opened on its first job."""
    from piccolo.engine.sqlite import SQLiteEngine

    from mediation import db
    from mediation.settings import get_settings

    engine = db.engine()
    if isinstance(engine, SQLiteEngine):
        engine.path = database_url.removeprefix("sqlite:///")
        return
    if engine.config.get("dsn") != database_url:
        if engine.pool is not None:
            await engine.close_connection_pool()
            engine.pool = None
        engine.config["dsn"] = database_url
    if engine.pool is None and get_settings().db_pool_size > 0:
        await engine.start_connection_pool(
            min_size=1, max_size=min(2, get_settings().db_pool_size), reset=db.release_connection
        )


def _unpicklable(context: PrintContext) -> bool:
    try:
        pickle.dumps(context)
    except Exception:
        return True
    return False


def warm_up() -> None:
    """Pay the cold start (≈0.5–0.8 s: fontconfig, stylesheets, the derived face's
    registration, Jinja compilation, translation catalogs, first font loads) before the first
    real print job, by printing the sample agreement once. Call it at start-up in a worker
    thread, e.g. ``await anyio.to_thread.run_sync(warm_up)`` from the app's lifespan.
    """
    from mediation.documents.samples import sample_agreement_context

    render_pdf("documents/agreement.html", sample_agreement_context())


def main(argv: list[str] | None = None) -> int:
    """``python -m mediation.documents.pdf build-font [--force]``: build the print face."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "build-font":
        print(main.__doc__)
        return 2
    target = print_font_path()
    if target is None:
        print(f"{SOURCE_FAMILY} is not installed (Debian: fonts-noto-cjk)", file=sys.stderr)
        return 1
    if target.is_file() and "--force" not in argv:
        print(f"already built: {target}")
        return 0
    started = time.perf_counter()
    build_print_font(target)
    print(
        f"built {target} ({target.stat().st_size / 1e6:.1f} MB) in "
        f"{time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
