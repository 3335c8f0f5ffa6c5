"""Translations: Babel catalogs per domain, the request's locale in a context variable."""

from __future__ import annotations

import contextvars
import io
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LOCALE = "zh_CN"
SUPPORTED_LOCALES = ("zh_CN", "en")
# Message ids are English; only zh_CN needs a catalog.
LOCALE_NAMES = {"zh_CN": "中文", "en": "English"}
TIMEZONE = "Asia/Shanghai"

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
    merged: NullTranslations | None = None
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


def lazy_gettext(message: str, **params: object) -> LazyProxy:
    """For strings defined at import time (choices, labels): translated when rendered."""
    return LazyProxy(gettext, message, enable_cache=False, **params)


_ = gettext


@cache
def _babel_locale(locale: str) -> Locale:
    return Locale.parse(locale)


def format_date(value: date | datetime | None, format: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return dates.format_date(value, format=format, locale=_babel_locale(get_locale()))


def format_datetime(value: datetime | None, format: str = "medium") -> str:
    if value is None:
        return ""
    return dates.format_datetime(
        value,
        format=format,
        tzinfo=dates.get_timezone(TIMEZONE),
        locale=_babel_locale(get_locale()),
    )


def format_number(value: int | float | Decimal | None) -> str:
    if value is None:
        return ""
    return numbers.format_decimal(value, locale=_babel_locale(get_locale()))


def format_money(value: int | float | Decimal | None) -> str:
    if value is None:
        return ""
    return numbers.format_currency(value, "CNY", locale=_babel_locale(get_locale()))
