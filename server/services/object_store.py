"""Beatmap files, `.osz` archives and replays in an S3-compatible object store (S3, MinIO,
Ceph, R2 …), so several hosts serve what any of them stored. Configured with S3_BUCKET (and
S3_ENDPOINT_URL for a store other than AWS); without it the local directories are used.

The client is aiobotocore's, opened on first use and closed with the services. aiobotocore
(with botocore and aiohttp, about 19 MiB resident) is imported when an ObjectStore is made,
that is only by a server with S3_BUCKET: a server on the local directories never loads it. Keys:
`<prefix>beatmaps/<kind>/<ab>/<md5>` (content-addressed like the local store, verified again
on read) and `<prefix>replays/<score_id>.osr`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from server.services.beatmap_files import ChecksumMismatch, Kind, md5_hex
from server.settings import Settings

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


class ObjectStoreUnavailable(OSError):
    """The store cannot be reached or refuses (the readiness check reports it like a local
    directory that cannot be written)."""


class ObjectStore:
    """One bucket (and key prefix) of an S3-compatible store."""

    def __init__(self, settings: Settings) -> None:
        assert settings.s3_bucket is not None
        from aiobotocore.session import get_session  # type: ignore[import-untyped]
        from botocore.config import Config  # type: ignore[import-untyped]
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        self._session = get_session()
        self._client_error: Any = ClientError  # carries the error code (`response`)
        self._errors: tuple[type[Exception], ...] = (BotoCoreError, ClientError)
        self.bucket = settings.s3_bucket
        self.prefix = settings.s3_prefix
        self._options: dict[str, Any] = {
            "region_name": settings.s3_region,
            "endpoint_url": settings.s3_endpoint_url,
            "aws_access_key_id": settings.s3_access_key_id or None,
            "aws_secret_access_key": settings.s3_secret_access_key or None,
            "config": Config(
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"},
                s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"},
            ),
        }
        self._stack: contextlib.AsyncExitStack | None = None
        self._client: Any = None
        self._opening = asyncio.Lock()

    async def _s3(self) -> Any:
        if self._client is None:
            async with self._opening:
                if self._client is None:
                    stack = contextlib.AsyncExitStack()
                    self._client = await stack.enter_async_context(
                        self._session.create_client("s3", **self._options)
                    )
                    self._stack = stack
        return self._client

    async def put(self, key: str, data: bytes) -> None:
        """Store bytes under `key` (a PUT replaces an object whole: readers see old or new)."""
        s3 = await self._s3()
        await s3.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)

    async def get(self, key: str) -> bytes | None:
        """The bytes under `key`, or None when there is no such object."""
        s3 = await self._s3()
        try:
            response = await s3.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except self._client_error as exc:
            if exc.response.get("Error", {}).get("Code") in _NOT_FOUND:
                return None
            raise
        async with response["Body"] as stream:
            data: bytes = await stream.read()
        return data

    async def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""
        s3 = await self._s3()
        try:
            await s3.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except self._client_error as exc:
            if exc.response.get("Error", {}).get("Code") in _NOT_FOUND:
                return False
            raise
        return True

    async def delete(self, key: str) -> None:
        """Remove an object (absent is fine)."""
        s3 = await self._s3()
        await s3.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    async def check_writable(self) -> None:
        """Write and remove a probe object (for /ready); ObjectStoreUnavailable when the store
        cannot be reached or refuses."""
        try:
            await self.put(".ready-probe", b"ok")
            await self.delete(".ready-probe")
        except self._errors as exc:
            raise ObjectStoreUnavailable(f"object store: {exc}") from exc

    async def aclose(self) -> None:
        """Close the client."""
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None
            self._client = None


class ObjectFileStore:
    """The beatmap FileStore on an object store: content-addressed by MD5, checked on write
    and on read like LocalFileStore."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    @staticmethod
    def _key(kind: Kind, checksum: str) -> str:
        checksum = checksum.lower()
        if kind not in ("osu", "osz") or len(checksum) != 32 or not checksum.isalnum():
            raise ValueError(f"not a file key: {kind}/{checksum!r}")
        return f"beatmaps/{kind}/{checksum[:2]}/{checksum}"

    async def put(self, kind: Kind, data: bytes, checksum: str | None = None) -> str:
        actual = await asyncio.to_thread(md5_hex, data)
        if checksum is not None and checksum.lower() != actual:
            raise ChecksumMismatch(f"bytes hash to {actual}, not {checksum}")
        key = self._key(kind, actual)
        if not await self.store.exists(key):
            await self.store.put(key, data)
        return actual

    async def get(self, kind: Kind, checksum: str) -> bytes | None:
        data = await self.store.get(self._key(kind, checksum))
        if data is None or await asyncio.to_thread(md5_hex, data) != checksum.lower():
            return None
        return data

    async def exists(self, kind: Kind, checksum: str) -> bool:
        return await self.store.exists(self._key(kind, checksum))

    async def delete(self, kind: Kind, checksum: str) -> None:
        await self.store.delete(self._key(kind, checksum))


class ObjectReplaySink:
    """Replays as `replays/<score_id>.osr` objects."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    async def save(self, score_id: int, data: bytes) -> None:
        await self.store.put(f"replays/{score_id}.osr", data)

    async def load(self, score_id: int) -> bytes | None:
        return await self.store.get(f"replays/{score_id}.osr")
