"""aiosu 2.5.1 against the live server: its chat methods and pydantic models are an
independent check on our chat routes and shapes (clients.md §1.4)."""

from __future__ import annotations

import pytest
import requests

from tests.conformance.conftest import HTTP_TIMEOUT, register
from tests.conformance.live_server import LiveServer
from tests.helpers import LAZER_CLIENT_ID, LAZER_SECRET, Account, lazer_multipart

aiosu = pytest.importorskip("aiosu")
from aiosu.models import OAuthToken  # noqa: E402
from aiosu.v2 import Client  # noqa: E402


def _token(live_server: LiveServer, account: Account) -> OAuthToken:
    """lazer's password grant (scope *, which aiosu reads from the JWT's claims)."""
    body, headers = lazer_multipart(
        {
            "username": account.username,
            "password": account.password,
            "grant_type": "password",
            "client_id": LAZER_CLIENT_ID,
            "client_secret": LAZER_SECRET,
            "scope": "*",
        }
    )
    response = requests.post(
        f"{live_server.url}/oauth/token", data=body, headers=headers, timeout=HTTP_TIMEOUT
    )
    assert response.status_code == 200, response.text
    data = response.json()
    return OAuthToken(
        access_token=data["access_token"],
        refresh_token=data["refresh_token"],
        expires_in=data["expires_in"],
    )


@pytest.fixture(autouse=True)
def _all_access_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    # osu-web issues lazer's password grant the scope `*`, which aiosu's scope table lacks
    # (it knows each scope by name and `lazer`); `*` grants all of them.
    from aiosu.models.scopes import API_SCOPE_NAMES, Scopes

    every = Scopes(0)
    for scope in API_SCOPE_NAMES.values():
        every |= scope
    monkeypatch.setitem(API_SCOPE_NAMES, "*", every)


def _client(live_server: LiveServer, account: Account) -> Client:
    return Client(token=_token(live_server, account), base_url=live_server.url, timeout=20)


async def test_aiosu_chat_round_trip(live_server: LiveServer) -> None:
    alice, bob = register(live_server), register(live_server)
    async with _client(live_server, alice) as a, _client(live_server, bob) as b:
        channels = await a.get_channels()
        osu = next(c for c in channels if c.name == "#osu")
        assert osu.type == "PUBLIC" and osu.message_length_limit == 450

        joined = await a.join_channel(osu.id, alice.id)
        assert joined.id == osu.id
        assert joined.current_user_attributes is not None
        assert joined.current_user_attributes.can_message is True
        await b.join_channel(osu.id, bob.id)

        sent = await b.send_message(osu.id, "hello from aiosu", False)
        assert sent.channel_id == osu.id and sent.sender_id == bob.id
        action = await b.send_message(osu.id, "waves", True)
        assert action.is_action is True

        messages = await a.get_channel_messages(osu.id, since=sent.message_id - 1)
        assert [m.message_id for m in messages] == [sent.message_id, action.message_id]
        assert messages[0].sender is not None and messages[0].sender.id == bob.id
        older = await a.get_channel_messages(osu.id, until=action.message_id, limit=1)
        assert [m.message_id for m in older] == [sent.message_id]

        shown = await a.get_channel(osu.id)
        assert shown.channel.id == osu.id and shown.users == []

        pm = await a.send_private_message(bob.id, "psst", False, uuid="aiosu-1")
        assert pm.channel.type == "PM" and pm.message.uuid == "aiosu-1"
        assert sorted(pm.channel.user_ids or []) == sorted([alice.id, bob.id])
        again = await b.create_chat_channel("PM", target_id=alice.id)
        assert again.id == pm.channel.id

        updates = await b.get_chat_updates(0)
        assert pm.channel.id in [c.id for c in updates.presence or []]
        assert updates.messages == [] and updates.silences == []
        assert await b.get_chat_ack(since=0) == []

        await a.leave_channel(osu.id, alice.id)
        after = await a.get_chat_updates(0, includes=["presence", "silences"])
        assert osu.id not in [c.id for c in after.presence or []]
