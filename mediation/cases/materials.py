"""证据材料: photos and PDFs the parties bring, kept on the case, opened with a trace, filed.

A photo is re-encoded by the suggestion-photo code (EXIF with the GPS position and the device
owner is dropped) and gets a small preview; a PDF is kept as sent and its pages counted, so the
case file can list it and append it. Whoever opens a material in full or downloads it is
recorded on the case's timeline, like a reveal of an ID number; previews are recorded once a
day per person and case, so the timeline is not flooded by thumbnails. A material is never
deleted: it is withdrawn, with a reason, and stays in the case file marked as such.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast

from piccolo.columns import Column
from PIL import Image
from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.errors import PdfReadError

from mediation import clock, files, uploads
from mediation.accounts.services import CurrentUser
from mediation.cases.services import CaseError, CaseRecord, case_for, record_event
from mediation.cases.tables import Attachment, CaseEvent, MediationSession, Party
from mediation.db import PreparedSelect
from mediation.i18n import LazyText, get_locale
from mediation.i18n import gettext as _
from mediation.i18n import lazy_gettext as _l
from mediation.suggestions import photos

logger = logging.getLogger(__name__)

KINDS = {
    "photo": _l("Photo"),
    "contract": _l("Contract"),
    "receipt": _l("Receipt"),
    "statement": _l("Written statement"),
    "power_of_attorney": _l("Power of attorney"),
    "other": _l("Other"),
}
MAX_FILES = uploads.MAX_FILES
MAX_PDF_BYTES = uploads.MAX_BYTES
THUMBNAIL_SIDE = 320
FOLDER = files.ATTACHMENTS
PDF = "application/pdf"


class MaterialError(CaseError):
    """An upload or a request about a material that cannot be accepted."""


@dataclass(frozen=True)
class Prepared:
    """An upload checked by its content and cleaned: what will be stored."""

    filename: str
    content_type: str
    extension: str
    content: bytes
    pages: int
    thumbnail: bytes = b""

    @property
    def sha256(self) -> str:
        return uploads.CheckedFile(
            self.filename, self.content_type, self.extension, self.content
        ).sha256


def _thumbnail(jpeg: bytes) -> bytes:
    with Image.open(io.BytesIO(jpeg)) as image:
        image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=75)
        return out.getvalue()


def _pdf_pages(filename: str, content: bytes) -> int:
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted and not reader.decrypt(""):
            raise MaterialError(
                _("The PDF %(name)s is protected by a password.", name=filename), "files"
            )
        return len(reader.pages)
    except MaterialError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise MaterialError(
            _("The PDF %(name)s could not be read.", name=filename), "files"
        ) from exc


def prepare_upload(filename: str, content: bytes) -> Prepared:
    """One upload checked by its content: a photo re-encoded without metadata, or a PDF."""
    name = Path(filename or "").name[:200] or "file"
    kind = uploads.sniff(content) if content else None
    if kind is not None and kind[0] == PDF:
        if len(content) > MAX_PDF_BYTES:
            raise MaterialError(_("The file %(name)s is larger than 10 MB.", name=name), "files")
        return Prepared(name, PDF, ".pdf", content, _pdf_pages(name, content))
    if content and kind is None:
        raise MaterialError(
            _("The file %(name)s is not a photo (JPEG, PNG or WebP) or a PDF.", name=name),
            "files",
        )
    try:
        photo = photos.prepare(name, content)
    except photos.PhotoError as exc:
        raise MaterialError(exc.message, "files") from exc
    return Prepared(name, "image/jpeg", ".jpg", photo.content, 1, _thumbnail(photo.content))


async def read_stored(data_dir: Path, stored_as: str) -> bytes | None:
    """A stored attachment's (or thumbnail's) content, or None (``mediation.files``)."""
    return await files.read(data_dir, files.ATTACHMENTS, stored_as)


async def entitled_case(user: CurrentUser, case_id: int) -> CaseRecord:
    """The case if this person is entitled to it, else a MaterialError as if it did not exist."""
    case = await case_for(user, case_id)
    if case is None:
        raise MaterialError(_("This case does not exist."))
    return case


def label_of(description: str, kind: str, number: int) -> str:
    return f"{number}. {description or KINDS.get(kind, kind)}"


async def save_material(
    user: CurrentUser,
    case_id: int,
    item: Prepared,
    data_dir: Path,
    kind: str = "",
    description: str = "",
    party_id: int | None = None,
    session_id: int | None = None,
) -> int:
    """Store a prepared upload on a case and put it on the timeline; the same file twice is
    kept once (a tablet retrying an upload, a double tap)."""
    kind = kind or ("photo" if item.content_type.startswith("image/") else "other")
    if kind not in KINDS:
        raise MaterialError(_("Choose from the list."), "kind")
    description = " ".join(description.split())[:200]
    if party_id is not None and not await Party.exists().where(
        Party.id == party_id, Party.case == case_id
    ):
        raise MaterialError(_("Choose from the list."), "party")
    session = None
    if session_id is not None:
        session = (
            await MediationSession.select(MediationSession.id, MediationSession.starts_at)
            .where(MediationSession.id == session_id, MediationSession.case == case_id)
            .first()
        )
        if session is None:
            raise MaterialError(_("This session does not exist."))
    existing = (
        await Attachment.select(Attachment.id)
        .where(
            Attachment.case == case_id,
            Attachment.sha256 == item.sha256,
            Attachment.withdrawn_at.is_null(),
        )
        .first()
    )
    if existing is not None:
        return existing["id"]
    checked = uploads.CheckedFile(item.filename, item.content_type, item.extension, item.content)
    stored = await uploads.store(data_dir, checked)
    thumbnail = ""
    if item.thumbnail:
        thumbnail = Path(stored).stem + "-thumb.jpg"
        await files.save(data_dir, files.ATTACHMENTS, thumbnail, item.thumbnail)
    row = Attachment(
        case=case_id,
        filename=item.filename,
        content_type=item.content_type,
        size=len(item.content),
        sha256=item.sha256,
        stored_as=stored,
        uploaded_by=user.id,
        kind=kind,
        description=description,
        party=party_id,
        session=session_id,
        pages=item.pages,
        thumbnail_as=thumbnail,
        metadata_removed=item.content_type != PDF,
    )
    await row.save()
    number = await Attachment.count().where(Attachment.case == case_id, Attachment.id <= row.id)
    changes: dict = {"material": [None, label_of(description, kind, number)]}
    if session is not None:
        # With its offset: the timeline reads it back as county time (a naive value is UTC).
        changes["session"] = [
            None,
            clock.to_local(session["starts_at"]).isoformat(timespec="minutes"),
        ]
    await record_event(case_id, user, "material_added", changes=changes)
    return row.id


async def add_materials(
    user: CurrentUser,
    case_id: int,
    prepared: list[Prepared],
    data_dir: Path,
    kind: str = "",
    description: str = "",
    party_id: int | None = None,
    session_id: int | None = None,
) -> None:
    """Add what someone chose on the case page: all of it, or, if a file is already among the
    case's materials (not withdrawn), none of it, with a message naming that file and its
    number. Saying "added" for a file that was not added would have the worker believe a second
    document is on file."""
    await entitled_case(user, case_id)
    on_file = {
        row.sha256: row.number
        for row in await materials_of_case(case_id)
        if row.withdrawn_at is None
    }
    already = [(item.filename, on_file[item.sha256]) for item in prepared if item.sha256 in on_file]
    if already:
        sentences = [
            _(
                "“%(file)s” is already in the case's materials (No. %(number)s).",
                file=filename,
                number=number,
            )
            for filename, number in already
        ]
        if len(already) < len(prepared):
            sentences.append(_("The other files were not added either: choose them again."))
        gap = "" if get_locale() == "zh_CN" else " "
        raise MaterialError(gap.join(sentences), "files")
    for item in prepared:
        await save_material(user, case_id, item, data_dir, kind, description, party_id, session_id)


# Built once (Piccolo copies a referenced table's columns each time one is named).
_MATERIAL_COLUMNS = (
    *Attachment.all_columns(),
    Attachment.uploaded_by.display_name,
    Attachment.withdrawn_by.display_name,
    Attachment.party.name,
    Attachment.party.role,
)


_MATERIALS_OF_CASE = PreparedSelect(
    lambda case_id: (
        Attachment.select(*_MATERIAL_COLUMNS)
        .where(Attachment.case == case_id)
        .order_by(Attachment.id)
    )
)


@dataclass(frozen=True, slots=True)
class MaterialRow:
    """One material of a case as its page, the file and the 卷宗 read it: the stored row,
    who brought and added it, and its number in the order received."""

    id: int
    case: int
    filename: str
    content_type: str
    size: int
    sha256: str
    stored_as: str
    uploaded_at: datetime
    kind: str
    description: str
    session: int | None
    pages: int
    thumbnail_as: str
    metadata_removed: bool
    withdrawn_at: datetime | None
    withdrawn_reason: str
    uploaded_by_name: str | None
    withdrawn_by_name: str | None
    party_name: str | None
    party_role: str | None
    number: int
    label: str
    is_image: bool
    is_pdf: bool
    received_on: date


def _material_row(row: dict[str, Any], number: int) -> MaterialRow:
    return MaterialRow(
        id=row["id"],
        case=row["case"],
        filename=row["filename"],
        content_type=row["content_type"],
        size=row["size"],
        sha256=row["sha256"],
        stored_as=row["stored_as"],
        uploaded_at=row["uploaded_at"],
        kind=row["kind"],
        description=row["description"],
        session=row["session"],
        pages=row["pages"],
        thumbnail_as=row["thumbnail_as"],
        metadata_removed=row["metadata_removed"],
        withdrawn_at=row["withdrawn_at"],
        withdrawn_reason=row["withdrawn_reason"],
        uploaded_by_name=row["uploaded_by.display_name"],
        withdrawn_by_name=row["withdrawn_by.display_name"],
        party_name=row["party.name"],
        party_role=row["party.role"],
        number=number,
        label=row["description"] or str(KINDS.get(row["kind"], row["kind"])),
        is_image=row["content_type"].startswith("image/"),
        is_pdf=row["content_type"] == PDF,
        received_on=clock.local_date(row["uploaded_at"]),
    )


async def materials_of_case(case_id: int) -> list[MaterialRow]:
    """Every material of a case, numbered in the order received (withdrawn ones included)."""
    rows = await _MATERIALS_OF_CASE(case_id)
    return [_material_row(row, number) for number, row in enumerate(rows, start=1)]


async def _material(case_id: int, material_id: int) -> MaterialRow:
    rows = await materials_of_case(case_id)
    for row in rows:
        if row.id == material_id:
            return row
    raise MaterialError(_("This material does not exist."))


async def _clean_legacy_photo(data_dir: Path, row: MaterialRow) -> MaterialRow:
    """Photos attached before materials existed were stored as sent, EXIF and all: re-encode
    them on first opening, so nobody is ever handed the original metadata."""
    if row.metadata_removed or row.content_type not in photos.ACCEPTED:
        return row
    original = await read_stored(data_dir, row.stored_as)
    if original is None:
        raise MaterialError(_("This material does not exist."))
    try:
        photo = await asyncio.to_thread(photos.prepare, row.filename, original)
    except (photos.PhotoError, OSError) as exc:
        raise MaterialError(_("This material does not exist.")) from exc
    checked = uploads.CheckedFile(row.filename, "image/jpeg", ".jpg", photo.content)
    stored = await uploads.store(data_dir, checked)
    thumbnail = Path(stored).stem + "-thumb.jpg"
    await files.save(
        data_dir, files.ATTACHMENTS, thumbnail, await asyncio.to_thread(_thumbnail, photo.content)
    )
    values: dict[Column, Any] = {
        Attachment.stored_as: stored,
        Attachment.thumbnail_as: thumbnail,
        Attachment.content_type: "image/jpeg",
        Attachment.size: len(photo.content),
        Attachment.sha256: checked.sha256,
        Attachment.metadata_removed: True,
    }
    # Piccolo asks for dict[Column | str, Any]; keyed by columns alone is as good (invariance).
    await Attachment.update(cast(dict[Column | str, Any], values)).where(Attachment.id == row.id)
    await files.delete(data_dir, files.ATTACHMENTS, row.stored_as)
    return replace(
        row,
        stored_as=stored,
        thumbnail_as=thumbnail,
        content_type="image/jpeg",
        size=len(photo.content),
        sha256=checked.sha256,
        metadata_removed=True,
        is_image=True,
        is_pdf=False,
    )


_preview_locks: dict[tuple[int, int], asyncio.Lock] = {}


async def _log_preview(user: CurrentUser, case_id: int) -> None:
    lock = _preview_locks.setdefault((user.id, case_id), asyncio.Lock())
    async with lock:
        day_start = datetime.combine(clock.local_today(), time(0), clock.county_zone())
        seen = await CaseEvent.exists().where(
            CaseEvent.case == case_id,
            CaseEvent.actor == user.id,
            CaseEvent.action == "materials_previewed",
            CaseEvent.at >= day_start,
            CaseEvent.at < day_start + timedelta(days=1),
        )
        if not seen:
            await record_event(case_id, user, "materials_previewed")
    if len(_preview_locks) > 10_000:
        _preview_locks.clear()


async def open_material(
    user: CurrentUser, case_id: int, material_id: int, how: str, data_dir: Path
) -> tuple[bytes, str, str]:
    """The file to send for a view, a download or a preview, after the access is recorded:
    (content, content type, file name)."""
    await entitled_case(user, case_id)
    row = await _clean_legacy_photo(data_dir, await _material(case_id, material_id))
    if how == "thumbnail":
        if not row.thumbnail_as:
            raise MaterialError(_("This material does not exist."))
        thumbnail = await read_stored(data_dir, row.thumbnail_as)
        if thumbnail is None:
            raise MaterialError(_("This material does not exist."))
        await _log_preview(user, case_id)
        return thumbnail, "image/jpeg", row.filename
    content = await read_stored(data_dir, row.stored_as)
    if content is None:
        raise MaterialError(_("This material does not exist."))
    await record_event(
        case_id,
        user,
        "material_downloaded" if how == "download" else "material_viewed",
        changes={"material": [None, label_of(row.description, row.kind, row.number)]},
    )
    filename = row.filename
    if row.content_type == "image/jpeg" and not filename.lower().endswith((".jpg", ".jpeg")):
        filename = Path(filename).stem + ".jpg"  # a PNG re-encoded as JPEG says so
    return content, row.content_type, filename


async def withdraw_material(user: CurrentUser, case_id: int, material_id: int, reason: str) -> None:
    """Mark a material withdrawn (a party takes it back, or it was attached by mistake): the
    file and the row stay, the case file lists it as withdrawn with the reason."""
    await entitled_case(user, case_id)
    row = await _material(case_id, material_id)
    reason = " ".join(reason.split())[:200]
    if not reason:
        raise MaterialError(_("Say why the material is withdrawn."), "reason")
    if row.withdrawn_at is not None:
        raise MaterialError(_("This material has already been withdrawn."), "reason")
    await Attachment.update(
        {
            Attachment.withdrawn_at: clock.utc_now(),
            Attachment.withdrawn_by: user.id,
            Attachment.withdrawn_reason: reason,
        }
    ).where(Attachment.id == material_id)
    await record_event(
        case_id,
        user,
        "material_withdrawn",
        changes={"material": [None, label_of(row.description, row.kind, row.number)]},
        note=reason,
    )


# ---------------------------------------------------------------- the case file (卷宗)


def _image_data_uri(content: bytes, row: MaterialRow) -> str:
    if not row.metadata_removed:
        content = photos.prepare(row.filename, content).content
    return "data:image/jpeg;base64," + base64.b64encode(content).decode("ascii")


@dataclass(frozen=True, slots=True)
class FiledMaterial:
    """A material as the case file lists it (证据材料目录), with what goes into the file: a
    photo as a data URI (print templates load nothing else), or a PDF's content to append."""

    id: int
    number: int  # in the order received, withdrawn ones included
    label: str
    kind_label: str | LazyText
    party_name: str | None  # who provided it; None: collected by the committee's staff
    is_pdf: bool
    pages: int
    size: int
    received_on: date
    withdrawn_at: datetime | None
    withdrawn_reason: str
    data_uri: str = ""
    appendix_pdf: bytes | None = None


