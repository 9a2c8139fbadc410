"""The `backup` command: a consistent copy of the embedded database and the file store.

The SQLite database is copied with the online backup API (server/db/backup.py) while the
server keeps running. Beatmap files and replays are immutable once written (named by their
MD5 or score id, written to a temporary name and renamed), so copying them file by file is
consistent too. A MySQL/MariaDB database is not copied here: README.md gives the
`mariadb-dump --single-transaction` command.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from server.db.backup import backup_sqlite, sqlite_path
from server.settings import Settings


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `backup`."""
    backup = commands.add_parser(
        "backup",
        help="copy the embedded database and the file store (safe while serving)",
        description=(
            "Write DEST/osu-backup-<UTC time>/ with osu.db (SQLite's online backup API: "
            "consistent while the server runs), beatmaps/, replays/ and the generated "
            "secret_key. A MySQL/MariaDB database is not copied: use mariadb-dump "
            "--single-transaction (README.md)."
        ),
    )
    backup.add_argument("destination", metavar="DEST", help="directory to create the backup in")


def _copy_tree(source: Path, destination: Path) -> int:
    """Copy the files under `source` (temporary files of writes under way left out)."""
    copied = 0
    if not source.is_dir():
        return 0
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.name.endswith(".tmp") or path.name.startswith("."):
            continue
        target = destination / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        copied += 1
    return copied


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Take the backup; 0 on success."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = Path(args.destination) / f"osu-backup-{stamp}"
    try:
        target.mkdir(parents=True)
    except OSError as exc:
        print(f"cannot create {target}: {exc}", file=sys.stderr)
        return 1
    lines = [f"backup written to {target}"]
    if settings.dialect == "sqlite":
        source = sqlite_path(settings.database_url)
        if not source.is_file():
            print(f"no database at {source}", file=sys.stderr)
            return 1
        pages = backup_sqlite(source, target / "osu.db")
        lines.append(f"database: osu.db ({pages} pages, integrity checked)")
    else:
        lines.append(
            "database: not copied (MySQL/MariaDB): run mariadb-dump --single-transaction, "
            "see README.md"
        )
    if settings.s3_bucket:
        lines.append(
            f"files: in the object store (bucket {settings.s3_bucket}), not copied: use the "
            "store's versioning or replication"
        )
    else:
        beatmaps = _copy_tree(settings.beatmap_store_dir, target / "beatmaps")
        replays = _copy_tree(settings.data_dir / "replays", target / "replays")
        lines.append(f"files: {beatmaps} beatmap file(s), {replays} replay(s)")
    key = settings.data_dir / "secret_key"
    if settings.embedded and key.is_file():
        shutil.copy2(key, target / "secret_key")
        lines.append("secret_key: copied (keep this backup private)")
    print("\n".join(lines))
    return 0
