"""The multiplayer hub (`/signalr/multiplayer`): lazer's IMultiplayerServer, room and lounge
parts (lazer-protocol.md §7.2).

Each method decodes its arguments into the `server.models.multiplayer` Structs and makes one
call to `RealtimeRooms`, which runs the room's `RoomMachine` and the database; refusals come
back as hub errors with the official exception name and text. Callbacks go to the room's
group `room:<id>`, or to one user's channel, through the bus. Matchmaking and ranked play
are not served: their methods answer with a hub error saying so.

Sources: ppy/osu `osu.Game/Online/Multiplayer/IMultiplayer{Server,RoomServer,LoungeServer,
Client}.cs`, `osu.Game/Online/Matchmaking/IMatchmakingServer.cs`; ppy/osu-server-spectator
`Hubs/Multiplayer/MultiplayerHub.cs`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Iterator, Mapping
from typing import Any, Final

import msgspec

from server.core import msgpack as codec
from server.hub_bus import BusMessage, HubBus
from server.hubs.connection import HubConnection
from server.hubs.protocol import (
    BadArguments,
    Handler,
    HubFailure,
    HubMethod,
    HubResult,
    Returned,
    bind_arguments,
)
from server.hubs.transport import group_channel, user_channel
from server.models.multiplayer import (
    APIMod,
    BeatmapAvailability,
    MatchUserRequest,
    MultiplayerPlaylistItem,
    MultiplayerRoom,
    MultiplayerRoomSettings,
    MultiplayerUserState,
)
from server.redis_store import REDIS_DOWN
from server.repositories.users import UserRepository
from server.services.multiplayer.hosting import RealtimeRooms
from server.services.multiplayer.rules import Callback, Refusal

log = logging.getLogger(__name__)

NAME = "multiplayer"
_FORWARD_TIMEOUT: Final = 5.0
_JOIN_GROUP: Final = "mp-group-join:"
_LEAVE_GROUP: Final = "mp-group-leave:"
_JOINS: Final = frozenset({"JoinRoom", "JoinRoomWithPassword"})
_UNSUPPORTED_PREFIXES = ("Matchmaking", "GetMatchmaking", "RankedPlay")
_UNSUPPORTED_NAMES = frozenset({"DiscardCards", "PlayCard"})

# The argument types of each IMultiplayerClient callback, as the codec names them.
CALLBACK_TYPES: dict[str, str] = {
    "RoomStateChanged": "MultiplayerRoomState",
    "UserJoined": "MultiplayerRoomUser",
    "UserLeft": "MultiplayerRoomUser",
    "UserKicked": "MultiplayerRoomUser",
    "HostChanged": "int",
    "SettingsChanged": "MultiplayerRoomSettings",
    "UserStateChanged": "int,MultiplayerUserState",
    "MatchUserStateChanged": "int,MatchUserState?",
    "MatchRoomStateChanged": "MatchRoomState?",
    "MatchEvent": "MatchServerEvent",
    "UserBeatmapAvailabilityChanged": "int,BeatmapAvailability",
    "UserStyleChanged": "int,int?,int?",
    "UserModsChanged": "int,APIMod[]",
    "LoadRequested": "",
    "GameplayStarted": "",
    "GameplayAborted": "GameplayAbortReason",
    "ResultsReady": "",
    "PlaylistItemAdded": "MultiplayerPlaylistItem",
    "PlaylistItemRemoved": "long",
    "PlaylistItemChanged": "MultiplayerPlaylistItem",
    "UserVotedToSkipIntro": "int,bool",
    "VoteToSkipIntroPassed": "",
    "Invited": "int,long,string",
}


def room_group(room_id: int) -> str:
    """The bus channel of a room's members (MultiplayerHub.GetGroupId)."""
    return group_channel(NAME, f"room:{room_id}")


def encode_callback(callback: Callback) -> bytes:
    """One IMultiplayerClient invocation, framed."""
    types = CALLBACK_TYPES[callback.target]
    if not types:
        args = b"\x90"
    elif "," not in types:
        args = b"\x91" + codec.encode(types, callback.args[0])
    else:
        args = codec.encode(types, list(callback.args))
    return codec.encode_invocation(callback.target, args)


def _failure(refusal: Refusal) -> HubFailure:
    return HubFailure(refusal.message, refusal.exception)


class _Call(msgspec.Struct, frozen=True, array_like=True, tag=True):
    """A call forwarded to the instance that owns the caller's room."""

    call_id: str
    reply_to: str
    user_id: int
    username: str
    method: str
    payload: bytes


