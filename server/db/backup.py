"""A consistent copy of an SQLite database while the server runs, with SQLite's online
backup API: copying `osu.db` by hand misses what is still in its write-ahead log (`-wal`)
and can catch a page mid-write."""

from __future__ import annotations

from pathlib import Path


def sqlite_path(database_url: str) -> Path:
    """The file of an `sqlite+aiosqlite:///path` URL (four slashes: an absolute path)."""
    _, _, path = database_url.partition(":///")
    return Path(path)


def backup_sqlite(source: Path, destination: Path) -> int:
    """Copy `source` into a new file `destination` (a snapshot of one moment, including the
    write-ahead log); returns its page count. Readers and writers of `source` go on meanwhile:
    the copy is taken in steps, restarting when a writer changed a copied page."""
    import sqlite3  # here: `serve` builds the CLI parser, which imports this module

    if destination.exists():
        raise FileExistsError(destination)
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src:
        with sqlite3.connect(destination) as dst:
            src.backup(dst, pages=1024)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
            check = dst.execute("PRAGMA quick_check").fetchone()[0]
        dst.close()
    src.close()
    if check != "ok":
        raise sqlite3.DatabaseError(f"the copy failed its integrity check: {check}")
    return pages
