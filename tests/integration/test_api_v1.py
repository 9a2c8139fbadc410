"""osu! API v1 over the real database and Redis: keys (issued once, stored as a hash, one per
user, revoked), and the seven endpoints' values as v1 sends them, from scores submitted
through the play loop."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import lzma
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from server.__main__ import main
from server.services.osr import ReplayFrame, ReplayScore, encode_osr
from tests.conftest import app_client, make_settings
from tests.helpers import SignedIn, sign_in, signup
from tests.score_play import play, stored_map

DATE_LAYOUT = "%Y-%m-%d %H:%M:%S"


async def make_key(client: httpx.AsyncClient, player: SignedIn) -> str:
    """A v1 key for the player, through our v2 route."""
    response = await client.post(
        "/api/v2/me/legacy-api-key",
        data={"legacy_api_key[app_name]": "tracker", "legacy_api_key[app_url]": "https://x.test"},
        headers=player.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"api_key", "app_name", "app_url"}
    return str(body["api_key"])


async def v1(client: httpx.AsyncClient, endpoint: str, key: str, **params: Any) -> httpx.Response:
    return await client.get(f"/api/{endpoint}", params={"k": key, **params})


def assert_all_strings(value: Any, nullable: frozenset[str] = frozenset()) -> None:
    """Every leaf a string (or null where v1 sends null)."""
    if isinstance(value, list):
        for item in value:
            assert_all_strings(item, nullable)
    elif isinstance(value, dict):
        for key, item in value.items():
            if item is None:
                assert key in nullable, key
            elif isinstance(item, (list, dict)):
                assert_all_strings(item, nullable)
            else:
                assert isinstance(item, str), (key, item)


async def test_keys_are_shown_once_stored_hashed_one_per_user_and_revocable(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    key = await make_key(client, player)
    assert len(key) == 40 and int(key, 16) >= 0
    row = await services.db.fetch_raw("SELECT * FROM api_keys WHERE user_id = :u", u=player.id)
    assert row[0]["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {str(v) for v in row[0].values()}
    # A second key while one exists: osu-web's form error.
    again = await client.post(
        "/api/v2/me/legacy-api-key",
        data={"app_name": "other", "app_url": "https://y.test"},
        headers=player.headers,
    )
    assert again.status_code == 422
    assert again.json()["form_error"]["legacy_api_key"]["base"] == [
        "Only one API key is provided per user for the moment."
    ]
    ok = await v1(client, "get_user", key, u=player.id)
    assert ok.status_code == 200 and ok.json()[0]["user_id"] == str(player.id)
    assert (
        await client.delete("/api/v2/me/legacy-api-key", headers=player.headers)
    ).status_code == 204
    revoked = await v1(client, "get_user", key, u=player.id)
    assert revoked.status_code == 401
    assert revoked.json() == {"error": "Please provide a valid API key."}
    # After revoking, a new key can be made, and it differs.
    assert await make_key(client, player) != key


async def test_key_fields_are_validated_and_need_a_signed_in_user(
    client: httpx.AsyncClient, player: SignedIn
) -> None:
    bad = await client.post(
        "/api/v2/me/legacy-api-key",
        data={"app_name": "", "app_url": "not a url"},
        headers=player.headers,
    )
    assert bad.status_code == 422
    errors = bad.json()["form_error"]["legacy_api_key"]
    assert errors == {
        "app_name": ["application name is required."],
        "app_url": ["Please enter a valid URL."],
    }
    anonymous = await client.post("/api/v2/me/legacy-api-key", data={"app_name": "x"})
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    "endpoint",
    ["get_beatmaps", "get_user", "get_scores", "get_user_best", "get_user_recent",
     "get_replay", "get_match"],
)  # fmt: skip
async def test_every_endpoint_wants_a_valid_key(client: httpx.AsyncClient, endpoint: str) -> None:
    for params in ({}, {"k": ""}, {"k": secrets.token_hex(20)}, {"k": "x' OR 1=1"}):
        response = await client.get(f"/api/{endpoint}", params={**params, "u": "1", "b": "1"})
        assert response.status_code == 401
        assert response.json() == {"error": "Please provide a valid API key."}


async def test_cli_creates_and_revokes_keys(
    client: httpx.AsyncClient,
    player: SignedIn,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    code = await asyncio.to_thread(
        main, ["api-key", "create", player.account.username, "--app-name", "cli",
               "--app-url", "https://cli.test"],
    )  # fmt: skip
    assert code == 0
    key = capsys.readouterr().out.strip().removeprefix("api_key: ")
    assert (await v1(client, "get_user", key, u=player.account.username)).status_code == 200
    code = await asyncio.to_thread(main, ["api-key", "revoke", str(player.id)])
    assert code == 0
    assert (await v1(client, "get_user", key, u=player.id)).status_code == 401


def settings_env(settings: Any) -> dict[str, str]:
    """The environment that gives a CLI run the test app's backends."""
    env = {"DATA_DIR": str(settings.data_dir), "SECRET_KEY": settings.secret_key}
    if not settings.embedded:
        env["DATABASE_URL"] = settings.database_url.replace("mysql+aiomysql://", "mysql://")
        env["REDIS_URL"] = settings.redis_url
    return env


