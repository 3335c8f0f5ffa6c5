"""Codes and secrets given to the public: a party's case code, a suggestion's receipt code.

A code like "JF-2026-7K3Q9M" is read aloud over the phone and typed from paper, so its letters
avoid 0/O and 1/I and parsing forgives case, width and spacing. About a billion codes a year
per prefix, none guessable. The secret beside it is six digits.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, field

from mediation.clock import local_today

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 6
SECRET_DIGITS = 6


def random_text(length: int) -> str:
    """``length`` characters of the alphabet, from the system's secure random source."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class CodeFormat:
    """One kind of code: its prefix, then the year, then six letters or digits."""

    prefix: str
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = re.compile(rf"^{self.prefix}(\d{{4}})([{CODE_ALPHABET}]{{{CODE_LENGTH}}})$")
        object.__setattr__(self, "_pattern", pattern)

    def new(self, year: int | None = None) -> str:
        year = year or local_today().year
        return f"{self.prefix}-{year:04d}-{random_text(CODE_LENGTH)}"

    def parse(self, text: str | None) -> str | None:
        """The canonical code from what someone typed (any case, width, spacing), else None."""
        compact = re.sub(r"[\s\-_—–]", "", unicodedata.normalize("NFKC", text or "")).upper()
        match = self._pattern.match(compact)
        if not match:
            return None
        return f"{self.prefix}-{match.group(1)}-{match.group(2)}"


def new_secret() -> str:
    """The six-digit secret printed beside a code."""
    return f"{secrets.randbelow(10**SECRET_DIGITS):0{SECRET_DIGITS}d}"
