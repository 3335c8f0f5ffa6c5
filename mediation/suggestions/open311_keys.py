"""Open311 API keys: issued to a client, shown once, only their digest stored.

Issue a key: ``python -m mediation.suggestions.open311_keys create-key "NAME"`` (the older
``python -m mediation.suggestions.open311_controllers create-key`` does the same).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import secrets
import sys
from dataclasses import dataclass

from mediation.clock import utc_now
from mediation.db import with_database
from mediation.suggestions.tables import ApiKey

KEY_PREFIX = "o311_"
MAX_KEY_LENGTH = 200


def digest_key(key: str) -> str:
    """Keys are 256-bit random: a plain SHA-256 is enough, and lets us look a key up."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


async def create_api_key(name: str) -> str:
    """Issue a key for an Open311 client; it is shown once, only its digest is stored."""
    name = name.strip()
    if not name:
        raise ValueError("a key needs a name: who it is issued to")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    await ApiKey(name=name[:100], key_digest=digest_key(key), active=True).save()
    return key


async def revoke_api_keys(name: str) -> int:
    """Deactivate every key issued under ``name``; returns how many were active."""
    rows = (
        await ApiKey.update({ApiKey.active: False})
        .where(ApiKey.name == name.strip(), ApiKey.active.eq(True))
        .returning(ApiKey.id)
    )
    return len(rows)


@dataclass(frozen=True, slots=True)
class ApiClient:
    """The client an active key was issued to."""

    id: int
    name: str


async def check_api_key(key: str) -> ApiClient | None:
    """The active key's client (id, name), stamped as used; None for a wrong or revoked key."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    row = (
        await ApiKey.select(ApiKey.id, ApiKey.name)
        .where(ApiKey.key_digest == digest_key(key), ApiKey.active.eq(True))
        .first()
    )
    if row is None:
        return None
    await ApiKey.update({ApiKey.last_used_at: utc_now()}).where(ApiKey.id == row["id"])
    return ApiClient(**row)


# ---------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mediation.suggestions.open311_keys",
        description="API keys of the Open311 interface.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("create-key", help="issue a key (printed once, only its digest is kept)")
    p.add_argument("name", help="who the key is issued to, e.g. the client's organisation")
    p = sub.add_parser("revoke-key", help="deactivate every key issued under NAME")
    p.add_argument("name")
    args = parser.parse_args(argv)
    if args.command == "create-key":
        key = asyncio.run(with_database(create_api_key, args.name))
        print(key)
        print(
            f"API key for {args.name!r}: keep it safe, it cannot be shown again.", file=sys.stderr
        )
        return 0
    count = asyncio.run(with_database(revoke_api_keys, args.name))
    print(f"Revoked {count} key(s) of {args.name!r}.")
    return 0 if count else 1


if __name__ == "__main__":
    sys.exit(main())