async def test_beatmaps_scores_and_users_as_v1_sends_them(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    key = await make_key(client, player)
    beatmap = await stored_map(services, n_objects=30)
    hd = await play(client, player, beatmap, mods=[{"acronym": "HD"}], oks=2)
    nomod = await play(
        client, player, beatmap, total_score_without_mods=100_000, misses=1, combo=10
    )
    failed = await play(client, player, beatmap, passed=False, misses=5, rank="D")
    # The map's play counts land just after the answers: wait for them, so that the
    # responses compared below are taken after the same writes.
    await services.scores.beatmap_plays.drain()

    maps = (await v1(client, "get_beatmaps", key, b=beatmap.id)).json()
    assert len(maps) == 1
    shown = maps[0]
    assert_all_strings(shown, frozenset({"packs"}))
    assert shown["beatmap_id"] == str(beatmap.id) and shown["beatmapset_id"] == str(beatmap.set_id)
    assert shown["file_md5"] == beatmap.checksum and shown["mode"] == "0"
    assert shown["approved"] == "1" and shown["max_combo"] == str(beatmap.attrs.max_combo)
    assert float(shown["difficultyrating"]) == pytest.approx(beatmap.attrs.stars, abs=1e-4)
    assert float(shown["diff_aim"]) == pytest.approx(beatmap.attrs.aim, abs=1e-4)
    assert float(shown["diff_speed"]) == pytest.approx(beatmap.attrs.speed, abs=1e-4)
    datetime.strptime(shown["last_update"], DATE_LAYOUT)
    datetime.strptime(shown["approved_date"], DATE_LAYOUT)
    # The same map by checksum and by set; DT raises the star rating; taiko converts.
    assert (await v1(client, "get_beatmaps", key, h=beatmap.checksum)).json() == maps
    assert (await v1(client, "get_beatmaps", key, s=beatmap.set_id)).json() == maps
    dt = (await v1(client, "get_beatmaps", key, b=beatmap.id, mods=64)).json()[0]
    assert float(dt["difficultyrating"]) > float(shown["difficultyrating"])
    assert (await v1(client, "get_beatmaps", key, b=beatmap.id, m=1)).json() == []
    convert = (await v1(client, "get_beatmaps", key, b=beatmap.id, m=1, a=1)).json()
    assert [c["mode"] for c in convert] == ["1"] and convert[0]["diff_aim"] is None
    assert (await v1(client, "get_beatmaps", key, b=beatmap.id, since="2999-01-01")).json() == []

    board = (await v1(client, "get_scores", key, b=beatmap.id)).json()
    assert [s["score_id"] for s in board] == [str(hd["id"])]  # one best per user
    entry = board[0]
    assert_all_strings(entry)
    assert entry["enabled_mods"] == "8" and entry["username"] == player.account.username
    assert entry["count100"] == "2" and entry["countmiss"] == "0" and entry["perfect"] == "1"
    assert entry["rank"] == hd["rank"] and float(entry["pp"]) == pytest.approx(hd["pp"], abs=1e-3)
    assert entry["replay_available"] == "0"
    assert datetime.strptime(entry["date"], DATE_LAYOUT) == datetime.fromisoformat(
        hd["ended_at"].replace("Z", "+00:00")
    ).replace(tzinfo=None, microsecond=0)
    # Filtered by mods: the no-mod board holds the no-mod play; acronyms work as a bitmask.
    nm_board = (await v1(client, "get_scores", key, b=beatmap.id, mods=0)).json()
    assert [s["score_id"] for s in nm_board] == [str(nomod["id"])]
    assert nm_board[0]["countmiss"] == "1" and nm_board[0]["perfect"] == "0"
    assert (await v1(client, "get_scores", key, b=beatmap.id, mods="HD")).json() == board
    assert (await v1(client, "get_scores", key, b=beatmap.id, u=player.account.username,
                     type="string")).json() == board  # fmt: skip
    assert (await v1(client, "get_scores", key, b=beatmap.id, mods="HR")).json() == []

    best = (await v1(client, "get_user_best", key, u=player.id, type="id")).json()
    top = max((hd, nomod), key=lambda s: s["pp"])  # the user's pp best on the map
    assert [s["score_id"] for s in best] == [str(top["id"])]
    assert float(best[0]["pp"]) == pytest.approx(top["pp"], abs=1e-3)
    assert best[0]["beatmap_id"] == str(beatmap.id) and "username" not in best[0]
    recent = (await v1(client, "get_user_recent", key, u=player.id)).json()
    assert [s["score_id"] for s in recent] == [str(failed["id"]), str(nomod["id"]), str(hd["id"])]
    assert recent[0]["rank"] == "F" and "pp" not in recent[0]
    assert (await v1(client, "get_user_recent", key, u=player.id, limit=1)).json() == recent[:1]

    users = (await v1(client, "get_user", key, u=player.id)).json()
    assert len(users) == 1
    user = users[0]
    assert_all_strings(user)
    assert user["username"] == player.account.username
    (event,) = user["events"]  # the HD play's first place; the others were no new best
    assert event["beatmap_id"] == str(beatmap.id) and event["epicfactor"] == "4"
    assert "achieved <b>rank #1</b> on" in event["display_html"]
    profile = (await client.get(f"/api/v2/users/{player.id}/osu", headers=player.headers)).json()
    stats = profile["statistics"]
    assert user["playcount"] == str(stats["play_count"]) and user["country"] == "XX"
    assert user["ranked_score"] == str(stats["ranked_score"])
    assert user["total_score"] == str(stats["total_score"])
    assert float(user["accuracy"]) == pytest.approx(stats["hit_accuracy"], abs=1e-4)
    assert user["pp_rank"] == str(stats["global_rank"])
    assert int(float(user["level"])) == stats["level"]["current"]
    assert int(user["count300"]) > 0 and user["count100"] == "2"
    assert float(user["pp_raw"]) == pytest.approx(stats["pp"], abs=1e-4)
    assert (await v1(client, "get_user", key, u="nobody-" + secrets.token_hex(3))).json() == []
    assert (await v1(client, "get_user", key, u=player.id, m=3)).json()[0]["playcount"] == "0"


async def test_replays_come_as_the_lzma_frame_stream(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    key = await make_key(client, player)
    beatmap = await stored_map(services, n_objects=20)
    shaped = await play(client, player, beatmap)
    missing = await v1(client, "get_replay", key, s=shaped["id"])
    assert missing.status_code == 404 and missing.json() == {"error": "Replay not available."}
    frames = [ReplayFrame(float(t), 100.0 + t, 50.0, 1) for t in range(0, 50, 10)]
    header = ReplayScore(
        score_id=shaped["id"], ruleset_id=0, beatmap_md5=beatmap.checksum,
        username=player.account.username, statistics={"great": 20}, total_score=1,
        max_combo=1, perfect=True, mods=[], ended_at=datetime.now(UTC),
    )  # fmt: skip
    await services.replays.sink.save(shaped["id"], encode_osr(header, frames))
    await services.replays.stored(shaped["id"])
    for params in ({"s": shaped["id"]}, {"b": beatmap.id, "u": player.id, "m": 0}):
        response = await v1(client, "get_replay", key, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["encoding"] == "base64"
        text = lzma.decompress(base64.b64decode(body["content"])).decode()
        assert text.startswith("0|100|50|1,10|110|50|1,") and text.endswith("-12345|0|0|0")
    by_board = await v1(client, "get_scores", key, b=beatmap.id)
    assert by_board.json()[0]["replay_available"] == "1"
    # Another player's best is not there.
    assert (await v1(client, "get_replay", key, b=beatmap.id, u=1, type="id")).status_code == 404


async def test_unknown_match_and_bad_parameters(
    client: httpx.AsyncClient, player: SignedIn
) -> None:
    key = await make_key(client, player)
    match = await v1(client, "get_match", key, mp=123)
    assert match.status_code == 200 and match.json() == {"match": 0, "games": []}
    for endpoint, params in (
        ("get_match", {}),
        ("get_match", {"mp": "abc"}),
        ("get_user", {}),
        ("get_user", {"u": "1", "m": "7"}),
        ("get_scores", {}),
        ("get_scores", {"b": "1", "mods": "XYZ"}),
        ("get_beatmaps", {"since": "yesterday"}),
        ("get_beatmaps", {"h": "not-md5"}),
        ("get_beatmaps", {"limit": "many"}),
        ("get_replay", {"b": "1"}),
    ):
        response = await v1(client, endpoint, key, **params)
        assert response.status_code == 400, (endpoint, params, response.text)
        assert set(response.json()) == {"error"}
    # Limits are clamped, not refused.
    assert (await v1(client, "get_beatmaps", key, limit=0)).status_code == 200
    assert (await v1(client, "get_user_best", key, u=player.id, limit=1000)).status_code == 200


async def test_requests_are_rate_limited_per_key(
    app: Starlette, client: httpx.AsyncClient, data_dir: Path
) -> None:
    first_account, second_account = await signup(client), await signup(client)
    settings = make_settings(data_dir, API_RATE_LIMIT_PER_MINUTE="4")
    if time.time() % 60 > 54:  # the limit is per clock minute
        await asyncio.sleep(60 - time.time() % 60 + 0.05)
    ip = f"203.0.113.{secrets.randbelow(250) + 1}-{secrets.token_hex(3)}"
    async with app_client(settings, ip) as limited:
        first, second = (
            await sign_in(limited, first_account),
            await sign_in(limited, second_account),
        )
        first_key, second_key = await make_key(limited, first), await make_key(limited, second)
        statuses = [
            (await v1(limited, "get_user", first_key, u=first.id)).status_code for _ in range(5)
        ]
        # The first request of a key counts against the IP (a key is counted as itself once
        # seen valid, so made-up keys get no allowance); then four for the key.
        assert statuses == [200, 200, 200, 200, 200]
        refused = await v1(limited, "get_user", first_key, u=first.id)
        assert refused.status_code == 429
        assert refused.json() == {"error": "Requesting too fast! Slow your operation, cap'n!"}
        assert (await v1(limited, "get_user", second_key, u=second.id)).status_code == 200


async def test_the_key_never_reaches_the_access_log(
    client: httpx.AsyncClient, player: SignedIn, caplog: pytest.LogCaptureFixture
) -> None:
    key = await make_key(client, player)
    with caplog.at_level("INFO", logger="server.access"):
        assert (await v1(client, "get_user", key, u=player.id)).status_code == 200
    # The server's own lines (the test client's httpx logs its request URL, which is not ours).
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("server"))
    assert "/api/get_user?k=[redacted]" in ours
    assert key not in ours
