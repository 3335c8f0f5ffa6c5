"""The one Jinja environment: i18n callables, locale-aware filters, masking helpers.

This module knows no domain: the labels and helpers of a domain that templates need are
installed by whoever composes the app (``install_globals``; see ``app.create_app`` and
``documents.pdf``), so the dependency runs from the domains to this module, not back.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from mediation import i18n
from mediation.masking import mask_id_number, mask_phone
from mediation.settings import get_settings

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


# Messages without parameters, translated and made markup once per locale: the layout alone
# calls _() about forty times per page.
_plain_messages: dict[tuple[str, str], Markup] = {}


def _template_gettext(message: str, **params: object) -> Markup:
    locale = i18n.get_locale()
    if not params:
        key = (locale, message)
        text = _plain_messages.get(key)
        if text is None:
            text = Markup(i18n.translations_for(locale).gettext(message)) % params
            if len(_plain_messages) < 20_000:  # literal messages of the templates: bounded
                _plain_messages[key] = text
        return text
    return Markup(i18n.translations_for(locale).gettext(message)) % params


def _template_ngettext(singular: str, plural: str, n: int, **params: object) -> Markup:
    """A count in a sentence: "1 day left", "2 days left" (``%(num)s`` is the count)."""
    text = i18n.translations_for(i18n.get_locale()).ngettext(singular, plural, n)
    return Markup(text) % {"num": n, **params}


@cache
def environment() -> Environment:
    """Shared by page rendering (Litestar's engine wraps it) and PDF rendering."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # Checking every template file's time on disk at each render is for development only.
        auto_reload=get_settings().debug,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by jinja2.ext.i18n
        lambda message: i18n.gettext(message),
        lambda singular, plural, n: i18n.ngettext(singular, plural, n),
        newstyle=True,
    )
    # The same semantics as the extension's new-style gettext (the translation is trusted
    # markup, the parameters are escaped into it) without its second trip through
    # Context.call: pages call _() dozens of times per render.
    env.globals["_"] = env.globals["gettext"] = _template_gettext
    env.globals["ngettext"] = _template_ngettext
    env.filters.update(
        date=i18n.format_date,
        datetime=i18n.format_datetime,
        number=i18n.format_number,
        money=i18n.format_money,
        mask_id=mask_id_number,
        mask_phone=mask_phone,
    )
    from mediation.accounts.sessions import warn_before
    from mediation.labels import LEVEL_LABELS, ROLE_LABELS, TEAM_ROLE_LABELS
    from mediation.static_assets import static_url

    env.globals.update(
        static_url=static_url,
        session_warn=lambda request: warn_before(request.app.state.settings.session_idle),
        ROLE_LABELS=ROLE_LABELS,
        LEVEL_LABELS=LEVEL_LABELS,
        TEAM_ROLE_LABELS=TEAM_ROLE_LABELS,
        get_locale=i18n.get_locale,
        LOCALE_NAMES=i18n.LOCALE_NAMES,
        SUPPORTED_LOCALES=i18n.SUPPORTED_LOCALES,
    )
    return env


def install_globals(**values: object) -> Environment:
    """Add names every template may use (a domain's labels); the same names again is a no-op."""
    env = environment()
    env.globals.update(values)
    return env
