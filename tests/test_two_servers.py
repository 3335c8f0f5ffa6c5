"""Two app servers, one database and one Redis: one user is served by both in turn.

Two ``uvicorn`` processes run the app on the suite's database (the PostgreSQL database of
TEST_DATABASE_URL, or the same SQLite file) with ``REDIS_URL`` set, as behind a load balancer.
A user signs in on one and goes on on the other; failed sign-ins are counted across both.
Redis must be reachable (``REDIS_URL``, else 127.0.0.1:6379): the test fails without it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import httpx
import pytest
import redis

from mediation.demo import DEMO_PASSWORD

# A database number of its own, so the test's keys never meet another user of the server.
REDIS_DB = 13
LOGIN_LIMIT = 4


def _redis_url() -> str:
    base = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379"
    return base.rsplit("/", 1)[0] + f"/{REDIS_DB}" if base.count("/") > 2 else f"{base}/{REDIS_DB}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "mediation.asgi:app", "--host", "127.0.0.1"]
        + ["--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    return proc, f"http://127.0.0.1:{port}"


def _wait_ready(proc: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/health", timeout=2)
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stdout.read().decode(errors="replace")) from None
            time.sleep(0.3)
    raise RuntimeError("an app server did not start")


@pytest.fixture
def two_servers(database) -> Iterator[tuple[str, str]]:
    url = _redis_url()
    client = redis.Redis.from_url(url)
    client.ping()  # no Redis, no test: this fails loudly
    client.flushdb()
    env = {
        **os.environ,
        "RUN_BACKGROUND_TASKS": "0",
        "REDIS_URL": url,
        "LOGIN_RATE_LIMIT": str(LOGIN_LIMIT),
    }
    servers = [_start(env), _start(env)]
    try:
        for proc, base in servers:
            _wait_ready(proc, base)
        yield servers[0][1], servers[1][1]
    finally:
        for proc, _base in servers:
            proc.terminate()
        for proc, _base in servers:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        client.flushdb()
        client.close()


def _post_login(client: httpx.Client, base: str, password: str) -> httpx.Response:
    if not client.cookies.get("csrftoken"):
        client.get(base + "/login")
    return client.post(
        base + "/login",
        data={"username": "grid1", "password": password},
        headers={"x-csrftoken": client.cookies.get("csrftoken") or ""},
    )


def test_one_user_is_served_by_two_servers_sharing_redis(two_servers):
    first, second = two_servers
    # Cookies are per host, not per port: one browser behind a load balancer.
    with httpx.Client(follow_redirects=False, timeout=30) as browser:
        assert browser.get(second + "/cases").status_code in (302, 303, 401)  # not signed in
        signed_in = _post_login(browser, first, DEMO_PASSWORD)
        assert signed_in.status_code in (302, 303), signed_in.text[:300]
        # The session written by the first server is read by the second.
        page = browser.get(second + "/cases")
        assert page.status_code == 200 and 'action="/logout"' in page.text
        # A signed-in, CSRF-checked POST is accepted there too, and back on the first.
        token = {"x-csrftoken": browser.cookies.get("csrftoken") or ""}
        assert browser.post(second + "/session/ping", headers=token).status_code == 200
        assert browser.get(first + "/cases").status_code == 200
        assert browser.post(first + "/logout", headers=token).status_code in (302, 303)
        assert browser.get(second + "/cases").status_code in (302, 303, 401)

    # Sign-in attempts from one address are counted across both servers: the limit is
    # LOGIN_LIMIT a minute, the attempts alternate, so no single server sees more than 3.
    with httpx.Client(follow_redirects=False, timeout=30) as attacker:
        statuses = [
            _post_login(attacker, server, "wrong-password").status_code
            for server in (second, first, second)
        ]
        assert 429 not in statuses
        assert _post_login(attacker, first, "wrong-password").status_code == 429
        assert _post_login(attacker, second, "wrong-password").status_code == 429
