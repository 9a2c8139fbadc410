"""The upstream fetcher: beatmap metadata (and the beatmap tag list) from an osu! API v2
compatible server, `.osu` files and `.osz` archives from mirrors. Off unless UPSTREAM_API_URL
is set.

Every call is bounded (a per-request timeout, a few retries with a short backoff) and every
failure is a value: upstream being slow, down or answering garbage makes a lookup miss, never
a 500. Mirrors are tried in order, so one that is down or serves the wrong bytes fails over
to the next. The client-credentials token is kept in Redis (shared by every worker) until
shortly before it expires, and fetched again when upstream rejects it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import msgspec

from server.models.tags import TagsEnvelope
from server.services.beatmap_files import md5_hex
from server.settings import Settings

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

_TOKEN_KEY = "beatmaps:upstream:token"
_MAX_JSON_BYTES = 8 << 20
_MAX_OSU_BYTES = 16 << 20
_MAX_OSZ_BYTES = 256 << 20


# Upstream answers are validated as they are decoded: ids must fit our INT columns and a
# checksum must be an MD5 (it becomes a file-store key), else the answer counts as garbage.
Id = Annotated[int, msgspec.Meta(ge=1, lt=2**31)]
UserId = Annotated[int, msgspec.Meta(ge=0, lt=2**31)]
Md5 = Annotated[str, msgspec.Meta(pattern="^[0-9a-fA-F]{32}$")]


class UpstreamNamed(msgspec.Struct, frozen=True):
    id: Annotated[int, msgspec.Meta(ge=0, lt=2**15)]


class UpstreamAvailability(msgspec.Struct, frozen=True):
    download_disabled: bool = False


class UpstreamBeatmap(msgspec.Struct, frozen=True, kw_only=True):
    """The parts of an upstream APIBeatmap we keep (difficulty comes from our own core)."""

    id: Id
    beatmapset_id: Id
    checksum: Md5 | None = None
    version: str = ""
    mode_int: int | None = None
    status: str = "pending"
    user_id: UserId = 0
    last_updated: datetime | None = None


class UpstreamBeatmapset(msgspec.Struct, frozen=True, kw_only=True):
    """The parts of an upstream APIBeatmapSet we keep."""

    id: Id
    artist: str
    artist_unicode: str | None = None
    title: str
    title_unicode: str | None = None
    creator: str = ""
    user_id: UserId = 0
    source: str = ""
    tags: str = ""
    status: str = "pending"
    nsfw: bool = False
    video: bool = False
    storyboard: bool = False
    submitted_date: datetime | None = None
    ranked_date: datetime | None = None
    last_updated: datetime | None = None
    genre: UpstreamNamed | None = None
    language: UpstreamNamed | None = None
    availability: UpstreamAvailability | None = None
    beatmaps: list[UpstreamBeatmap] = msgspec.field(default_factory=list)


class UpstreamLookup(msgspec.Struct, frozen=True, kw_only=True):
    """An upstream `beatmaps/lookup` answer: only the ids matter."""

    id: Id
    beatmapset_id: Id
    checksum: Md5 | None = None


class UpstreamError(Exception):
    """Upstream failed in a way a retry may fix (timeout, connection, 5xx, garbage)."""


class Upstream:
    """Client for the upstream API and mirrors; a disabled one answers every call with None."""

    def __init__(
        self, settings: Settings, redis: Any, http: httpx.AsyncClient | None = None
    ) -> None:
        self._settings = settings
        self._redis = redis
        self._api = settings.upstream_api_url
        self._timeout = settings.upstream_timeout_seconds
        self._retries = settings.upstream_retries
        # Made on first use: a client loads the CA bundle into an SSL context (about 3 MiB
        # resident), which a server that never goes upstream should not hold.
        self._client = http
        self._token_lock = asyncio.Lock()

    @property
    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # Imported here, as the client is made here: httpx (with idna and httpcore) is
            # about 1.5 MiB resident, for a feature that is off by default.
            import httpx

            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout),
                follow_redirects=True,
                headers={"User-Agent": "osu-lean-server (beatmap fetcher)"},
            )
        return self._client

    @property
    def enabled(self) -> bool:
        """Whether metadata lookups go upstream at all."""
        return self._api is not None

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()

    async def _fetch_token(self) -> str:
        assert self._settings.upstream_token_url is not None
        response = await self._http.post(
            self._settings.upstream_token_url,
            data={
                "client_id": self._settings.upstream_client_id,
                "client_secret": self._settings.upstream_client_secret,
                "grant_type": "client_credentials",
                "scope": "public",
            },
            headers={"Accept": "application/json"},
        )
        if response.status_code != 200:
            raise UpstreamError(f"token endpoint answered {response.status_code}")
        try:
            body = msgspec.json.decode(response.content[:_MAX_JSON_BYTES])
            token = str(body["access_token"])
            expires_in = int(body.get("expires_in", 3600))
        except (msgspec.DecodeError, KeyError, TypeError, ValueError, AttributeError):
            raise UpstreamError("token endpoint answered garbage") from None
        # Keep it until a minute before it expires (at least a few seconds).
        await self._redis.set(_TOKEN_KEY, token, ex=max(5, expires_in - 60))
        return token

    async def _token(self, refresh: bool) -> str:
        if not refresh:
            cached = await self._redis.get(_TOKEN_KEY)
            if cached:
                return cached.decode() if isinstance(cached, bytes) else str(cached)
        async with self._token_lock:
            if not refresh:
                cached = await self._redis.get(_TOKEN_KEY)
                if cached:
                    return cached.decode() if isinstance(cached, bytes) else str(cached)
            return await self._fetch_token()

    async def _with_retries(self, attempt_call: Any) -> Any:
        import httpx  # here too: the attempts use the client, made with it

        last: Exception | None = None
        for attempt in range(self._retries + 1):
            try:
                return await attempt_call()
            except (httpx.HTTPError, UpstreamError) as exc:
                last = exc
                if attempt < self._retries:
                    await asyncio.sleep(min(0.1 * 2**attempt, 1.0))
        raise UpstreamError(str(last))

    async def _api_get(self, path: str, params: dict[str, str], model: type[Any]) -> Any:
        """GET an API path decoded as `model`; None when upstream says 404."""
        assert self._api is not None
        url = f"{self._api}/{path}"

        async def once() -> Any:
            token = await self._token(refresh=False)
            response = await self._http.get(url, params=params, headers=_auth(token))
            if response.status_code == 401:
                token = await self._token(refresh=True)
                response = await self._http.get(url, params=params, headers=_auth(token))
            if response.status_code == 404:
                return None
            if response.status_code != 200:
                raise UpstreamError(f"GET {path} answered {response.status_code}")
            if len(response.content) > _MAX_JSON_BYTES:
                raise UpstreamError(f"GET {path}: response too large")
            try:
                return msgspec.json.decode(response.content, type=model, strict=False)
            except msgspec.DecodeError as exc:
                raise UpstreamError(f"GET {path}: unexpected body: {exc}") from None

        return await self._with_retries(once)

    async def lookup(
        self,
        *,
        beatmap_id: int | None = None,
        checksum: str | None = None,
        filename: str | None = None,
    ) -> UpstreamLookup | None:
        """Which beatmap (and set) upstream knows under this key; None when it knows none."""
        if not self.enabled:
            return None
        params = {}
        if beatmap_id is not None:
            params["id"] = str(beatmap_id)
        if checksum is not None:
            params["checksum"] = checksum
        if filename is not None:
            params["filename"] = filename
        found: UpstreamLookup | None = await self._api_get(
            "beatmaps/lookup", params, UpstreamLookup
        )
        return found

    async def beatmapset(self, beatmapset_id: int) -> UpstreamBeatmapset | None:
        """A full set with its beatmaps; None when upstream has no such set."""
        if not self.enabled:
            return None
        found: UpstreamBeatmapset | None = await self._api_get(
            f"beatmapsets/{beatmapset_id}", {}, UpstreamBeatmapset
        )
        return found

    async def tags(self) -> TagsEnvelope | None:
        """Upstream's GET tags (every beatmap tag); None when upstream says 404."""
        if not self.enabled:
            return None
        found: TagsEnvelope | None = await self._api_get("tags", {}, TagsEnvelope)
        return found

    async def content(self, path: str, params: list[tuple[str, str]]) -> bytes | None:
        """An API answer passed through as JSON bytes (news, changelog, wiki, comments); None
        when upstream says 404. Raises UpstreamError when it fails or answers other than a
        JSON object."""
        assert self._api is not None
        url = f"{self._api}/{path}"
        # httpx makes its QueryParams from the pairs (repeated keys kept, in order).
        query: list[tuple[str, str | int | float | bool | None]] = list(params)

        async def once() -> bytes | None:
            token = await self._token(refresh=False)
            response = await self._http.get(url, params=query, headers=_auth(token))
            if response.status_code == 401:
                token = await self._token(refresh=True)
                response = await self._http.get(url, params=query, headers=_auth(token))
            if response.status_code == 404:
                return None
            if response.status_code != 200 or len(response.content) > _MAX_JSON_BYTES:
                raise UpstreamError(f"GET {path} answered {response.status_code}")
            try:
                msgspec.json.decode(response.content, type=dict[str, Any])
            except msgspec.DecodeError:
                raise UpstreamError(f"GET {path}: not a JSON object") from None
            return response.content

        result: bytes | None = await self._with_retries(once)
        return result

    async def _download(self, url: str, limit: int) -> bytes:
        async def once() -> bytes:
            async with self._http.stream("GET", url) as response:
                if response.status_code == 404:
                    raise _NotFound()
                if response.status_code != 200:
                    raise UpstreamError(f"{url} answered {response.status_code}")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise UpstreamError(f"{url}: more than {limit} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)

        result: bytes = await self._with_retries(once)
        return result

    async def osu_file(self, beatmap_id: int, checksum: str | None) -> bytes | None:
        """The `.osu` bytes from the first mirror that serves the expected ones."""
        for template in self._settings.beatmap_file_mirrors:
            url = template.replace("{id}", str(beatmap_id))
            try:
                data = await self._download(url, _MAX_OSU_BYTES)
            except _NotFound:
                continue
            except UpstreamError as exc:
                log.warning("beatmap mirror failed for %s: %s", beatmap_id, exc)
                continue
            if checksum is not None and md5_hex(data) != checksum.lower():
                log.warning("beatmap mirror %s served other bytes for %s", url, beatmap_id)
                continue
            if not data.lstrip(b"\xef\xbb\xbf").lstrip().startswith(b"osu file format"):
                log.warning("beatmap mirror %s served something other than .osu", url)
                continue
            return data
        return None

    async def osz_file(
        self, beatmapset_id: int, accept: Callable[[bytes], Awaitable[bool]]
    ) -> bytes | None:
        """A `.osz` from the first mirror whose archive `accept` recognises as this set."""
        for template in self._settings.beatmapset_download_mirrors:
            url = template.replace("{id}", str(beatmapset_id)).replace("{novideo}", "0")
            try:
                data = await self._download(url, _MAX_OSZ_BYTES)
            except (_NotFound, UpstreamError) as exc:
                log.warning("download mirror %s failed: %r", url, exc)
                continue
            if data[:2] == b"PK" and await accept(data):
                return data
            log.warning("download mirror %s served something other than set %s", url, beatmapset_id)
        return None

    def download_url(self, beatmapset_id: int, no_video: bool) -> str | None:
        """Where to send a client for a `.osz` we do not store (the first mirror)."""
        for template in self._settings.beatmapset_download_mirrors:
            url = template.replace("{id}", str(beatmapset_id))
            if no_video and "{novideo}" in url:
                return url.replace("{novideo}", "1")
            return url.replace("{novideo}", "0")
        return None


class _NotFound(Exception):
    pass


def _auth(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
        "x-api-version": "20241024",
    }
