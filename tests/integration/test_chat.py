"""Chat over REST with osu-web's rules, and its events on the notification socket
(official-coverage.md WP1; osu-web Chat/*, Libraries/Chat.php, Models/Chat/Channel.php)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from tests.conftest import app_client, make_settings
from tests.helpers import SignedIn, lazer_multipart, sign_in, signup
from tests.integration.chat_steps import ChatSocket, channel_id, join, post


async def _user(client: httpx.AsyncClient) -> SignedIn:
    return await sign_in(client, await signup(client))


async def _set_user(services: Any, user: SignedIn, column: str, value: int) -> None:
    assert column in ("is_restricted", "pm_friends_only", "is_admin")
    await services.db.execute_raw(
        f"UPDATE users SET {column} = :v WHERE id = :u", v=value, u=user.id
    )
    await services.users.forget(user.id)


async def test_a_member_hears_a_public_message_exactly_once(
    app: Starlette, client: httpx.AsyncClient, services: Any
) -> None:
    a, b = await _user(client), await _user(client)
    osu = await channel_id(services, "#osu")
    joined = await join(client, a, osu)
    assert joined.status_code == 200, joined.text
    channel = joined.json()
    assert channel["channel_id"] == osu and channel["users"] == []
    assert channel["current_user_attributes"]["can_message"] is True
    assert (await join(client, b, osu)).status_code == 200
    listener = await ChatSocket(app, a).open()
    try:
        sent = await post(client, b, osu, "  hello\r\nworld  ", uuid="local-echo-1")
        assert sent.status_code == 200, sent.text
        message = sent.json()
        assert message["content"] == "hello  world"  # trimmed, CR and LF become spaces
        assert message["uuid"] == "local-echo-1" and message["sender"]["id"] == b.id
        keys = list(message)
        assert keys.index("sender_id") < keys.index("sender")
        events = await listener.drain(0.5)
        heard = [e for e in events if e["event"] == "chat.message.new"]
        assert len(heard) == 1
        data = heard[0]["data"]
        assert [m["message_id"] for m in data["messages"]] == [message["message_id"]]
        assert [u["id"] for u in data["users"]] == [b.id]
    finally:
        await listener.close()
    # last_read_id moved on send for the sender, not for the listener.
    presence = (await client.get("/api/v2/chat/presence", headers=b.headers)).json()
    mine = next(c for c in presence if c["channel_id"] == osu)
    assert mine["last_read_id"] == message["message_id"] == mine["last_message_id"]


async def test_no_events_before_chat_start_and_none_for_non_members(
    app: Starlette, client: httpx.AsyncClient, services: Any
) -> None:
    a, b, outsider = await _user(client), await _user(client), await _user(client)
    lobby = await channel_id(services, "#lobby")
    for user in (a, b):
        assert (await join(client, user, lobby)).status_code == 200
    listener = await ChatSocket(app, outsider).open()
    try:
        assert (await post(client, b, lobby, "not for outsiders")).status_code == 200
        assert await listener.drain(0.4) == []
    finally:
        await listener.close()


async def test_message_ids_increase_across_channels_and_mark_as_read_never_moves_back(
    client: httpx.AsyncClient, services: Any
) -> None:
    a = await _user(client)
    osu, lobby = await channel_id(services, "#osu"), await channel_id(services, "#lobby")
    for channel in (osu, lobby):
        await join(client, a, channel)
    ids = [
        (await post(client, a, channel, f"m{i}")).json()["message_id"]
        for i, channel in enumerate([osu, lobby, osu, lobby])
    ]
    assert ids == sorted(ids) and len(set(ids)) == 4
    mark = f"/api/v2/chat/channels/{osu}/mark-as-read"
    assert (await client.put(f"{mark}/{ids[2]}", headers=a.headers)).status_code == 204
    assert (await client.put(f"{mark}/{ids[0]}", headers=a.headers)).status_code == 204
    presence = (await client.get("/api/v2/chat/presence", headers=a.headers)).json()
    assert next(c for c in presence if c["channel_id"] == osu)["last_read_id"] == ids[2]
    stranger = await _user(client)
    assert (await client.put(f"{mark}/{ids[2]}", headers=stranger.headers)).status_code == 404


async def test_length_limit_and_blank_messages(client: httpx.AsyncClient, services: Any) -> None:
    a = await _user(client)
    osu = await channel_id(services, "#osu")
    await join(client, a, osu)
    assert (await post(client, a, osu, "x" * 450)).status_code == 200
    too_long = await post(client, a, osu, "x" * 451)
    assert too_long.status_code == 422
    assert too_long.json() == {"error": "The message you are trying to send is too long."}
    # Trimmed first: 450 characters plus surrounding spaces still fit.
    assert (await post(client, a, osu, "  " + "y" * 450 + "\n")).status_code == 200
    for blank in ("", "   ", "\r\n"):
        refused = await post(client, a, osu, blank)
        assert refused.status_code == 422
        assert refused.json() == {"error": "Cannot send blank message."}


async def test_send_window_is_per_user_and_separate_for_pms(
    app: Starlette, client: httpx.AsyncClient, data_dir: Path, services: Any
) -> None:
    settings = make_settings(
        data_dir, CHAT_PUBLIC_LIMIT="2", CHAT_PUBLIC_WINDOW="60", CHAT_PRIVATE_LIMIT="1"
    )
    async with app_client(settings, "198.51.100.40") as other:
        a, b = await _user(other), await _user(other)
        osu = await channel_id(services, "#osu")
        for user in (a, b):
            await join(other, user, osu)
        assert (await post(other, a, osu, "one")).status_code == 200
        assert (await post(other, a, osu, "two")).status_code == 200
        third = await post(other, a, osu, "three")
        assert third.status_code == 429
        assert third.json() == {
            "error": "You are sending messages too quickly, please wait a bit before trying again."
        }
        assert (await post(other, b, osu, "b is not limited by a")).status_code == 200
        pm = await other.post(
            "/api/v2/chat/new", data={"target_id": str(b.id), "message": "hi"}, headers=a.headers
        )
        assert pm.status_code == 200, pm.text
        again = await other.post(
            "/api/v2/chat/new", data={"target_id": str(b.id), "message": "hi"}, headers=a.headers
        )
        assert again.status_code == 429


async def test_pm_round_trip_through_chat_new_and_the_channel(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    a, b = await _user(client), await _user(client)
    b_socket = await ChatSocket(app, b).open()
    a_socket = await ChatSocket(app, a).open()
    try:
        body, headers = lazer_multipart(
            {"target_id": str(b.id), "message": "hello b", "is_action": "false", "uuid": "u-1"}
        )
        created = await client.post(
            "/api/v2/chat/new", content=body, headers={**a.headers, **headers}
        )
        assert created.status_code == 200, created.text
        answer = created.json()
        assert set(answer) == {"channel", "message", "new_channel_id"}
        pm = answer["new_channel_id"]
        assert answer["channel"]["channel_id"] == pm and answer["channel"]["type"] == "PM"
        assert answer["channel"]["name"] == b.account.username
        assert sorted(answer["channel"]["users"]) == sorted([a.id, b.id])
        assert answer["message"]["uuid"] == "u-1" and answer["message"]["content"] == "hello b"

        # Server-side join (the PM was created) then the message, on B's socket.
        joined = await b_socket.wait_for("chat.channel.join")
        assert joined["data"]["channel_id"] == pm and joined["data"]["name"] == a.account.username
        heard = await b_socket.wait_for("chat.message.new")
        assert heard["data"]["messages"][0]["message_id"] == answer["message"]["message_id"]

        reply = await post(client, b, pm, "hello a")
        assert reply.status_code == 200, reply.text
        back = await a_socket.wait_for_message("hello a")
        # the sender hears its own message too (osu-web sends to every member)
        assert "hello b" in [m["content"] for m in a_socket.events[-2]["data"]["messages"]]
        assert [u["id"] for u in back["data"]["users"]] == [b.id]

        shown = (await client.get(f"/api/v2/chat/channels/{pm}", headers=a.headers)).json()
        assert shown["channel"]["channel_id"] == pm
        assert sorted(u["id"] for u in shown["users"]) == sorted([a.id, b.id])
        messages = (
            await client.get(f"/api/v2/chat/channels/{pm}/messages", headers=a.headers)
        ).json()
        assert [m["content"] for m in messages] == ["hello b", "hello a"]
    finally:
        await a_socket.close()
        await b_socket.close()


async def test_create_channel_request_unsaved_then_existing(client: httpx.AsyncClient) -> None:
    """lazer's CreateChannelRequest: type=PM&target_id, multipart."""
    a, b = await _user(client), await _user(client)
    body, headers = lazer_multipart({"type": "PM", "target_id": str(b.id)})
    first = await client.post(
        "/api/v2/chat/channels", content=body, headers={**a.headers, **headers}
    )
    assert first.status_code == 200, first.text
    assert first.json()["channel_id"] is None and first.json()["recent_messages"] == []
    sent = await client.post(
        "/api/v2/chat/new", data={"target_id": str(b.id), "message": "first"}, headers=a.headers
    )
    pm = sent.json()["new_channel_id"]
    second = await client.post(
        "/api/v2/chat/channels", content=body, headers={**a.headers, **headers}
    )
    assert second.json()["channel_id"] == pm
    assert [m["content"] for m in second.json()["recent_messages"]] == ["first"]
    assert second.json()["recent_messages"][0]["sender"]["id"] == a.id
    missing = await client.post("/api/v2/chat/channels", data={"type": "PM"}, headers=a.headers)
    assert missing.status_code == 422
    assert missing.json() == {"error": "missing target_id parameter"}
    unknown = await client.post(
        "/api/v2/chat/channels", data={"type": "NOPE", "target_id": "2"}, headers=a.headers
    )
    assert unknown.status_code == 422


