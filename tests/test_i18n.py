"""Translations: every string translated, no literal text in templates, locale switching."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from jinja2 import Environment

from mediation import i18n
from mediation.i18n_catalog import extract_msgids, untranslated
from mediation.settings import PROJECT_ROOT
from tests.helpers import login, post_form

TEMPLATES = sorted((PROJECT_ROOT / "templates").rglob("*.html"))
LETTERS = re.compile(r"[A-Za-z\u3400-\u9fff\U00020000-\U0002ffff]")
TRANSLATABLE_ATTRS = re.compile(
    r'\b(placeholder|title|aria-label|alt|aria-description)\s*=\s*"([^"]*)"', re.I
)


def literal_text(source: str) -> list[str]:
    """Text a template would show that does not come from an expression or a tag."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    data = "".join(value for _, kind, value in env.lex(source) if kind == "data")
    data = re.sub(r"<(style|script)\b.*?</\1>", " ", data, flags=re.S | re.I)
    problems = [m.group(2) for m in TRANSLATABLE_ATTRS.finditer(data) if LETTERS.search(m.group(2))]
    text = re.sub(r"<!--.*?-->", " ", data, flags=re.S)
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
    problems += [chunk for chunk in text.split() if LETTERS.search(chunk)]
    return problems


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_templates_have_no_untranslated_literal_text(path: Path):
    assert literal_text(path.read_text(encoding="utf-8")) == []


def test_the_guard_catches_literal_text_and_attributes():
    assert literal_text("<p>Hello</p>") == ["Hello"]
    assert literal_text('<input placeholder="姓名">') == ["姓名"]
    assert literal_text("<p>{{ _('Hello') }}</p><style>body{font-family:x}</style>") == []


def test_every_message_has_a_chinese_translation():
    assert extract_msgids(), "extraction found nothing: the guard would be vacuous"
    missing = untranslated("zh_CN")
    assert missing == {}, "untranslated: " + ", ".join(sorted(missing)[:20])


def test_chinese_is_the_default_and_english_can_be_chosen():
    assert i18n.get_locale() == "zh_CN"
    token = i18n.set_locale("en")
    try:
        assert i18n.gettext("Sign in") == "Sign in"
    finally:
        i18n.reset_locale(token)
    assert i18n.gettext("Sign in") == "登录"


def test_dates_and_numbers_follow_the_locale():
    moment = datetime(2026, 2, 17, 1, 30, tzinfo=UTC)  # 09:30 in Beijing
    assert i18n.format_date(date(2026, 2, 17)) == "2026年2月17日"
    assert "09:30" in i18n.format_datetime(moment)
    assert i18n.format_number(1234567.5) == "1,234,567.5"
    assert i18n.format_money(1500) == "¥1,500.00"
    token = i18n.set_locale("en")
    try:
        assert i18n.format_date(date(2026, 2, 17)) == "Feb 17, 2026"
        assert "9:30" in i18n.format_datetime(moment)
    finally:
        i18n.reset_locale(token)


@pytest.mark.anyio
async def test_a_user_switches_to_english_and_the_choice_is_remembered(client):
    await login(client, "grid1")
    assert "首页" in (await client.get("/")).text
    response = await post_form(client, "/locale", {"locale": "en", "next": "/grids"})
    assert response.status_code == 303 and response.headers["location"] == "/grids"
    page = (await client.get("/grids")).text
    assert '<html lang="en">' in page and "Grids" in page and "网格矛盾纠纷调解" not in page
    # A new session picks up the saved preference at sign-in.
    client.cookies.clear()
    await login(client, "grid1")
    assert "Home" in (await client.get("/")).text
    await post_form(client, "/locale", {"locale": "zh_CN", "next": "/"})
    assert "首页" in (await client.get("/")).text


@pytest.mark.anyio
async def test_the_login_page_can_be_switched_before_signing_in(client):
    await post_form(client, "/locale", {"locale": "en", "next": "/login"})
    page = (await client.get("/login")).text
    assert "Sign in" in page and "User name" in page
