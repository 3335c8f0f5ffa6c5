"""Message extraction for the catalog checks: every msgid in code and templates, and gaps."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir

from mediation.i18n import LOCALE_DIR, translations_for
from mediation.settings import PROJECT_ROOT

KEYWORDS = {
    "_": None,
    "gettext": None,
    "lazy_gettext": None,
    "_l": None,
    "ngettext": (1, 2),
}


def extract_msgids() -> dict[str, list[str]]:
    """msgid → places it is used (file:line), from mediation/*.py and templates/**/*.html."""
    found: dict[str, list[str]] = {}
    sources = [
        (PROJECT_ROOT / "mediation", [("**.py", "python")]),
        (PROJECT_ROOT / "templates", [("**.html", "jinja2"), ("**.txt", "jinja2")]),
    ]
    for folder, method_map in sources:
        options = {"**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true"}}
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(folder), method_map, options_map=options, keywords=KEYWORDS
        ):
            # A plural message (ngettext) is one catalog entry, found by its singular.
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, []).append(f"{folder.name}/{filename}:{lineno}")
    return found


def untranslated(locale: str = "zh_CN") -> dict[str, list[str]]:
    catalog = translations_for(locale)
    missing = {}
    for msgid, places in extract_msgids().items():
        entries = catalog._catalog  # noqa: SLF001
        if catalog.gettext(msgid) == msgid and not entries.get(msgid) and (msgid, 0) not in entries:
            missing[msgid] = places
    return missing


def stub_po(missing: dict[str, list[str]]) -> str:
    out = io.StringIO()
    for msgid, places in sorted(missing.items()):
        out.write(f'#: {places[0]}\nmsgid {_quote(msgid)}\nmsgstr ""\n\n')
    return out.getvalue()


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


if __name__ == "__main__":
    gaps = untranslated()
    print(stub_po(gaps))
    print(f"# {len(gaps)} untranslated; catalogs in {Path(LOCALE_DIR)}")