async def test_pm_refusals(client: httpx.AsyncClient, services: Any) -> None:
    a, b = await _user(client), await _user(client)

    async def pm(sender: SignedIn, target: int) -> httpx.Response:
        return await client.post(
            "/api/v2/chat/new",
            data={"target_id": str(target), "message": "hi"},
            headers=sender.headers,
        )

    self_pm = await pm(a, a.id)
    assert self_pm.status_code == 422 and self_pm.json() == {
        "error": "can't send message to same user"
    }
    assert (await pm(a, 999_999_999)).status_code == 422

    # A block either way.
    assert (
        await client.post(f"/api/v2/blocks?target={b.id}", headers=b.headers)
    ).status_code == 422
    assert (
        await client.post(f"/api/v2/blocks?target={a.id}", headers=b.headers)
    ).status_code == 200
    blocked = "Cannot message a user that is blocking you or that you have blocked."
    for sender, target in ((a, b), (b, a)):
        refused = await pm(sender, target.id)
        assert refused.status_code == 403 and refused.json() == {"error": blocked}
    assert (await client.delete(f"/api/v2/blocks/{a.id}", headers=b.headers)).status_code in (
        200,
        204,
    )

    # A friends-only target: refused until the target befriends the sender.
    await _set_user(services, b, "pm_friends_only", 1)
    refused = await pm(a, b.id)
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "User is blocking messages from people not on their friends list."
    }
    await client.post(f"/api/v2/friends?target={a.id}", headers=b.headers)
    assert (await pm(a, b.id)).status_code == 200

    # A restricted target does not exist (404), through chat/new and POST chat/channels.
    c = await _user(client)
    await _set_user(services, c, "is_restricted", 1)
    gone = await pm(a, c.id)
    assert gone.status_code == 404 and gone.json() == {"error": "target user not found"}
    start = await client.post(
        "/api/v2/chat/channels", data={"type": "PM", "target_id": str(c.id)}, headers=a.headers
    )
    assert start.status_code == 404