class _Reply(msgspec.Struct, frozen=True, array_like=True, tag=True):
    """The owner's answer: `value` for a result, `message`/`exception` for a failure."""

    call_id: str
    failed: bool = False
    value: bytes | None = None
    message: str = ""
    exception: str = ""


_call_decoder = msgspec.msgpack.Decoder(_Call | _Reply)
_encoder = msgspec.msgpack.Encoder()


def instance_channel(instance_id: str) -> str:
    """The bus channel where an instance takes forwarded calls and their replies."""
    return f"{NAME}:instance:{instance_id}"


class _Inbox:
    """The hub's subscription to its instance channel."""

    def __init__(self, hub: MultiplayerHub) -> None:
        self.id = f"{NAME}-inbox"
        self._hub = hub

    def deliver(self, message: BusMessage) -> None:
        self._hub.inbox(message.frame)


class _Methods(Mapping[str, HubMethod]):
    """The hub's methods; any matchmaking or ranked-play method answers "not supported"."""

    def __init__(self, methods: dict[str, HubMethod], unsupported: HubMethod) -> None:
        self._methods = methods
        self._unsupported = unsupported

    def __getitem__(self, name: str) -> HubMethod:
        if name in self._methods:
            return self._methods[name]
        if name.startswith(_UNSUPPORTED_PREFIXES) or name in _UNSUPPORTED_NAMES:
            return self._unsupported
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._methods)

    def __len__(self) -> int:
        return len(self._methods)


