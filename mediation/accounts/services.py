"""Accounts: password hashing, sign-in, and the signed-in user as plain values."""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from mediation.grid.tables import AuditEvent, Staff


def _make_hasher() -> PasswordHasher:
    """argon2id with the library's defaults (RFC 9106, low memory: 64 MiB, 3 passes).

    The test suite sets ``MEDIATION_TEST_CHEAP_HASHES=1`` for argon2's cheapest parameters:
    thousands of sign-ins at about 0.1 s each would dominate its run time. Never set it
    elsewhere; a stored hash carries its own parameters, so verification works either way.
    """
    if os.environ.get("MEDIATION_TEST_CHEAP_HASHES") == "1":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher()


_hasher = _make_hasher()
# Verifying against this keeps the timing of "no such user" close to "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class CurrentUser:
    """Who is signed in: roles and the region subtree they may see."""

    id: int
    username: str
    display_name: str
    roles: frozenset[str]
    region_id: int | None = None
    region_path: str = ""
    region_name: str = ""
    department_id: int | None = None
    locale: str = ""
    # Changes when the password, roles, region or department change: a session signed in
    # before that no longer counts (see ``retrieve_user`` in the app factory).
    session_stamp: str = field(default="", compare=False)
    extra: dict = field(default_factory=dict, compare=False)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def can_see_path(self, path: str | None) -> bool:
        """A record is visible when its region path lies in the user's subtree."""
        if not self.region_path:
            return True
        return path is not None and path.startswith(self.region_path)


_USER_COLUMNS = (
    Staff.id,
    Staff.username,
    Staff.display_name,
    Staff.roles,
    Staff.region,
    Staff.region.path,
    Staff.region.name,
    Staff.department,
    Staff.locale,
    Staff.password_hash,
)


def _stamp(row: dict) -> str:
    material = "|".join(
        (
            row["password_hash"] or "",
            ",".join(sorted(row["roles"] or ())),
            str(row["region"]),
            str(row["department"]),
        )
    )
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def _to_user(row: dict) -> CurrentUser:
    return CurrentUser(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        roles=frozenset(row["roles"] or ()),
        region_id=row["region"],
        region_path=row["region.path"] or "",
        region_name=row["region.name"] or "",
        department_id=row["department"],
        locale=row["locale"] or "",
        session_stamp=_stamp(row),
    )


# Every request needs the signed-in user; a few seconds of caching saves a query per page.
# Deactivating an account or changing roles takes effect within USER_CACHE_SECONDS.
USER_CACHE_SECONDS = 10.0
_user_cache: dict[int, tuple[float, CurrentUser | None]] = {}


async def load_user(staff_id: int) -> CurrentUser | None:
    now = time.monotonic()
    cached = _user_cache.get(staff_id)
    if cached and now - cached[0] < USER_CACHE_SECONDS:
        return cached[1]
    row = (
        await Staff.select(*_USER_COLUMNS)
        .where(Staff.id == staff_id, Staff.active.eq(True))
        .first()
    )
    user = _to_user(row) if row else None
    if len(_user_cache) > 10_000:
        _user_cache.clear()
    _user_cache[staff_id] = (now, user)
    return user


def forget_user(staff_id: int | None = None) -> None:
    """Drop cached sign-in data (after an admin changes an account)."""
    if staff_id is None:
        _user_cache.clear()
    else:
        _user_cache.pop(staff_id, None)


class AccountDisabled(Exception):
    """The password was right but the account is disabled: only then is that said (someone
    guessing passwords learns nothing from it)."""


async def authenticate(username: str, password: str) -> CurrentUser | None:
    """The user if the credentials are right and the account is active; every attempt is logged.

    Raises ``AccountDisabled`` when the credentials are right but the account is disabled.
    """
    username = username.strip()
    row = await Staff.select(*_USER_COLUMNS, Staff.active).where(Staff.username == username).first()
    right = verify_password(row["password_hash"] if row else _DUMMY_HASH, password) and bool(row)
    ok = right and bool(row and row["active"])
    await AuditEvent.insert(
        AuditEvent(
            actor=row["id"] if (row and ok) else None,
            action="login" if ok else ("login_disabled" if right else "login_failed"),
            entity="staff",
            entity_id=str(row["id"]) if row else "",
            detail=username[:64],
        )
    )
    if right and not ok:
        raise AccountDisabled(username)
    if not ok or row is None:
        return None
    return _to_user(row)


async def set_preferred_locale(staff_id: int, locale: str) -> None:
    await Staff.update({Staff.locale: locale}).where(Staff.id == staff_id)
    forget_user(staff_id)