async def test_restricted_partner_hides_an_existing_pm(
    client: httpx.AsyncClient, services: Any
) -> None:
    a, b = await _user(client), await _user(client)
    sent = await client.post(
        "/api/v2/chat/new", data={"target_id": str(b.id), "message": "hi"}, headers=a.headers
    )
    pm = sent.json()["new_channel_id"]
    await _set_user(services, b, "is_restricted", 1)
    assert (await post(client, a, pm, "still there?")).status_code == 404
    listed = await client.get(f"/api/v2/chat/channels/{pm}/messages", headers=a.headers)
    assert listed.status_code == 404
    # b, restricted, cannot send at all (its partner exists, so the clean-record rule says so)
    restricted = {"error": "You cannot send messages while silenced, restricted or banned."}
    refused = await post(client, b, pm, "let me out")
    assert refused.status_code == 403 and refused.json() == restricted
    osu = await channel_id(services, "#osu")
    await join(client, b, osu)
    public = await post(client, b, osu, "hello")
    assert public.status_code == 403 and public.json() == restricted


async def test_silenced_sender_is_refused(client: httpx.AsyncClient, services: Any) -> None:
    a = await _user(client)
    osu = await channel_id(services, "#osu")
    await join(client, a, osu)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    await services.db.execute_raw(
        "INSERT INTO chat_silences (user_id, reason, created_at, ends_at) VALUES (:u, 'x', :n, :e)",
        u=a.id,
        n=now,
        e=now + timedelta(hours=1),
    )
    refused = await post(client, a, osu, "hello?")
    assert refused.status_code == 403
    channel = (await client.get(f"/api/v2/chat/channels/{osu}", headers=a.headers)).json()
    assert channel["channel"]["current_user_attributes"]["can_message"] is False


