// Two users play one realtime room through our multiplayer hub with @microsoft/signalr and
// its MessagePack protocol (arrays in MessagePack-CSharp key order, as lazer sends them).
// Usage: node multiplayer.mjs <base-url> <host-token> <host-id> <guest-token> <guest-id>
//        <beatmap-id> <beatmap-checksum>
// Prints one JSON line per step that needs the test (it answers "go" on stdin), then one
// JSON object with what was observed; exits non-zero on any failure.
import * as readline from "node:readline";
import * as signalR from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";

const [base, hostToken, hostIdText, guestToken, guestIdText, beatmapIdText, checksum] =
  process.argv.slice(2);
const hostId = Number(hostIdText);
const guestId = Number(guestIdText);
const beatmapId = Number(beatmapIdText);
const result = {};
const CALLBACKS = [
  "UserJoined", "UserLeft", "HostChanged", "SettingsChanged", "UserStateChanged",
  "RoomStateChanged", "LoadRequested", "GameplayStarted", "ResultsReady", "PlaylistItemAdded",
  "PlaylistItemChanged", "UserBeatmapAvailabilityChanged", "MatchRoomStateChanged",
];

const lines = readline.createInterface({ input: process.stdin });
const pending = [];
lines.on("line", (line) => pending.shift()?.(line));
function step(name, data) {
  console.log(JSON.stringify({ step: name, ...data }));
  return new Promise((resolve) => pending.push(resolve));
}

function connect(token, skipNegotiation, session) {
  const options = {
    accessTokenFactory: () => token,
    headers: { "X-Client-Session-ID": session },
  };
  if (skipNegotiation) {
    options.skipNegotiation = true;
    options.transport = signalR.HttpTransportType.WebSockets;
  }
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${base}/signalr/multiplayer`, options)
    .withHubProtocol(new MessagePackHubProtocol())
    .configureLogging(signalR.LogLevel.Warning)
    .build();
  // Every callback is queued per target; next(target) takes the oldest not yet taken.
  connection.seen = {};
  connection.waiting = {};
  for (const target of CALLBACKS) {
    connection.seen[target] = [];
    connection.waiting[target] = [];
    connection.on(target, (...args) => {
      const waiter = connection.waiting[target].shift();
      if (waiter) waiter(args);
      else connection.seen[target].push(args);
    });
  }
  connection.next = (target, timeoutMs = 8000) => {
    const queued = connection.seen[target].shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${target}`)), timeoutMs);
      connection.waiting[target].push((args) => {
        clearTimeout(timer);
        resolve(args);
      });
    });
  };
  return connection;
}

async function refusal(promise) {
  try {
    await promise;
    return null;
  } catch (error) {
    return String(error.message);
  }
}

// MultiplayerRoom [RoomID, State, Settings, Users, Host, MatchState, Playlist,
// ActiveCountdowns, ChannelID]; settings [Name, PlaylistItemId, Password, MatchType,
// QueueMode, AutoStartDuration, AutoSkip, MaxParticipants]; item [ID, OwnerID, BeatmapID,
// BeatmapChecksum, RulesetID, RequiredMods, AllowedMods, Expired, PlaylistOrder, PlayedAt,
// StarRating, Freestyle].
const newRoom = [
  0, 0, ["node room", 0, "secret", 1, 0, 0, false, null], [], null, null,
  [[0, 0, beatmapId, checksum, 0, [], [], false, 0, null, 1.5, false]], [], 0,
];
const LOCALLY_AVAILABLE = [4, null];

try {
  const host = connect(hostToken, false, "node-mp-host");
  const guest = connect(guestToken, true, "node-mp-guest");
  await host.start();
  await guest.start();

  const created = await host.invoke("CreateRoom", newRoom);
  const roomId = created[0];
  const itemId = created[2][1];
  result.created = { roomId, itemId, host: created[4][0], users: created[3].map((u) => u[0]) };
  await step("created", { roomId, itemId });

  result.wrongPassword = await refusal(guest.invoke("JoinRoomWithPassword", roomId, "wrong"));
  const joined = await guest.invoke("JoinRoomWithPassword", roomId, "secret");
  result.joinedUsers = joined[3].map((u) => u[0]);
  result.hostSawJoin = (await host.next("UserJoined"))[0][0];

  for (const c of [host, guest]) await c.invoke("ChangeBeatmapAvailability", LOCALLY_AVAILABLE);
  await guest.invoke("ChangeState", 1);
  result.hostNotReady = await refusal(host.invoke("StartMatch"));
  await host.invoke("ChangeState", 1);
  await host.invoke("StartMatch");
  for (const c of [host, guest]) await c.next("LoadRequested");
  for (const c of [host, guest]) {
    await c.invoke("ChangeState", 3);
    await c.invoke("ChangeState", 4);
  }
  for (const c of [host, guest]) await c.next("GameplayStarted");
  await step("playing", { roomId, itemId });

  await guest.invoke("ChangeState", 6);
  await host.invoke("ChangeState", 6);
  for (const c of [host, guest]) await c.next("ResultsReady");
  const added = (await guest.next("PlaylistItemAdded"))[0];
  result.nextItem = { id: added[0], beatmapId: added[2], expired: added[7] };
  // The settings now name the next item (SettingsChanged after the queue moved on).
  let settings = (await guest.next("SettingsChanged"))[0];
  while (settings[1] !== added[0]) settings = (await guest.next("SettingsChanged"))[0];
  result.currentItemAfter = settings[1];

  await guest.invoke("LeaveRoom");
  result.hostSawLeave = (await host.next("UserLeft"))[0][0];
  await host.invoke("LeaveRoom");
  await step("left", { roomId });
  await Promise.all([host.stop(), guest.stop()]);
  lines.close();
  console.log(JSON.stringify(result));
} catch (error) {
  console.log(JSON.stringify({ error: String(error && error.stack ? error.stack : error), result }));
  process.exit(1);
}
