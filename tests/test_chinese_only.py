"""Nothing English on a Chinese page or document: every role's main pages, and each printed
document read back with pdftotext, hold no English word and no ISO date.

Words people typed (a party called "john smith" by another test) are theirs, not the app's:
Latin words found in stored data are set aside, so the check is about what the app writes.
"""

from __future__ import annotations

import html
import re
import subprocess
from html.parser import HTMLParser

import pytest
from litestar.testing import AsyncTestClient
from piccolo.columns import Text, Varchar
from piccolo.conf.apps import Finder

from mediation.cases.tables import (
    Agreement,
    Case,
    FollowUp,
    MediationSession,
    Notification,
    Party,
)
from tests.helpers import login

pytestmark = pytest.mark.anyio

ROLES = ("admin", "grid1", "police1", "mediator1", "centre1", "handler1")
PAGES_PER_ROLE = 30
TOWN = "/330482/330482001/"  # 当湖街道: centre1's town

# Names of formats, products and settings, and the language switcher's own name.
ALLOWED = {
    "English",
    "PDF",
    "XLSX",
    "CSV",
    "ID",
    "QR",
    "SMS",
    "URL",
    "KB",
    "MB",
    "JPEG",
    "PNG",
    "WebP",
    "HEIC",
    "Excel",
    "README",
    "BACKUP_DIR",
    "FIELD_KEY",
    "SECRET_KEY",
}
_URL = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+\.[\w.]+")
_TOKEN = re.compile(r"[A-Za-z0-9_./:-]+")
_ISO_DATE = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")
_SKIP_LINKS = (".pdf", ".xlsx", ".csv", "/logout", "/static/", "export", "lang=", "download")


# Not prose: scripts, styles, what people typed (a text area) and code (file formats, JSON).
HIDDEN = ("script", "style", "template", "textarea", "code", "pre")


class _Visible(HTMLParser):
    """Text a reader sees: text nodes outside script/style, and placeholder/title/alt/label."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hidden = 0
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag in HIDDEN:
            self.hidden += 1
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        if "code" in (values.get("class") or "").split():
            return  # a file format's example (CSV columns, JSON), not a sentence
        for name in ("placeholder", "title", "alt", "aria-label"):
            if values.get(name):
                self.parts.append(values[name])
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if tag in HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible(page: str) -> tuple[str, list[str]]:
    parser = _Visible()
    parser.feed(page)
    return html.unescape(" ".join(parser.parts)), parser.links


def english_in(text: str, theirs: frozenset[str] = frozenset()) -> list[str]:
    """English words and ISO dates in a Chinese text; codes, numbers and abbreviations pass."""
    text = _URL.sub(" ", text)
    found = [d for d in _ISO_DATE.findall(text) if d not in theirs]
    for token in _TOKEN.findall(text):
        if token in ALLOWED or token in theirs or any(c.isdigit() for c in token):
            continue  # a case number, verification code, amount or unit
        for word in re.findall(r"[A-Za-z]+", token):
            if word in ALLOWED or word in theirs or len(word) < 2:
                continue
            if word.isupper() and len(word) <= 5:
                continue  # an abbreviation or a code (verification codes are upper case)
            found.append(word)
    return found


def test_the_check_finds_english_and_iso_dates_and_passes_codes():
    text = (
        "保存 Save；剩余 2 days left；PDF 核验码 HKY2-D6CH、ABCD-EFGH；2026-11-30；平湖-2026-0001"
    )
    assert english_in(text) == ["2026-11-30", "Save", "days", "left"]
    assert english_in("http://127.0.0.1:8000/verify/AB2C-DE3F English", frozenset()) == []
    assert english_in("当事人 john smith", frozenset({"john", "smith"})) == []


async def _words_people_typed() -> frozenset[str]:
    """Latin words and ISO dates in stored text (except what the app itself writes)."""
    words: set[str] = set()
    for table in Finder().get_table_classes():
        if table in (Notification,) or table._meta.tablename.startswith("migration"):
            continue
        columns = [
            c for c in table._meta.columns if isinstance(c, (Varchar, Text)) and not c._meta.secret
        ]
        for column in columns:
            rows = await table.select(column).distinct()
            for row in rows:
                value = row[column._meta.name]
                if value and re.search(r"[A-Za-z]|\d{4}-\d{2}-\d{2}", value):
                    words.update(_TOKEN.findall(value))
                    words.update(re.findall(r"[A-Za-z]+", value))
                    words.update(_ISO_DATE.findall(value))
    return frozenset(words)


async def _documents() -> list[str]:
    """One of each printed document of the town's cases: centre1 may print them all."""
    in_town = Case.region_path.like(f"{TOWN}%")
    agreement = (
        await Agreement.select(Agreement.id, Agreement.case)
        .where(Agreement.status == "effective", Agreement.kind == "written")
        .where(Agreement.case.region_path.like(f"{TOWN}%"))
        .first()
    )
    session = (
        await MediationSession.select(MediationSession.id, MediationSession.case)
        .where(MediationSession.status == "closed")
        .where(MediationSession.case.region_path.like(f"{TOWN}%"))
        .first()
    )
    follow_up = (
        await FollowUp.select(FollowUp.id, FollowUp.case)
        .where(FollowUp.case.region_path.like(f"{TOWN}%"))
        .first()
    )
    terminated = await Case.select(Case.id).where(in_town, Case.status == "terminated").first()
    assert agreement and session and follow_up and terminated, "the demo town has every document"
    return [
        f"/cases/{agreement['case']}/agreements/{agreement['id']}/agreement.pdf",
        f"/cases/{session['case']}/sessions/{session['id']}/record.pdf",
        f"/cases/{follow_up['case']}/follow-ups/{follow_up['id']}/record.pdf",
        f"/cases/{terminated['id']}/termination.pdf",
        f"/cases/{agreement['case']}/file.pdf",
        f"/cases/{terminated['id']}/file.pdf",
    ]