async def test_paging_with_since_and_until(client: httpx.AsyncClient, services: Any) -> None:
    a = await _user(client)
    name = f"#page{a.id}"
    created = await services.chat.add_public_channel(name, "paging", False)
    await join(client, a, created.id)
    ids = [(await post(client, a, created.id, f"n{i}")).json()["message_id"] for i in range(200)]
    url = f"/api/v2/chat/channels/{created.id}/messages"
    newest = (await client.get(url, headers=a.headers)).json()
    assert [m["message_id"] for m in newest] == ids[-50:]
    seen: list[int] = []
    until: int | None = None
    while True:
        query = f"?limit=50&until={until}" if until else "?limit=50"
        page = (await client.get(url + query, headers=a.headers)).json()
        if not page:
            break
        seen = [m["message_id"] for m in page] + seen
        until = page[0]["message_id"]
    assert seen == ids
    forward: list[int] = []
    since = 0
    while True:
        page = (await client.get(f"{url}?since={since}&limit=30", headers=a.headers)).json()
        if not page:
            break
        forward += [m["message_id"] for m in page]
        since = page[-1]["message_id"]
    assert forward == ids
    clamped = (await client.get(f"{url}?limit=500", headers=a.headers)).json()
    assert len(clamped) == 50
    outsider = await _user(client)
    assert (await client.get(url, headers=outsider.headers)).status_code == 404


async def test_join_and_part_rules_and_events(
    app: Starlette, client: httpx.AsyncClient, services: Any
) -> None:
    a, b = await _user(client), await _user(client)
    osu = await channel_id(services, "#osu")
    assert (
        await client.put(f"/api/v2/chat/channels/{osu}/users/{b.id}", headers=a.headers)
    ).status_code == 403
    assert (
        await client.put(f"/api/v2/chat/channels/999999/users/{a.id}", headers=a.headers)
    ).status_code == 404
    room = await services.chat.create_room_channel(4242 + a.id, "a room")
    refused = await join(client, a, room)
    assert refused.status_code == 403
    assert refused.json() == {"error": "You do not have access to that channel."}

    socket = await ChatSocket(app, a).open()
    try:
        # Server-side joins (the multiplayer room API) reach the user.
        assert await services.chat.add_member(room, a.id) is True
        assert await services.chat.add_member(room, a.id) is False
        joined = await socket.wait_for("chat.channel.join")
        assert joined["data"]["channel_id"] == room and joined["data"]["type"] == "MULTIPLAYER"
        assert await services.chat.remove_member(room, a.id) is True
        parted = await socket.wait_for("chat.channel.part")
        assert parted["data"]["channel_id"] == room

        assert (await join(client, a, osu)).status_code == 200
        await socket.wait_for("chat.channel.join")
        part = await client.delete(f"/api/v2/chat/channels/{osu}/users/{a.id}", headers=a.headers)
        assert part.status_code == 204
        await socket.wait_for("chat.channel.part")
    finally:
        await socket.close()
    assert (await post(client, a, osu, "gone")).status_code == 403
    listed = await client.get(f"/api/v2/chat/channels/{osu}/messages", headers=a.headers)
    assert listed.status_code == 404


