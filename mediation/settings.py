"""Settings read once from environment variables, with safe defaults for a laptop."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def secure_dir(path: Path) -> Path:
    """Create ``path`` (and parents) for the app's own data: readable by its owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        path.chmod(0o700)
    except PermissionError:  # a directory someone else owns: leave it as the operator set it
        pass
    return path


def write_private_file(path: Path, content: bytes | str) -> None:
    """Write a file readable by its owner only, created so from the start (no window in which
    another user could open it), replacing any earlier one atomically."""
    data = content.encode() if isinstance(content, str) else content
    secure_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _secret_from_file(data_dir: Path, name: str) -> str:
    """A random secret kept in the data directory, so restarts keep sessions and keys.

    Production sets the secret in the environment instead; this is the zero-set-up path.
    """
    path = data_dir / name
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    write_private_file(path, value)
    return value


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    field_key: str
    redis_url: str = ""
    debug: bool = False
    secure_cookies: bool = False
    # A session ends after session_idle seconds without a request from the user (each request
    # extends it) and in any case session_max_age seconds after sign-in.
    session_max_age: int = 12 * 3600
    session_idle: int = 2 * 3600
    login_rate_limit: int = 10  # attempts per minute per client address
    public_rate_limit: int = 20  # public form submissions per minute per client address
    county_code: str = "平湖"
    # The address citizens and parties reach the app at: printed in QR codes and links
    # (verification, tracking, tablet binding). Never taken from a request's Host header.
    public_base_url: str = "http://127.0.0.1:8000"
    db_pool_size: int = 10
    run_background_tasks: bool = True
    backup_dir: Path | None = None  # nightly backups go here when set
    backup_keep: int = 14  # nightly backups kept in backup_dir
    # The county's zone: every calendar date shown, printed or used in a deadline is a date
    # there (mediation.clock reads the same variable).
    time_zone: str = "Asia/Shanghai"
    extra: dict = field(default_factory=dict)

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))


def settings_from_env(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    data_dir = secure_dir(Path(env.get("MEDIATION_DATA_DIR") or PROJECT_ROOT / "data").resolve())
    database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'mediation.sqlite3'}"
    secret_key = env.get("SECRET_KEY") or _secret_from_file(data_dir, "secret_key")
    field_key = env.get("FIELD_KEY") or _secret_from_file(data_dir, "field_key")
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secret_key,
        field_key=field_key,
        redis_url=env.get("REDIS_URL", ""),
        debug=_bool(env.get("DEBUG"), False),
        secure_cookies=_bool(env.get("SECURE_COOKIES"), False),
        session_max_age=int(env.get("SESSION_MAX_AGE") or 12 * 3600),
        session_idle=int(env.get("SESSION_IDLE") or 2 * 3600),
        login_rate_limit=int(env.get("LOGIN_RATE_LIMIT") or 10),
        public_rate_limit=int(env.get("PUBLIC_RATE_LIMIT") or 20),
        county_code=env.get("COUNTY_CODE") or "平湖",
        public_base_url=(env.get("PUBLIC_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
        db_pool_size=int(env.get("DB_POOL_SIZE") or 10),
        run_background_tasks=_bool(env.get("RUN_BACKGROUND_TASKS"), True),
        backup_dir=Path(env["BACKUP_DIR"]).resolve() if env.get("BACKUP_DIR") else None,
        backup_keep=int(env.get("BACKUP_KEEP") or 14),
        time_zone=_time_zone(env.get("TIME_ZONE")),
    )


def _time_zone(value: str | None) -> str:
    """The configured zone name, refused at start-up if the zone database does not know it."""
    name = (value or "").strip() or "Asia/Shanghai"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"TIME_ZONE={name!r} is not a known time zone") from exc
    return name


@cache
def get_settings() -> Settings:
    return settings_from_env()
