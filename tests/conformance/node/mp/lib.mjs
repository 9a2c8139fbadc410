// Shared by the multiplayer scenarios (tests/conformance/test_signalr_multiplayer_scenarios.py):
// connect and sign in with @microsoft/signalr and its MessagePack protocol, queue every
// IMultiplayerClient callback per target, invoke and catch refusals, build the wire arrays
// lazer sends (MessagePack-CSharp key order, lazer-protocol.md §7.2).
//
// A scenario is run as `node mp/<scenario>.mjs '<json>'`, the JSON being
// {"base": url, "users": [{"id", "token"}...], "beatmap": {"id", "checksum"}, ...extra}.
// It prints one JSON line per step that needs the test (the test answers a line on stdin),
// then one JSON object with what it observed; it exits non-zero on any failure.
import * as readline from "node:readline";
import * as signalR from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";

export const args = JSON.parse(process.argv[2]);
export const beatmap = args.beatmap;

export const CALLBACKS = [
  "RoomStateChanged", "UserJoined", "UserLeft", "UserKicked", "HostChanged", "SettingsChanged",
  "UserStateChanged", "MatchUserStateChanged", "MatchRoomStateChanged", "MatchEvent",
  "UserBeatmapAvailabilityChanged", "UserStyleChanged", "UserModsChanged", "LoadRequested",
  "GameplayStarted", "GameplayAborted", "ResultsReady", "PlaylistItemAdded",
  "PlaylistItemRemoved", "PlaylistItemChanged", "UserVotedToSkipIntro",
  "VoteToSkipIntroPassed", "Invited", "DisconnectRequested",
];

// Enums as lazer numbers them.
export const UserState = {
  Idle: 0, Ready: 1, WaitingForLoad: 2, Loaded: 3, ReadyForGameplay: 4, Playing: 5,
  FinishedPlay: 6, Results: 7, Spectating: 8,
};
export const RoomState = { Open: 0, WaitingForLoad: 1, Playing: 2, Closed: 3 };
export const MatchType = { Playlists: 0, HeadToHead: 1, TeamVersus: 2 };
export const QueueMode = { HostOnly: 0, AllPlayers: 1, AllPlayersRoundRobin: 2 };
export const LOCALLY_AVAILABLE = [4, null];
// MatchServerEvent union ids.
export const MatchEvent = { countdownStarted: 0, countdownStopped: 1, roll: 4 };
export const TICKS_PER_SECOND = 10_000_000;

// MatchUserRequest union members: [id, [fields]].
export const Request = {
  changeTeam: (teamId) => [0, [teamId]],
  startCountdown: (seconds) => [1, [seconds * TICKS_PER_SECOND]],
  stopCountdown: (id) => [2, [id]],
  setLock: (locked) => [5, [locked]],
  roll: (max) => [6, [max]],
  changeSlot: (slot) => [7, [slot]],
};

const lines = readline.createInterface({ input: process.stdin });
const pending = [];
lines.on("line", (line) => pending.shift()?.(line));

/** Print a step for the test and wait for its answer line. */
export function step(name, data = {}) {
  console.log(JSON.stringify({ step: name, ...data }));
  return new Promise((resolve) => pending.push(resolve));
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A started connection to `base`'s multiplayer hub as `user` (`negotiate`: through the
 * negotiate request, transport chosen by the client); `next(target)` takes that target's
 * oldest callback not yet taken (waiting for it if none came yet). */
export async function connect(user, { base = args.base, negotiate = false } = {}) {
  const options = {
    accessTokenFactory: () => user.token,
    headers: { "X-Client-Session-ID": `node-mp-${user.id}` },
  };
  if (!negotiate) {
    // As lazer connects: straight to the WebSocket, no negotiate request.
    options.skipNegotiation = true;
    options.transport = signalR.HttpTransportType.WebSockets;
  }
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${base}/signalr/multiplayer`, options)
    .withHubProtocol(new MessagePackHubProtocol())
    .configureLogging(signalR.LogLevel.None)
    .build();
  connection.userId = user.id;
  connection.seen = {};
  connection.waiting = {};
  for (const target of CALLBACKS) {
    connection.seen[target] = [];
    connection.waiting[target] = [];
    connection.on(target, (...callbackArgs) => {
      const waiter = connection.waiting[target].shift();
      if (waiter) waiter(callbackArgs);
      else connection.seen[target].push(callbackArgs);
    });
  }
  connection.closed = new Promise((resolve) => connection.onclose((error) => resolve(error)));
  connection.next = (target, timeoutMs = 10000) => {
    const queued = connection.seen[target].shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`user ${user.id}: no ${target} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      connection.waiting[target].push((callbackArgs) => {
        clearTimeout(timer);
        resolve(callbackArgs);
      });
    });
  };
  /** The next callback of `target` whose arguments pass `test`, skipping the others. */
  connection.nextWhere = async (target, test, timeoutMs = 10000) => {
    for (;;) {
      const callbackArgs = await connection.next(target, timeoutMs);
      if (test(...callbackArgs)) return callbackArgs;
    }
  };
  /** Drop every callback queued so far. */
  connection.forget = () => {
    for (const target of CALLBACKS) connection.seen[target] = [];
  };
  await connection.start();
  return connection;
}

