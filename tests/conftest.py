"""Shared fixtures: one migrated database with the demo county per run, a fresh app per test.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set
(scripts/test.sh does both). Personas come from the demo county:
- grid1 works grid 东湖社区第1网格; police1 is the community officer on the same team.
- grid4 works 西门社区 in the same town: grid1 must not see 西门社区's records.
- centre1 staffs the 当湖街道 centre and sees every community of that town.
- admin sees the whole county; handler1 handles suggestions for a department.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from pathlib import Path

_DATA_DIR = Path(tempfile.mkdtemp(prefix="mediation-test-"))
os.environ["MEDIATION_DATA_DIR"] = str(_DATA_DIR)
os.environ["DATABASE_URL"] = (
    os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_DATA_DIR / 'test.sqlite3'}"
)
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("FIELD_KEY", "test-field-key-not-for-production-use-0123456789")
os.environ["RUN_BACKGROUND_TASKS"] = "0"
os.environ["LOGIN_RATE_LIMIT"] = "1000"
# argon2's cheapest parameters for the passwords the tests hash (see accounts/services.py).
os.environ["MEDIATION_TEST_CHEAP_HASHES"] = "1"
# The test client runs the app in its own event loop; a pool would be tied to one loop.
os.environ["DB_POOL_SIZE"] = "0"
# The suite shares its machine with other work: printing processes at idle priority would
# wait behind all of it. tests/documents/test_print_pool.py checks the priorities themselves.
os.environ.setdefault("PDF_PRIORITY", "normal")

import pytest  # noqa: E402
from litestar.testing import AsyncTestClient  # noqa: E402

from mediation import db  # noqa: E402
from mediation.demo import DEMO_PASSWORD, load_demo  # noqa: E402
from mediation.settings import settings_from_env  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


async def _reset_postgres() -> None:
    engine = db.engine()
    await engine.run_ddl("DROP SCHEMA IF EXISTS public CASCADE")
    await engine.run_ddl("CREATE SCHEMA public")


async def _prepare_database() -> None:
    if db.is_postgres():
        await _reset_postgres()
    await db.migrate()
    await load_demo()


@pytest.fixture(scope="session")
def database() -> None:
    asyncio.run(_prepare_database())


@pytest.fixture(autouse=True)
def _demo_database(request) -> None:
    """Every test gets the migrated demo county, except tests of pure rules (marker ``pure``).

    Loading the demo takes about a minute: a run of pure tests alone never pays for it.
    """
    if request.node.get_closest_marker("pure") is None:
        request.getfixturevalue("database")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def settings():
    return settings_from_env()


@pytest.fixture
def app(settings):
    from mediation.app import create_app

    return create_app(settings)


@pytest.fixture
async def client(app):
    async with AsyncTestClient(app) as test_client:
        yield test_client


def csrf_token(client) -> str:
    return client.cookies.get("csrftoken") or ""


async def ensure_csrf(client) -> str:
    if not csrf_token(client):
        await client.get("/login")
    return csrf_token(client)


async def post_form(client, url: str, data: dict, **kwargs):
    """A form POST as a browser sends it: with the CSRF token from the cookie."""
    token = await ensure_csrf(client)
    headers = {"x-csrftoken": token, **kwargs.pop("headers", {})}
    kwargs.setdefault("follow_redirects", False)
    return await client.post(url, data=data, headers=headers, **kwargs)


async def login(client, username: str, password: str = DEMO_PASSWORD):
    response = await post_form(client, "/login", {"username": username, "password": password})
    assert response.status_code in (302, 303), f"login as {username} failed: {response.status_code}"
    return response


def text_of(html: str) -> str:
    """The visible text of a page, tags removed, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def pytest_configure(config):
    ARTIFACTS.mkdir(exist_ok=True)


def pytest_collection_modifyitems(config, items):
    # Playwright's sync API keeps an event loop running in the main thread once a browser
    # starts, which async tests cannot share: browser tests go last.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
