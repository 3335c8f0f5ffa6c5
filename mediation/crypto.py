"""Field encryption for personal data at rest (Fernet) and keyed digests for matching."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken

from mediation.settings import get_settings


@cache
def _fernet(field_key: str) -> Fernet:
    key = hashlib.sha256(("fernet:" + field_key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(value: str, field_key: str | None = None) -> str:
    if not value:
        return ""
    return _fernet(field_key or get_settings().field_key).encrypt(value.encode()).decode()


def decrypt(token: str, field_key: str | None = None) -> str:
    if not token:
        return ""
    try:
        return _fernet(field_key or get_settings().field_key).decrypt(token.encode()).decode()
    except InvalidToken:
        # A key mismatch must not crash a page; the caller shows that it could not be read.
        return ""


def digest(value: str, field_key: str | None = None) -> str:
    """Same input, same digest: finds the same ID number on other cases without decrypting."""
    if not value:
        return ""
    key = hashlib.sha256(("digest:" + (field_key or get_settings().field_key)).encode()).digest()
    return hmac.new(key, value.upper().encode(), hashlib.sha256).hexdigest()