async def test_moderated_channel_is_read_only_but_for_moderators(
    client: httpx.AsyncClient, services: Any
) -> None:
    a, admin = await _user(client), await _user(client)
    await _set_user(services, admin, "is_admin", 1)
    announce = await channel_id(services, "#announce")
    for user in (a, admin):
        assert (await join(client, user, announce)).status_code == 200
    shown = (await client.get(f"/api/v2/chat/channels/{announce}", headers=a.headers)).json()
    attributes = shown["channel"]["current_user_attributes"]
    assert shown["channel"]["moderated"] is True and attributes["can_message"] is False
    assert attributes["can_message_error"] == "This channel is currently moderated."
    refused = await post(client, a, announce, "hello")
    assert refused.status_code == 403
    assert refused.json() == {"error": "This channel is currently moderated."}
    assert (await post(client, admin, announce, "maintenance at noon")).status_code == 200


async def test_updates_needs_since_and_answers_what_is_included(
    client: httpx.AsyncClient,
) -> None:
    a = await _user(client)
    missing = await client.get("/api/v2/chat/updates", headers=a.headers)
    assert missing.status_code == 422
    only = await client.get(
        "/api/v2/chat/updates?since=0&includes[]=presence&includes[]=silences", headers=a.headers
    )
    assert set(only.json()) == {"presence", "silences"}


async def test_bot_answers_in_pms_and_only_the_asker_sees_public_commands(
    client: httpx.AsyncClient, services: Any
) -> None:
    bot_id = services.settings.chat_bot_user_id
    a, b = await _user(client), await _user(client)
    roll = await client.post(
        "/api/v2/chat/new", data={"target_id": str(bot_id), "message": "!roll 6"}, headers=a.headers
    )
    assert roll.status_code == 200, roll.text
    pm = roll.json()["new_channel_id"]
    messages = (await client.get(f"/api/v2/chat/channels/{pm}/messages", headers=a.headers)).json()
    assert [m["sender_id"] for m in messages] == [a.id, bot_id]
    assert messages[1]["content"].startswith(f"{a.account.username} rolls ")
    assert 1 <= int(messages[1]["content"].split()[2]) <= 6

    osu = await channel_id(services, "#osu")
    for user in (a, b):
        await join(client, user, osu)
    asked = await post(client, a, osu, "!help")
    assert asked.status_code == 200
    mine = (await client.get(f"/api/v2/chat/channels/{osu}/messages", headers=a.headers)).json()
    answer = mine[-1]
    assert answer["sender_id"] == bot_id and "!roll" in answer["content"]
    theirs = (await client.get(f"/api/v2/chat/channels/{osu}/messages", headers=b.headers)).json()
    assert asked.json()["message_id"] not in [m["message_id"] for m in theirs]
    assert answer["message_id"] not in [m["message_id"] for m in theirs]

    stats = await post(client, a, osu, f"!stats {b.account.username}")
    assert stats.status_code == 200
    mine = (await client.get(f"/api/v2/chat/channels/{osu}/messages", headers=a.headers)).json()
    assert mine[-1]["content"] == f"{b.account.username} has not played osu yet."