def _file_rows(rows: list[MaterialRow], contents: dict[int, bytes]) -> list[FiledMaterial]:
    filed = []
    for row in rows:
        material = FiledMaterial(
            id=row.id,
            number=row.number,
            label=row.label,
            kind_label=KINDS.get(row.kind, row.kind),
            party_name=row.party_name,
            is_pdf=row.is_pdf,
            pages=row.pages,
            size=row.size,
            received_on=row.received_on,
            withdrawn_at=row.withdrawn_at,
            withdrawn_reason=row.withdrawn_reason,
        )
        content = contents.get(row.id)
        if row.withdrawn_at is None and content is not None:
            # A withdrawn material stays listed, marked withdrawn: no longer part of the evidence.
            if row.is_image:
                try:
                    material = replace(material, data_uri=_image_data_uri(content, row))
                except (photos.PhotoError, OSError):
                    pass
            elif row.is_pdf:
                material = replace(material, appendix_pdf=content)
        filed.append(material)
    return filed


async def case_file_materials(case_id: int, data_dir: Path) -> list[FiledMaterial]:
    """The materials for the case file: each with its photo or the content of its PDF."""
    rows = await materials_of_case(case_id)
    contents: dict[int, bytes] = {}
    for row in rows:
        if row.withdrawn_at is None and (row.is_image or row.is_pdf):
            content = await read_stored(data_dir, row.stored_as)
            if content is not None:
                contents[row.id] = content
    return await asyncio.to_thread(_file_rows, rows, contents)