/** The error text of an invocation that must fail; throws if it succeeds. */
export async function refusal(promise, what = "the invocation") {
  try {
    await promise;
  } catch (error) {
    return String(error.message);
  }
  throw new Error(`${what} succeeded but must be refused`);
}

/** MultiplayerRoomSettings [Name, PlaylistItemId, Password, MatchType, QueueMode,
 * AutoStartDuration, AutoSkip, MaxParticipants]. */
export function settings({
  name = "node room", password = "", matchType = MatchType.HeadToHead,
  queueMode = QueueMode.HostOnly, autoStartSeconds = 0, maxParticipants = null,
  playlistItemId = 0,
} = {}) {
  return [
    name, playlistItemId, password, matchType, queueMode,
    autoStartSeconds * TICKS_PER_SECOND, false, maxParticipants,
  ];
}

/** MultiplayerPlaylistItem [ID, OwnerID, BeatmapID, BeatmapChecksum, RulesetID,
 * RequiredMods, AllowedMods, Expired, PlaylistOrder, PlayedAt, StarRating, Freestyle]. */
export function item({
  id = 0, beatmapId = beatmap.id, checksum = beatmap.checksum, rulesetId = 0,
  requiredMods = [], allowedMods = [], freestyle = false,
} = {}) {
  return [id, 0, beatmapId, checksum, rulesetId, requiredMods, allowedMods, false, 0, null, 1.5,
    freestyle];
}

/** MultiplayerRoom [RoomID, State, Settings, Users, Host, MatchState, Playlist,
 * ActiveCountdowns, ChannelID] as CreateRoom takes it. */
export function newRoom({ items = [item()], ...options } = {}) {
  return [0, 0, settings(options), [], null, null, items, [], 0];
}

/** The room's id, user ids, host id and playlist from a MultiplayerRoom array. */
export function roomView(room) {
  return {
    roomId: room[0],
    state: room[1],
    currentItem: room[2][1],
    users: room[3].map((u) => u[0]),
    userStates: room[3].map((u) => u[4]),
    host: room[4]?.[0] ?? null,
    matchState: room[5],
    playlist: room[6].map(itemView),
  };
}

export function itemView(wire) {
  return { id: wire[0], owner: wire[1], beatmapId: wire[2], expired: wire[7], order: wire[8] };
}

/** Create a room as `host`, join every guest, everyone with the map; the room's view. */
export async function openRoom(host, guests, options = {}) {
  const room = roomView(await host.invoke("CreateRoom", newRoom(options)));
  for (const guest of guests) {
    if (options.password) await guest.invoke("JoinRoomWithPassword", room.roomId, options.password);
    else await guest.invoke("JoinRoom", room.roomId);
    await host.nextWhere("UserJoined", (u) => u[0] === guest.userId);
  }
  for (const c of [host, ...guests]) await c.invoke("ChangeBeatmapAvailability", LOCALLY_AVAILABLE);
  return room;
}

/** After StartMatch: every connection takes its LoadRequested and loads, all at once (the
 * load timeout is short in tests), then takes its GameplayStarted. */
export async function load(connections) {
  await Promise.all(connections.map(async (c) => {
    await c.next("LoadRequested");
    await c.invoke("ChangeState", UserState.Loaded);
    await c.invoke("ChangeState", UserState.ReadyForGameplay);
  }));
  for (const c of connections) await c.next("GameplayStarted");
}

/** Run a scenario: print what it returns as the last line, or the error and exit 1. */
export async function run(scenario) {
  const connections = [];
  try {
    const result = await scenario(connections);
    await Promise.all(connections.map((c) => c.stop()));
    lines.close();
    console.log(JSON.stringify(result));
    process.exit(0);
  } catch (error) {
    console.log(JSON.stringify({ error: String(error && error.stack ? error.stack : error) }));
    process.exit(1);
  }
}

/** Connect every user of the arguments (in order), tracked for `run` to stop. */
export async function connectAll(connections, users = args.users) {
  for (const user of users) connections.push(await connect(user));
  return [...connections];
}
