"""Command line: migrate, backup, restore, create-admin, demo, import-csv, sweep, serve."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path

from mediation.db import with_database


def _run(coro):
    return asyncio.run(coro)


def cmd_migrate(args: argparse.Namespace) -> int:
    from mediation import db
    from mediation.backup import BackupError, backup_before_migrating
    from mediation.settings import get_settings

    settings = get_settings()

    async def go():
        if not args.no_backup:
            to = Path(args.backup_to) if args.backup_to else None
            print(await backup_before_migrating(settings, to), flush=True)
        await db.migrate()

    try:
        _run(with_database(go))
    except BackupError as exc:
        print(f"Not migrated: the backup before migrating failed: {exc}", file=sys.stderr)
        return 1
    print("Database is at the current schema.")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from mediation.backup import BackupError, backup_and_record, key_location, read_manifest
    from mediation.settings import get_settings

    settings = get_settings()
    to = Path(args.to) if args.to else settings.backup_dir or settings.data_dir / "backups"
    try:
        path = _run(backup_and_record(settings, to, with_keys=args.with_keys, keep=args.keep))
    except BackupError as exc:
        print(f"Backup failed: {exc}", file=sys.stderr)
        return 1
    manifest = read_manifest(path)
    rows = sum(manifest.row_counts.values())
    print(f"Backup written to {path}")
    print(f"  {len(manifest.row_counts)} tables, {rows} rows, {len(manifest.files)} files")
    if args.with_keys:
        print(
            "  It CONTAINS the keys (keys/field_key, keys/secret_key): whoever holds this "
            "backup can read every ID number. Store it as carefully as the keys themselves."
        )
    else:
        print("  The keys are NOT in it. Keep them separately, somewhere other than the backup:")
        print(f"    FIELD_KEY: {key_location(settings, 'field_key')}")
        print(f"    SECRET_KEY: {key_location(settings, 'secret_key')}")
        print("  Without FIELD_KEY the ID numbers in the backup cannot be read by anyone.")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from mediation.backup import BackupError, restore_backup
    from mediation.settings import get_settings

    settings = get_settings()
    try:
        report = _run(with_database(restore_backup, settings, Path(args.backup)))
    except BackupError as exc:
        print(f"Restore failed: {exc}", file=sys.stderr)
        return 1
    for note in report.notes:
        print(note)
    print(f"Restored {report.backup}")
    print(f"  {report.tables} tables, {report.rows} rows: counts match the manifest")
    print(f"  {report.checksums} files of the backup match the manifest's SHA-256")
    print(f"  {report.files} attachments and photos on disk match their rows' SHA-256")
    if report.migrated:
        print(f"  migrated forward: {', '.join(report.migrated)}")
    print(f"  {report.agreements_checked} issued agreements: content hashes match")
    print(f"  {report.fields_decrypted} encrypted fields decrypted with the configured FIELD_KEY")
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    from mediation.demo import create_admin

    password = args.password or getpass.getpass("Password (at least 10 characters): ")
    if len(password) < 10:
        print("The password needs at least 10 characters.", file=sys.stderr)
        return 2
    _run(with_database(create_admin, args.username, password))
    print(f"Administrator {args.username!r} is ready.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from mediation import db
    from mediation.demo import load_demo

    async def go():
        await db.migrate()
        return await load_demo(reset=args.reset)

    summary = _run(with_database(go))
    print(summary)
    return 0


def cmd_import_csv(args: argparse.Namespace) -> int:
    from mediation.grid.csv_import import import_csv

    content = Path(args.file).read_bytes()
    report = _run(with_database(import_csv, args.kind, content, None))
    if report.ok:
        print(f"Imported {report.created} rows.")
        return 0
    print("Nothing was imported:", file=sys.stderr)
    for error in report.errors:
        print(f"  line {error.line}, {error.column}: {error.message}", file=sys.stderr)
    return 1


def cmd_sweep(_: argparse.Namespace) -> int:
    from mediation.tasks import run_sweep

    summary = _run(with_database(run_sweep))
    print(summary or "Another sweep is running; nothing done.")
    return 0


def _field_key_matches() -> bool:
    from mediation.keys import FieldKeyMismatch, verify_field_key
    from mediation.settings import get_settings

    try:
        _run(with_database(verify_field_key, get_settings().field_key))
    except FieldKeyMismatch as exc:
        print(f"Not starting: {exc}", file=sys.stderr)
        return False
    return True


def cmd_rotate_key(args: argparse.Namespace) -> int:
    """Re-encrypt the personal data under a new key (the current key must be in place)."""
    import os

    from mediation.keys import FieldKeyMismatch, new_key, rotate_field_key, write_key_file
    from mediation.settings import get_settings

    settings = get_settings()
    new = args.new_key or new_key()
    try:
        count = _run(with_database(rotate_field_key, settings.field_key, new))
    except (FieldKeyMismatch, ValueError) as exc:
        print(f"Nothing was changed: {exc}", file=sys.stderr)
        return 2
    print(f"Re-encrypted {count} ID numbers under the new key.")
    if os.environ.get("FIELD_KEY"):
        print("Set FIELD_KEY to the new key before the app starts again:", file=sys.stderr)
        print(new)
    else:
        write_key_file(settings.data_dir / "field_key", new)
        print(f"The new key is in {settings.data_dir / 'field_key'}; back it up.")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    if not _field_key_matches():
        return 2

    print(f"Serving on http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(
        "mediation.asgi:app", host=args.host, port=args.port, workers=args.workers, log_level="info"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mediation", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("migrate", help="back up, then bring the database to the current schema")
    p.add_argument("--no-backup", action="store_true", help="do not take a backup first")
    p.add_argument("--backup-to", default="", help="where (default: BACKUP_DIR or data/backups)")
    p.set_defaults(func=cmd_migrate)
    p = sub.add_parser("backup", help="back up the database, stored files and a manifest")
    p.add_argument(
        "--to", default="", help="folder for the backup (default: BACKUP_DIR, else data/backups)"
    )
    p.add_argument("--with-keys", action="store_true", help="include FIELD_KEY and SECRET_KEY")
    p.add_argument("--keep", type=int, default=None, help="then keep only the newest N backups")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="restore a backup into an empty database and data dir")
    p.add_argument("backup", help="the backup directory (mediation-backup-...)")
    p.set_defaults(func=cmd_restore)
    p = sub.add_parser("create-admin", help="create or reset an administrator account")
    p.add_argument("username")
    p.add_argument("--password", default="")
    p.set_defaults(func=cmd_create_admin)
    p = sub.add_parser("demo", help="migrate and load the demo county (idempotent)")
    p.add_argument("--reset", action="store_true", help="delete everything first")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("import-csv", help="import regions, grids or staff from a CSV file")
    p.add_argument("kind", choices=["regions", "grids", "staff"])
    p.add_argument("file")
    p.set_defaults(func=cmd_import_csv)
    sub.add_parser(
        "sweep", help="mark overdue cases, notify and escalate (safe to run any time)"
    ).set_defaults(func=cmd_sweep)
    p = sub.add_parser(
        "rotate-key", help="re-encrypt ID numbers under a new FIELD_KEY (prints or stores it)"
    )
    p.add_argument("--new-key", default="", help="the new key (default: a random one)")
    p.set_defaults(func=cmd_rotate_key)
    p = sub.add_parser("serve", help="run the web app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.set_defaults(func=cmd_serve)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
