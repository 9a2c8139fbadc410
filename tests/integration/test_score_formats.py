"""The score format follows `x-api-version` as osu-web's ScoreTransformer does: with no
header, a non-numeric one, or one below 20220705 an API request reads the legacy format; at
or above it SoloScoreInfo. Every score route honours it, and a cached leaderboard never
answers one format with the other's page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import SignedIn, sign_in, signup
from tests.score_play import play, stored_map

SOLO_KEYS = {"total_score", "statistics", "maximum_statistics", "ruleset_id", "ended_at"}
LEGACY_KEYS = {"score", "mode", "mode_int", "created_at", "perfect", "best_id", "replay"}


def _headers(player: SignedIn, version: str | None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {player.access_token}"}
    if version is not None:
        headers["x-api-version"] = version
    return headers


def _is_legacy(score: dict[str, Any]) -> bool:
    if score.keys() >= LEGACY_KEYS and "count_300" in score["statistics"]:
        assert not ({"total_score", "ruleset_id", "ended_at"} & score.keys())
        assert all(isinstance(m, str) for m in score["mods"])
        return True
    assert score.keys() >= SOLO_KEYS and "mode" not in score and "score" not in score
    assert all(isinstance(m, dict) for m in score["mods"])
    return False


@pytest.fixture
async def played(client: httpx.AsyncClient, services: Any) -> dict[str, Any]:
    beatmap = await stored_map(services, ruleset="mania")
    player = await sign_in(client, await signup(client))
    score = await play(client, player, beatmap, mods=[{"acronym": "HD"}], oks=2, misses=1)
    # Submission answers in SoloScoreInfo whatever the header (osu-web's store uses newSolo).
    assert not _is_legacy(score)
    return {"beatmap": beatmap, "player": player, "score": score}


@pytest.mark.parametrize(
    ("version", "legacy"),
    [
        (None, True),
        ("", True),
        ("abc", True),
        ("20220704", True),
        ("20220705", False),
        ("20251101", False),
    ],
)
async def test_every_score_route_follows_the_header(
    client: httpx.AsyncClient, played: dict[str, Any], version: str | None, legacy: bool
) -> None:
    beatmap, player, score = played["beatmap"], played["player"], played["score"]
    headers = _headers(player, version)
    api = "/api/v2"
    board = (await client.get(f"{api}/beatmaps/{beatmap.id}/scores", headers=headers)).json()
    scores = [
        *board["scores"],
        board["user_score"]["score"],
        (await client.get(f"{api}/scores/{score['id']}", headers=headers)).json(),
        (
            await client.get(
                f"{api}/beatmaps/{beatmap.id}/scores/users/{player.id}", headers=headers
            )
        ).json()["score"],
        *(
            await client.get(
                f"{api}/beatmaps/{beatmap.id}/scores/users/{player.id}/all", headers=headers
            )
        ).json()["scores"],
    ]
    for kind in ("best", "recent", "firsts", "pinned"):
        if kind == "pinned":
            pin = await client.put(f"{api}/score-pins/{score['id']}", headers=player.headers)
            assert pin.status_code == 204
        listed = await client.get(
            f"{api}/users/{player.id}/scores/{kind}?mode=mania", headers=headers
        )
        assert listed.status_code == 200, listed.text
        scores += listed.json()
    assert len(scores) == 9
    assert {s["id"] for s in scores} == {score["id"]}
    assert [_is_legacy(s) for s in scores] == [legacy] * 9


async def test_legacy_fields_carry_osu_web_values(
    client: httpx.AsyncClient, played: dict[str, Any]
) -> None:
    beatmap, player, solo = played["beatmap"], played["player"], played["score"]
    response = await client.get(f"/api/v2/scores/{solo['id']}", headers=_headers(player, None))
    legacy = response.json()
    assert legacy["mode"] == "mania" and legacy["mode_int"] == 3
    assert legacy["mods"] == ["HD"]
    assert legacy["score"] == solo["total_score"]
    assert legacy["created_at"] == solo["ended_at"]
    assert legacy["accuracy"] == solo["accuracy"]
    # mania keeps perfect as geki and good as katu (osu-web makeLegacyEntry).
    statistics = solo["statistics"]
    assert legacy["statistics"] == {
        "count_100": statistics.get("ok", 0),
        "count_300": statistics.get("great", 0),
        "count_50": statistics.get("meh", 0),
        "count_geki": statistics.get("perfect", 0),
        "count_katu": statistics.get("good", 0),
        "count_miss": statistics.get("miss", 0),
    }
    assert legacy["perfect"] is False  # a miss
    assert legacy["type"] == "solo_score" and legacy["best_id"] is None
    assert legacy["beatmap"]["id"] == beatmap.id
    assert legacy["beatmapset"]["id"] == beatmap.set_id
    assert legacy["user"]["cover"]["url"].startswith("https://osu.ppy.sh/")
    assert "rank_global" in legacy and "rank_country" in legacy
    # SoloScoreInfo's classic total follows lazer's conversion (mania: the standardised one).
    assert solo["classic_total_score"] == solo["total_score"]


async def test_cached_boards_keep_the_formats_apart(
    client: httpx.AsyncClient, played: dict[str, Any]
) -> None:
    """Both formats of one board alternate through the near cache and Redis' page cache."""
    beatmap, player = played["beatmap"], played["player"]
    url = f"/api/v2/beatmaps/{played['beatmap'].id}/scores"
    for _ in range(3):
        for version, legacy in ((None, True), ("20251101", False), ("1", True)):
            board = (await client.get(url, headers=_headers(player, version))).json()
            assert [_is_legacy(s) for s in board["scores"]] == [legacy]
            assert _is_legacy(board["user_score"]["score"]) is legacy
            assert board["score_count"] == 1
    assert beatmap.id


async def test_leaderboard_parameters_keep_their_status_codes(
    client: httpx.AsyncClient, played: dict[str, Any]
) -> None:
    """The memoised query parsing still refuses bad filters every time, and an unknown
    beatmap is a 404 whatever the query."""
    beatmap, player = played["beatmap"], played["player"]
    url = f"/api/v2/beatmaps/{beatmap.id}/scores"
    for _ in range(2):
        for query, status in (
            ("type=everyone", 422),
            ("mode=chess", 422),
            ("type=country&mode=mania&mods[]=HD", 200),
            ("limit=1", 200),
        ):
            response = await client.get(f"{url}?{query}", headers=player.headers)
            assert response.status_code == status, (query, response.text)
            if status == 422:
                assert "error" in response.json()
    missing = await client.get("/api/v2/beatmaps/2000000001/scores", headers=player.headers)
    assert missing.status_code == 404
    long_query = "limit=1&" + "&".join(f"x{i}=y" for i in range(80))
    response = await client.get(f"{url}?{long_query}", headers=player.headers)
    assert response.status_code == 200 and len(response.json()["scores"]) == 1
