"""Beatmap tags: the list is a table the operator fills (`tags import`, `define`, `sync`,
`list`), votes from players who set a score, and top_tag_ids / current_user_tag_ids on
beatmapset JSON. Every tag here is made by the test itself."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.__main__ import main
from server.models.tags import Tag
from server.settings import Settings
from tests.beatmap_data import fresh_id
from tests.fake_upstream import FakeUpstream
from tests.helpers import SignedIn, sign_in, signup
from tests.integration.test_api_v1 import settings_env
from tests.score_play import play, stored_map


async def listed(client: httpx.AsyncClient, viewer: SignedIn) -> dict[int, dict[str, Any]]:
    response = await client.get("/api/v2/tags", headers=viewer.headers)
    assert response.status_code == 200
    return {t["id"]: t for t in response.json()["tags"]}


async def cli(*args: str) -> int:
    return await asyncio.to_thread(main, list(args))


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)


async def test_no_tags_is_an_empty_list(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    await services.db.execute_raw("DELETE FROM beatmap_tags")
    response = await client.get("/api/v2/tags", headers=player.headers)
    assert response.status_code == 200 and response.json() == {"tags": []}
    assert (await client.get("/api/v2/tags")).status_code == 401


async def test_import_define_and_list_with_the_cli(
    client: httpx.AsyncClient,
    player: SignedIn,
    tmp_path: Path,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first, second = fresh_id(), fresh_id()
    tags = [
        {"id": first, "name": "style/clean", "ruleset_id": None, "description": "Tidy."},
        {"id": second, "name": "skillset/aim", "ruleset_id": 0, "description": "Jumps."},
    ]
    file = tmp_path / "tags.json"
    file.write_text(json.dumps({"tags": tags}))
    assert await cli("tags", "import", str(file)) == 0
    assert "defined 2 tags" in capsys.readouterr().out
    by_id = await listed(client, player)
    assert by_id[first] == tags[0] and by_id[second] == tags[1]

    # define replaces the tag with that id (name, ruleset, description) and adds new ones.
    assert await cli("tags", "define", str(second), "skillset/jumps", "--ruleset", "taiko",
                     "--description", "Big jumps.") == 0  # fmt: skip
    third = fresh_id()
    assert await cli("tags", "define", str(third), "meta/plain") == 0
    by_id = await listed(client, player)
    assert by_id[second] == {"id": second, "name": "skillset/jumps", "ruleset_id": 1,
                             "description": "Big jumps."}  # fmt: skip
    assert by_id[third] == {"id": third, "name": "meta/plain", "ruleset_id": None,
                            "description": ""}  # fmt: skip
    assert by_id[first] == tags[0]
    capsys.readouterr()
    assert await cli("tags", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"{first}\tstyle/clean\tall\tTidy." in lines
    assert f"{second}\tskillset/jumps\ttaiko\tBig jumps." in lines

    # Bad input changes nothing and says why.
    before = await listed(client, player)
    bad_files = {
        "not json": "{",
        "wrong shape": json.dumps([{"id": 1}]),
        "bad ruleset": json.dumps({"tags": [{**tags[0], "ruleset_id": 7}]}),
        "empty name": json.dumps({"tags": [{**tags[0], "name": ""}]}),
        "twice": json.dumps({"tags": [tags[0], {**tags[0], "name": "other"}]}),
    }
    for label, text in bad_files.items():
        file.write_text(text)
        assert await cli("tags", "import", str(file)) == 1, label
    assert "given twice" in capsys.readouterr().err
    assert await cli("tags", "import", str(tmp_path / "missing.json")) == 1
    assert await cli("tags", "define", "0", "zero") == 1
    assert await cli("tags", "define", str(fresh_id()), "") == 1
    assert await listed(client, player) == before


async def test_sync_stores_the_upstream_list(
    client: httpx.AsyncClient,
    player: SignedIn,
    services: Any,
    settings: Settings,
    fake: FakeUpstream,
    cli_env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kept = fresh_id()
    await services.tags.save([Tag(kept, "local/only", None, "Ours.")])
    renamed, added = fresh_id(), fresh_id()
    await services.tags.save([Tag(renamed, "old/name", None, "Old.")])
    assert await cli("tags", "sync") == 1  # no upstream configured
    assert "UPSTREAM_API_URL" in capsys.readouterr().err

    await services.redis.delete("beatmaps:upstream:token")  # another fake's token
    for name, value in {
        "UPSTREAM_API_URL": f"{fake.url}/api/v2",
        "UPSTREAM_CLIENT_ID": "17",
        "UPSTREAM_CLIENT_SECRET": "upstream-secret",
        "UPSTREAM_RETRIES": "0",
        "UPSTREAM_TIMEOUT_SECONDS": "2",
    }.items():
        monkeypatch.setenv(name, value)
    fake.tag_list = [
        {
            "id": renamed,
            "name": "new/name",
            "ruleset_id": 3,
            "description": "New.",
            "created_at": "2025-01-01T00:00:00Z",
        },
        {"id": added, "name": "upstream/added", "ruleset_id": None, "description": "Up."},
    ]
    try:
        fake.mode = "error"
        assert await cli("tags", "sync") == 1
        assert "failed" in capsys.readouterr().err
        fake.mode = "ok"
        hits = fake.hits["tags"]
        assert await cli("tags", "sync") == 0
        assert "stored 2 tags" in capsys.readouterr().out and fake.hits["tags"] == hits + 1
        by_id = await listed(client, player)
        assert by_id[renamed] == {"id": renamed, "name": "new/name", "ruleset_id": 3,
                                  "description": "New."}  # fmt: skip
        assert by_id[added]["name"] == "upstream/added" and by_id[added]["ruleset_id"] is None
        assert by_id[kept]["name"] == "local/only"  # tags upstream does not list stay

        # An upstream answer that does not fit the table stores nothing.
        fake.tag_list = [{"id": added, "name": "x", "ruleset_id": 9, "description": ""}]
        assert await cli("tags", "sync") == 1
        assert (await listed(client, player))[added]["name"] == "upstream/added"
    finally:
        fake.mode = "ok"
        await services.redis.delete("beatmaps:upstream:token")


async def test_votes_need_a_score_and_show_on_the_beatmapset(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    any_tag, osu_tag, taiko_tag, undefined = fresh_id(), fresh_id(), fresh_id(), fresh_id()
    await services.tags.save(
        [
            Tag(any_tag, "test/any", None, "Every ruleset."),
            Tag(osu_tag, "test/osu", 0, "osu! only."),
            Tag(taiko_tag, "test/taiko", 1, "taiko only."),
        ]
    )
    beatmap = await stored_map(services, n_objects=10)
    path = f"/api/v2/beatmaps/{beatmap.id}/tags"
    refused = await client.put(f"{path}/{osu_tag}", headers=player.headers)
    assert refused.status_code == 403
    assert refused.json() == {"error": "You must set a score on a beatmap to add a tag."}
    await play(client, player, beatmap)
    other = await sign_in(client, await signup(client))
    await play(client, other, beatmap, passed=False, misses=3)  # any score will do
    for voter, tag in ((player, osu_tag), (player, any_tag), (other, any_tag), (player, any_tag)):
        assert (await client.put(f"{path}/{tag}", headers=voter.headers)).status_code == 204
    wrong = await client.put(f"{path}/{taiko_tag}", headers=player.headers)
    assert wrong.status_code == 422 and wrong.json() == {
        "error": "This tag is not valid with this Beatmap."
    }
    unknown = await client.put(f"{path}/{undefined}", headers=player.headers)
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "No query results for model [App\\Models\\Tag]."}
    assert (await client.put(f"/api/v2/beatmaps/999999999/tags/{osu_tag}",
                             headers=player.headers)).status_code == 404  # fmt: skip
    assert (await client.put(f"{path}/x", headers=player.headers)).status_code == 422

    async def shown(viewer: SignedIn) -> dict[str, Any]:
        body = (await client.get(f"/api/v2/beatmapsets/{beatmap.set_id}",
                                 headers=viewer.headers)).json()  # fmt: skip
        return body["beatmaps"][0]  # type: ignore[no-any-return]

    mine = await shown(player)
    assert mine["top_tag_ids"] == [{"tag_id": any_tag, "count": 2}, {"tag_id": osu_tag, "count": 1}]
    assert mine["current_user_tag_ids"] == [any_tag, osu_tag]
    assert (await shown(other))["current_user_tag_ids"] == [any_tag]
    assert (await client.delete(f"{path}/{any_tag}", headers=player.headers)).status_code == 204
    assert (await client.delete(f"{path}/{any_tag}", headers=player.headers)).status_code == 204
    after = await shown(player)
    assert after["top_tag_ids"] == [
        {"tag_id": any_tag, "count": 1},
        {"tag_id": osu_tag, "count": 1},
    ]
    assert after["current_user_tag_ids"] == [osu_tag]
    assert (await client.put(f"{path}/{osu_tag}")).status_code == 401
