"""Pure pieces of the beatmap store: `.osu` header reading, bounded `.osz` reading, the
content-addressed file store, and the beatmap settings."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from server.services import osu_files
from server.services.beatmap_files import ChecksumMismatch, LocalFileStore, md5_hex
from server.services.osu_files import OszError, beatmap_filename, read_osu_metadata, read_osz
from server.settings import SettingsError, load_settings
from tests.beatmap_data import make_osu, make_osz


def test_metadata_reads_ids_names_and_events() -> None:
    data = make_osu(
        "taiko", beatmap_id=12, beatmapset_id=34, title="T", artist="A", version="Oni", tags="x y"
    )
    data = data.replace(
        b"[Events]\n", b'[Events]\nVideo,0,"bg.mp4"\nSprite,Foreground,Centre,"a.png",320,240\n'
    )
    meta = read_osu_metadata(b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n"))
    assert (meta.beatmap_id, meta.beatmapset_id, meta.mode) == (12, 34, 1)
    assert (meta.title, meta.artist, meta.version, meta.tags) == ("T", "A", "Oni", "x y")
    assert meta.has_video and meta.has_storyboard and meta.format_version == 14


@pytest.mark.parametrize(
    "raw", [b"", b"garbage", b"osu file format v14\n[Metadata]\nBeatmapID:-1\n"]
)
def test_metadata_is_tolerant(raw: bytes) -> None:
    meta = read_osu_metadata(raw)
    assert meta.beatmap_id is None and meta.mode == 0 and meta.title == ""


@pytest.mark.parametrize(
    ("editor", "divisor"),
    [(b"BeatDivisor: 12", 12), (b"BeatDivisor:3", 3), (b"", 4), (b"BeatDivisor: 0", 4),
     (b"BeatDivisor: 99", 4), (b"BeatDivisor: x", 4), ("BeatDivisor: \u0663".encode(), 4)],
)  # fmt: skip
def test_metadata_reads_the_beat_divisor(editor: bytes, divisor: int) -> None:
    data = make_osu(beatmap_id=1, beatmapset_id=2).replace(
        b"[Metadata]", b"[Editor]\n" + editor + b"\n\n[Metadata]", 1
    )
    assert read_osu_metadata(data).beat_divisor == divisor


def test_osz_reads_only_osu_entries() -> None:
    archive = make_osz(
        {"a.osu": b"osu file format v14\n", "sub/b.osu": b"x"},
        {"song.mp3": b"\0", "v.mp4": b"\0", "s.osb": b""},
    )
    contents = read_osz(archive)
    assert set(contents.osu_files) == {"a.osu", "b.osu"}
    assert contents.has_video and contents.has_storyboard_file


def _zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("archive", "reason"),
    [
        (b"not a zip", "not a zip"),
        (_zip({"../evil.osu": b"x"}), "unsafe entry name"),
        (_zip({"/abs.osu": b"x"}), "unsafe entry name"),
        (_zip({"C:/win.osu": b"x"}), "unsafe entry name"),
        (
            _zip({"bomb.osu": b"\0" * (4 << 20)}),
            "compression ratio",
        ),  # 4 MiB of zeros: ~4 KiB zipped
    ],
)
def test_hostile_archives_are_refused(archive: bytes, reason: str) -> None:
    with pytest.raises(OszError, match=reason):
        read_osz(archive)


def test_archive_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(osu_files, "MAX_OSZ_ENTRIES", 3)
    with pytest.raises(OszError, match="entries"):
        read_osz(_zip({f"{i}.png": b"x" for i in range(4)}))
    monkeypatch.setattr(osu_files, "MAX_OSU_BYTES", 10)
    with pytest.raises(OszError, match="larger than"):
        read_osz(_zip({"big.osu": bytes(range(50))}, zipfile.ZIP_STORED))


def test_filename_is_osu_style_and_safe() -> None:
    assert (
        beatmap_filename("Soleily", "Renatus", "Gamu", "Insane")
        == "Soleily - Renatus (Gamu) [Insane].osu"
    )
    assert "/" not in beatmap_filename("AC/DC", 'a"b', "c:d", "e?f")


async def test_file_store_is_content_addressed_and_checked(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    data = b"osu file format v14\n"
    key = await store.put("osu", data)
    assert key == md5_hex(data) and await store.exists("osu", key)
    assert await store.put("osu", data, key.upper()) == key  # idempotent, either case
    assert await store.get("osu", key) == data
    with pytest.raises(ChecksumMismatch):
        await store.put("osu", data, "0" * 32)
    # A corrupted file is reported missing rather than served.
    (tmp_path / "osu" / key[:2] / key).write_bytes(b"tampered")
    assert await store.get("osu", key) is None
    with pytest.raises(ValueError):
        await store.get("osu", "../../etc/passwd")
    await store.delete("osu", key)
    assert not await store.exists("osu", key)
    assert not list((tmp_path / "osu").rglob(".tmp-*"))


def test_beatmap_settings(tmp_path: Path) -> None:
    base = {"DATA_DIR": str(tmp_path)}
    defaults = load_settings(base, env_file=None)
    assert defaults.upstream_api_url is None and defaults.beatmap_store_dir == tmp_path / "beatmaps"
    on = load_settings(
        {
            **base,
            "UPSTREAM_API_URL": "https://osu.example/api/v2/",
            "UPSTREAM_CLIENT_ID": "1",
            "UPSTREAM_CLIENT_SECRET": "s",
            "BEATMAP_FILE_MIRRORS": "https://a.example/osu/{id}, https://b.example/{id}",
            "LEADERBOARDS_FOR_ALL_STATUSES": "yes",
        },
        env_file=None,
    )
    assert on.upstream_api_url == "https://osu.example/api/v2"
    assert on.upstream_token_url == "https://osu.example/oauth/token"
    assert on.beatmap_file_mirrors == ("https://a.example/osu/{id}", "https://b.example/{id}")
    assert on.leaderboards_for_all_statuses
    for bad in (
        {"UPSTREAM_API_URL": "https://osu.example/api/v2"},  # no credentials
        {"BEATMAP_FILE_MIRRORS": "https://a.example/osu/"},  # no {id}
        {"BEATMAPSET_DOWNLOAD_MIRRORS": "ftp://a.example/{id}"},
        {"UPSTREAM_TIMEOUT_SECONDS": "0"},
        {"UPSTREAM_TIMEOUT_SECONDS": "soon"},
        {"UPSTREAM_RETRIES": "-1"},
    ):
        with pytest.raises(SettingsError):
            load_settings({**base, **bad}, env_file=None)
