#!/usr/bin/env python
"""CPU time the app spends per request, in-process, beside the service call alone.

Run on demand (not a test) against a loaded PostgreSQL database:

    .venv/bin/python -m benchmarks.profile_request \
        --pg-url postgresql://postgres@127.0.0.1:5432/bench_million \
        --path /cases --user centre2 --requests 300 [--profile out.prof]

It builds the app, runs its lifespan, signs in through the app itself (as a browser would),
then sends ``--requests`` GETs of ``--path`` straight to the ASGI callable (no server, no
socket), one at a time, and prints the CPU milliseconds (``time.process_time``) and the SQL
statements per request. ``--bare`` names a ``benchmarks.run_million`` row whose service call
is timed the same way, for the app's fixed cost per request: app CPU minus bare CPU. With
``--profile`` the app's requests run under cProfile and the statistics are written there.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD = "mediation-demo"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/bench_million")
    p.add_argument("--data-dir", default="/tmp/mediation-profile-request")
    p.add_argument("--path", action="append", default=[], help="path and query (repeatable)")
    p.add_argument("--user", default="centre2", help="sign in as (empty: no sign-in)")
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("--bare", default="", help="a run_million row key to time beside")
    p.add_argument("--profile", default="", help="write cProfile statistics of the app here")
    p.add_argument("--gzip", action="store_true", help="send Accept-Encoding: gzip")
    return p.parse_args(argv)


class Driver:
    """Calls the ASGI app with a hand-made scope: the request as uvicorn would pass it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.cookies: dict[str, str] = {}

    async def request(
        self,
        method: str,
        target: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(target)
        raw_headers = [(b"host", b"127.0.0.1:8000")]
        if self.cookies:
            cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            raw_headers.append((b"cookie", cookie.encode("latin-1")))
        for k, v in (headers or {}).items():
            raw_headers.append((k.lower().encode("latin-1"), v.encode("latin-1")))
        if body:
            raw_headers.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": parts.path,
            "raw_path": parts.path.encode(),
            "query_string": parts.query.encode(),
            "root_path": "",
            "headers": raw_headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent = False

        async def receive() -> dict:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 0
        out_headers: dict[str, str] = {}
        chunks: list[bytes] = []

        async def send(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for k, v in message.get("headers", []):
                    key = k.decode("latin-1").lower()
                    value = v.decode("latin-1")
                    if key == "set-cookie":
                        name, _, rest = value.partition("=")
                        self.cookies[name.strip()] = rest.split(";", 1)[0]
                    out_headers[key] = value
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, out_headers, b"".join(chunks)

    async def sign_in(self, username: str) -> None:
        await self.request("GET", "/login")
        token = self.cookies.get("csrftoken", "")
        body = urlencode({"username": username, "password": PASSWORD}).encode()
        status, _h, _b = await self.request(
            "POST",
            "/login",
            {"content-type": "application/x-www-form-urlencoded", "x-csrftoken": token},
            body,
        )
        if status not in (302, 303):
            raise SystemExit(f"sign-in as {username} failed: {status}")


class Lifespan:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.queue: asyncio.Queue = asyncio.Queue()
        self.events: asyncio.Queue = asyncio.Queue()

    async def _run(self) -> None:
        async def receive() -> dict:
            return await self.queue.get()

        async def send(message: dict) -> None:
            await self.events.put(message)

        await self.app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)

    async def __aenter__(self) -> Lifespan:
        self.task = asyncio.create_task(self._run())
        await self.queue.put({"type": "lifespan.startup"})
        message = await self.events.get()
        if message["type"] != "lifespan.startup.complete":
            raise SystemExit(f"startup failed: {message}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.queue.put({"type": "lifespan.shutdown"})
        await self.events.get()
        await self.task


def count_statements() -> list[int]:
    """A one-item list counting the SQL statements run from now on."""
    from piccolo.engine.postgres import PostgresEngine

    counter = [0]
    original = PostgresEngine.run_querystring

    async def counting(self, querystring, in_pool: bool = True):
        counter[0] += 1
        return await original(self, querystring, in_pool)

    PostgresEngine.run_querystring = counting  # type: ignore[method-assign]
    return counter


async def main_async(args: argparse.Namespace) -> None:
    from mediation.app import create_app

    app = create_app()
    paths = args.path or ["/cases"]
    async with Lifespan(app):
        driver = Driver(app)
        if args.user:
            await driver.sign_in(args.user)
        headers = {"accept-encoding": "gzip"} if args.gzip else {}
        counter = count_statements()
        for path in paths:
            for _ in range(args.warmup):
                status, _h, body = await driver.request("GET", path, headers)
                if status != 200:
                    raise SystemExit(f"{path} answered {status}: {body[:300]!r}")
            profiler = cProfile.Profile() if args.profile else None
            counter[0] = 0
            cpu = time.process_time()
            wall = time.perf_counter()
            if profiler:
                profiler.enable()
            for _ in range(args.requests):
                await driver.request("GET", path, headers)
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.profile)
            cpu_ms = (time.process_time() - cpu) * 1000 / args.requests
            wall_ms = (time.perf_counter() - wall) * 1000 / args.requests
            print(
                f"app  {path}: {cpu_ms:.2f} ms CPU, {wall_ms:.2f} ms wall, "
                f"{counter[0] / args.requests:.1f} statements, {len(body)} bytes per request"
            )
        if args.bare:
            from benchmarks import run_million

            targets = await run_million.pick_targets()
            users = await run_million.load_users(targets["staff"])
            row = {r.key: r for r in run_million.rows_for(targets)}[args.bare]
            user = users.get(row.user)
            for _ in range(args.warmup):
                await row.bare(user, targets)
            counter[0] = 0
            cpu = time.process_time()
            wall = time.perf_counter()
            for _ in range(args.requests):
                await row.bare(user, targets)
            cpu_ms = (time.process_time() - cpu) * 1000 / args.requests
            wall_ms = (time.perf_counter() - wall) * 1000 / args.requests
            print(
                f"bare {row.key}: {cpu_ms:.2f} ms CPU, {wall_ms:.2f} ms wall, "
                f"{counter[0] / args.requests:.1f} statements per call"
            )
    print(f"load average: {open('/proc/loadavg').read().strip()}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    os.environ.update(
        {
            "DATABASE_URL": args.pg_url,
            "MEDIATION_DATA_DIR": args.data_dir,
            "RUN_BACKGROUND_TASKS": "0",
            "LOGIN_RATE_LIMIT": "1000000",
            "PUBLIC_RATE_LIMIT": "1000000",
        }
    )
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef")
    os.environ.setdefault("FIELD_KEY", "bench-field-key-not-for-production-0123456789abcdef")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
