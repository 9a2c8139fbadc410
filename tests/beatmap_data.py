"""Beatmaps for tests: synthetic `.osu` files with chosen ids and metadata, `.osz` zips, and
storing them through the real ingest path (core, file store, database)."""

from __future__ import annotations

import io
import itertools
import secrets
import zipfile
from collections.abc import Sequence
from typing import Any

from server.services.beatmap_ingest import BeatmapFile, SetInput, StoreOutcome
from tests.synthetic_beatmaps import synthetic_osu

# Test ids live far above osu!'s own so they never collide with real ones in the suite.
_ids = itertools.count(1_900_000_000 + secrets.randbelow(50_000_000))


def fresh_id() -> int:
    """An id no other test uses in this session."""
    return next(_ids)


def make_osu(
    ruleset: str = "osu",
    *,
    beatmap_id: int | None,
    beatmapset_id: int | None,
    title: str = "Test Title",
    artist: str = "Test Artist",
    creator: str = "Mapper",
    version: str = "Normal",
    tags: str = "",
    source: str = "",
    n_objects: int = 40,
    seed: int = 0,
) -> bytes:
    """A valid synthetic `.osu` whose [Metadata] carries the given names and ids."""
    text = synthetic_osu(ruleset, n_objects=n_objects, seed=seed).decode()
    head, rest = text.split("[Metadata]\n", 1)
    _, after = rest.split("\n\n", 1)
    lines = [
        f"Title:{title}",
        f"TitleUnicode:{title}",
        f"Artist:{artist}",
        f"ArtistUnicode:{artist}",
        f"Creator:{creator}",
        f"Version:{version}",
        f"Source:{source}",
        f"Tags:{tags}",
    ]
    if beatmap_id is not None:
        lines.append(f"BeatmapID:{beatmap_id}")
    if beatmapset_id is not None:
        lines.append(f"BeatmapSetID:{beatmapset_id}")
    return (head + "[Metadata]\n" + "\n".join(lines) + "\n\n" + after).encode()


def make_osz(files: dict[str, bytes], extra: dict[str, bytes] | None = None) -> bytes:
    """A `.osz` (zip) holding these entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in {**files, **(extra or {})}.items():
            archive.writestr(name, data)
    return buffer.getvalue()


async def store_set(
    services: Any,
    *,
    beatmapset_id: int | None = None,
    status: int = 1,
    difficulties: Sequence[dict[str, Any]] = ({},),
    osz: bool = False,
    **common: Any,
) -> tuple[int, list[int], StoreOutcome]:
    """Store a synthetic set through the real ingest path; returns (set id, beatmap ids)."""
    set_id = beatmapset_id or fresh_id()
    files: list[BeatmapFile] = []
    raw: dict[str, bytes] = {}
    for i, extra in enumerate(difficulties):
        params = {**common, **extra}
        beatmap_id = params.pop("beatmap_id", None) or fresh_id()
        version = params.pop("version", f"Diff {i}")
        data = make_osu(beatmap_id=beatmap_id, beatmapset_id=set_id, version=version, **params)
        name = f"{set_id} [{version}].osu"
        raw[name] = data
        files.append(BeatmapFile(data=data, filename=name, beatmap_id=beatmap_id))
    outcome = await services.beatmaps.ingest.store_set(
        SetInput(
            beatmapset_id=set_id,
            status=status,
            files=files,
            osz=make_osz(raw) if osz else None,
        )
    )
    assert not outcome.rejected, outcome.rejected
    return set_id, [f.beatmap_id for f in files if f.beatmap_id is not None], outcome
