"""A count in an English sentence agrees with it ("1 day late", "2 days late"); Chinese has one
form. Every counted noun on pages goes through ``ngettext``."""

from __future__ import annotations

import pytest

from mediation import i18n
from mediation.templating import environment

pytestmark = pytest.mark.pure

DETAIL_CLOCK = (
    '{{ ngettext("done %(num)s day late", "done %(num)s days late", n) }} / '
    '{{ ngettext("%(num)s day left", "%(num)s days left", n) }}'
)


def _render(source: str, locale: str, **values) -> str:
    token = i18n.set_locale(locale)
    try:
        return environment().from_string(source).render(**values)
    finally:
        i18n.reset_locale(token)


def test_english_says_one_day_and_two_days():
    assert _render(DETAIL_CLOCK, "en", n=1) == "done 1 day late / 1 day left"
    assert _render(DETAIL_CLOCK, "en", n=2) == "done 2 days late / 2 days left"


def test_chinese_has_one_form_for_every_count():
    assert _render(DETAIL_CLOCK, "zh_CN", n=1) == "超期 1 天完成 / 剩余 1 天"
    assert _render(DETAIL_CLOCK, "zh_CN", n=2) == "超期 2 天完成 / 剩余 2 天"


def test_a_plural_sentence_escapes_its_values():
    source = (
        '{{ ngettext("The parties may jointly apply to the court until %(date)s (%(num)s day '
        'left).", "The parties may jointly apply to the court until %(date)s (%(num)s days '
        'left).", n, date=d) }}'
    )
    assert _render(source, "en", n=1, d="<b>") == (
        "The parties may jointly apply to the court until &lt;b&gt; (1 day left)."
    )


def test_python_messages_count_too():
    token = i18n.set_locale("en")
    try:
        assert i18n.ngettext("%(num)s page", "%(num)s pages", 1) == "1 page"
        assert i18n.ngettext("%(num)s page", "%(num)s pages", 3) == "3 pages"
    finally:
        i18n.reset_locale(token)