# A4 in points, and the band kept clear for the case file's page footer.
A4 = (595.28, 841.89)
FOOTER_BAND = 62.0
TOP_BAND = 28.0


def _fit(target, original) -> None:
    """Draw ``original`` scaled into ``target`` above its footer, centred, text kept as text."""
    box = original.mediabox
    width, height = float(box.width), float(box.height)
    area_w, area_h = A4[0], A4[1] - FOOTER_BAND - TOP_BAND
    scale = min(area_w / width, area_h / height, 1.0)
    dx = (area_w - width * scale) / 2
    dy = FOOTER_BAND + (area_h - height * scale) / 2
    transformation = (
        Transformation()
        .translate(-float(box.left), -float(box.bottom))
        .scale(scale, scale)
        .translate(dx, dy)
    )
    target.merge_transformed_page(original, transformation)


def append_pdf_appendices(case_file: bytes, appendices: list[tuple[int, bytes | Path]]) -> bytes:
    """Draw each PDF material's pages onto the blank appendix pages the case file keeps for
    them (element ids ``appendix-pdf-<id>-<n>``, named destinations in WeasyPrint's PDF).

    The pages are WeasyPrint's own, so their footer numbers count the appended pages too; the
    originals are scaled into the space above the footer, their text still text.
    """
    if not appendices:
        return case_file
    reader = PdfReader(io.BytesIO(case_file))
    writer = PdfWriter(clone_from=reader)
    destinations = reader.named_destinations
    for material_id, source in appendices:
        try:
            original = PdfReader(io.BytesIO(source) if isinstance(source, bytes) else source)
            if original.is_encrypted:
                original.decrypt("")
            for n, page in enumerate(original.pages, start=1):
                anchor = destinations.get(f"appendix-pdf-{material_id}-{n}")
                if anchor is None:
                    break
                number = reader.get_destination_page_number(anchor)
                if number is None:  # an anchor on no page: as a broken file, left out
                    raise ValueError(f"appendix-pdf-{material_id}-{n} is on no page")
                _fit(writer.pages[number], page)
        except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError):
            logger.warning("material %s could not be drawn into the case file", material_id)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def case_file_context(
    user: CurrentUser, case_id: int, data_dir: Path
) -> tuple[FiledMaterial, ...]:
    """The case file's materials part (the ``materials`` of ``followups.CaseFilePrint``);
    printing the materials is an access to them, so it is recorded like opening one."""
    await entitled_case(user, case_id)
    rows = await case_file_materials(case_id, data_dir)
    filed = [r for r in rows if r.data_uri or r.appendix_pdf]
    if filed:
        await record_event(
            case_id,
            user,
            "materials_printed",
            changes={"material": [None, "、".join(str(r.number) for r in filed)]},
        )
    return tuple(rows)
