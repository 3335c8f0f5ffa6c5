"""Headers, cookies, links and files: the CSP allows only the app's own scripts and styles (and
no template needs more), nothing frames a page, personal data is never cached, a changed
SECRET_KEY does not lock browsers out, printed links come from PUBLIC_BASE_URL, and the data
directory keeps its files to the owner."""

from __future__ import annotations

import dataclasses
import re
import stat
import subprocess
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from mediation import db, files
from mediation.app import create_app
from mediation.settings import settings_from_env
from tests.helpers import csrf_token, login, post_form

pytestmark = pytest.mark.anyio
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Rendered to PDF by WeasyPrint, never served to a browser as a page.
PRINT_ONLY = ("documents/", "suggestions/receipt_print.html", "portal/notice_print.html")
PRINT_ONLY += ("portal/slip_print.html",)


async def test_pages_carry_a_strict_content_security_policy(client):
    response = await client.get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-content-type-options"] == "nosniff"
    # Error pages too.
    missing = await client.get("/no-such-page")
    assert "frame-ancestors 'none'" in missing.headers["content-security-policy"]


async def test_htmx_is_configured_to_need_no_inline_style_or_eval(client):
    page = (await client.get("/login")).text
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', page).group(1)
    assert '"includeIndicatorStyles": false' in config and '"allowEval": false' in config
    assert '"historyCacheSize": 0' in config  # no personal data in localStorage snapshots


def test_no_served_template_needs_inline_script_style_or_handlers():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        name = str(path.relative_to(TEMPLATES))
        if name.startswith(PRINT_ONLY):
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"<style[\s>]", text):
            offenders.append(f"{name}: <style>")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{name}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{name}: on… handler")
        if re.search(r"\sstyle\s*=", text):
            offenders.append(f"{name}: style attribute")
        if re.search(r"hx-(vals|vars)=['\"]\s*(js|javascript):|hx-on", text):
            offenders.append(f"{name}: evaluated htmx attribute")
    assert offenders == []


async def test_pages_with_personal_data_are_not_stored_but_static_files_are(client, new_key):
    from mediation.cases import services
    from tests.cases.conftest import deposit_case, grid_id, user

    case_id = await services.register_case(
        deposit_case(await grid_id()), await user("grid1"), new_key()
    )
    await login(client, "grid1")
    for url in (f"/cases/{case_id}", f"/api/cases/{case_id}", "/cases", "/notifications"):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "no-store", url
    assert "no-store" not in (await client.get("/static/app.css")).headers.get("cache-control", "")


@pytest.fixture
def new_key():
    import uuid

    return lambda: uuid.uuid4().hex


async def test_a_browser_with_a_csrf_cookie_from_an_earlier_secret_key_can_still_sign_in(
    settings,
):
    before = create_app(dataclasses.replace(settings, secret_key="the-secret-key-before-" * 3))
    after = create_app(dataclasses.replace(settings, secret_key="the-secret-key-after--" * 3))
    async with AsyncTestClient(before) as old:
        await old.get("/login")
        stale = csrf_token(old)
    async with AsyncTestClient(after) as browser:
        browser.cookies.set("csrftoken", stale, domain="testserver.local")
        page = await browser.get("/login")
        assert csrf_token(browser) != stale
        assert page.status_code == 200
        response = await post_form(browser, "/login", {"username": "grid1", "password": "x"})
        assert response.status_code == 422  # judged on the password, not refused as forged
        await login(browser, "grid1")


async def test_printed_links_come_from_public_base_url_not_the_host_header(settings, new_key):
    from tests.cases.test_sessions_and_agreements import _issued_agreement

    app = create_app(dataclasses.replace(settings, public_base_url="https://tiaojie.example.gov"))
    case_id, agreement_id = await _issued_agreement(new_key)
    async with AsyncTestClient(app) as client:
        await login(client, "mediator1")
        response = await client.get(
            f"/cases/{case_id}/agreements/{agreement_id}/agreement.pdf",
            headers={"host": "evil.example"},
        )
        assert response.status_code == 200
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
        ).stdout.decode()
        assert "https://tiaojie.example.gov/verify/" in text
        assert "evil.example" not in text


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_directory_keys_database_and_attachments_are_the_owners_only(tmp_path):
    data_dir = tmp_path / "data"
    settings = settings_from_env({"MEDIATION_DATA_DIR": str(data_dir)})
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir / "secret_key") == 0o600
    assert _mode(data_dir / "field_key") == 0o600
    db.prepare_sqlite_file(str(settings.sqlite_path))
    assert _mode(settings.sqlite_path) == 0o600
    for suffix in ("-wal", "-shm"):
        extra = Path(str(settings.sqlite_path) + suffix)
        if extra.exists():
            assert _mode(extra) == 0o600
    # Stored files on disk (the SQLite way: mediation.files).
    stored = files.save_on_disk(data_dir, files.ATTACHMENTS, "scan.pdf", b"%PDF-1.4")
    assert _mode(data_dir / "attachments") == 0o700
    assert _mode(stored) == 0o600


@pytest.mark.pure
def test_sign_in_returns_only_to_same_site_paths():
    from mediation.web import safe_next

    assert safe_next("/cases/3?tab=1") == "/cases/3?tab=1"
    for hostile in ("https://evil.example/", "//evil.example/", "/\\evil.example", "cases", ""):
        assert safe_next(hostile) == "/"
