"""`beatmaps import PATH…`: `.osz` archives and loose `.osu` files into the store.

Ids come from the files (`BeatmapID`/`BeatmapSetID`), else from an operator mapping (JSON:
`{"<md5 or file name>": {"beatmap_id": 1, "beatmapset_id": 2}}`), else, for a set id only,
from an `.osz` named like `123456 Artist - Title.osz` as osu! names downloads. The status
comes from upstream when the fetcher is on and knows the set, else from `--status`.
Importing the same files again changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from server.models.beatmaps import STATUS_IDS
from server.services.beatmap_files import md5_hex
from server.services.beatmap_ingest import (
    BeatmapFile,
    BeatmapIngest,
    Change,
    Rejection,
    SetInput,
    SetMetadata,
)
from server.services.beatmap_sync import set_metadata_from_upstream
from server.services.osu_files import (
    MAX_OSU_BYTES,
    MAX_OSZ_BYTES,
    OszError,
    read_osu_metadata,
    read_osz,
)
from server.services.upstream import Upstream, UpstreamError

log = logging.getLogger(__name__)

_OSZ_SET_ID_RE = re.compile(r"^(\d{1,10})(?:\s|$)")
_NO_SET_ID = "no beatmapset id (not in the file or the id mapping)"


class IdMapping(msgspec.Struct, frozen=True):
    """Ids the operator gives for a file without them."""

    beatmap_id: int | None = None
    beatmapset_id: int | None = None


def load_mapping(path: Path) -> dict[str, IdMapping]:
    """Read an id mapping file (keys: MD5 or file name)."""
    try:
        return msgspec.json.decode(path.read_bytes(), type=dict[str, IdMapping])
    except (OSError, msgspec.DecodeError) as exc:
        raise ValueError(f"{path}: not a valid id mapping: {exc}") from None


class ImportSummary(msgspec.Struct):
    """What an import did."""

    sets_added: int = 0
    sets_updated: int = 0
    sets_unchanged: int = 0
    beatmaps_added: int = 0
    beatmaps_updated: int = 0
    beatmaps_unchanged: int = 0
    rejected: list[Rejection] = msgspec.field(default_factory=list)

    def lines(self) -> list[str]:
        """A human summary, one line per fact."""
        out = [
            f"beatmapsets: {self.sets_added} added, {self.sets_updated} updated, "
            f"{self.sets_unchanged} unchanged",
            f"beatmaps: {self.beatmaps_added} added, {self.beatmaps_updated} updated, "
            f"{self.beatmaps_unchanged} unchanged, {len(self.rejected)} rejected",
        ]
        out += [f"  rejected {r.name}: {r.reason}" for r in self.rejected]
        return out


class _Pending(msgspec.Struct):
    files: list[BeatmapFile] = msgspec.field(default_factory=list)
    osz: bytes | None = None
    has_video: bool = False
    has_storyboard: bool = False


def walk(paths: Iterable[Path]) -> Iterator[Path]:
    """Every .osz and .osu under the paths (recursively), in a stable order."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in (".osz", ".osu"):
                    yield child
        elif path.is_file():
            yield path


