"""The spectator hub (`/signalr/spectator`): plays, frame relay and watchers (§7.1).

Watchers of user U are the group `watch:U`; messages for U go to U's user channel; both
fan out through the bus, so a watcher and a player on different instances see each other.
Frame bundles are relayed as the bytes the player sent (validated, never re-encoded). The
state of a user playing is also kept in Redis, so a watcher arriving on another instance
is told about a play already under way.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Mapping
from typing import Any, Protocol

from server.core import CoreError
from server.core import msgpack as codec
from server.hub_bus import HubBus
from server.hubs.connection import HubConnection
from server.hubs.protocol import HubFailure, HubMethod, HubResult
from server.hubs.transport import group_channel, user_channel
from server.redis_store import REDIS_DOWN
from server.services.replays import ReplayStore

log = logging.getLogger(__name__)

NAME = "spectator"
_STATE_KEY = "spectator:playing:"
_STATE_TTL_SECONDS = 300
_STATE_REFRESH_SECONDS = 60
_BAD_TOKEN = HubFailure("Incorrect score token supplied.")


class SpectatedUserState(enum.IntEnum):
    """osu.Game.Online.Spectator.SpectatedUserState."""

    IDLE = 0
    PLAYING = 1
    PAUSED = 2
    PASSED = 3
    FAILED = 4
    QUIT = 5


def watch_group(user_id: int) -> str:
    """The bus channel of a user's watchers."""
    return group_channel(NAME, f"watch:{user_id}")


class PlayTokens(Protocol):
    """Where the hub checks the score tokens plays are recorded under."""

    async def play_token_usable(self, user_id: int, token_id: int) -> bool:
        """Whether `token_id` exists, is `user_id`'s and has not produced a score yet."""
        ...


class Play:
    """A user's current play as this instance holds it."""

    __slots__ = ("connection_id", "refreshed_at", "state", "token", "watchers")

    def __init__(
        self, connection_id: str, user_id: int, token: int | None, state: dict[str, Any]
    ) -> None:
        self.connection_id = connection_id
        self.token = token
        self.state = state
        self.refreshed_at = time.monotonic()
        self.watchers = watch_group(user_id)  # named once: every frame bundle goes there


