"""Where .osu and .osz bytes live: a content-addressed store keyed by MD5.

`FileStore` is the interface; `LocalFileStore` keeps files under a directory (the embedded
default). An S3-compatible store implements the same four methods later (DESIGN.md: beatmap
files in object storage behind one storage interface). Every write is checked: the key is
the MD5 of the bytes, so a store never holds a file under the wrong name, and a read is
verified again, so a corrupted file on disk is reported missing rather than served.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Literal, Protocol

Kind = Literal["osu", "osz"]

_MD5_RE = re.compile(r"^[0-9a-f]{32}$")


class ChecksumMismatch(Exception):
    """Bytes offered under a checksum they do not hash to."""


class FileStore(Protocol):
    """Content-addressed blob storage for beatmap files."""

    async def put(self, kind: Kind, data: bytes, checksum: str | None = None) -> str:
        """Store bytes; returns their MD5. Raises ChecksumMismatch when `checksum` is wrong."""
        ...

    async def get(self, kind: Kind, checksum: str) -> bytes | None:
        """The bytes stored under this MD5, or None when absent (or corrupted)."""
        ...

    async def exists(self, kind: Kind, checksum: str) -> bool:
        """Whether bytes are stored under this MD5."""
        ...

    async def delete(self, kind: Kind, checksum: str) -> None:
        """Remove a file if present."""
        ...


def md5_hex(data: bytes) -> str:
    """The lower-case hex MD5 of bytes (osu!'s beatmap checksum)."""
    return hashlib.md5(data).hexdigest()


class LocalFileStore:
    """Files under `root/<kind>/<ab>/<abcdef...>`, written atomically (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, kind: Kind, checksum: str) -> Path:
        if kind not in ("osu", "osz") or not _MD5_RE.match(checksum):
            # The key becomes a path: refuse anything that is not a plain MD5.
            raise ValueError(f"not a file key: {kind}/{checksum!r}")
        return self.root / kind / checksum[:2] / checksum

    def _put(self, kind: Kind, data: bytes, checksum: str | None) -> str:
        actual = md5_hex(data)
        if checksum is not None and checksum.lower() != actual:
            raise ChecksumMismatch(f"bytes hash to {actual}, not {checksum}")
        path = self._path(kind, actual)
        if path.is_file() and path.stat().st_size == len(data):
            return actual  # content-addressed: same name, same bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return actual

    def _get(self, kind: Kind, checksum: str) -> bytes | None:
        path = self._path(kind, checksum.lower())
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        return data if md5_hex(data) == checksum.lower() else None

    async def put(self, kind: Kind, data: bytes, checksum: str | None = None) -> str:
        """Store bytes (in a worker thread: hashing and fsync block)."""
        return await asyncio.to_thread(self._put, kind, data, checksum)

    async def get(self, kind: Kind, checksum: str) -> bytes | None:
        """Read and verify bytes."""
        return await asyncio.to_thread(self._get, kind, checksum)

    async def exists(self, kind: Kind, checksum: str) -> bool:
        """Whether a file is stored (not re-hashed)."""
        return self._path(kind, checksum.lower()).is_file()

    async def delete(self, kind: Kind, checksum: str) -> None:
        """Remove a file if present."""
        self._path(kind, checksum.lower()).unlink(missing_ok=True)