class BeatmapImporter:
    """Group files into sets, resolve ids and statuses, store through BeatmapIngest."""

    def __init__(self, ingest: BeatmapIngest, upstream: Upstream) -> None:
        self._ingest = ingest
        self._upstream = upstream

    def _ids(
        self, data: bytes, name: str, mapping: dict[str, IdMapping], set_hint: int | None
    ) -> tuple[int | None, int | None]:
        meta = read_osu_metadata(data)
        mapped = mapping.get(md5_hex(data)) or mapping.get(name) or IdMapping()
        beatmap_id = meta.beatmap_id or mapped.beatmap_id
        set_id = meta.beatmapset_id or mapped.beatmapset_id or set_hint
        return beatmap_id, set_id

    def _archive_sets(
        self, path: Path, mapping: dict[str, IdMapping], summary: ImportSummary
    ) -> dict[int, _Pending]:
        """The sets in one `.osz`, grouped by set id (rejecting maps without one)."""
        if path.stat().st_size > MAX_OSZ_BYTES:
            raise OszError(f"archive larger than {MAX_OSZ_BYTES >> 20} MiB")
        archive = path.read_bytes()
        contents = read_osz(archive)
        hint_match = _OSZ_SET_ID_RE.match(path.name)
        hint = int(hint_match.group(1)) if hint_match else None
        entries = [
            (name, data, *self._ids(data, name, mapping, hint))
            for name, data in contents.osu_files.items()
        ]
        if not entries:
            summary.rejected.append(Rejection(str(path), "no .osu files in the archive"))
            return {}
        sets: dict[int, _Pending] = {}
        for name, data, beatmap_id, set_id in entries:
            if set_id is None:
                summary.rejected.append(Rejection(f"{path}:{name}", _NO_SET_ID))
                continue
            pending = sets.setdefault(set_id, _Pending())
            pending.files.append(BeatmapFile(data=data, filename=name, beatmap_id=beatmap_id))
            pending.has_video |= contents.has_video
            pending.has_storyboard |= contents.has_storyboard_file
        if len(sets) == 1 and len(entries) == len(next(iter(sets.values())).files):
            # Served by beatmapsets/{id}/download only when it is one whole set.
            next(iter(sets.values())).osz = archive
        return sets

    def _loose_ids(
        self, path: Path, mapping: dict[str, IdMapping], summary: ImportSummary
    ) -> tuple[int | None, int] | None:
        """The ids of a loose `.osu` (its bytes are read again when its set is stored)."""
        if path.stat().st_size > MAX_OSU_BYTES:
            summary.rejected.append(Rejection(str(path), "larger than 16 MiB"))
            return None
        beatmap_id, set_id = self._ids(path.read_bytes(), path.name, mapping, None)
        if set_id is None:
            summary.rejected.append(Rejection(str(path), _NO_SET_ID))
            return None
        return beatmap_id, set_id

    async def _upstream_status(self, set_id: int) -> tuple[int, SetMetadata] | None:
        if not self._upstream.enabled:
            return None
        try:
            found = await self._upstream.beatmapset(set_id)
        except UpstreamError as exc:
            log.warning("upstream status of set %s unavailable: %s", set_id, exc)
            return None
        if found is None:
            return None
        return STATUS_IDS.get(found.status, 0), set_metadata_from_upstream(found)

    async def _store(
        self, set_id: int, pending: _Pending, status: int, summary: ImportSummary
    ) -> None:
        known = await self._upstream_status(set_id)
        outcome = await self._ingest.store_set(
            SetInput(
                beatmapset_id=set_id,
                status=known[0] if known else status,
                files=pending.files,
                metadata=known[1] if known else None,
                osz=pending.osz,
                has_video=pending.has_video,
                has_storyboard=pending.has_storyboard,
            )
        )
        summary.rejected.extend(outcome.rejected)
        if outcome.beatmaps or outcome.set_change is not Change.UNCHANGED:
            if outcome.set_change is Change.ADDED:
                summary.sets_added += 1
            elif outcome.set_change is Change.UPDATED:
                summary.sets_updated += 1
            else:
                summary.sets_unchanged += 1
        for change in outcome.beatmaps.values():
            if change is Change.ADDED:
                summary.beatmaps_added += 1
            elif change is Change.UPDATED:
                summary.beatmaps_updated += 1
            else:
                summary.beatmaps_unchanged += 1

    async def run(
        self,
        paths: Iterable[Path],
        status: int,
        mapping: dict[str, IdMapping] | None = None,
        progress: Callable[[Iterable[Any]], Iterable[Any]] = lambda items: items,
    ) -> ImportSummary:
        """Import every file under the paths; returns the summary.

        Archives are stored one at a time, so memory holds one archive, not the library;
        loose `.osu` files are grouped by set first (only their paths are kept) and stored
        after the archives."""
        summary = ImportSummary()
        mapping = mapping or {}
        loose: dict[int, list[tuple[Path, int | None]]] = {}
        for path in progress(list(walk(paths))):
            try:
                if path.suffix.lower() == ".osz":
                    for set_id, pending in self._archive_sets(path, mapping, summary).items():
                        await self._store(set_id, pending, status, summary)
                elif (ids := self._loose_ids(path, mapping, summary)) is not None:
                    loose.setdefault(ids[1], []).append((path, ids[0]))
            except OszError as exc:
                summary.rejected.append(Rejection(str(path), f"bad .osz: {exc}"))
            except OSError as exc:
                summary.rejected.append(Rejection(str(path), f"unreadable: {exc.strerror or exc}"))
        for set_id in sorted(loose):
            pending = _Pending()
            for path, beatmap_id in loose[set_id]:
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    summary.rejected.append(Rejection(str(path), f"unreadable: {exc.strerror}"))
                    continue
                pending.files.append(
                    BeatmapFile(data=data, filename=path.name, beatmap_id=beatmap_id)
                )
            await self._store(set_id, pending, status, summary)
        return summary
