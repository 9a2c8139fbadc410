"""Every request lazer fires right after sign-in, in order, answered from real tables."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from tests.helpers import SignedIn, lazer_multipart, sign_in, signup


async def test_lazer_login_burst(client: httpx.AsyncClient, player: SignedIn) -> None:
    """lazer-protocol.md §3.2 'Login burst': all succeed with typed, non-null bodies."""
    h = player.headers
    assert (await client.get("/api/v2/me/", headers=h)).status_code == 200
    for path in ("/api/v2/friends", "/api/v2/blocks"):
        response = await client.get(path, headers=h)
        assert response.status_code == 200 and response.json() == []
    favourites = await client.get("/api/v2/me/beatmapset-favourites", headers=h)
    assert favourites.json() == {"beatmapset_ids": []}
    for ruleset in ("osu", "taiko", "fruits", "mania"):
        response = await client.get(f"/api/v2/users/{player.id}/{ruleset}?key=id", headers=h)
        assert response.status_code == 200 and response.json()["id"] == player.id
    notifications = (await client.get("/api/v2/notifications", headers=h)).json()
    assert notifications["has_more"] is False and notifications["notifications"] == []
    assert notifications["notification_endpoint"] == "ws://testserver/notifications"
    updates = await client.get("/api/v2/chat/updates?since=0&includes[]=presence", headers=h)
    assert updates.status_code == 200
    # osu-web answers only the parts asked for; lazer asks for presence alone.
    assert updates.json() == {"presence": []}
    everything = (await client.get("/api/v2/chat/updates?since=0", headers=h)).json()
    assert everything == {"presence": [], "silences": [], "messages": []}
    body, headers = lazer_multipart({"since": "0"})
    ack = await client.post("/api/v2/chat/ack", content=body, headers={**h, **headers})
    assert ack.status_code == 200 and ack.json() == {"silences": []}
    channels = (await client.get("/api/v2/chat/channels", headers=h)).json()
    assert any(c["name"] == "#osu" and c["type"] == "PUBLIC" and c["users"] == [] for c in channels)
    backgrounds = (await client.get("/api/v2/seasonal-backgrounds", headers=h)).json()
    assert backgrounds["backgrounds"] == [] and backgrounds["ends_at"]


async def test_chat_ack_marks_the_user_online(client: httpx.AsyncClient, player: SignedIn) -> None:
    other = await signup(client)
    from tests.helpers import sign_in

    watcher = await sign_in(client, other)
    before = (await client.get(f"/api/v2/users/{player.id}", headers=watcher.headers)).json()
    assert before["is_online"] is False
    await client.post("/api/v2/chat/ack", headers=player.headers)
    after = (await client.get(f"/api/v2/users/{player.id}", headers=watcher.headers)).json()
    assert after["is_online"] is True


async def test_friends_and_blocks_round_trip(client: httpx.AsyncClient, player: SignedIn) -> None:
    friend, foe = await signup(client), await signup(client)
    h = player.headers
    added = await client.post(f"/api/v2/friends?target={friend.id}", headers=h)
    assert added.status_code == 200
    relation = added.json()["user_relation"]
    assert relation == {
        **relation,
        "target_id": friend.id,
        "relation_type": "friend",
        "mutual": False,
    }
    assert relation["target"]["username"] == friend.username

    from tests.helpers import sign_in

    friend_session = await sign_in(client, friend)
    back = await client.post(f"/api/v2/friends?target={player.id}", headers=friend_session.headers)
    assert back.json()["user_relation"]["mutual"] is True
    friends = (await client.get("/api/v2/friends", headers=h)).json()
    assert [(f["target_id"], f["mutual"]) for f in friends] == [(friend.id, True)]
    assert (await client.get(f"/api/v2/users/{player.id}", headers=h)).json()["follower_count"] == 1

    assert (await client.post(f"/api/v2/blocks?target={foe.id}", headers=h)).status_code == 200
    blocks = (await client.get("/api/v2/blocks/", headers=h)).json()
    assert [(b["target_id"], b["relation_type"]) for b in blocks] == [(foe.id, "block")]

    # Blocking a friend replaces the friendship, as in osu-web.
    await client.post(f"/api/v2/blocks?target={friend.id}", headers=h)
    assert (await client.get("/api/v2/friends", headers=h)).json() == []

    assert (await client.delete(f"/api/v2/blocks/{foe.id}", headers=h)).status_code == 204
    assert (await client.delete(f"/api/v2/blocks/{foe.id}", headers=h)).status_code == 404
    assert [b["target_id"] for b in (await client.get("/api/v2/blocks", headers=h)).json()] == [
        friend.id
    ]


async def test_relation_errors(client: httpx.AsyncClient, player: SignedIn) -> None:
    h = player.headers
    assert (await client.post(f"/api/v2/friends?target={player.id}", headers=h)).status_code == 422
    assert (await client.post("/api/v2/friends?target=987654321", headers=h)).status_code == 404
    assert (await client.post("/api/v2/friends?target=abc", headers=h)).status_code == 422
    assert (await client.post("/api/v2/friends", headers=h)).status_code == 422
    # A path id that is not one is not found (osu-web: firstOrFail).
    assert (await client.delete("/api/v2/friends/abc", headers=h)).status_code == 404


async def test_favourites_notifications_and_chat_come_from_the_tables(
    client: httpx.AsyncClient,
    player: SignedIn,
    services,  # type: ignore[no-untyped-def]
) -> None:
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    db = services.db
    for set_id in (1001, 1002):
        await db.execute_raw(
            "INSERT INTO beatmapset_favourites (user_id, beatmapset_id, created_at) VALUES (:u, :s, :t)",
            u=player.id,
            s=set_id,
            t=now,
        )
    favourites = (
        await client.get("/api/v2/me/beatmapset-favourites", headers=player.headers)
    ).json()
    assert sorted(favourites["beatmapset_ids"]) == [1001, 1002]
    me = (await client.get("/api/v2/me", headers=player.headers)).json()
    assert me["favourite_beatmapset_count"] == 2

    await services.db.execute_raw(
        "INSERT INTO notifications (user_id, name, object_type, object_id, source_user_id, details, is_read, created_at)"
        " VALUES (:u, 'user_achievement_unlock', 'user', :u, NULL, :d, 0, :t)",
        u=player.id,
        d='{"achievement_id": 1, "title": "first"}',
        t=now,
    )
    bundle = (await client.get("/api/v2/notifications", headers=player.headers)).json()
    assert bundle["unread_count"] == 1
    notification = bundle["notifications"][0]
    assert notification["name"] == "user_achievement_unlock"
    assert notification["object_id"] == str(player.id)
    assert notification["details"] == {"achievement_id": 1, "title": "first"}

    sender = await sign_in(client, await signup(client))
    channel_id = (await db.fetch_raw("SELECT id FROM chat_channels WHERE name = '#osu'"))[0]["id"]
    for member in (player, sender):
        joined = await client.put(
            f"/api/v2/chat/channels/{channel_id}/users/{member.id}", headers=member.headers
        )
        assert joined.status_code == 200, joined.text
    posted = await client.post(
        f"/api/v2/chat/channels/{channel_id}/messages",
        data={"message": "hello", "is_action": "false"},
        headers=sender.headers,
    )
    message_id = posted.json()["message_id"]
    from server.repositories.chat import ChatRepository

    silence_id = await ChatRepository(db).add_silence(
        user_id=sender.id, reason="spam", now=now, ends_at=now
    )
    updates = (
        await client.get("/api/v2/chat/updates?since=0&history_since=0", headers=player.headers)
    ).json()
    assert [c["channel_id"] for c in updates["presence"]] == [channel_id]
    assert updates["presence"][0]["last_message_id"] >= message_id
    assert updates["messages"] == []  # osu-web keeps the key for old clients, always empty
    page = (
        await client.get(f"/api/v2/chat/channels/{channel_id}/messages", headers=player.headers)
    ).json()
    message = next(m for m in page if m["message_id"] == message_id)
    keys = list(message)
    assert keys.index("sender_id") < keys.index("sender")
    assert message["sender"]["id"] == sender.id and message["content"] == "hello"
    assert {"id": silence_id, "user_id": sender.id} in updates["silences"]
    ack = (
        await client.post(
            "/api/v2/chat/ack", data={"history_since": str(silence_id - 1)}, headers=player.headers
        )
    ).json()
    assert {"id": silence_id, "user_id": sender.id} in ack["silences"]