class SpectatorHub:
    """BeginPlaySession/SendFrameData/EndPlaySession and Start/EndWatchingUser."""

    name = NAME

    def __init__(self, bus: HubBus, redis: Any, replays: ReplayStore, tokens: PlayTokens) -> None:
        self._bus = bus
        self._redis = redis
        self.replays = replays
        self._tokens = tokens
        self._plays: dict[int, Play] = {}
        self.methods: Mapping[str, HubMethod] = {
            "BeginPlaySessionV2": HubMethod(("long?", "SpectatorState"), self.begin_play),
            "BeginPlaySession": HubMethod(("long?", "SpectatorState"), self.begin_play),
            "SendFrameDataV2": HubMethod(("long?", "FrameDataBundle"), raw=self.send_frames),
            "SendFrameData": HubMethod(("FrameDataBundle",), raw=self.send_frames_v1),
            "EndPlaySessionV2": HubMethod(("long?", "SpectatedUserState"), self.end_play),
            "EndPlaySession": HubMethod(("SpectatorState",), self.end_play_v1),
            "StartWatchingUser": HubMethod(("int",), self.start_watching),
            "EndWatchingUser": HubMethod(("int",), self.end_watching),
        }

    async def on_connected(self, connection: HubConnection) -> None:
        connection.items["watching"] = set()

    async def on_disconnected(self, connection: HubConnection) -> None:
        play = self._plays.get(connection.user_id)
        if play is not None and play.connection_id == connection.id:
            # A play cut off counts as quit; its frames stay buffered for a reconnect
            # (reliability.md §2.3) until the replay store's idle limit.
            await self._finish(connection, play, SpectatedUserState.QUIT, end_replay=False)
        for user_id in connection.items.get("watching", ()):
            self._send_to_user(user_id, "UserEndedWatching", "int", connection.user_id)

    async def begin_play(self, connection: HubConnection, args: list[Any]) -> HubResult:
        token, state = args
        if not 0 <= state.get("State", 0) <= max(SpectatedUserState):
            return HubFailure("Invalid state.")  # S-RT-6
        if token is not None and not await self._may_record(connection.user_id, token):
            return _BAD_TOKEN
        play = Play(connection.id, connection.user_id, token, state)
        self._plays[connection.user_id] = play
        encoded = codec.encode("SpectatorState", state)
        await self._store_state(connection.user_id, encoded)
        self._bus.publish(
            watch_group(connection.user_id),
            codec.encode_invocation(
                "UserBeganPlaying", _args_with_user(connection.user_id, encoded)
            ),
        )
        return None

    async def _may_record(self, user_id: int, token: int) -> bool:
        """S-RT-7: a play is recorded only under a token the user was issued and has not
        used yet (beyond osu-server-spectator, which trusts the token id). A play this
        buffer already holds for the user resumes after a reconnect without a new check.
        A null token (no submission, e.g. an unranked map) records nothing but is still
        relayed, as the official server does."""
        if not self.replays.owns(user_id, token) and not await self._tokens.play_token_usable(
            user_id, token
        ):
            return False
        return self.replays.begin(user_id, token)

    async def send_frames(self, connection: HubConnection, message: bytes) -> HubResult:
        return await self._relay(connection, message, v2=True)

    async def send_frames_v1(self, connection: HubConnection, message: bytes) -> HubResult:
        return await self._relay(connection, message, v2=False)

    async def _relay(self, connection: HubConnection, message: bytes, *, v2: bool) -> HubResult:
        play = self._plays.get(connection.user_id)
        if play is None or play.connection_id != connection.id:
            return _BAD_TOKEN
        try:
            relay = codec.relay_frames(message, connection.user_id, validate=True)
        except CoreError:
            return HubFailure("Invalid frame data.")
        bundle = relay.bundle
        if not _has_required_header(bundle):
            return HubFailure("Invalid frame data.")
        token = relay.score_token if v2 else play.token
        if token != play.token:
            return _BAD_TOKEN
        if token is not None:
            self.replays.add(connection.user_id, token, bundle)
        self._bus.publish(play.watchers, relay.message)
        now = time.monotonic()
        if now - play.refreshed_at > _STATE_REFRESH_SECONDS:
            play.refreshed_at = now
            await self._store_state(connection.user_id, codec.encode("SpectatorState", play.state))
        return None

    async def end_play(self, connection: HubConnection, args: list[Any]) -> HubResult:
        token, final = args
        if not 0 <= final <= max(SpectatedUserState):
            return HubFailure("Invalid state.")
        play = self._plays.get(connection.user_id)
        if play is None or play.connection_id != connection.id or play.token != token:
            return _BAD_TOKEN
        # S-RT-6: a play cannot end while claiming to be still playing.
        state = SpectatedUserState.QUIT if final == SpectatedUserState.PLAYING else final
        await self._finish(connection, play, SpectatedUserState(state), end_replay=True)
        return None

    async def end_play_v1(self, connection: HubConnection, args: list[Any]) -> HubResult:
        play = self._plays.get(connection.user_id)
        token = play.token if play is not None else None
        return await self.end_play(connection, [token, args[0].get("State", 0)])

    async def _finish(
        self, connection: HubConnection, play: Play, final: SpectatedUserState, *, end_replay: bool
    ) -> None:
        del self._plays[connection.user_id]
        if play.token is not None and end_replay:
            self.replays.end(connection.user_id, play.token)
        state = dict(play.state, State=int(final))
        try:
            await self._redis.delete(_STATE_KEY + str(connection.user_id))
        except REDIS_DOWN as exc:
            log.warning("spectator: could not clear play state in Redis (%s)", exc)
        self._bus.publish(
            watch_group(connection.user_id),
            codec.encode_invocation(
                "UserFinishedPlaying",
                _args_with_user(connection.user_id, codec.encode("SpectatorState", state)),
            ),
        )

    async def start_watching(self, connection: HubConnection, args: list[Any]) -> HubResult:
        (user_id,) = args
        if connection.restricted:
            return HubFailure("Can't spectate a user when restricted.")  # S-RT-8
        state = await self._playing_state(user_id)
        if state is not None:
            connection.send(
                codec.encode_invocation("UserBeganPlaying", _args_with_user(user_id, state))
            )
        connection.join(watch_group(user_id))
        connection.items["watching"].add(user_id)
        watcher = [{"OnlineID": connection.user_id, "Username": connection.username}]
        self._send_to_user(user_id, "UserStartedWatching", "SpectatorUser[]", watcher)
        return None

    async def end_watching(self, connection: HubConnection, args: list[Any]) -> HubResult:
        (user_id,) = args
        connection.leave(watch_group(user_id))
        connection.items["watching"].discard(user_id)
        self._send_to_user(user_id, "UserEndedWatching", "int", connection.user_id)
        return None

    def score_processed(self, user_id: int, score_id: int) -> None:
        """Tell the player and their watchers, on any instance, that a score was processed.

        The seam for score processing: call it once the score for a play's token is done.
        """
        frame = codec.encode_invocation(
            "UserScoreProcessed", codec.encode("int,long", [user_id, score_id])
        )
        self._bus.publish(user_channel(NAME, user_id), frame)
        self._bus.publish(watch_group(user_id), frame)

    async def _playing_state(self, user_id: int) -> bytes | None:
        play = self._plays.get(user_id)
        if play is not None:
            return codec.encode("SpectatorState", play.state)
        try:
            state: bytes | None = await self._redis.get(_STATE_KEY + str(user_id))
        except REDIS_DOWN:
            return None  # Redis down: only plays on this instance are known
        return state

    async def _store_state(self, user_id: int, encoded: bytes) -> None:
        try:
            await self._redis.set(_STATE_KEY + str(user_id), encoded, ex=_STATE_TTL_SECONDS)
        except REDIS_DOWN as exc:
            log.warning("spectator: could not store play state in Redis (%s)", exc)

    def _send_to_user(self, user_id: int, target: str, type_name: str, value: Any) -> None:
        args = b"\x91" + codec.encode(type_name, value)  # one argument
        self._bus.publish(user_channel(NAME, user_id), codec.encode_invocation(target, args))


def _has_required_header(bundle: bytes) -> bool:
    """Whether the FrameHeader carries keys 0..7 (through Mods).

    The codec reads a short array tolerantly (missing keys take defaults, as
    MessagePack-CSharp does), but the official server rejects bundles whose Statistics,
    ScoreProcessorStatistics or Mods are null, and a watcher's client would trip on them.
    lazer always writes `[header(10), frames]` with fixarray headers.
    """
    return len(bundle) > 2 and bundle[0] == 0x92 and 0x98 <= bundle[1] <= 0x9F


def _args_with_user(user_id: int, encoded_value: bytes) -> bytes:
    """The arguments `[userId, value]` around an already encoded value."""
    return codec.splice_array([codec.encode("int", user_id), encoded_value])