async def test_reports_are_stored(client: httpx.AsyncClient, services: Any) -> None:
    a, b = await _user(client), await _user(client)
    osu = await channel_id(services, "#osu")
    for user in (a, b):
        await join(client, user, osu)
    message = (await post(client, b, osu, "spam spam")).json()
    body, headers = lazer_multipart(
        {"reportable_type": "message", "reportable_id": str(message["message_id"]),
         "reason": "Spam", "comments": ""}
    )  # fmt: skip
    sent = await client.post("/api/v2/reports", content=body, headers={**a.headers, **headers})
    assert sent.status_code == 204, sent.text
    rows = await services.db.fetch_raw(
        "SELECT reporter_id, user_id, reason FROM reports WHERE reportable_id = :m",
        m=message["message_id"],
    )
    assert rows == [{"reporter_id": a.id, "user_id": b.id, "reason": "Spam"}]
    own = await client.post(
        "/api/v2/reports",
        data={"reportable_type": "user", "reportable_id": str(a.id), "reason": "Cheating",
              "comments": "me"},
        headers=a.headers,
    )  # fmt: skip
    assert own.status_code == 422 and own.json() == {"error": "You can't report yourself!"}


async def test_announcements_need_the_privilege(
    app: Starlette, client: httpx.AsyncClient, services: Any
) -> None:
    a, b, admin = await _user(client), await _user(client), await _user(client)
    fields = {
        "type": "ANNOUNCE",
        "channel[name]": f"notice {a.id}",
        "channel[description]": "read me",
        "target_ids[]": str(a.id),
        "message": "line one\nline two",
    }
    refused = await client.post("/api/v2/chat/channels", data=fields, headers=a.headers)
    assert refused.status_code == 403
    assert refused.json() == {"error": "You do not have permission to post announcement."}
    await _set_user(services, admin, "is_admin", 1)
    listener = await ChatSocket(app, b).open()
    try:
        # aiosu's JSON shape: lists and a nested object
        made = await client.post(
            "/api/v2/chat/channels",
            json={
                "type": "ANNOUNCE",
                "channel": {"name": f"notice {a.id}", "description": "read me"},
                "target_ids": [a.id, b.id],
                "message": "line one\nline two",
            },
            headers=admin.headers,
        )
        assert made.status_code == 200, made.text
        channel = made.json()
        assert channel["type"] == "ANNOUNCE" and channel["moderated"] is True
        assert channel["message_length_limit"] == 1024
        # announcements keep their line breaks and are markdown
        assert channel["recent_messages"][0]["content"] == "line one\nline two"
        assert channel["recent_messages"][0]["type"] == "markdown"
        joined = await listener.wait_for("chat.channel.join")
        assert joined["data"]["channel_id"] == channel["channel_id"]
        await listener.wait_for_message("line one\nline two")
    finally:
        await listener.close()
    reply = await post(client, b, channel["channel_id"], "thanks")
    assert reply.status_code == 403
    missing = await client.post(
        "/api/v2/chat/channels",
        data={"type": "ANNOUNCE", "channel[name]": "x", "message": "m"},
        headers=admin.headers,
    )
    assert missing.status_code == 422 and missing.json() == {
        "error": "missing target_ids parameter"
    }


async def test_notifications_mark_read(
    app: Starlette, client: httpx.AsyncClient, services: Any
) -> None:
    a = await _user(client)
    ids = []
    for object_id in (7, 7, 8):
        note = await services.notifications.notify(
            await services.users.by_id(a.id),
            name="channel_message",
            object_type="channel",
            object_id=object_id,
            source_user_id=None,
            details={},
        )
        ids.append(note.id)
    listener = await ChatSocket(app, a).open()
    try:
        by_id = await client.post(
            "/api/v2/notifications/mark-read",
            json={"notifications": [{"id": ids[2], "object_type": "channel", "object_id": 8}]},
            headers=a.headers,
        )
        assert by_id.status_code == 204
        read = await listener.wait_for("read")
        assert read["data"]["read_count"] == 1
        assert read["data"]["notifications"][0]["id"] == ids[2]
    finally:
        await listener.close()
    assert (await client.get("/api/v2/notifications", headers=a.headers)).json()[
        "unread_count"
    ] == 2
    by_object = await client.post(
        "/api/v2/notifications/mark-read",
        data={"identities[0][object_type]": "channel", "identities[0][object_id]": "7"},
        headers=a.headers,
    )
    assert by_object.status_code == 204
    assert (await client.get("/api/v2/notifications", headers=a.headers)).json()[
        "unread_count"
    ] == 0


