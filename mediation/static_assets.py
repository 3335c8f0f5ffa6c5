"""Static files for slow networks: versioned URLs kept for a year, ETag revalidation.

Templates link ``static_url("app.css")`` → ``/static/app.css?v=<content hash>``. A URL with
the current version is immutable, so browsers keep it for a year and never ask again; a new
deploy changes the hash and therefore the URL. A request without the version (an old page,
a bookmark) is answered with an ``ETag`` and revalidated: ``If-None-Match`` gets a 304 with no
body. Responses are compressed by the app's gzip middleware like every page.
"""

from __future__ import annotations

import hashlib
import mimetypes
import time
from dataclasses import dataclass
from pathlib import Path

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

STATIC_DIR = Path(__file__).parent / "static"
YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class Asset:
    body: bytes
    version: str
    media_type: str
    mtime_ns: int


_assets: dict[str, Asset] = {}


def _asset(name: str) -> Asset:
    """The file under ``static/`` (read once, re-read when it changes on disk), or 404."""
    path = (STATIC_DIR / name).resolve()
    if not path.is_relative_to(STATIC_DIR.resolve()) or not path.is_file():
        raise NotFoundException()
    mtime_ns = path.stat().st_mtime_ns
    cached = _assets.get(name)
    if cached is None or cached.mtime_ns != mtime_ns:
        body = path.read_bytes()
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if media_type.startswith("text/") or media_type.endswith("javascript"):
            media_type += "; charset=utf-8"
        version = hashlib.sha256(body).hexdigest()[:12]
        cached = _assets[name] = Asset(body, version, media_type, mtime_ns)
    return cached


# Versioned URLs by file name, with when they were worked out: every page links four files,
# and checking each on disk (resolving the path, two stats) was a tenth of a small page's time.
# A file changed on disk gets its new URL within URL_CHECK_SECONDS.
URL_CHECK_SECONDS = 2.0
_urls: dict[str, tuple[float, str]] = {}


def static_url(name: str) -> str:
    """The versioned URL of a static file, for templates."""
    now = time.monotonic()
    known = _urls.get(name)
    if known is not None and now - known[0] < URL_CHECK_SECONDS:
        return known[1]
    url = f"/static/{name}?v={_asset(name).version}"
    _urls[name] = (now, url)
    return url


@get("/static/{name:path}", opt={"public": True}, include_in_schema=False, sync_to_thread=False)
def static_file(request: Request, name: FromPath[str]) -> Response:
    asset = _asset(name.lstrip("/"))
    etag = f'"{asset.version}"'
    if request.query_params.get("v") == asset.version:
        cache_control = f"public, max-age={YEAR}, immutable"
    else:
        cache_control = "public, max-age=0, must-revalidate"
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(b"", status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)
