"""API v1's pure pieces: mods parameters, number and date renderings, the replay frame
stream, and get_match built from realtime room events."""

from __future__ import annotations

import lzma
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from server.models.v1 import V1Match
from server.services.legacy_api import (
    MatchItem,
    MatchRoom,
    MatchScore,
    RoomEvent,
    acronyms_of,
    match_from_events,
    parse_mods,
    v1_date,
    v1_number,
)
from server.services.osr import ReplayFrame, ReplayScore, encode_osr, frame_stream


@pytest.mark.parametrize(
    ("raw", "bits"),
    [
        ("0", 0), ("72", 72), ("NM", 0), ("HD", 8), ("HDDT", 72), ("hdhr", 24),
        ("HDNC", 8 | 64 | 512), ("PF", 16384 | 32), ("SV2", 1 << 29), ("V2", 1 << 29),
        ("4K", 32768), ("HD,HR", 24), ("HD+DT", 72),
    ],
)  # fmt: skip
def test_mods_parameter_takes_bitmasks_and_acronyms(raw: str, bits: int) -> None:
    assert parse_mods(raw) == bits


@pytest.mark.parametrize("raw", ["XYZ", "H", "HDX", "-1", "99999999999", "1.5"])
def test_mods_parameter_refuses_what_is_neither(raw: str) -> None:
    assert parse_mods(raw) is None


def test_bitmask_decodes_to_lazer_acronyms() -> None:
    assert acronyms_of(0) == []
    assert acronyms_of(576) == ["NC"]  # not NC and DT
    assert acronyms_of(16416 | 8) == ["HD", "PF"]
    assert acronyms_of(64 | 16) == ["DT", "HR"]


def test_numbers_and_dates_render_as_v1() -> None:
    assert v1_number(180.0) == "180" and v1_number(5) == "5"
    assert v1_number(5.2514812) == "5.25148" and v1_number(0.1) == "0.1"
    assert v1_number(True) == "1"
    assert v1_date(datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02 03:04:05"
    aware = datetime(2024, 1, 2, 12, 0, tzinfo=UTC) + timedelta(hours=0)
    assert v1_date(aware.astimezone()) == "2024-01-02 12:00:00"
    assert v1_date(None) is None


def test_frame_stream_is_the_lzma_block_of_the_osr() -> None:
    header = ReplayScore(
        score_id=7, ruleset_id=0, beatmap_md5="a" * 32, username="ünïcode name",
        statistics={"great": 3}, total_score=10, max_combo=3, perfect=True, mods=["HD"],
        ended_at=datetime(2024, 5, 1, tzinfo=UTC),
    )  # fmt: skip
    osr = encode_osr(header, [ReplayFrame(0.0, 1.0, 2.0, 0), ReplayFrame(16.0, 3.0, 4.0, 1)])
    text = lzma.decompress(frame_stream(osr)).decode()
    assert text == "0|1|2|0,16|3|4|1,-12345|0|0|0"
    with pytest.raises(ValueError):
        frame_stream(osr[:40])
    with pytest.raises(ValueError):
        frame_stream(b"\x00\x00\x00\x00\x00\x07")


def test_unknown_match_is_v1s_zero_match() -> None:
    built = match_from_events(None, [], {}, {})
    assert msgspec.json.decode(msgspec.json.encode(built)) == {"match": 0, "games": []}


def test_match_games_come_from_started_and_completed_events() -> None:
    t0 = datetime(2024, 3, 1, 10, 0)
    room = MatchRoom(id=55, name="OWC: (A) vs (B)", starts_at=t0, ends_at=None)
    items = {
        1: MatchItem(id=1, beatmap_id=100, ruleset_id=0, required_mods=["HD"]),
        2: MatchItem(id=2, beatmap_id=200, ruleset_id=3, required_mods=[], freestyle=True),
    }

    def score(user: int, at: int, mods: list[str], passed: bool = True) -> MatchScore:
        return MatchScore(
            user_id=user, total_score=1000 * user, max_combo=50,
            statistics={"great": 40, "ok": 2, "miss": 1}, maximum_statistics={"great": 43},
            mods=mods, passed=passed, ended_at=t0 + timedelta(minutes=at),
        )  # fmt: skip

    scores = {
        1: [score(1, 3, ["HD"]), score(2, 3, ["HD"], passed=False), score(1, 30, ["HD"])],
        2: [score(2, 12, ["HR"])],
    }
    events = [
        RoomEvent(id=1, event_type="room_created", created_at=t0),
        RoomEvent(
            id=2, event_type="game_started", created_at=t0 + timedelta(minutes=1),
            playlist_item_id=1,
            detail={"team_type": "team_versus", "teams": {"1": "red", "2": "blue"}},
        ),
        RoomEvent(id=3, event_type="game_completed", created_at=t0 + timedelta(minutes=4),
                  playlist_item_id=1),
        RoomEvent(id=4, event_type="game_started", created_at=t0 + timedelta(minutes=10),
                  playlist_item_id=2),
        RoomEvent(id=5, event_type="game_aborted", created_at=t0 + timedelta(minutes=13),
                  playlist_item_id=2),
        RoomEvent(id=6, event_type="game_started", created_at=t0 + timedelta(minutes=29),
                  playlist_item_id=1),
    ]  # fmt: skip
    built = msgspec.json.decode(msgspec.json.encode(match_from_events(room, events, items, scores)))
    assert built["match"] == {
        "match_id": "55", "name": "OWC: (A) vs (B)",
        "start_time": "2024-03-01 10:00:00", "end_time": None,
    }  # fmt: skip
    first, aborted, running = built["games"]
    assert first["game_id"] == "2" and first["beatmap_id"] == "100" and first["mods"] == "8"
    assert first["end_time"] == "2024-03-01 10:04:00" and first["team_type"] == "2"
    assert first["scoring_type"] == "3" and first["play_mode"] == "0"
    assert [(s["user_id"], s["team"], s["pass"], s["slot"]) for s in first["scores"]] == [
        ("1", "2", "1", "0"),
        ("2", "1", "0", "1"),
    ]
    one = first["scores"][0]
    assert (one["count300"], one["count100"], one["countmiss"], one["perfect"]) == (
        "40", "2", "1", "1",
    )  # fmt: skip
    assert one["enabled_mods"] == "0"  # not free mods: nothing of the player's own
    assert aborted["end_time"] is None and aborted["play_mode"] == "3"
    assert aborted["scores"][0]["enabled_mods"] == "16"  # free mods: the player's own
    assert running["end_time"] is None and [s["score"] for s in running["scores"]] == ["1000"]
    # The shape decodes back into the wire Struct.
    msgspec.json.decode(msgspec.json.encode(built), type=V1Match)
