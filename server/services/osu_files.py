"""Reading beatmap files: the metadata header of a `.osu` and the `.osu` entries of a `.osz`.

Difficulty, counts and lengths come from the Rust core; this module only reads what the core
does not report (names, ids, tags, video and storyboard presence). A `.osz` is a zip from an
untrusted source, so reading it is bounded: entry count, per-file and total uncompressed
size, compression ratio, and no path tricks (nothing is ever extracted to disk).
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Final

import msgspec

MAX_OSU_BYTES: Final = 16 << 20
MAX_OSZ_BYTES: Final = 256 << 20
MAX_OSZ_ENTRIES: Final = 2000
MAX_OSZ_OSU_FILES: Final = 200
MAX_OSZ_UNCOMPRESSED: Final = 1 << 30
MAX_RATIO: Final = 200  # a .osu compresses about 5-10x; 200x is a zip bomb

_VIDEO_EXTENSIONS: Final = (
    ".mp4",
    ".avi",
    ".flv",
    ".m4v",
    ".mkv",
    ".webm",
    ".wmv",
    ".mpg",
    ".mpeg",
)
_KEY_VALUE_RE = re.compile(r"^\s*([A-Za-z]+)\s*:\s?(.*?)\s*$")


class OszError(Exception):
    """A `.osz` archive that is not a readable, reasonably sized zip."""


class OsuMetadata(msgspec.Struct, frozen=True, kw_only=True):
    """What a `.osu` file's header says (ids are None when the file has none)."""

    format_version: int | None
    mode: int
    title: str
    title_unicode: str
    artist: str
    artist_unicode: str
    creator: str
    version: str
    source: str
    tags: str
    beatmap_id: int | None
    beatmapset_id: int | None
    has_video: bool
    has_storyboard: bool
    # [Editor] BeatDivisor: the snap divisor the mapper worked in (osu!'s default is 4).
    beat_divisor: int = 4


def _positive_id(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        return None
    # Files exported before submission carry 0 or -1: no id.
    return value if 0 < value < 2**31 else None


def read_osu_metadata(data: bytes) -> OsuMetadata:
    """Read the header sections of a `.osu` file (tolerant: missing keys get defaults)."""
    text = data.decode("utf-8-sig", errors="replace")
    lines = text.splitlines()
    fmt: int | None = None
    if lines:
        match = re.match(r"\s*osu file format v(\d+)", lines[0])
        fmt = int(match.group(1)) if match else None
    section = ""
    values: dict[str, dict[str, str]] = {}
    video = storyboard = False
    for line in lines[1:]:
        stripped = line.strip()
        if not stripped or stripped.startswith("//"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1]
            if section == "HitObjects":
                break  # everything we read is above the objects
            continue
        if section in ("General", "Editor", "Metadata", "Difficulty"):
            match = _KEY_VALUE_RE.match(stripped)
            if match:
                values.setdefault(section, {})[match.group(1)] = match.group(2)
        elif section == "Events":
            kind = stripped.split(",", 1)[0].strip()
            if kind in ("Video", "1"):
                video = True
            elif kind in ("Sprite", "Animation", "4", "6"):
                storyboard = True
    general = values.get("General", {})
    meta = values.get("Metadata", {})
    try:
        mode = int(general.get("Mode", "0"))
    except ValueError:
        mode = 0
    title = meta.get("Title", "")
    artist = meta.get("Artist", "")
    divisor = values.get("Editor", {}).get("BeatDivisor", "").strip()
    return OsuMetadata(
        format_version=fmt,
        mode=mode if 0 <= mode <= 3 else 0,
        title=title,
        title_unicode=meta.get("TitleUnicode") or title,
        artist=artist,
        artist_unicode=meta.get("ArtistUnicode") or artist,
        creator=meta.get("Creator", ""),
        version=meta.get("Version", ""),
        source=meta.get("Source", ""),
        tags=meta.get("Tags", ""),
        beatmap_id=_positive_id(meta.get("BeatmapID")),
        beatmapset_id=_positive_id(meta.get("BeatmapSetID")),
        has_video=video,
        has_storyboard=storyboard,
        # osu!'s editor offers 1-16; anything else in a file is a hand edit: the default.
        beat_divisor=int(divisor)
        if divisor.isascii() and divisor.isdigit() and 0 < int(divisor) <= 16
        else 4,
    )


def _safe_name(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return not (name.startswith(("/", "\\")) or ":" in parts[0] or ".." in parts or "\x00" in name)


class OszContents(msgspec.Struct, frozen=True):
    """The `.osu` files of an archive by entry name, plus whether it has a video or .osb."""

    osu_files: dict[str, bytes]
    has_video: bool
    has_storyboard_file: bool


def read_osz(data: bytes) -> OszContents:
    """The `.osu` entries of a `.osz`, refusing archives that could exhaust memory."""
    if len(data) > MAX_OSZ_BYTES:
        raise OszError(f"archive larger than {MAX_OSZ_BYTES >> 20} MiB")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise OszError(f"not a zip archive: {exc}") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_OSZ_ENTRIES:
            raise OszError(f"more than {MAX_OSZ_ENTRIES} entries")
        total = sum(info.file_size for info in entries)
        if total > MAX_OSZ_UNCOMPRESSED:
            raise OszError(f"uncompressed size over {MAX_OSZ_UNCOMPRESSED >> 20} MiB")
        osu_entries = [
            info for info in entries if info.filename.lower().endswith(".osu") and not info.is_dir()
        ]
        if len(osu_entries) > MAX_OSZ_OSU_FILES:
            raise OszError(f"more than {MAX_OSZ_OSU_FILES} .osu files")
        files: dict[str, bytes] = {}
        for info in osu_entries:
            if not _safe_name(info.filename):
                raise OszError(f"unsafe entry name {info.filename!r}")
            if info.file_size > MAX_OSU_BYTES:
                raise OszError(f"{info.filename}: .osu larger than {MAX_OSU_BYTES >> 20} MiB")
            if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                raise OszError(f"{info.filename}: suspicious compression ratio")
            try:
                with archive.open(info) as handle:
                    # Read one byte past the declared size: a lying header cannot inflate more.
                    content = handle.read(MAX_OSU_BYTES + 1)
            except (
                zipfile.BadZipFile,
                OSError,
                EOFError,
                RuntimeError,
                NotImplementedError,
            ) as exc:
                raise OszError(f"{info.filename}: unreadable entry: {exc}") from None
            if len(content) > MAX_OSU_BYTES:
                raise OszError(f"{info.filename}: .osu larger than {MAX_OSU_BYTES >> 20} MiB")
            files[info.filename.replace("\\", "/").rsplit("/", 1)[-1]] = content
        names = [info.filename.lower() for info in entries]
        return OszContents(
            osu_files=files,
            has_video=any(name.endswith(_VIDEO_EXTENSIONS) for name in names),
            has_storyboard_file=any(name.endswith(".osb") for name in names),
        )


_FILENAME_UNSAFE = re.compile(r'[\\/:*?"<>|]')


def beatmap_filename(artist: str, title: str, creator: str, version: str) -> str:
    """The `.osu` file name osu! gives a difficulty: `Artist - Title (Creator) [Version].osu`."""
    name = f"{artist} - {title} ({creator}) [{version}].osu"
    return _FILENAME_UNSAFE.sub("", name)
