"""Attachments: photos and scans, accepted by their content (not their name) and size."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from mediation import files

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 6
# Magic numbers of the types a grid worker's tablet produces.
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"%PDF-", "application/pdf", ".pdf"),
)


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    extension: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def sniff(content: bytes) -> tuple[str, str] | None:
    for magic, content_type, extension in SIGNATURES:
        if content.startswith(magic):
            return content_type, extension
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp", ".webp"
    if content[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "image/heic", ".heic"
    return None


async def store(data_dir: Path, checked: CheckedFile) -> str:
    """Store the file (``mediation.files``); returns the name to keep in ``stored_as``."""
    name = uuid.uuid4().hex + checked.extension
    await files.save(data_dir, files.ATTACHMENTS, name, checked.content)
    return name
