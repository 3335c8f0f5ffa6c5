"""Photos handed in with a suggestion: checked by content, re-encoded, stored on disk.

Re-encoding drops every bit of metadata a phone writes into a photo (EXIF with GPS position,
device owner, time): a confidential proposer must not be identified by their picture's file.
It also turns whatever the upload contained into a plain JPEG of bounded size.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from mediation import files
from mediation.i18n import gettext as _
from mediation.uploads import sniff

MAX_PHOTOS = 3
MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_SIDE = 2048  # pixels; plenty to see a broken street lamp, small enough to store
ACCEPTED = {"image/jpeg", "image/png", "image/webp"}
FOLDER = files.SUGGESTION_PHOTOS
# Refuse decompression bombs long before Pillow's own (much higher) warning threshold.
MAX_PIXELS = 50_000_000


class PhotoError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Photo:
    content: bytes
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def prepare(filename: str, content: bytes) -> Photo:
    """One upload to a clean JPEG, or a PhotoError saying what is wrong with it."""
    name = Path(filename or "").name[:80] or _("the photo")
    if not content:
        raise PhotoError(_("The file %(name)s is empty.", name=name))
    if len(content) > MAX_PHOTO_BYTES:
        raise PhotoError(_("The photo %(name)s is larger than 8 MB.", name=name))
    kind = sniff(content)
    if kind is None or kind[0] not in ACCEPTED:
        raise PhotoError(_("The file %(name)s is not a photo (JPEG, PNG or WebP).", name=name))
    try:
        with Image.open(io.BytesIO(content)) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise PhotoError(_("The photo %(name)s has too many pixels.", name=name))
            image = ImageOps.exif_transpose(opened)  # keep it upright once EXIF is gone
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            if image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=85, optimize=True)
            return Photo(out.getvalue(), image.width, image.height)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        if isinstance(exc, PhotoError):
            raise
        raise PhotoError(_("The photo %(name)s could not be read.", name=name)) from exc


def prepare_all(uploads: list[tuple[str, bytes]]) -> list[Photo]:
    if len(uploads) > MAX_PHOTOS:
        raise PhotoError(_("At most %(n)s photos, please.", n=MAX_PHOTOS))
    return [prepare(name, content) for name, content in uploads]


async def store(data_dir: Path, photo: Photo) -> str:
    """Store the photo (``mediation.files``); returns the name to keep in ``stored_as``."""
    name = uuid.uuid4().hex + ".jpg"
    await files.save(data_dir, files.SUGGESTION_PHOTOS, name, photo.content)
    return name


async def read(data_dir: Path, stored_as: str) -> bytes | None:
    """A stored photo's content, or None."""
    return await files.read(data_dir, files.SUGGESTION_PHOTOS, stored_as)
