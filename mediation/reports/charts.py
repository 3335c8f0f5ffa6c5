"""Charts drawn on the server as SVG (pygal): the same picture for the page and the PDF.

Colours are the Okabe–Ito palette, told apart by people with colour-vision deficiencies; the
risk colours are drawn in its vermillion, orange and bluish green and always carry their name
(红/黄/绿) in the legend and on the axis, so colour is never the only signal. Each chart is
shown beside a table of the same numbers. No script is embedded (pygal's tooltips would load
one from the internet): the SVG is static.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup

OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",
)
RISK_COLOURS = {"red": "#D55E00", "yellow": "#E69F00", "green": "#009E73"}
FONT = "'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', sans-serif"


def _style(colours=OKABE_ITO):
    from pygal.style import Style

    return Style(
        background="white",
        plot_background="white",
        foreground="#222",
        foreground_strong="#111",
        foreground_subtle="#666",
        colors=tuple(colours),
        font_family=FONT,
        label_font_size=13,
        major_label_font_size=13,
        legend_font_size=13,
        title_font_size=15,
        value_font_size=12,
        value_label_font_size=12,
    )


def _config(chart, title: str) -> None:
    # pygal names each chart with a random id; each chart is a document of its own, so a fixed
    # one will do, and the same figures give the same bytes (and URL) in every process.
    chart.uuid = "figures"
    chart.config.js = []  # no tooltip script fetched from the internet
    chart.config.disable_xml_declaration = True
    chart.config.explicit_size = True
    chart.config.title = title
    chart.config.print_values = True
    chart.config.legend_at_bottom = True
    chart.config.legend_at_bottom_columns = 3
    chart.config.show_y_guides = True


# Drawn charts by their exact inputs (title and numbers, already translated): drawing one takes
# tens of milliseconds, and a dashboard shows the same numbers to everyone who opens it.
_DRAWN: OrderedDict[tuple, Markup] = OrderedDict()
_DRAWN_MAX = 256


def _drawn(key: tuple, draw: Callable[[], Markup]) -> Markup:
    hit = _DRAWN.get(key)
    if hit is not None:
        _DRAWN.move_to_end(key)
        return hit
    svg = _DRAWN[key] = draw()
    while len(_DRAWN) > _DRAWN_MAX:
        _DRAWN.popitem(last=False)
    return svg


def count_ticks(values: list[int]) -> list[int]:
    """Whole numbers for an axis of counts (pygal would mark 0, 0.2, 0.4 … up to 2 cases): from
    0 to at least the largest value, in steps of 1, 2 or 5 times a power of ten, at most ten."""
    top = max([*values, 1])
    step = 1
    while True:
        for factor in (1, 2, 5):
            if top <= 10 * step * factor:
                step *= factor
                last = -(-top // step) * step
                return list(range(0, last + 1, step))
        step *= 10


def _series_key(series: list[tuple[str, list[int]]]) -> tuple:
    return tuple((str(name), tuple(values)) for name, values in series)


def _render(chart) -> Markup:
    svg = chart.render(is_unicode=True)
    # The chart is decorative for screen readers: its table beside it carries the numbers.
    svg = svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)
    return Markup(svg)


def bar_chart(
    title: str, labels: list[str], series: list[tuple[str, list[int]]], width: int = 720
) -> Markup:
    """Grouped horizontal bars: one group per label, one bar per series."""
    key = ("bar", str(title), tuple(map(str, labels)), _series_key(series), width)
    return _drawn(key, lambda: _bar_chart(title, labels, series, width))


def _bar_chart(title: str, labels: list[str], series: list[tuple[str, list[int]]], width: int):
    import pygal

    chart = pygal.HorizontalBar(
        style=_style(), width=width, height=max(220, 60 + 34 * len(labels) * max(1, len(series)))
    )
    _config(chart, title)
    # pygal draws the first label at the bottom: reversed, the chart reads like its table.
    chart.x_labels = list(reversed(labels))
    chart.y_labels = count_ticks([v for _name, values in series for v in values])
    for name, values in series:
        chart.add(name, list(reversed(values)))
    return _render(chart)


def risk_chart(
    title: str, series_name: str, rows: list[tuple[str, str, int]], width: int = 480
) -> Markup:
    """One bar per risk colour, drawn in that colour and named in words on the axis:
    rows of (code, label, count)."""
    key = ("risk", str(title), str(series_name), tuple(rows), width)
    return _drawn(key, lambda: _risk_chart(title, series_name, rows, width))


def _risk_chart(title: str, series_name: str, rows: list[tuple[str, str, int]], width: int):
    import pygal

    chart = pygal.Bar(style=_style(), width=width, height=300, show_legend=False)
    _config(chart, title)
    chart.x_labels = [label for _code, label, _n in rows]
    chart.y_labels = count_ticks([n for _code, _label, n in rows])
    chart.add(
        series_name,
        [{"value": n, "color": RISK_COLOURS.get(code, "#999999")} for code, _label, n in rows],
    )
    return _render(chart)


def trend_chart(
    title: str, labels: list[str], series: list[tuple[str, list[int]]], width: int = 720
) -> Markup:
    """Lines over months."""
    key = ("trend", str(title), tuple(map(str, labels)), _series_key(series), width)
    return _drawn(key, lambda: _trend_chart(title, labels, series, width))


def _trend_chart(title: str, labels: list[str], series: list[tuple[str, list[int]]], width: int):
    import pygal

    chart = pygal.Line(style=_style(), width=width, height=320, dots_size=4)
    _config(chart, title)
    chart.x_labels = labels
    chart.config.truncate_label = -1  # "2026-03", never "2026-…"
    chart.config.x_label_rotation = 30
    chart.config.print_values = False
    chart.y_labels = count_ticks([v for _name, values in series for v in values])
    for name, values in series:
        chart.add(name, values)
    return _render(chart)


@dataclass(frozen=True)
class Served:
    """A drawn chart as its own document: the bytes, their digest (the URL's version and the
    ETag) and the size the page reserves for it."""

    body: bytes
    digest: str
    dims: Markup


@lru_cache(maxsize=256)
def _served(svg: Markup) -> Served:
    # Drawn charts are reused (``_drawn``); so is their document, tens of kilobytes each.
    import hashlib
    import re

    size = re.search(r'<svg[^>]*?width="(\d+)"[^>]*?height="(\d+)"', str(svg))
    dims = Markup(f' width="{size.group(1)}" height="{size.group(2)}"') if size else Markup("")
    body = _as_document(svg).encode()
    return Served(body, hashlib.sha256(body).hexdigest()[:24], dims)


# Charts shown on a page in this process, by digest, with the region paths of the figures they
# were drawn for: ``published`` serves one only to a request for one of those regions.
_PUBLISHED: OrderedDict[str, tuple[Served, frozenset[str]]] = OrderedDict()


def publish(svg: Markup, region_path: str) -> Served:
    """Keep a chart drawn for the figures of a region, to be served at its own URL."""
    served = _served(svg)
    known = _PUBLISHED.get(served.digest)
    paths = known[1] if known else frozenset()
    if region_path not in paths:
        paths = paths | {region_path}
    _PUBLISHED[served.digest] = (served, paths)
    _PUBLISHED.move_to_end(served.digest)
    while len(_PUBLISHED) > _DRAWN_MAX:
        _PUBLISHED.popitem(last=False)
    return served


def published(digest: str, region_path: str) -> Served | None:
    """The chart of that digest if this process showed it for the figures of that region."""
    known = _PUBLISHED.get(digest)
    return known[0] if known and region_path in known[1] else None


def on_page(svg: Markup | None, src: str, region_path: str) -> Markup | None:
    """The chart as the page shows it: an ``<img>`` of the SVG served at ``src`` (a URL with a
    query string) with its digest as version. Inline, the SVG's own style sheet would be refused
    by the page's Content-Security-Policy (``style-src 'self'``) and every shape drawn black; as
    a data URI it would cost every page view tens of kilobytes that its own URL lets the browser
    keep. ``alt=""``: the table beside it carries the same numbers for screen readers."""
    if svg is None:
        return None
    served = publish(svg, region_path)
    return Markup('<img src="{}" alt=""{}>').format(f"{src}&v={served.digest}", served.dims)


def _as_document(svg: Markup) -> str:
    """The SVG as a document of its own (an image): no screen-reader attributes for the page."""
    return str(svg).replace('aria-hidden="true" focusable="false" ', "", 1)


def as_data_uri(svg: Markup) -> str:
    """The SVG as an ``<img>`` source, for the PDF."""
    import base64

    return "data:image/svg+xml;base64," + base64.b64encode(_as_document(svg).encode()).decode()