class MultiplayerHub:
    """IMultiplayerServer over `RealtimeRooms`; the rooms' listener."""

    name = NAME

    def __init__(self, bus: HubBus, rooms: RealtimeRooms, users: UserRepository) -> None:
        self._bus = bus
        self.rooms = rooms
        self._users = users
        self._connections: dict[int, HubConnection] = {}
        # The connection through which each user is in a room: only its end leaves the room
        # (a newer connection of the same user takes over the membership when it joins).
        self._members: dict[int, str] = {}
        # Users of this instance in a room another instance owns: the room and its owner.
        self._remote: dict[int, tuple[int, str]] = {}
        self._waiting: dict[str, asyncio.Future[_Reply]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._renewers: list[asyncio.Task[None]] = []
        self._inbox = _Inbox(self)
        rooms.listener = self
        m = HubMethod
        methods = {
            "CreateRoom": m(("MultiplayerRoom",), self.create_room, models=(MultiplayerRoom,)),
            "JoinRoom": m(("long",), self.join_room),
            "JoinRoomWithPassword": m(("long", "string"), self.join_room),
            "LeaveRoom": m((), self.leave_room),
            "TransferHost": m(("int",), self.transfer_host),
            "KickUser": m(("int",), self.kick_user),
            "ChangeSettings": m(
                ("MultiplayerRoomSettings",),
                self.change_settings,
                models=(MultiplayerRoomSettings,),
            ),
            "ChangeState": m(
                ("MultiplayerUserState",), self.change_state, models=(MultiplayerUserState,)
            ),
            "ChangeBeatmapAvailability": m(
                ("BeatmapAvailability",),
                self.change_availability,
                models=(BeatmapAvailability,),
            ),
            "ChangeUserStyle": m(("int?", "int?"), self.change_user_style),
            "ChangeUserMods": m(("APIMod[]",), self.change_user_mods, models=(list[APIMod],)),
            "SendMatchRequest": m(
                ("MatchUserRequest",), self.match_request, models=(MatchUserRequest,)
            ),
            "StartMatch": m((), self.start_match),
            "AbortGameplay": m((), self.abort_gameplay),
            "AbortMatch": m((), self.abort_match),
            "VoteToSkipIntro": m((), self.vote_to_skip_intro),
            "AddPlaylistItem": m(
                ("MultiplayerPlaylistItem",),
                self.add_item,
                models=(MultiplayerPlaylistItem,),
            ),
            "EditPlaylistItem": m(
                ("MultiplayerPlaylistItem",),
                self.edit_item,
                models=(MultiplayerPlaylistItem,),
            ),
            "RemovePlaylistItem": m(("long",), self.remove_item),
            "InvitePlayer": m(("int",), self.invite_player),
        }
        self._local = methods
        routed = {
            name: msgspec.structs.replace(method, handler=self._routed(name, method))
            for name, method in methods.items()
        }
        self.methods: Mapping[str, HubMethod] = _Methods(
            routed, HubMethod((), raw=self.unsupported)
        )

    # ---- connection lifetime ----

    async def start(self) -> None:
        """Take forwarded calls; keep the leases of the rooms held here."""
        self._bus.join(instance_channel(self._bus.instance_id), self._inbox)
        self._renewers = [
            asyncio.create_task(self._renew(), name="multiplayer-leases"),
            asyncio.create_task(self._watch(), name="multiplayer-owners"),
        ]

    async def stop(self) -> None:
        """Stop renewing leases and the rooms' timers."""
        self._bus.leave(instance_channel(self._bus.instance_id), self._inbox)
        for task in self._renewers:
            task.cancel()
        await asyncio.gather(*self._renewers, return_exceptions=True)
        await self.rooms.stop()

    async def shutting_down(self, seconds: float) -> None:
        """Before the connections close: the rooms held here get a ServerShuttingDownCountdown
        of `seconds`, which is waited out (or until they empty, as the official server waits
        for its rooms); the rooms still held then end. Nothing to do without rooms (or when
        an earlier call drained them)."""
        if not self.rooms.held_rooms():
            return
        await self.rooms.announce_shutdown(seconds)
        await self.rooms.wait_until_empty(seconds)
        await self.rooms.end_all()

    async def _renew(self) -> None:
        """Renew the leases of the rooms held here."""
        while True:
            await asyncio.sleep(self.rooms.leases.renew_seconds)
            await self.rooms.leases.renew(self.rooms.held_rooms())

    async def _watch(self) -> None:
        """Close the rooms of owners that died (a task of its own: renewing never waits on
        it)."""
        while True:
            await asyncio.sleep(self.rooms.leases.renew_seconds)
            try:
                await self._watch_owners()
            except REDIS_DOWN as exc:
                log.warning("multiplayer: could not check room owners (%s)", exc)

    async def _watch_owners(self) -> None:
        """A room owned elsewhere whose lease its owner no longer holds is gone: one instance
        ends it in the database; each instance closes its members' connections with the
        text lazer reconnects on (it leaves the room client-side)."""
        owners = dict(self._remote.values())
        for room_id, owner in owners.items():
            if await self.rooms.leases.held_by(room_id, owner) is not False:
                continue
            if await self.rooms.leases.take_closing(room_id):
                await self.rooms.close_orphan(room_id)
            for user_id, (member_of, _) in list(self._remote.items()):
                if member_of != room_id:
                    continue
                del self._remote[user_id]
                self._members.pop(user_id, None)
                connection = self._connections.get(user_id)
                if connection is not None:
                    connection.leave(room_group(room_id))
                    connection.close("Server is shutting down.", 1001)

    async def on_connected(self, connection: HubConnection) -> None:
        self._connections[connection.user_id] = connection
        connection.on_control = lambda word: self._control(connection, word)

    async def on_disconnected(self, connection: HubConnection) -> None:
        if self._connections.get(connection.user_id) is connection:
            del self._connections[connection.user_id]
        if self._members.get(connection.user_id) != connection.id:
            return
        if connection.user_id in self._remote:
            await self._forward(connection, "LeaveRoom", [])
            self._remote.pop(connection.user_id, None)
        else:
            await self.rooms.leave(connection.user_id)

    def _control(self, connection: HubConnection, word: str) -> None:
        """Group membership the owner of a room decided for this user's connection."""
        if word.startswith(_JOIN_GROUP):
            self._members[connection.user_id] = connection.id
            connection.join(room_group(int(word.removeprefix(_JOIN_GROUP))))
        elif word.startswith(_LEAVE_GROUP):
            self._members.pop(connection.user_id, None)
            self._remote.pop(connection.user_id, None)
            connection.leave(room_group(int(word.removeprefix(_LEAVE_GROUP))))

    # ---- RoomListener ----

    def deliver(self, room_id: int, callbacks: list[Callback]) -> None:
        for callback in callbacks:
            frame = encode_callback(callback)
            if callback.user_id is None:
                self._bus.publish(room_group(room_id), frame)
            else:
                self._bus.publish(user_channel(NAME, callback.user_id), frame)

    def joined(self, room_id: int, user_id: int) -> None:
        connection = self._connections.get(user_id)
        if connection is not None:
            self._members[user_id] = connection.id
            connection.join(room_group(room_id))
        else:  # connected to another instance: it joins the group there
            self._bus.publish(user_channel(NAME, user_id), control=f"{_JOIN_GROUP}{room_id}")

    def left(self, room_id: int, user_id: int) -> None:
        connection = self._connections.get(user_id)
        if connection is not None and self._members.get(user_id) == connection.id:
            self._members.pop(user_id, None)
            connection.leave(room_group(room_id))
        else:
            self._bus.publish(user_channel(NAME, user_id), control=f"{_LEAVE_GROUP}{room_id}")

    # ---- lounge ----

    async def create_room(self, connection: HubConnection, args: list[Any]) -> HubResult:
        account = await self._users.by_id(connection.user_id)
        if account is None:
            return HubFailure("Can't join a room when restricted.")
        return _room_result(await self.rooms.create(account, args[0]))

    async def join_room(self, connection: HubConnection, args: list[Any]) -> HubResult:
        account = await self._users.by_id(connection.user_id)
        if account is None:
            return HubFailure("Can't join a room when restricted.")
        password = args[1] if len(args) > 1 else ""
        return _room_result(await self.rooms.join(account, args[0], password or ""))

    async def leave_room(self, connection: HubConnection, args: list[Any]) -> HubResult:
        await self.rooms.leave(connection.user_id)
        return None

    # ---- room ----

    async def transfer_host(self, connection: HubConnection, args: list[Any]) -> HubResult:
        (target,) = args
        return await self._act(connection, lambda r: r.transfer_host(connection.user_id, target))

    async def kick_user(self, connection: HubConnection, args: list[Any]) -> HubResult:
        refusal = await self.rooms.kick(connection.user_id, args[0])
        return _failure(refusal) if refusal is not None else None

    async def change_settings(self, connection: HubConnection, args: list[Any]) -> HubResult:
        (settings,) = args
        return await self._act(
            connection, lambda r: r.change_settings(connection.user_id, settings)
        )

    async def change_state(self, connection: HubConnection, args: list[Any]) -> HubResult:
        (state,) = args
        return await self._act(connection, lambda r: r.change_user_state(connection.user_id, state))

    async def change_availability(self, connection: HubConnection, args: list[Any]) -> HubResult:
        (availability,) = args
        return await self._act(
            connection, lambda r: r.change_beatmap_availability(connection.user_id, availability)
        )

    async def change_user_style(self, connection: HubConnection, args: list[Any]) -> HubResult:
        beatmap_id, ruleset_id = args
        facts = await self.rooms.style_facts(connection.user_id, beatmap_id)
        return await self._act(
            connection,
            lambda r: r.change_user_style(connection.user_id, beatmap_id, ruleset_id, facts),
        )

    async def change_user_mods(self, connection: HubConnection, args: list[Any]) -> HubResult:
        (mods,) = args
        return await self._act(connection, lambda r: r.change_user_mods(connection.user_id, mods))

    async def match_request(self, connection: HubConnection, args: list[Any]) -> HubResult:
        (request,) = args
        return await self._act(connection, lambda r: r.match_request(connection.user_id, request))

    async def start_match(self, connection: HubConnection, args: list[Any]) -> HubResult:
        return await self._act(connection, lambda r: r.start_match(connection.user_id))

    async def abort_gameplay(self, connection: HubConnection, args: list[Any]) -> HubResult:
        return await self._act(connection, lambda r: r.abort_gameplay(connection.user_id))

    async def abort_match(self, connection: HubConnection, args: list[Any]) -> HubResult:
        return await self._act(connection, lambda r: r.abort_match(connection.user_id))

    async def vote_to_skip_intro(self, connection: HubConnection, args: list[Any]) -> HubResult:
        return await self._act(connection, lambda r: r.vote_to_skip_intro(connection.user_id))

    async def add_item(self, connection: HubConnection, args: list[Any]) -> HubResult:
        (item,) = args
        facts = await self.rooms.beatmap_facts(item.beatmap_id)
        return await self._act(connection, lambda r: r.add_item(connection.user_id, item, facts))

    async def edit_item(self, connection: HubConnection, args: list[Any]) -> HubResult:
        (item,) = args
        facts = await self.rooms.beatmap_facts(item.beatmap_id)
        return await self._act(connection, lambda r: r.edit_item(connection.user_id, item, facts))

    async def remove_item(self, connection: HubConnection, args: list[Any]) -> HubResult:
        (item_id,) = args
        played = await self.rooms.item_has_scores(item_id)
        return await self._act(
            connection,
            lambda r: r.remove_item(connection.user_id, item_id, has_score_tokens=played),
        )

    async def invite_player(self, connection: HubConnection, args: list[Any]) -> HubResult:
        (user_id,) = args
        invitation = await self.rooms.invitation(connection.user_id, user_id)
        if isinstance(invitation, Refusal):
            return _failure(invitation)
        self._bus.publish(user_channel(NAME, user_id), encode_callback(invitation))
        return None

    async def unsupported(self, connection: HubConnection, message: bytes) -> HubResult:
        return HubFailure("Matchmaking and ranked play are not supported by this server.")

    async def _act(self, connection: HubConnection, operation: Any) -> HubResult:
        refusal = await self.rooms.act(connection.user_id, operation)
        return _failure(refusal) if refusal is not None else None

    # ---- forwarding to the room's owner ----

    def _routed(self, name: str, method: HubMethod) -> Handler:
        handler = method.handler
        assert handler is not None

        async def run(connection: HubConnection, args: list[Any]) -> HubResult:
            member = connection.user_id in self._remote
            if await self._owned_elsewhere(connection.user_id, name, args):
                result = await self._forward(connection, name, args)
                joined = not isinstance(result, HubFailure)
                if name == "LeaveRoom" or (name in _JOINS and not member and not joined):
                    self._remote.pop(connection.user_id, None)  # not (or no longer) in it
                return result
            return await handler(connection, args)

        return run

    async def _owned_elsewhere(self, user_id: int, name: str, args: list[Any]) -> bool:
        """Whether the call goes to another instance: every call of a user in a room owned
        elsewhere (there a second CreateRoom or join is refused as it is here), and a join
        of a room another instance holds."""
        if user_id in self._remote:
            return True
        if name in _JOINS:
            room_id = int(args[0])
            if self.rooms.live_room(room_id) is not None:
                return False
            owner = await self.rooms.leases.owner(room_id)
            if owner is not None and owner != self._bus.instance_id:
                self._remote[user_id] = (room_id, owner)
                return True
        return False

    async def _forward(self, connection: HubConnection, name: str, args: list[Any]) -> HubResult:
        """Run the call on the room's owner and answer with its result."""
        owner = self._remote[connection.user_id][1]
        types = self._local[name].arg_types
        payload = _encode_args(types, args)
        call = _Call(
            secrets.token_hex(8),
            self._bus.instance_id,
            connection.user_id,
            connection.username,
            name,
            payload,
        )
        future: asyncio.Future[_Reply] = asyncio.get_running_loop().create_future()
        self._waiting[call.call_id] = future
        self._bus.publish(instance_channel(owner), _encoder.encode(call))
        try:
            reply = await asyncio.wait_for(future, _FORWARD_TIMEOUT)
        except TimeoutError:
            return HubFailure("The server holding this room did not answer.")
        finally:
            self._waiting.pop(call.call_id, None)
        if reply.failed:
            return HubFailure(reply.message, reply.exception)
        return Returned(reply.value) if reply.value is not None else None

    def inbox(self, frame: bytes) -> None:
        """A forwarded call to run here, or the reply to one this instance forwarded."""
        try:
            message = _call_decoder.decode(frame)
        except msgspec.DecodeError:
            log.warning("multiplayer: undecodable forwarded message")
            return
        if isinstance(message, _Reply):
            future = self._waiting.get(message.call_id)
            if future is not None and not future.done():
                future.set_result(message)
            return
        task = asyncio.create_task(self._run_forwarded(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_forwarded(self, call: _Call) -> None:
        method = self._local.get(call.method)
        caller = HubConnection(NAME, call.user_id, call.username, False, "", self._bus, 1)
        result: HubResult
        if method is None or method.handler is None:
            result = HubFailure("Method does not exist.", "HubException")
        else:
            try:
                result = await method.handler(caller, bind_arguments(method, call.payload))
            except BadArguments as exc:
                result = HubFailure(str(exc), "InvalidDataException")
        if isinstance(result, HubFailure):
            reply = _Reply(call.call_id, True, None, result.message, result.exception)
        else:
            reply = _Reply(call.call_id, value=result.value if result is not None else None)
        self._bus.publish(instance_channel(call.reply_to), _encoder.encode(reply))


def _encode_args(types: tuple[str, ...], args: list[Any]) -> bytes:
    """Arguments as an invocation carries them, for the owner to bind again."""
    if not types:
        return b"\x90"
    if len(types) == 1:
        return b"\x91" + codec.encode(types[0], args[0])
    return codec.encode(",".join(types), args)


def _room_result(outcome: MultiplayerRoom | Refusal) -> HubResult:
    if isinstance(outcome, Refusal):
        return _failure(outcome)
    return Returned(codec.encode("MultiplayerRoom", outcome))
