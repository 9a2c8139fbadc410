"""The data set the client sweep reads: several players, a map of each ruleset, scores with
and without mods (passes and a fail), a pinned score, friends and favourites.

Built once per session on the live server's own event loop: the maps go through the real
ingest, everything a player does goes over HTTP to the live server as lazer sends it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.helpers import LAZER_CLIENT_ID, LAZER_SECRET, Account, SignedIn, password_grant, signup
from tests.score_play import StoredMap, play, stored_map

RULESETS = ("osu", "taiko", "catch", "mania")
# The scopes a third-party client asks a user for (aiosu checks them in the token's claims).
USER_SCOPES = "public identify friends.read chat.read"


@dataclass
class SweepData:
    """What the sweep's clients read back, by name."""

    players: dict[str, SignedIn] = field(default_factory=dict)
    maps: dict[str, StoredMap] = field(default_factory=dict)
    scores: dict[str, int] = field(default_factory=dict)
    favourite_set: int = 0
    # In every sweep map's tags: a search for it finds exactly the four sets.
    search_tag: str = ""
    client_scoped_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)

    def account(self, name: str) -> Account:
        return self.players[name].account


async def _scoped_sign_in(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    response = await password_grant(client, account.username, account.password)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def build(services: Any, base_url: str) -> SweepData:
    """Store the maps, then play, pin, befriend and favourite over HTTP."""
    data = SweepData(search_tag=f"sweep{secrets.token_hex(4)}")
    for ruleset in RULESETS:
        data.maps[ruleset] = await stored_map(
            services, ruleset=ruleset, n_objects=30, tags=data.search_tag
        )
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for name, country in (("alice", "AU"), ("bob", "JP"), ("carol", "AU")):
            account = await signup(client)
            # Loopback registrations have no country; country rankings need one.
            await services.db.execute_raw(
                "UPDATE users SET country_code = :c WHERE id = :id", c=country, id=account.id
            )
            await services.users.forget(account.id)
            tokens = await _scoped_sign_in(client, account)
            data.players[name] = SignedIn(account, tokens["access_token"], tokens["refresh_token"])
            scoped = await client.post(
                "/oauth/token",
                data={
                    "grant_type": "password",
                    "client_id": LAZER_CLIENT_ID,
                    "client_secret": LAZER_SECRET,
                    "username": account.username,
                    "password": account.password,
                    "scope": USER_SCOPES,
                },
            )
            assert scoped.status_code == 200, scoped.text
            data.client_scoped_tokens[name] = scoped.json()
        alice, bob, carol = (data.players[n] for n in ("alice", "bob", "carol"))
        osu = data.maps["osu"]
        hd_dt = [{"acronym": "HD"}, {"acronym": "DT"}]
        data.scores["alice_osu_hddt"] = (
            await play(client, alice, osu, mods=hd_dt, oks=2, total_score_without_mods=800_000)
        )["id"]
        data.scores["bob_osu"] = (await play(client, bob, osu, misses=1))["id"]
        data.scores["carol_osu_hr"] = (
            await play(
                client, carol, osu, mods=[{"acronym": "HR"}], total_score_without_mods=700_000
            )
        )["id"]
        data.scores["alice_osu_fail"] = (
            await play(client, alice, osu, passed=False, misses=20, total_score_without_mods=50_000)
        )["id"]
        for ruleset in ("taiko", "catch", "mania"):
            beatmap = data.maps[ruleset]
            data.scores[f"alice_{ruleset}"] = (await play(client, alice, beatmap))["id"]
            data.scores[f"bob_{ruleset}_hd"] = (
                await play(client, bob, beatmap, mods=[{"acronym": "HD"}], oks=1)
            )["id"]
        pinned = await client.put(
            f"/api/v2/score-pins/{data.scores['alice_osu_hddt']}", headers=alice.headers
        )
        assert pinned.status_code == 204, pinned.text
        for friend in (bob, carol):
            added = await client.post(
                "/api/v2/friends", params={"target": friend.id}, headers=alice.headers
            )
            assert added.status_code == 200, added.text
        added = await client.post(
            "/api/v2/friends", params={"target": alice.id}, headers=bob.headers
        )
        assert added.status_code == 200, added.text
        data.favourite_set = osu.set_id
        favourited = await client.post(
            f"/api/v2/beatmapsets/{osu.set_id}/favourites",
            data={"action": "favourite"},
            headers=alice.headers,
        )
        assert favourited.status_code == 200, favourited.text
    return data
