"""Translations: Babel catalogs per domain, the request's locale in a context variable."""

from __future__ import annotations

import contextvars
import io
from datetime import date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from markupsafe import Markup, escape

from mediation.clock import local_date, to_local

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LOCALE = "zh_CN"
SUPPORTED_LOCALES = ("zh_CN", "en")
# Message ids are English; only zh_CN needs a catalog.
LOCALE_NAMES = {"zh_CN": "中文", "en": "English"}

_current_locale: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_locale", default=DEFAULT_LOCALE
)


def normalize_locale(value: str | None) -> str | None:
    """Map 'zh', 'zh-CN', 'zh_Hans_CN', 'en-US' ... onto a supported locale, else None."""
    if not value:
        return None
    value = value.strip().replace("-", "_").lower()
    if value.startswith("zh"):
        return "zh_CN"
    if value.startswith("en"):
        return "en"
    return None


def set_locale(locale: str) -> contextvars.Token:
    return _current_locale.set(normalize_locale(locale) or DEFAULT_LOCALE)


def reset_locale(token: contextvars.Token) -> None:
    _current_locale.reset(token)


def get_locale() -> str:
    return _current_locale.get()


@cache
def translations_for(locale: str) -> NullTranslations:
    """All ``*.po`` catalogs of a locale merged into one (each domain keeps its own file)."""
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    merged: Translations | None = None
    for po_path in sorted(folder.glob("*.po")):
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        part = Translations(buffer)
        if merged is None:
            merged = part
        else:
            merged.merge(part)
    return merged or NullTranslations()


def gettext(message: str, **params: object) -> str:
    text = translations_for(get_locale()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
    text = translations_for(get_locale()).ngettext(singular, plural, n)
    params.setdefault("num", n)
    return text % params


class LazyText:
    """A message translated each time it is used, in the locale of the moment.

    Lighter than Babel's ``LazyProxy`` (no attribute forwarding on every access): labels are
    looked up for every row of every list page. Behaves like the translated ``str``.
    """

    __slots__ = ("message", "params")

    def __init__(self, message: str, params: dict[str, object]) -> None:
        self.message = message
        self.params = params

    def __str__(self) -> str:
        text = translations_for(_current_locale.get()).gettext(self.message)
        return text % self.params if self.params else text

    def __html__(self) -> Markup:
        return escape(str(self))

    def __repr__(self) -> str:
        return f"LazyText({self.message!r})"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __getattr__(self, name: str):
        if name.startswith("__"):  # copy/pickle protocols: never recurse into str(self)
            raise AttributeError(name)
        return getattr(str(self), name)

    def __eq__(self, other: object) -> bool:
        return str(self) == (str(other) if isinstance(other, LazyText) else other)

    def __lt__(self, other: object) -> bool:
        return str(self) < str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __bool__(self) -> bool:
        return bool(self.message)

    def __len__(self) -> int:
        return len(str(self))

    def __contains__(self, item: str) -> bool:
        return item in str(self)

    def __add__(self, other: str) -> str:
        return str(self) + str(other)

    def __radd__(self, other: str) -> str:
        return str(other) + str(self)

    def __mod__(self, other: object) -> str:
        return str(self) % other


def lazy_gettext(message: str, **params: object) -> LazyText:
    """For strings defined at import time (choices, labels): translated when rendered."""
    return LazyText(message, params)


_ = gettext


@cache
def _babel_locale(locale: str) -> Locale:
    return Locale.parse(locale)


def format_date(value: date | datetime | None, format: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        # The county's date of the instant, never the server's (UTC) date.
        value = local_date(value)
    return _format_date(value, format, get_locale())


@lru_cache(maxsize=8192)
def _format_date(value: date, format: str, locale: str) -> str:
    # Lists show the same few hundred dates over and over; Babel's formatter is the slow part.
    return dates.format_date(value, format=format, locale=_babel_locale(locale))


def format_datetime(value: datetime | None, format: str = "medium") -> str:
    """An instant as county wall-clock time.

    ``long`` and ``medium`` are the date and the time to the minute (2026年2月8日 11:30): Babel's
    own long pattern appends the zone offset (``+0800``), which has no place on a Chinese page or
    document, and seconds are noise to a reader.
    """
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return format_date(value, format)
    local = to_local(value)
    locale = _babel_locale(get_locale())
    if format in ("long", "medium"):
        # The date as the format says, the time to the minute: 2026年2月8日 11:30.
        day = _format_date(local.date(), format, get_locale())
        return f"{day} {dates.format_time(local, 'short', locale=locale)}"
    return dates.format_datetime(local, format=format, tzinfo=local.tzinfo, locale=locale)


def format_number(value: int | float | Decimal | None) -> str:
    if value is None:
        return ""
    # Annotated: mypy does not see a union of classes as hashable for the cache.
    kind: type = type(value)
    return _format_number(kind, value, get_locale())


@lru_cache(maxsize=8192)
def _format_number(kind: type, value: int | float | Decimal, locale: str) -> str:
    # Pages print the same counts many times (a dashboard has hundreds of them), and Babel
    # parses its number pattern on every call. ``kind`` keeps 1, 1.0 and Decimal(1) apart.
    return numbers.format_decimal(value, locale=_babel_locale(locale))


def format_money(value: int | float | Decimal | None) -> str:
    if value is None:
        return ""
    return numbers.format_currency(value, "CNY", locale=_babel_locale(get_locale()))
