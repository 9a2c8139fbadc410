"""Beatmap and beatmapset endpoints: lookups, sets, search, download, favourites,
difficulty attributes, and the raw `.osu` file for tools."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.api.params import (
    ALL_ACCESS,
    ascii_id,
    cursor_string,
    id_list_ints,
    int_param,
    path_id,
    require_session,
    require_user,
    ruleset_id,
    ruleset_id_by_name,
)
from server.http import (
    MAX_FORM_FIELDS,
    MAX_FORM_PART_BYTES,
    JSONResponse,
    fail,
    read_fields,
    services,
)
from server.models.beatmaps import (
    BeatmapsEnvelope,
    DifficultyAttributesEnvelope,
    FavouriteCount,
)
from server.services.beatmap_attributes import AttributesRejected
from server.services.beatmap_favourites import FavouriteOutcome
from server.services.beatmap_search import SearchQuery, SearchRejected

_MD5_RE = re.compile(r"^[0-9a-fA-F]{32}$")
_CURSOR_KEY_RE = re.compile(r"^cursor\[([a-z_]{1,32})\]$")
_BEATMAP_MISSING = "Specified beatmap couldn't be found."
_SET_MISSING = "Specified beatmapset couldn't be found."


def _query_id(raw: str | None, name: str) -> int:
    """A required positive id in the query string; a missing or malformed one is a 422."""
    value = ascii_id(raw)
    if value is None:
        fail(422, f"{name} must be a positive integer")
    return value


def _checksum(raw: str) -> str:
    if not _MD5_RE.match(raw):
        fail(422, "checksum must be 32 hexadecimal characters (an MD5)")
    return raw.lower()


def _filename(raw: str) -> str:
    if not 0 < len(raw) <= 512 or any(c in raw for c in "/\\\x00") or not raw.isprintable():
        fail(422, "filename must be a plain .osu file name")
    return raw


async def lookup_beatmap(request: Request) -> Response:
    """GET beatmaps/lookup?id=&checksum=&filename=: the first key that finds a beatmap."""
    await require_session(request, "public")
    query = request.query_params
    keys = [k for k in ("id", "checksum", "filename") if query.get(k)]
    if not keys:
        fail(422, "specify id, checksum or filename")
    # Validate every given key first: a malformed one is the client's mistake (4xx).
    body = await services(request).beatmaps.lookup(
        beatmap_id=_query_id(query["id"], "id") if "id" in keys else None,
        checksum=_checksum(query["checksum"]) if "checksum" in keys else None,
        filename=_filename(query["filename"]) if "filename" in keys else None,
    )
    if body is None:
        fail(404, _BEATMAP_MISSING)
    return Response(body, media_type="application/json")


async def show_beatmap(request: Request) -> Response:
    """GET beatmaps/{id}: APIBeatmap with its beatmapset."""
    session = await require_session(request, "public")
    svc = services(request).beatmaps
    found = await svc.beatmap_by_id(path_id(request, "beatmap", _BEATMAP_MISSING))
    if found is None:
        fail(404, _BEATMAP_MISSING)
    return JSONResponse(await svc.beatmap_with_set(found, session.user_id))


async def list_beatmaps(request: Request) -> Response:
    """GET beatmaps?ids[]=: up to 50 beatmaps, unknown ids left out."""
    await require_session(request, "public")
    beatmaps = await services(request).beatmaps.beatmaps_with_sets(id_list_ints(request))
    return JSONResponse(BeatmapsEnvelope(beatmaps=beatmaps))


async def show_beatmapset(request: Request) -> Response:
    """GET beatmapsets/{id}: APIBeatmapSet with its beatmaps."""
    session = await require_session(request, "public")
    svc = services(request).beatmaps
    found = await svc.beatmapset_by_id(path_id(request, "beatmapset", _SET_MISSING))
    if found is None:
        fail(404, _SET_MISSING)
    return JSONResponse(await svc.set_with_beatmaps(found, session.user_id))


async def lookup_beatmapset(request: Request) -> Response:
    """GET beatmapsets/lookup?beatmap_id=: the set of a beatmap."""
    session = await require_session(request, "public")
    svc = services(request).beatmaps
    beatmap_id = _query_id(request.query_params.get("beatmap_id"), "beatmap_id")
    beatmap = await svc.beatmap_by_id(beatmap_id)
    found = await svc.beatmapset_by_id(beatmap.beatmapset_id) if beatmap else None
    if found is None:
        fail(404, _SET_MISSING)
    return JSONResponse(await svc.set_with_beatmaps(found, session.user_id))


def _search_query(request: Request) -> SearchQuery:
    query = request.query_params
    # -1 is "any ruleset", as ossapi and osu-web's own page spell it.
    mode = None if query.get("m") == "-1" else ruleset_id(query.get("m"), "m")
    cursor = cursor_string(query.get("cursor_string")) or {
        match.group(1): value
        for key, value in query.multi_items()
        if (match := _CURSOR_KEY_RE.match(key))
    }
    return SearchQuery(
        q=(query.get("q") or query.get("query") or "")[:200],
        mode=mode,
        category=(query.get("s") or "leaderboard").lower(),
        general=tuple(part for part in (query.get("c") or "").lower().split(".") if part),
        extra=tuple(part for part in (query.get("e") or "").lower().split(".") if part),
        genre=int_param(query.get("g"), "g", minimum=0) or None,
        language=int_param(query.get("l"), "l", minimum=0) or None,
        nsfw=(query.get("nsfw") or "false").lower() == "true",
        sort=(query.get("sort") or None),
        cursor=cursor,
        ranks=tuple(part.upper() for part in (query.get("r") or "").split(".") if part),
        played=(query.get("played") or None),
    )


async def search_beatmapsets(request: Request) -> Response:
    """GET beatmapsets/search: filters, sort orders and cursor pagination."""
    session = await require_session(request, "public")
    result = await services(request).beatmap_search.search(_search_query(request), session.user_id)
    if result is SearchRejected.BAD_CURSOR:
        fail(422, "invalid cursor")
    if result is SearchRejected.BAD_RANK:
        fail(422, "r must list grades from XH, X, SH, S, A, B, C, D")
    if result is SearchRejected.BAD_PLAYED:
        fail(422, "played must be any, played or unplayed")
    if result is SearchRejected.NEEDS_USER:
        fail(401, "You must be signed in to search your own or favourite beatmaps.")
    return JSONResponse(result)


async def download_beatmapset(request: Request) -> Response:
    """GET beatmapsets/{id}/download[?noVideo=1]: the stored .osz, else a mirror redirect.
    osu-web scopes only lookup, search and show of beatmapsets: a download needs `*`."""
    await require_session(request, ALL_ACCESS)
    svc = services(request).beatmaps
    found = await svc.beatmapset_by_id(path_id(request, "beatmapset", _SET_MISSING))
    if found is None:
        fail(404, _SET_MISSING)
    if found.download_disabled:
        fail(404, "This beatmapset is not available for download.")
    no_video = request.query_params.get("noVideo") in ("1", "true")
    archive = await svc.download(found, no_video)
    if archive is None:
        fail(404, "This beatmapset is not available for download.")
    if isinstance(archive, str):
        # A cross-host redirect is fine here: mirrors need no Authorization (§3.1).
        return RedirectResponse(archive, status_code=302)
    name = f"{found.id} {found.artist} - {found.title}.osz".replace('"', "")
    return Response(
        archive,
        media_type="application/x-osu-beatmap-archive",
        headers={"Content-Disposition": f'attachment; filename="{_ascii(name)}"'},
    )


def _ascii(name: str) -> str:
    return name.encode("ascii", "replace").decode().replace("?", "_")


async def favourite_beatmapset(request: Request) -> Response:
    """POST beatmapsets/{id}/favourites (F action=favourite|unfavourite)."""
    _, user = await require_user(request, ALL_ACCESS)  # osu-web names no scope here
    beatmapset_id = path_id(request, "beatmapset", _SET_MISSING)
    fields = await read_fields(request)
    outcome = await services(request).beatmap_favourites.favourite(
        user.id, beatmapset_id, fields.get("action", "")
    )
    if outcome is FavouriteOutcome.NOT_FOUND:
        fail(404, _SET_MISSING)
    if outcome is FavouriteOutcome.BAD_ACTION:
        fail(422, "action must be favourite or unfavourite")
    return JSONResponse(FavouriteCount(outcome))


async def _attribute_params(request: Request) -> dict[str, Any]:
    """`mods` (bitmask, acronyms, or mod objects), `ruleset` or `ruleset_id`, from a JSON
    body, a form (ossapi sends `mods[]=HD&mods[]=DT`) or the query string."""
    params: dict[str, Any] = {}
    mods: list[Any] = []
    for key, value in request.query_params.multi_items():
        if key == "mods[]":
            mods.append(value)
        else:
            params[key] = value
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        body = await request.body()
        if body.strip():
            try:
                data = msgspec.json.decode(body)
            except (msgspec.DecodeError, RecursionError):  # RecursionError: nested too deep
                fail(400, "request body is not valid JSON")
            if not isinstance(data, dict):
                fail(400, "request body must be a JSON object")
            params.update(data)
    elif content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        try:
            async with request.form(
                max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FORM_PART_BYTES
            ) as form:
                for key, item in form.multi_items():
                    if isinstance(item, UploadFile):
                        fail(400, f"unexpected file upload in field {key!r}")
                    if key == "mods[]":
                        mods.append(item)
                    else:
                        params[key] = item
        except MultiPartException as exc:
            fail(400, f"malformed form body: {exc.message}")
    if mods:
        params["mods"] = mods
    return params


def _mods_value(raw: Any) -> Any:
    if raw is None or raw == "" or raw == []:
        return None
    if isinstance(raw, bool):
        fail(422, "mods must be a bitmask, acronyms or mod objects")
    if isinstance(raw, int):
        if raw < 0 or raw >= 2**31:
            fail(422, "mods bitmask out of range")
        return raw
    if isinstance(raw, str):
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 11 else raw
    if isinstance(raw, list) and len(raw) <= 32:
        # "NM" (ossapi's spelling of no mods) is not an acronym the core knows.
        items = [m for m in raw if m != "NM"]
        if all(isinstance(m, str) for m in items) or all(isinstance(m, dict) for m in items):
            return items or None
    fail(422, "mods must be a bitmask, acronyms or mod objects")


async def beatmap_attributes(request: Request) -> Response:
    """POST beatmaps/{id}/attributes: star rating and skill values for a ruleset and mods."""
    await require_session(request, "public")
    beatmap_id = path_id(request, "beatmap", _BEATMAP_MISSING)
    params = await _attribute_params(request)
    ruleset: int | None = None
    if params.get("ruleset") not in (None, ""):
        ruleset = ruleset_id_by_name(str(params["ruleset"]), 422, "invalid ruleset specified")
    elif params.get("ruleset_id") not in (None, ""):
        ruleset = ruleset_id(str(params["ruleset_id"]))
    mods = _mods_value(params.get("mods"))
    outcome = await services(request).beatmap_attributes.attributes(beatmap_id, ruleset, mods)
    if outcome is AttributesRejected.NOT_FOUND:
        fail(404, _BEATMAP_MISSING)
    if outcome is AttributesRejected.BAD_RULESET:
        fail(422, "this beatmap cannot be converted to that ruleset")
    if outcome is AttributesRejected.BAD_MODS:
        fail(422, "invalid mods for this ruleset")
    if outcome is AttributesRejected.SUSPICIOUS:
        fail(422, "this beatmap is too heavy to calculate (flagged suspicious)")
    if outcome is AttributesRejected.FILE_MISSING:
        fail(404, "the beatmap file is not available")
    return JSONResponse(DifficultyAttributesEnvelope(outcome))


async def osu_file(request: Request) -> Response:
    """GET /osu/{id}: the raw .osu bytes, for tools (no auth, as osu! serves it)."""
    svc = services(request).beatmaps
    beatmap = await svc.beatmap_by_id(path_id(request, "beatmap", _BEATMAP_MISSING))
    data = await svc.osu_file(beatmap) if beatmap else None
    if data is None:
        fail(404, _BEATMAP_MISSING)
    return Response(data, media_type="text/plain; charset=utf-8")