async def test_lazer_shaped_post_message_and_get_updates(
    client: httpx.AsyncClient, services: Any
) -> None:
    """PostMessageRequest (multipart is_action/message/uuid) and GetUpdatesRequest
    (`since` and `includes[]=presence` in the query), as lazer sends them."""
    a = await _user(client)
    osu = await channel_id(services, "#osu")
    await join(client, a, osu)
    body, headers = lazer_multipart({"is_action": "true", "message": "dances", "uuid": "9f3c"})
    posted = await client.post(
        f"/api/v2/chat/channels/{osu}/messages", content=body, headers={**a.headers, **headers}
    )
    assert posted.status_code == 200, posted.text
    message = posted.json()
    assert message["is_action"] is True and message["type"] == "action"
    assert message["uuid"] == "9f3c" and message["sender_id"] == a.id
    updates = await client.get(
        "/api/v2/chat/updates?since=0&includes%5B%5D=presence", headers=a.headers
    )
    assert set(updates.json()) == {"presence"}
    channel = next(c for c in updates.json()["presence"] if c["channel_id"] == osu)
    assert channel["last_message_id"] == message["message_id"] == channel["last_read_id"]
    assert isinstance(channel["users"], list)


async def test_scopes_as_osu_web_checks_them(client: httpx.AsyncClient, services: Any) -> None:
    account = await signup(client)
    body, headers = lazer_multipart(
        {
            "username": account.username,
            "password": account.password,
            "grant_type": "password",
            "client_id": "5",
            "client_secret": "FGc9GAtyHzeQDshWP5Ah7dega8hJACAJpQtw6OXk",
            "scope": "identify chat.read",
        }
    )
    token = (await client.post("/oauth/token", content=body, headers=headers)).json()
    reader = {"Authorization": f"Bearer {token['access_token']}"}
    osu = await channel_id(services, "#osu")
    assert (await client.get("/api/v2/chat/channels", headers=reader)).status_code == 200
    joined = await client.put(f"/api/v2/chat/channels/{osu}/users/{account.id}", headers=reader)
    assert joined.status_code == 403
    assert joined.json() == {"error": "A required scope is missing."}
    sent = await client.post(
        f"/api/v2/chat/channels/{osu}/messages", data={"message": "hi"}, headers=reader
    )
    assert sent.status_code == 403
    assert sent.json() == {"error": "A required scope is missing."}


def test_channels_cli(tmp_path: Path) -> None:
    """`python -m server channels list|add|edit`: channels are data."""
    from tests.integration.test_relax_and_cli import _cli

    added = _cli("channels", "add", "#dev", "--description", "Developers", data_dir=tmp_path)
    assert added.returncode == 0 and "#dev\tDevelopers" in added.stdout
    edited = _cli("channels", "edit", "#dev", "--rename", "#devs", "--moderated", data_dir=tmp_path)
    assert edited.returncode == 0 and "#devs (moderated)" in edited.stdout
    listed = _cli("channels", "list", data_dir=tmp_path).stdout
    assert "#osu" in listed and "#lobby" in listed and "#devs (moderated)" in listed
    assert "#announce (moderated)" in listed
    for bad in ("no-hash", "#pm_1-2", "#" + "x" * 50):
        refused = _cli("channels", "add", bad, data_dir=tmp_path)
        assert refused.returncode == 1 and "channel name" in refused.stderr
    taken = _cli("channels", "add", "#osu", data_dir=tmp_path)
    assert taken.returncode == 1 and "exists" in taken.stderr


async def test_minimum_plays_is_a_setting(app: Starlette, data_dir: Path, services: Any) -> None:
    async with app_client(make_settings(data_dir, CHAT_MIN_PLAYS="1"), "198.51.100.41") as other:
        a = await _user(other)
        osu = await channel_id(services, "#osu")
        await join(other, a, osu)
        refused = await post(other, a, osu, "hello")
        assert refused.status_code == 403
        assert refused.json() == {"error": "How about playing some osu! instead?"}
        await services.db.execute_raw(
            "UPDATE user_statistics SET play_count = 1 WHERE user_id = :u AND ruleset = 'osu'",
            u=a.id,
        )
        assert (await post(other, a, osu, "hello")).status_code == 200