async def _forms_of_a_case() -> list[str]:
    """The pages a mediator works in: case, parties, agreement, session, new session."""
    agreement = (
        await Agreement.select(Agreement.id, Agreement.case)
        .where(Agreement.case.region_path.like(f"{TOWN}%"))
        .first()
    )
    case_id = agreement["case"]
    party = await Party.select(Party.id).where(Party.case == case_id).first()
    session = (
        await MediationSession.select(MediationSession.id)
        .where(MediationSession.case == case_id)
        .first()
    )
    pages = [
        f"/cases/{case_id}",
        f"/cases/{case_id}/parties/{party['id']}/",
        f"/cases/{case_id}/agreements/{agreement['id']}",
        f"/cases/{case_id}/sessions/new",
    ]
    if session:
        pages.append(f"/cases/{case_id}/sessions/{session['id']}")
    return pages


async def _crawl(client, start: list[str], theirs: frozenset[str]) -> dict[str, list[str]]:
    """Pages reachable from the start pages (one page per URL shape), and English on each."""
    leaks: dict[str, list[str]] = {}
    queue, seen, shapes = list(start), set(), set()
    while queue and len(seen) < PAGES_PER_ROLE + len(start):
        url = queue.pop(0)
        shape = re.sub(r"\d+", "N", url.split("?")[0])
        if url in seen or (shape in shapes and url not in start):
            continue
        seen.add(url)
        shapes.add(shape)
        response = await client.get(url)
        if response.status_code != 200 or "text/html" not in response.headers["content-type"]:
            continue
        text, links = visible(response.text)
        if words := english_in(text, theirs):
            leaks[url] = words
        for link in links:
            link = link.split("#")[0]
            if link.startswith("/") and not link.startswith("//"):
                if not any(skip in link for skip in _SKIP_LINKS):
                    queue.append(link)
    assert len(seen) > 5, f"the crawl reached only {sorted(seen)}"
    return leaks


async def test_no_english_on_any_role_s_chinese_pages(app):
    theirs = await _words_people_typed()
    forms = await _forms_of_a_case()
    leaks: dict[str, dict[str, list[str]]] = {}
    for username in ROLES:
        async with AsyncTestClient(app) as client:
            await login(client, username)
            start = ["/", *(forms if username in ("centre1", "mediator1") else [])]
            if found := await _crawl(client, start, theirs):
                leaks[username] = found
    assert leaks == {}, "\n".join(
        f"{u} {url}: {w}" for u, f in leaks.items() for url, w in f.items()
    )


async def test_no_english_in_printed_documents(app):
    theirs = await _words_people_typed()
    leaks = {}
    async with AsyncTestClient(app) as client:
        await login(client, "centre1")
        for url in await _documents():
            response = await client.get(url)
            assert response.status_code == 200, url
            text = subprocess.run(
                ["pdftotext", "-layout", "-", "-"],
                input=response.content,
                capture_output=True,
                check=True,
            ).stdout.decode()
            assert len(re.findall(r"[\u4e00-\u9fff]", text)) > 100, f"{url} has no Chinese text"
            if words := english_in(text, theirs):
                leaks[url] = words
    assert leaks == {}, "\n".join(f"{url}: {words}" for url, words in leaks.items())
