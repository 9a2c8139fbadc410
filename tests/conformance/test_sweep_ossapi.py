"""ossapi 5.3.6 sweep: every route we serve that ossapi has a method for, parsed through its
typed models, on the sweep's data set, in the SoloScore format (ossapi's default
x-api-version 20241024) and in the legacy one (ossapi told to send 20220704).

ossapi methods whose routes we do not serve: beatmap_pack(s), beatmapset_discussion_*,
beatmapset_events, changelog_*, comment(s), download_score_mode, events, forum_*, match(es),
multiplayer_scores, news_*, room(s), room_leaderboard, score_mode, scores, search,
search_beatmaps_passed, send_announcement, send_pm, spotlights, tags, user_beatmaps,
user_kudosu, user_recent_activity, wiki_page. download_score is served but the sweep's plays
have no replay (tests/integration/test_replays.py covers it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ossapi import GameMode, Ossapi, RankingType, ScoreType  # type: ignore[import-untyped]
from ossapi.models import Score, User  # type: ignore[import-untyped]

from tests.conformance.live_server import LiveServer, ThirdPartyClient
from tests.conformance.sweep_data import SweepData
from tests.conformance.test_ossapi import bounded, ossapi_class
from tests.helpers import LAZER_CLIENT_ID, LAZER_SECRET

LEGACY_VERSION = 20220704


@pytest.fixture(autouse=True)
def _plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture(autouse=True)
def _osu_web_nullable_daily_challenge_dates(monkeypatch: pytest.MonkeyPatch) -> None:
    # As in test_ossapi: ossapi types these non-null, osu-web sends null (never played).
    from ossapi.models import DailyChallengeUserStats  # type: ignore[import-untyped]

    for name in ("last_update", "last_weekly_streak"):
        monkeypatch.setitem(DailyChallengeUserStats.__annotations__, name, "Datetime | None")


def _guest(
    live_server: LiveServer, client: ThirdPartyClient, tmp_path: Path, version: int
) -> Ossapi:
    return bounded(
        lambda: ossapi_class(live_server)(
            str(client.id), client.secret, token_directory=str(tmp_path), api_version=version
        )
    )


def _as_player(
    live_server: LiveServer, sweep: SweepData, name: str, tmp_path: Path, version: int = 20241024
) -> Ossapi:
    tokens = sweep.client_scoped_tokens[name]
    return bounded(
        lambda: ossapi_class(live_server)(
            LAZER_CLIENT_ID,
            LAZER_SECRET,
            redirect_uri="http://127.0.0.1:9/",
            scopes=["public", "identify", "friends.read"],
            grant="authorization",
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            token_directory=str(tmp_path / name),
            api_version=version,
        )
    )


@pytest.mark.parametrize("version", [20241024, LEGACY_VERSION])
def test_score_routes_parse_in_both_formats(
    live_server: LiveServer,
    third_party_client: ThirdPartyClient,
    sweep: SweepData,
    tmp_path: Path,
    version: int,
) -> None:
    # As a player: a client-credentials token does not read leaderboards here yet (the
    # scopes work of issue 10 part B); the viewer is carol.
    api = _as_player(live_server, sweep, "carol", tmp_path, version)
    alice, bob = sweep.account("alice"), sweep.account("bob")
    osu = sweep.maps["osu"]

    board = bounded(lambda: api.beatmap_scores(osu.id))
    on_board = {"bob_osu", "alice_osu_hddt", "carol_osu_hr"}
    assert {s.id for s in board.scores} == {sweep.scores[k] for k in on_board}
    assert all(isinstance(s, Score) for s in board.scores)
    totals = [s.score if version == LEGACY_VERSION else s.total_score for s in board.scores]
    assert totals == sorted(totals, reverse=True)
    hd_dt = next(s for s in board.scores if s.id == sweep.scores["alice_osu_hddt"])
    assert hd_dt._user.username == alice.username  # ossapi keeps the include as _user
    if version == LEGACY_VERSION:
        assert {m.short_name() for m in hd_dt.mods.decompose()} == {"HD", "DT"}
        assert hd_dt.statistics.count_100 == 2
    else:
        assert {m.acronym for m in hd_dt.mods} == {"HD", "DT"}
    assert (
        board.user_score is not None and board.user_score.score.id == sweep.scores["carol_osu_hr"]
    )

    mine = bounded(lambda: api.beatmap_user_score(osu.id, alice.id))
    assert mine.score.id == sweep.scores["alice_osu_hddt"]
    assert mine.position == 1 + [s.id for s in board.scores].index(mine.score.id)
    all_mine = bounded(lambda: api.beatmap_user_scores(osu.id, alice.id))
    assert [s.id for s in all_mine] == [sweep.scores["alice_osu_hddt"]]

    # ossapi's ScoreType has no `pinned` (it has no method for users/{id}/scores/pinned).
    for kind in (ScoreType.BEST, ScoreType.FIRSTS, ScoreType.RECENT):
        listed = bounded(
            lambda kind=kind: api.user_scores(alice.id, kind, include_fails=True, mode=GameMode.OSU)
        )
        assert all(s.user_id == alice.id for s in listed), kind
        if kind is ScoreType.RECENT:
            assert sweep.scores["alice_osu_fail"] in [s.id for s in listed]
        if kind is ScoreType.BEST:
            assert [s.id for s in listed] == [sweep.scores["alice_osu_hddt"]], kind
            assert listed[0].beatmap.id == osu.id and listed[0].beatmapset.id == osu.set_id
    for ruleset, mode in (
        ("taiko", GameMode.TAIKO),
        ("catch", GameMode.CATCH),
        ("mania", GameMode.MANIA),
    ):
        best = bounded(lambda mode=mode: api.user_scores(bob.id, ScoreType.BEST, mode=mode))
        assert [s.id for s in best] == [sweep.scores[f"bob_{ruleset}_hd"]]
        assert best[0].weight is not None

    if version != LEGACY_VERSION:
        # ossapi reads scores/{id} only in the new format (its legacy lookup is score_mode).
        shown = bounded(lambda: api.score(sweep.scores["carol_osu_hr"]))
        assert shown.rank_global == 1 + [s.id for s in board.scores].index(shown.id)
        assert shown.beatmap.id == osu.id


def test_user_routes_parse(
    live_server: LiveServer, third_party_client: ThirdPartyClient, sweep: SweepData, tmp_path: Path
) -> None:
    api = _guest(live_server, third_party_client, tmp_path, 20241024)
    alice = sweep.account("alice")
    user = bounded(lambda: api.user(alice.id, mode=GameMode.OSU))
    assert isinstance(user, User)
    statistics = user.statistics
    # The early fail is no play for play_count, but its hits count (HitStatisticsProcessor).
    assert statistics.play_count == 1
    assert statistics.count_100 == 2 and statistics.count_miss == 20 and statistics.count_300 > 0
    assert user.cover.url.startswith("https://osu.ppy.sh/images/headers/profile-covers/c")
    assert user.favourite_beatmapset_count == 1
    assert user.scores_pinned_count == 1
    taiko = bounded(lambda: api.user(alice.username, mode=GameMode.TAIKO))
    assert taiko.statistics.play_count == 1
    listed = bounded(lambda: api.users([p.id for p in sweep.players.values()]))
    assert sorted(u.id for u in listed) == sorted(p.id for p in sweep.players.values())
    looked_up = bounded(lambda: api.users_lookup([alice.id]))
    assert [u.username for u in looked_up] == [alice.username]


def test_own_routes_parse(live_server: LiveServer, sweep: SweepData, tmp_path: Path) -> None:
    api = _as_player(live_server, sweep, "alice", tmp_path)
    me = bounded(api.get_me)
    assert me.id == sweep.account("alice").id
    assert me.statistics_rulesets.mania.play_count == 1
    friends = bounded(api.friends)
    by_id = {r.target_id: r for r in friends}
    assert set(by_id) == {sweep.account("bob").id, sweep.account("carol").id}
    assert by_id[sweep.account("bob").id].mutual is True
    assert by_id[sweep.account("carol").id].mutual is False


def test_rankings_parse(
    live_server: LiveServer, third_party_client: ThirdPartyClient, sweep: SweepData, tmp_path: Path
) -> None:
    api = _guest(live_server, third_party_client, tmp_path, 20241024)
    performance = bounded(lambda: api.ranking(GameMode.MANIA, RankingType.PERFORMANCE))
    assert sweep.account("bob").id in [r.user.id for r in performance.ranking]
    score = bounded(lambda: api.ranking(GameMode.OSU, RankingType.SCORE))
    assert score.ranking and score.ranking[0].user is not None
    countries = bounded(lambda: api.ranking(GameMode.OSU, RankingType.COUNTRY))
    # ossapi reads country rows as UserStatistics (no `performance`): it parses, no more.
    assert countries.ranking


def test_beatmap_routes_parse_for_every_ruleset(
    live_server: LiveServer, third_party_client: ThirdPartyClient, sweep: SweepData, tmp_path: Path
) -> None:
    api = _guest(live_server, third_party_client, tmp_path, 20241024)
    for ruleset, beatmap in sweep.maps.items():
        model = bounded(lambda beatmap=beatmap: api.beatmap(beatmap.id))
        assert model.id == beatmap.id and model.mode.value == (
            "fruits" if ruleset == "catch" else ruleset
        )
        assert model.beatmapset().id == beatmap.set_id
        assert bounded(lambda beatmap=beatmap: api.beatmapset(beatmap.set_id)).id == beatmap.set_id
        attributes = bounded(lambda beatmap=beatmap: api.beatmap_attributes(beatmap.id))
        assert attributes.attributes.star_rating >= 0
    mania = bounded(lambda: api.beatmap(sweep.maps["mania"].id))
    assert mania.count_spinners == 0  # hold notes are sliders, as osu-web counts them
    listed = bounded(lambda: api.beatmaps([m.id for m in sweep.maps.values()]))
    assert len(listed) == 4
    backgrounds = bounded(api.seasonal_backgrounds)
    assert backgrounds.backgrounds == []
