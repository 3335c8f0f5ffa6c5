"""Masking of personal data for display: ID numbers and phone numbers are never shown whole."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """Keep the first 3 and last 2 characters: 330482********123X → 330*************3X."""
    if not value:
        return ""
    if len(value) <= 5:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 5) + value[-2:]


def mask_phone(value: str | None) -> str:
    """Mobiles keep 3 + 4 digits (138****5678); other numbers keep their last 4."""
    if not value:
        return ""
    digits = value.strip()
    if len(digits) == 11 and digits.isdigit():
        return digits[:3] + "****" + digits[-4:]
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]
